//! Douyin (reference §2). Three shapes carry a profile's counters:
//! - the `aweme/v1/web/user/profile/other` JSON (`{status_code, user: {...}}`; the older
//!   iesdouyin `user_info` variant writes `total_favorited` as a numeric string);
//! - the profile page's `<script id="RENDER_DATA">`, URL-encoded JSON whose entry with both
//!   `user` and `post` holds the profile at `user.user` in camelCase;
//! - the newer page's React-server chunks `self.__pace_f.push([1,"…"])`, JSON strings that hold
//!   `"user":{"statusCode":0,…,"user":{…}}` with camelCase fields and `"$undefined"`.
//!
//! Followers: the user object has three counts. `follower_count` is the account's Douyin
//! followers and is what haoqi reports; `mplatform_followers_count` (commonly read as the merged
//! Douyin/Toutiao/Xigua audience) and `max_follower_count` are kept in `extra` for the record.
//!
//! Failures: an empty 200 body and the literal body `blocked` are Douyin's refusal (bad
//! signature, unaccepted cookie, risk-controlled IP); a verification page (`verifycenter`,
//! `captcha_container`, a title with 验证) is a captcha; `isSpider: true` means the server took
//! us for a bot. None of these is worked around.

use serde_json::Value;

use crate::json::{at, count, int, text};
use haoqi_platform::{check_status, FetchError};
use haoqi_platform::{Decoded, RawCounters, Response};

pub fn decode(resp: &Response<'_>) -> Result<Decoded, FetchError> {
    check_status(resp.status, resp.retry_after, resp.body)?;
    let body = resp.body.trim();
    if body.is_empty() {
        return Err(FetchError::blocked("HTTP 200 with an empty body"));
    }
    if body == "blocked" || body == "\"blocked\"" {
        return Err(FetchError::blocked("body says blocked"));
    }
    if body.starts_with('{') {
        return decode_json(body);
    }
    // Look for data first: pages are large and each scan costs; a verification page has none.
    if let Some(encoded) = script_text(body, "<script id=\"RENDER_DATA\"") {
        return decode_render_data(encoded, body);
    }
    if find(body, "self.__pace_f.push(").is_some() {
        match decode_pace_f(body) {
            Err(FetchError::LayoutChanged { .. }) if is_captcha(body) => {}
            other => return other,
        }
    }
    if is_captcha(body) {
        return Err(FetchError::blocked("verification (captcha) page"));
    }
    Err(FetchError::layout(
        "no profile JSON, RENDER_DATA or __pace_f data",
        body,
    ))
}

/// Substring search with SIMD (`memchr`): profile pages are hundreds of kilobytes and are
/// scanned several times.
fn find(hay: &str, needle: &str) -> Option<usize> {
    memchr::memmem::find(hay.as_bytes(), needle.as_bytes())
}

fn is_captcha(body: &str) -> bool {
    find(body, "verifycenter/captcha").is_some()
        || find(body, "captcha_container").is_some()
        || title(body).is_some_and(|t| t.contains("验证"))
}

fn title(body: &str) -> Option<&str> {
    let start = find(body, "<title>")? + "<title>".len();
    let end = find(&body[start..], "</title>")? + start;
    Some(&body[start..end])
}

/// The text of the first `<script …>` whose opening tag starts with `open`.
fn script_text<'a>(body: &'a str, open: &str) -> Option<&'a str> {
    let at_tag = find(body, open)?;
    let start = body[at_tag..].find('>')? + at_tag + 1;
    let end = find(&body[start..], "</script>")? + start;
    Some(&body[start..end])
}

fn decode_json(body: &str) -> Result<Decoded, FetchError> {
    let v: Value = serde_json::from_str(body)
        .map_err(|e| FetchError::layout(format!("not JSON: {e}"), body))?;
    if let Some(code) = int(&v, "status_code").filter(|c| *c != 0) {
        let msg = text(&v, "status_msg").unwrap_or_default();
        return Err(FetchError::layout(
            format!("status_code {code}: {msg}"),
            body,
        ));
    }
    let (user, shape) = match (v.get("user"), v.get("user_info")) {
        (Some(u), _) if u.is_object() => (u, "profile_other"),
        (_, Some(u)) if u.is_object() => (u, "iesdouyin_user_info"),
        (Some(Value::Null), _) => {
            return Err(FetchError::NotFound {
                reason: "status_code 0 with user null".into(),
            })
        }
        _ => return Err(FetchError::layout("no `user` object", body)),
    };
    from_user(user, Names::SNAKE, shape, body)
}

