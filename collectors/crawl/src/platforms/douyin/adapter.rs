//! Douyin's adapter: one request per poll, the profile JSON API (signed by an external service
//! when one is configured) or the profile page.

use haoqi_platform::{Decoded, FetchError, Platform, Response};
use url::Url;

use super::decode;
use crate::adapter::{cookie_header, join, Adapter, Depth, PlatformSettings};
use crate::fetch::RequestSpec;

pub struct Douyin(pub PlatformSettings);

impl Adapter for Douyin {
    fn platform(&self) -> Platform {
        Platform::Douyin
    }
    fn base(&self) -> &Url {
        &self.0.base
    }
    fn requests(&self, platform_id: &str, _: Depth) -> Result<Vec<RequestSpec>, FetchError> {
        let mut headers = cookie_header(&self.0.cookie);
        headers.push(("referer".into(), "https://www.douyin.com/".into()));
        let url = if self.0.page_mode {
            let mut u = join(&self.0.base, "/user/", &[])?;
            u.path_segments_mut()
                .map_err(|()| FetchError::Transport {
                    reason: "base URL cannot take a path".into(),
                })?
                .pop_if_empty()
                .push(platform_id);
            u
        } else {
            join(
                &self.0.base,
                "/aweme/v1/web/user/profile/other/",
                &[
                    ("device_platform", "webapp"),
                    ("aid", "6383"),
                    ("sec_user_id", platform_id),
                ],
            )?
        };
        Ok(vec![RequestSpec {
            url,
            json_body: None,
            headers,
            optional: false,
        }])
    }
    fn decode(&self, _: &RequestSpec, resp: &Response<'_>) -> Result<Decoded, FetchError> {
        decode::decode(resp)
    }
    /// The JSON API is what needs a signature; profile pages are fetched as they are.
    fn signer(&self) -> Option<&Url> {
        if self.0.page_mode {
            None
        } else {
            self.0.signer.as_ref()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PlatformSettings {
        PlatformSettings::new(Url::parse("http://127.0.0.1:9000").unwrap())
    }

    #[test]
    fn ids_cannot_leave_the_configured_host() {
        let mut s = settings();
        s.page_mode = true;
        let r = &Douyin(s).requests("../../admin?x=1", Depth::Quick).unwrap()[0];
        assert_eq!(r.url.host_str(), Some("127.0.0.1"));
        assert!(r.url.path().starts_with("/user/"), "{}", r.url);
        assert_eq!(
            r.url.path_segments().map(|s| s.count()),
            Some(2),
            "{}",
            r.url
        );
    }

    #[test]
    fn douyin_signs_the_json_api_only() {
        let mut s = settings();
        s.signer = Some(Url::parse("http://127.0.0.1:7000/sign").unwrap());
        assert!(Douyin(s.clone()).signer().is_some());
        s.page_mode = true;
        assert!(Douyin(s).signer().is_none());
    }
}
