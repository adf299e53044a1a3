//! haoqi: the binary's crate. It reads the configuration ([`config`]: each section owned by the
//! crate it configures), parses the command line and prints ([`cli`], [`output`], [`parse`]),
//! and wires the crates into running services ([`service`]: collection, the gauges' refresh,
//! the simulated history of the demo).
//!
//! Data flows one way: collectors → model → store → registry → import / analytics → web → here.
//! Nothing below depends on this crate.

pub mod cli;
pub mod config;
pub mod output;
pub mod parse;
pub mod service;
