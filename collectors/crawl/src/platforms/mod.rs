//! One folder per polled platform: `adapter.rs` (which requests a poll makes) and `decode.rs`
//! (what an answer says). The two functions here are the only places that name every platform;
//! both match exhaustively, so a platform added to the table cannot compile half-wired.

use std::sync::Arc;

use haoqi_platform::{Decoded, FetchError, Platform, Response};

use crate::adapter::{Adapter, PlatformSettings};

pub mod bilibili;
pub mod douyin;
pub mod kuaishou;

/// The adapter that polls `platform`, or `None` for a platform whose numbers arrive through
/// imports.
pub fn adapter(platform: Platform, settings: PlatformSettings) -> Option<Arc<dyn Adapter>> {
    match platform {
        Platform::Bilibili => Some(Arc::new(bilibili::Bilibili::new(settings))),
        Platform::Douyin => Some(Arc::new(douyin::Douyin(settings))),
        Platform::Kuaishou => Some(Arc::new(kuaishou::Kuaishou(settings))),
        Platform::WechatChannels | Platform::WechatOfficial => None,
    }
}

/// Decodes a saved or fetched answer of `platform` (`haoqi parse`). WeChat platforms have no
/// public counters: their numbers arrive through imports, so there is nothing to decode.
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

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    #[test]
    fn every_crawled_platform_has_an_adapter_and_no_other() {
        for p in Platform::ALL {
            let base = Url::parse("http://127.0.0.1:9").unwrap();
            let a = adapter(p, PlatformSettings::new(base));
            assert_eq!(a.is_some(), p.crawl().is_some(), "{p}");
            if let Some(a) = a {
                assert_eq!(a.platform(), p);
            }
        }
    }
}
