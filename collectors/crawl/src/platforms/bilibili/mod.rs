//! Bilibili (reference §1): anonymous JSON endpoints, no signature.

mod adapter;
mod decode;

pub use adapter::Bilibili;
pub use decode::{decode, decode_spi, Buvid};
