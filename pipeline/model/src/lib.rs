//! haoqi-model: the types every pipeline crate shares — counts as platforms write them
//! ([`count`]: `1.2万`, `10万+`, `12,345` as intervals), readings and batches ([`reading`]),
//! Beijing time ([`time`]), rectangular results ([`table`]) and whose accounts a question is
//! about ([`scope`]).
//!
//! Depends on: haoqi-platform only (for `Platform` and raw counts). Nothing
//! here does I/O.

pub mod count;
pub mod reading;
pub mod scope;
pub mod table;
pub mod tick;
pub mod time;
