//! Douyin (reference §2): the profile JSON API, or the profile page in its two script formats.

mod adapter;
mod decode;

pub use adapter::Douyin;
pub use decode::decode;
