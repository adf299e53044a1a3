//! haoqi-pipeline: the registry of the matrix, normalisation of raw values, the ClickHouse store
//! (embedded chDB or a server), the schema and rollups, progress toward the goal, and the `haoqi`
//! binary's commands. Data flows one way: collectors → pipeline → store → reports.

pub mod analytics;
pub mod backfill;
pub mod cli;
pub mod collect;
pub mod config;
pub mod count;
pub mod dimensions;
pub mod http;
pub mod import;
pub mod metrics;
pub mod output;
pub mod parse;
pub mod progress;
pub mod reading;
pub mod registry;
pub mod spool;
pub mod store;
pub mod time;
