//! Kuaishou (reference §3). The `visionProfile` GraphQL query (cookie from config) answers
//! `data.visionProfile.{result, userProfile.{ownerCount, profile}}`; `ownerCount` is a sibling of
//! `profile`. `fan` is a display string such as `"12.6万"` (rounded: it goes to normalisation,
//! which keeps its resolution), `follow` and `photo_public` are integers (`photo` is null; the
//! post count is `photo_public`), and there is no likes field. The signed REST `profile/user`
//! answer, if an operator saves one, has the same `ownerCount` with exact integers and `like`.
//!
//! `result`: 1 ok, 2 rate limited (or a bad cookie), 109 login required, 21 a malformed id.
//! A top-level GraphQL `errors` array with "No Login" is a login problem.

use serde_json::Value;

use crate::json::{at, count, int, text};
use haoqi_platform::{check_status, FetchError};
use haoqi_platform::{Decoded, RawCounters, Response};

/// The GraphQL document the collector sends (fields that exist: asking for one that does not
/// fails the whole query with HTTP 400).
pub(crate) const VISION_PROFILE_QUERY: &str = "query visionProfile($userId: String) { visionProfile(userId: $userId) { result hostName userProfile { ownerCount { fan photo follow photo_public __typename } profile { gender user_name user_id headurl user_text user_profile_bg_url __typename } isFollowing __typename } __typename } }";

pub fn decode(resp: &Response<'_>) -> Result<Decoded, FetchError> {
    check_status(resp.status, resp.retry_after, resp.body)?;
    let body = resp.body.trim();
    let v: Value = serde_json::from_str(body)
        .map_err(|e| FetchError::layout(format!("not JSON: {e}"), body))?;
    if let Some(errors) = v
        .get("errors")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty())
    {
        let msg = errors
            .iter()
            .filter_map(|e| e.get("message").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("; ");
        if msg.to_ascii_lowercase().contains("login") {
            return Err(FetchError::LoginRequired { reason: msg });
        }
        return Err(FetchError::layout(format!("GraphQL errors: {msg}"), body));
    }
    let (root, shape) = match at(&v, "data.visionProfile") {
        Some(vp) if vp.is_object() => (vp, "graphql"),
        _ if v.get("result").is_some() => (&v, "rest_profile_user"),
        _ => {
            return Err(FetchError::layout(
                "neither data.visionProfile nor result",
                body,
            ))
        }
    };
    let result = int(root, "result").ok_or_else(|| FetchError::layout("no result code", body))?;
    match result {
        1 => {}
        2 => return Err(FetchError::rate_limited(resp.retry_after, "result 2")),
        109 => {
            return Err(FetchError::LoginRequired {
                reason: "result 109".into(),
            })
        }
        _ if root.get("loginUrl").is_some() => {
            return Err(FetchError::LoginRequired {
                reason: format!("result {result} with loginUrl"),
            })
        }
        _ => return Err(FetchError::layout(format!("result {result}"), body)),
    }
    let profile = match root.get("userProfile") {
        Some(p) if p.is_object() => p,
        Some(Value::Null) | None => {
            return Err(FetchError::NotFound {
                reason: "result 1 without a userProfile".into(),
            })
        }
        Some(_) => return Err(FetchError::layout("userProfile is not an object", body)),
    };
    let owner = profile
        .get("ownerCount")
        .filter(|o| o.is_object())
        .ok_or_else(|| FetchError::layout("userProfile lacks ownerCount", body))?;
    let followers = count(owner, "fan");
    if followers.is_none() {
        return Err(FetchError::layout("ownerCount.fan is missing", body));
    }
    Ok(Decoded {
        counters: RawCounters {
            followers,
            likes: count(owner, "like"),
            posts: count(owner, "photo_public"),
            following: count(owner, "follow"),
            views: None,
        },
        platform_id: text(profile, "profile.user_id"),
        name: text(profile, "profile.user_name"),
        shape,
        ..Decoded::default()
    })
}
