//! Kuaishou's adapter: one GraphQL `visionProfile` request per poll.

use haoqi_platform::{Decoded, FetchError, Platform, Response};
use url::Url;

use super::decode;
use crate::adapter::{cookie_header, join, Adapter, Depth, PlatformSettings};
use crate::fetch::RequestSpec;

pub struct Kuaishou(pub PlatformSettings);

impl Adapter for Kuaishou {
    fn platform(&self) -> Platform {
        Platform::Kuaishou
    }
    fn base(&self) -> &Url {
        &self.0.base
    }
    fn requests(&self, platform_id: &str, _: Depth) -> Result<Vec<RequestSpec>, FetchError> {
        let body = serde_json::json!({
            "operationName": "visionProfile",
            "variables": {"userId": platform_id},
            "query": decode::VISION_PROFILE_QUERY,
        });
        let mut headers = cookie_header(&self.0.cookie);
        headers.push(("referer".into(), "https://www.kuaishou.com/".into()));
        Ok(vec![RequestSpec {
            url: join(&self.0.base, "/graphql", &[])?,
            json_body: Some(body.to_string()),
            headers,
            optional: false,
        }])
    }
    fn decode(&self, _: &RequestSpec, resp: &Response<'_>) -> Result<Decoded, FetchError> {
        decode::decode(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PlatformSettings {
        PlatformSettings::new(Url::parse("http://127.0.0.1:9000").unwrap())
    }

    #[test]
    fn kuaishou_posts_the_vision_profile_query() {
        let r = &Kuaishou(settings())
            .requests("3xabc", Depth::Quick)
            .unwrap()[0];
        let body: serde_json::Value =
            serde_json::from_str(r.json_body.as_deref().unwrap()).unwrap();
        assert_eq!(body["operationName"], "visionProfile");
        assert_eq!(body["variables"]["userId"], "3xabc");
    }
}
