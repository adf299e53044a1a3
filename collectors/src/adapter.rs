//! One adapter per platform: which requests a poll makes and how each answer is decoded. The
//! adapters are small on purpose; the fetch driver, limits and scheduling are shared.
//!
//! A poll makes the fewest requests that carry the counters (DESIGN.md §4): Bilibili's `card`
//! alone has followers, likes and videos; Douyin's profile JSON (or page) and Kuaishou's
//! `visionProfile` are one request each.

use url::Url;

use crate::error::FetchError;
use crate::fetch::RequestSpec;
use crate::raw::{Decoded, Response};
use crate::{bilibili, douyin, kuaishou, Platform};

/// Per-platform settings an operator gives (base URL, cookie, signer).
#[derive(Debug, Clone)]
pub struct PlatformSettings {
    pub base: Url,
    /// Sent as `Cookie`; from configuration, never logged.
    pub cookie: Option<String>,
    /// Douyin: read the profile page instead of the JSON API.
    pub page_mode: bool,
}

pub trait Adapter: Send + Sync {
    fn platform(&self) -> Platform;
    fn base(&self) -> &Url;
    /// The requests of one poll of the account with this platform id.
    fn requests(&self, platform_id: &str) -> Result<Vec<RequestSpec>, FetchError>;
    fn decode(&self, resp: &Response<'_>) -> Result<Decoded, FetchError>;
}

fn join(base: &Url, path: &str, query: &[(&str, &str)]) -> Result<Url, FetchError> {
    let mut url = base.join(path).map_err(|e| FetchError::Transport {
        reason: format!("bad base URL {base}: {e}"),
    })?;
    if !query.is_empty() {
        // Values are percent-encoded by the serializer: an id cannot change the host or path.
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

fn cookie_header(cookie: &Option<String>) -> Vec<(String, String)> {
    cookie
        .iter()
        .map(|c| ("cookie".to_string(), c.clone()))
        .collect()
}

pub struct Bilibili(pub PlatformSettings);
pub struct Douyin(pub PlatformSettings);
pub struct Kuaishou(pub PlatformSettings);

impl Adapter for Bilibili {
    fn platform(&self) -> Platform {
        Platform::Bilibili
    }
    fn base(&self) -> &Url {
        &self.0.base
    }
    fn requests(&self, platform_id: &str) -> Result<Vec<RequestSpec>, FetchError> {
        let e = bilibili::Endpoint::Card;
        let mut headers = cookie_header(&self.0.cookie);
        headers.push(("referer".into(), "https://www.bilibili.com/".into()));
        Ok(vec![RequestSpec {
            url: join(&self.0.base, e.path(), &[(e.id_param(), platform_id)])?,
            json_body: None,
            headers,
        }])
    }
    fn decode(&self, resp: &Response<'_>) -> Result<Decoded, FetchError> {
        bilibili::decode(resp)
    }
}

impl Adapter for Douyin {
    fn platform(&self) -> Platform {
        Platform::Douyin
    }
    fn base(&self) -> &Url {
        &self.0.base
    }
    fn requests(&self, platform_id: &str) -> Result<Vec<RequestSpec>, FetchError> {
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
        }])
    }
    fn decode(&self, resp: &Response<'_>) -> Result<Decoded, FetchError> {
        douyin::decode(resp)
    }
}

impl Adapter for Kuaishou {
    fn platform(&self) -> Platform {
        Platform::Kuaishou
    }
    fn base(&self) -> &Url {
        &self.0.base
    }
    fn requests(&self, platform_id: &str) -> Result<Vec<RequestSpec>, FetchError> {
        let body = serde_json::json!({
            "operationName": "visionProfile",
            "variables": {"userId": platform_id},
            "query": kuaishou::VISION_PROFILE_QUERY,
        });
        let mut headers = cookie_header(&self.0.cookie);
        headers.push(("referer".into(), "https://www.kuaishou.com/".into()));
        Ok(vec![RequestSpec {
            url: join(&self.0.base, "/graphql", &[])?,
            json_body: Some(body.to_string()),
            headers,
        }])
    }
    fn decode(&self, resp: &Response<'_>) -> Result<Decoded, FetchError> {
        kuaishou::decode(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PlatformSettings {
        PlatformSettings {
            base: Url::parse("http://127.0.0.1:9000").unwrap(),
            cookie: None,
            page_mode: false,
        }
    }

    #[test]
    fn ids_cannot_leave_the_configured_host() {
        let evil = "1&x=@evil.example/../../";
        for r in Bilibili(settings()).requests(evil).unwrap() {
            assert_eq!(r.url.host_str(), Some("127.0.0.1"));
            assert_eq!(r.url.path(), "/x/web-interface/card");
        }
        let mut s = settings();
        s.page_mode = true;
        let r = &Douyin(s).requests("../../admin?x=1").unwrap()[0];
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
    fn kuaishou_posts_the_vision_profile_query() {
        let r = &Kuaishou(settings()).requests("3xabc").unwrap()[0];
        let body: serde_json::Value =
            serde_json::from_str(r.json_body.as_deref().unwrap()).unwrap();
        assert_eq!(body["operationName"], "visionProfile");
        assert_eq!(body["variables"]["userId"], "3xabc");
    }
}