fn decode_render_data(encoded: &str, body: &str) -> Result<Decoded, FetchError> {
    let decoded = percent_encoding::percent_decode_str(encoded.trim())
        .decode_utf8()
        .map_err(|e| {
            FetchError::layout(format!("RENDER_DATA is not URL-encoded UTF-8: {e}"), body)
        })?;
    let v: Value = serde_json::from_str(&decoded)
        .map_err(|e| FetchError::layout(format!("RENDER_DATA is not JSON: {e}"), body))?;
    if v.get("isSpider").and_then(Value::as_bool) == Some(true) {
        return Err(FetchError::blocked(
            "RENDER_DATA isSpider: the page took us for a bot",
        ));
    }
    let entry = v
        .as_object()
        .and_then(|o| {
            o.values()
                .find(|e| e.get("user").is_some() && e.get("post").is_some())
        })
        .ok_or_else(|| FetchError::layout("RENDER_DATA has no entry with user and post", body))?;
    let user = at(entry, "user.user")
        .filter(|u| u.is_object())
        .ok_or_else(|| FetchError::layout("RENDER_DATA entry lacks user.user", body))?;
    from_user(user, Names::CAMEL, "render_data", body)
}

fn decode_pace_f(body: &str) -> Result<Decoded, FetchError> {
    // Each chunk is `self.__pace_f.push([1,"<JSON string>"])`; the strings concatenate to the
    // React-server payload.
    let mut payload = String::new();
    let mut rest = body;
    while let Some(i) = find(rest, "self.__pace_f.push(") {
        rest = &rest[i + "self.__pace_f.push(".len()..];
        let mut it = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        if let Some(Ok(Value::Array(items))) = it.next() {
            for item in items {
                if let Value::String(s) = item {
                    payload.push_str(&s);
                }
            }
        }
    }
    // The payload is React-server rows, `<hex id>:<value>`, most values JSON. Each is read as
    // JSON and searched for the profile object, so spacing, key order and escapes do not
    // matter; a payload that is not rows is searched key by key.
    let outer = rows_json(&payload)
        .iter()
        .find_map(profile_object)
        .cloned()
        .or_else(|| scan_user_keys(&payload))
        .ok_or_else(|| FetchError::layout("__pace_f payload has no user object", body))?;
    if let Some(code) = int(&outer, "statusCode").filter(|c| *c != 0) {
        return Err(FetchError::layout(
            format!("__pace_f statusCode {code}"),
            body,
        ));
    }
    let user = outer
        .get("user")
        .filter(|u| u.is_object())
        .ok_or_else(|| FetchError::layout("__pace_f user object lacks user", body))?;
    from_user(user, Names::CAMEL, "pace_f", body)
}

/// Every row value of a React-server payload that parses as JSON (a value may span lines).
fn rows_json(payload: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let row_id = rest
            .find(':')
            .filter(|&i| i > 0 && rest[..i].bytes().all(|b| b.is_ascii_hexdigit()));
        if let Some(i) = row_id {
            let value = &rest[i + 1..];
            let mut it = serde_json::Deserializer::from_str(value).into_iter::<Value>();
            if let Some(Ok(v)) = it.next() {
                out.push(v);
                rest = &value[it.byte_offset()..];
                rest = rest.trim_start_matches(['\r', '\n']);
                continue;
            }
        }
        // Not a JSON row (a typed row such as `I[…]` or `T…`): on to the next line.
        match rest.find('\n') {
            Some(n) => rest = &rest[n + 1..],
            None => break,
        }
    }
    out
}

/// The profile object inside `v`: an object under a `user` key that has a `statusCode` and a
/// `user` object of its own, found at any depth.
fn profile_object(v: &Value) -> Option<&Value> {
    match v {
        Value::Object(map) => {
            if let Some(u) = map.get("user") {
                if u.get("statusCode").is_some() && u.get("user").is_some_and(Value::is_object) {
                    return Some(u);
                }
            }
            map.values().find_map(profile_object)
        }
        Value::Array(items) => items.iter().find_map(profile_object),
        _ => None,
    }
}

/// For a payload that is not rows: each `"user"` key followed by a JSON object, read as JSON.
fn scan_user_keys(payload: &str) -> Option<Value> {
    let mut from = 0;
    while let Some(i) = payload[from..].find("\"user\"") {
        let after = from + i + "\"user\"".len();
        from = after;
        let rest = payload[after..].trim_start();
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let mut it = serde_json::Deserializer::from_str(rest.trim_start()).into_iter::<Value>();
        if let Some(Ok(v)) = it.next() {
            let wrapped = serde_json::json!({ "user": v });
            if let Some(found) = profile_object(&wrapped) {
                return Some(found.clone());
            }
        }
    }
    None
}

/// Field names of the two spellings Douyin uses.
struct Names {
    followers: &'static str,
    mplatform: &'static str,
    max_followers: &'static str,
    likes: &'static str,
    posts: &'static str,
    following: &'static str,
    sec_uid: &'static str,
}

