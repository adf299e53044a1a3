//! haoqi-pipeline: the registry of the matrix, normalisation of raw values, the ClickHouse store
//! (embedded chDB or a server), the schema and rollups, progress toward the goal, and the `haoqi`
//! binary's commands. Data flows one way: collectors → pipeline → store → reports.

pub mod count;
pub mod time;
