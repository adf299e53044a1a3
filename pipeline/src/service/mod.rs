//! The runtime: what `haoqi run`, `serve` and `demo` start and how the parts are wired —
//! collection into the store ([`collect`]), the gauges' minute-by-minute refresh ([`refresh`]),
//! a simulated history for the demo ([`backfill`]).

pub mod backfill;
pub mod collect;
pub mod refresh;
