//! An optional external signing service (`collect.douyin.signer_url`). Douyin's profile API
//! wants a signature (`a_bogus`, `msToken`, reference §2.1) that haoqi does not forge; a
//! deployment that runs a browser sidecar can let it sign. For each request the collector asks:
//!
//! ```text
//! POST {signer_url}                      Content-Type: application/json
//! {"url": "https://www.douyin.com/aweme/v1/web/user/profile/other/?device_platform=webapp&aid=6383&sec_user_id=MS4w…",
//!  "method": "GET", "user_agent": "haoqi/0.1 (…)"}
//!
//! 200 {"url": "https://www.douyin.com/aweme/v1/web/user/profile/other/?device_platform=webapp&aid=6383&sec_user_id=MS4w…&msToken=…&a_bogus=…"}
//! ```
//!
//! The signed URL must keep the request's scheme, host, port and path and every query
//! parameter with its value; the signer may only add parameters. The user agent is the one the
//! collector sends (a signature covers it). The cookie is not sent to the signer. Anything else
//! is an error and no request goes to the platform: `Transport` when the signer cannot be
//! reached, times out or answers a non-2xx status; `LayoutChanged` (with the start of the
//! answer) when the answer is not that JSON or its URL breaks the rules. The signer's host gets
//! only this call; the platform request still goes only to the configured platform host.

use url::Url;

use crate::fetch::{read_capped, transport, Fetcher, RequestSpec};
use haoqi_platform::FetchError;

/// The most of a signer's answer read.
const MAX_ANSWER: usize = 64 * 1024;

/// `req` with its URL signed by the service at `signer`.
pub async fn sign(
    fetcher: &Fetcher,
    signer: &Url,
    req: &RequestSpec,
) -> Result<RequestSpec, FetchError> {
    let mut ask = serde_json::json!({
        "url": req.url.as_str(),
        "method": if req.json_body.is_some() { "POST" } else { "GET" },
        "user_agent": fetcher.user_agent(),
    });
    if let Some(body) = &req.json_body {
        ask["body"] = serde_json::Value::String(body.clone());
    }
    let resp = fetcher
        .client()
        .post(signer.clone())
        .header("content-type", "application/json")
        .body(ask.to_string())
        .send()
        .await
        .map_err(|e| signer_transport(transport(e)))?;
    let status = resp.status();
    let body = read_capped(resp, MAX_ANSWER)
        .await
        .map_err(signer_transport)?;
    if !status.is_success() {
        return Err(FetchError::Transport {
            reason: format!("signer: HTTP {}", status.as_u16()),
        });
    }
    let signed = parse_answer(&body)
        .and_then(|u| check_signed(&req.url, &u).map(|()| u))
        .map_err(|why| FetchError::layout(format!("signer: {why}"), &body))?;
    Ok(RequestSpec {
        url: signed,
        ..req.clone()
    })
}

fn signer_transport(e: FetchError) -> FetchError {
    match e {
        FetchError::Transport { reason } => FetchError::Transport {
            reason: format!("signer: {reason}"),
        },
        other => other,
    }
}

/// The `url` of a signer's answer.
pub fn parse_answer(body: &str) -> Result<Url, String> {
    let v: serde_json::Value =
        serde_json::from_str(body.trim()).map_err(|e| format!("answer is not JSON: {e}"))?;
    let url = v
        .get("url")
        .and_then(serde_json::Value::as_str)
        .ok_or("answer has no \"url\" string")?;
    Url::parse(url).map_err(|e| format!("answer's url does not parse: {e}"))
}

/// Whether `signed` is `original` with parameters added: same origin and path, every original
/// query parameter kept with its value.
pub fn check_signed(original: &Url, signed: &Url) -> Result<(), String> {
    if signed.origin() != original.origin() {
        return Err(format!(
            "signed URL is on {}, not the platform host {}",
            signed.origin().ascii_serialization(),
            original.origin().ascii_serialization()
        ));
    }
    if signed.path() != original.path() {
        return Err(format!(
            "signed URL has path {}, not {}",
            signed.path(),
            original.path()
        ));
    }
    let kept: Vec<(String, String)> = signed.query_pairs().into_owned().collect();
    for (k, v) in original.query_pairs() {
        if !kept.iter().any(|(k2, v2)| *k2 == k && *v2 == v) {
            return Err(format!("signed URL changed or dropped the parameter {k}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn a_signer_may_only_add_parameters() {
        let orig =
            u("https://www.douyin.com/aweme/v1/web/user/profile/other/?aid=6383&sec_user_id=MS4w");
        assert!(check_signed(
            &orig,
            &u("https://www.douyin.com/aweme/v1/web/user/profile/other/?aid=6383&sec_user_id=MS4w&msToken=t&a_bogus=b")
        )
        .is_ok());
        for bad in [
            "https://evil.example/aweme/v1/web/user/profile/other/?aid=6383&sec_user_id=MS4w&a_bogus=b",
            "http://www.douyin.com/aweme/v1/web/user/profile/other/?aid=6383&sec_user_id=MS4w",
            "https://www.douyin.com:8443/aweme/v1/web/user/profile/other/?aid=6383&sec_user_id=MS4w",
            "https://www.douyin.com/aweme/v1/web/aweme/post/?aid=6383&sec_user_id=MS4w",
            "https://www.douyin.com/aweme/v1/web/user/profile/other/?aid=6383&sec_user_id=OTHER",
            "https://www.douyin.com/aweme/v1/web/user/profile/other/?aid=6383",
        ] {
            assert!(check_signed(&orig, &u(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn answers_that_are_not_the_protocol_are_refused() {
        assert!(parse_answer(r#"{"url":"https://www.douyin.com/x?a=1"}"#).is_ok());
        assert!(parse_answer("").is_err());
        assert!(parse_answer("<html>502</html>").is_err());
        assert!(parse_answer(r#"{"signed":"https://www.douyin.com/"}"#).is_err());
        assert!(parse_answer(r#"{"url":"not a url"}"#).is_err());
    }
}
