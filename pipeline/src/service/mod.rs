//! The runtime: what `haoqi run`, `serve` and `demo` start and how the parts are wired —
//! collection into the store ([`collect`]), the gauges' minute-by-minute refresh ([`refresh`]),
//! a simulated history for the demo ([`backfill`]), backups ([`backup`]), the HTTP side and the
//! signals ([`serve`]).

pub mod backfill;
pub mod backup;
pub mod collect;
pub mod demo;
pub mod refresh;
pub mod run;
pub mod serve;

/// Where a service says what it is doing (a line at a time); the command line prints it.
pub type Say<'a> = &'a (dyn Fn(&str) + Sync);