impl Names {
    const SNAKE: Names = Names {
        followers: "follower_count",
        mplatform: "mplatform_followers_count",
        max_followers: "max_follower_count",
        likes: "total_favorited",
        posts: "aweme_count",
        following: "following_count",
        sec_uid: "sec_uid",
    };
    const CAMEL: Names = Names {
        followers: "followerCount",
        mplatform: "mplatformFollowersCount",
        max_followers: "maxFollowerCount",
        likes: "totalFavorited",
        posts: "awemeCount",
        following: "followingCount",
        sec_uid: "secUid",
    };
}

fn from_user(
    user: &Value,
    n: Names,
    shape: &'static str,
    body: &str,
) -> Result<Decoded, FetchError> {
    let followers = count(user, n.followers);
    let mplatform = count(user, n.mplatform);
    if followers.is_none() && mplatform.is_none() {
        return Err(FetchError::layout(
            format!(
                "user object has neither {} nor {}",
                n.followers, n.mplatform
            ),
            body,
        ));
    }
    let mut d = Decoded {
        counters: RawCounters {
            followers: followers.clone(),
            likes: count(user, n.likes),
            posts: count(user, n.posts),
            following: count(user, n.following),
            views: None,
        },
        platform_id: text(user, n.sec_uid),
        name: text(user, "nickname"),
        shape,
        ..Decoded::default()
    };
    for (key, value) in [
        ("follower_count", followers),
        ("mplatform_followers_count", mplatform),
        ("max_follower_count", count(user, n.max_followers)),
    ] {
        if let Some(v) = value {
            d.extra.insert(key.into(), v);
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A profile page whose `__pace_f` payload is `payload`, split over two chunks mid-way.
    fn page(payload: &str) -> String {
        let cut = payload
            .char_indices()
            .nth(payload.chars().count() / 2)
            .map_or(0, |(i, _)| i);
        let chunk = |s: &str| {
            format!(
                "<script>self.__pace_f.push([1,{}])</script>",
                serde_json::to_string(s).expect("chunk")
            )
        };
        format!(
            "<!DOCTYPE html><html><body><script>(self.__pace_f=self.__pace_f||[]).push([0])</script>{}{}</body></html>",
            chunk(&payload[..cut]),
            chunk(&payload[cut..])
        )
    }

    fn followers(payload: &str) -> Result<Decoded, FetchError> {
        let body = page(payload);
        decode(&Response::saved(&body))
    }

    /// Any valid serialisation of the same object gives the same reading (issue 18: the
    /// decoder used to look for the bytes `"user":{"statusCode":`).
    #[test]
    fn any_serialisation_of_the_profile_reads_the_same() {
        let user = serde_json::json!({
            "uid": "1", "secUid": "MS4wLjABAAAAx", "nickname": "好奇阿克苏",
            "followerCount": 186420, "awemeCount": 764, "followingCount": 32,
            "totalFavorited": 2314907, "mplatformFollowersCount": 186420
        });
        let compact = format!(
            "0:[\"$\",\"html\"]\n5:[\"$\",\"$L6\",null,{{\"user\":{{\"statusCode\":0,\"user\":{user}}},\"post\":\"$undefined\"}}]\n"
        );
        let spaced = format!(
            "0: [\"$\", \"html\"]\n5: [\"$\", \"$L6\", null, {{\"user\": {{\"statusCode\": 0, \"user\": {}}}, \"post\": \"$undefined\"}}]\n",
            serde_json::to_string_pretty(&user).expect("pretty")
        );
        // statusCode after user, and the keys written with escapes.
        let reordered = format!(
            "I[\"chunk\",[]]\n5:[\"$\",\"$L6\",null,{{\"post\":null,\"\\u0075ser\":{{\"user\":{user},\"status\\u0043ode\":0}}}}]\n"
        );
        let not_rows =
            format!("{{\"x\":1}} junk {{\"user\" : {{\"user\":{user},\"statusCode\":0}}}}");
        for payload in [&compact, &spaced, &reordered, &not_rows] {
            let d = followers(payload).unwrap_or_else(|e| panic!("{payload}: {e}"));
            assert_eq!(d.shape, "pace_f");
            assert_eq!(
                d.counters.followers,
                Some(haoqi_platform::RawCount::Int(186_420)),
                "{payload}"
            );
            assert_eq!(d.counters.posts, Some(haoqi_platform::RawCount::Int(764)));
            assert_eq!(d.name.as_deref(), Some("好奇阿克苏"));
        }
    }

    #[test]
    fn a_payload_without_the_profile_is_a_layout_error() {
        let e = followers("0:[\"$\",\"html\"]\n5:{\"user\":{\"nickname\":\"x\"}}\n")
            .expect_err("no profile");
        assert!(e.to_string().contains("no user object"), "{e}");
        let e = followers("5:[\"$\",\"$L6\",null,{\"user\":{\"statusCode\":8,\"user\":{}}}]\n")
            .expect_err("status");
        assert!(e.to_string().contains("statusCode 8"), "{e}");
    }
}
