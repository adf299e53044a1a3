//! haoqi-platform: the bottom of haoqi. What every crate says about a platform: the one table
//! of platforms ([`Platform`]), a counter as a platform wrote it ([`RawCount`]), what a poll
//! found ([`Decoded`]) or why it found nothing ([`FetchError`]), and the small deterministic
//! hashes collectors and the simulator share. It depends on no other haoqi crate.

mod error;
pub mod hash;
mod platform;
mod raw;

pub use error::{check_status, FetchError, EXCERPT_LIMIT};
pub use platform::{Counter, Crawl, IdShape, Platform, UnknownPlatform};
pub use raw::{Decoded, RawCount, RawCounters, Response, PARSER_VERSION};
