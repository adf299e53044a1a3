//! haoqi-collectors: the bottom layer of haoqi. It knows the platforms and turns their
//! responses into raw readings or typed errors (never zeros). Each platform is one module of
//! pure, synchronous parsers over the response text; the pipeline normalises what they find.

pub mod adapter;
pub mod bilibili;
pub mod circuit;
pub mod douyin;
pub mod error;
pub mod fetch;
pub mod hash;
mod json;
pub mod kuaishou;
pub mod platform;
pub mod raw;
pub mod scheduler;
pub mod shard;
pub mod signer;
pub mod simulator;
pub mod sweep;

pub use error::FetchError;
pub use platform::{Platform, UnknownPlatform};
pub use raw::{Decoded, RawCount, RawCounters, Response};

/// Decodes a response of `platform`. WeChat platforms have no public counters: their numbers
/// arrive through imports, so there is nothing to decode.
pub fn decode(platform: Platform, resp: &Response<'_>) -> Result<Decoded, FetchError> {
    match platform {
        Platform::Bilibili => bilibili::decode(resp),
        Platform::Douyin => douyin::decode(resp),
        Platform::Kuaishou => kuaishou::decode(resp),
        Platform::WechatChannels | Platform::WechatOfficial => Err(FetchError::layout(
            format!("{platform} has no public counter endpoint; import its statistics instead"),
            "",
        )),
    }
}
