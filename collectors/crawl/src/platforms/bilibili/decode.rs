//! Bilibili: anonymous JSON endpoints, no signature (reference §1). One poll reads
//! `x/web-interface/card` (followers, likes, videos, name); `x/relation/stat` (followers,
//! following), `x/space/navnum` (content counts) and, with a configured login cookie,
//! `x/space/upstat` (views) run less often (see [`super::adapter::Bilibili`]). Every answer has
//! the envelope `{code, message, ttl, data}`; `code == 0` is success.
//!
//! `x/frontend/finger/spi` hands out an anonymous `buvid3`/`buvid4` pair (reference §1.2), which
//! browsers send as cookies; [`decode_spi`] reads it.
//!
//! Error codes (reference §1.5): -412 and -799 rate limiting; -352 and -401 with `v_voucher`
//! risk control / captcha; `code 0` whose `data` holds only `v_voucher` is the same; -404 (and
//! -626) a deleted account; -101 not logged in.

use serde_json::Value;

use crate::json::{at, count, int, text};
use haoqi_platform::{check_status, FetchError};
use haoqi_platform::{Decoded, RawCounters, Response};

/// The endpoints haoqi reads, by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Card,
    RelationStat,
    Navnum,
    Upstat,
    /// The anonymous `buvid3`/`buvid4` cookies.
    FingerSpi,
}

impl Endpoint {
    pub(crate) fn path(self) -> &'static str {
        match self {
            Endpoint::Card => "/x/web-interface/card",
            Endpoint::RelationStat => "/x/relation/stat",
            Endpoint::Navnum => "/x/space/navnum",
            Endpoint::Upstat => "/x/space/upstat",
            Endpoint::FingerSpi => "/x/frontend/finger/spi",
        }
    }

    /// The endpoint a request path belongs to.
    pub(crate) fn of_path(path: &str) -> Option<Endpoint> {
        [
            Endpoint::Card,
            Endpoint::RelationStat,
            Endpoint::Navnum,
            Endpoint::Upstat,
            Endpoint::FingerSpi,
        ]
        .into_iter()
        .find(|e| e.path() == path)
    }

    /// The shape [`decode`] recognises in this endpoint's answer.
    pub(crate) fn shape(self) -> &'static str {
        match self {
            Endpoint::Card => "card",
            Endpoint::RelationStat => "relation_stat",
            Endpoint::Navnum => "navnum",
            Endpoint::Upstat => "upstat",
            Endpoint::FingerSpi => "finger_spi",
        }
    }

    /// The query parameter that names the account (`vmid` for relation/stat).
    pub(crate) fn id_param(self) -> &'static str {
        match self {
            Endpoint::RelationStat => "vmid",
            _ => "mid",
        }
    }
}

/// The parsed answer once the HTTP status and the envelope's `code` say success; every error
/// signal of reference §1.5 becomes its typed error.
fn envelope(resp: &Response<'_>) -> Result<Value, FetchError> {
    let body = resp.body;
    if resp.status == 412 || body.contains("安全风控策略") {
        return Err(FetchError::rate_limited(
            resp.retry_after,
            "HTTP 412 risk control",
        ));
    }
    check_status(resp.status, resp.retry_after, body)?;
    let v: Value = serde_json::from_str(body.trim())
        .map_err(|e| FetchError::layout(format!("not JSON: {e}"), body))?;
    let code =
        int(&v, "code").ok_or_else(|| FetchError::layout("no `code` in the envelope", body))?;
    let message = text(&v, "message").unwrap_or_default();
    let data = at(&v, "data");
    let voucher = data.and_then(|d| d.get("v_voucher")).is_some();
    match code {
        0 if voucher
            && data
                .and_then(Value::as_object)
                .is_some_and(|o| o.len() == 1) =>
        {
            Err(FetchError::blocked(
                "risk control: data holds only v_voucher",
            ))
        }
        0 => Ok(v),
        -412 | -799 => Err(FetchError::rate_limited(
            resp.retry_after,
            format!("code {code}: {message}"),
        )),
        -352 | -401 | -403 => Err(FetchError::blocked(format!("code {code}: {message}"))),
        -404 | -626 => Err(FetchError::NotFound {
            reason: format!("code {code}: {message}"),
        }),
        -101 => Err(FetchError::LoginRequired {
            reason: format!("code {code}: {message}"),
        }),
        _ => Err(FetchError::layout(
            format!("unknown code {code}: {message}"),
            body,
        )),
    }
}

/// An anonymous `buvid3` (and `buvid4`) from `x/frontend/finger/spi`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buvid {
    pub b3: String,
    pub b4: Option<String>,
}

impl Buvid {
    /// As a `Cookie` header fragment.
    pub fn cookie(&self) -> String {
        match &self.b4 {
            Some(b4) => format!("buvid3={}; buvid4={b4}", self.b3),
            None => format!("buvid3={}", self.b3),
        }
    }
}

/// A cookie value haoqi is willing to send back: printable, no separators, not huge.
fn cookie_safe(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 256
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_=+/.%".contains(&b))
}

/// Decodes `x/frontend/finger/spi`: `{"code":0,"data":{"b_3":"…infoc","b_4":"…"}}`.
pub fn decode_spi(resp: &Response<'_>) -> Result<Buvid, FetchError> {
    let v = envelope(resp)?;
    let b3 = text(&v, "data.b_3")
        .filter(|b| cookie_safe(b))
        .ok_or_else(|| FetchError::layout("finger/spi without a usable data.b_3", resp.body))?;
    let b4 = text(&v, "data.b_4").filter(|b| cookie_safe(b));
    Ok(Buvid { b3, b4 })
}

/// Decodes one response. The endpoint is recognised from the data's fields, so saved files can
/// be parsed without knowing where they came from.
pub fn decode(resp: &Response<'_>) -> Result<Decoded, FetchError> {
    let body = resp.body;
    let v = envelope(resp)?;
    let data = at(&v, "data");
    let data = data
        .filter(|d| d.is_object())
        .ok_or_else(|| FetchError::layout("`data` is missing", body))?;

    if data.get("card").is_some() {
        decode_card(data, body)
    } else if data.get("follower").is_some() && data.get("following").is_some() {
        Ok(Decoded {
            counters: RawCounters {
                followers: count(data, "follower"),
                following: count(data, "following"),
                ..RawCounters::default()
            },
            platform_id: text(data, "mid"),
            shape: "relation_stat",
            ..Decoded::default()
        })
    } else if data.get("video").is_some() && data.get("article").is_some() {
        let mut d = Decoded {
            counters: RawCounters {
                posts: count(data, "video"),
                ..RawCounters::default()
            },
            shape: "navnum",
            ..Decoded::default()
        };
        for key in ["article", "album", "audio", "opus", "season_num"] {
            if let Some(c) = count(data, key) {
                d.extra.insert(key.into(), c);
            }
        }
        Ok(d)
    } else if data.get("archive").is_some() || data.get("likes").is_some() {
        Ok(Decoded {
            counters: RawCounters {
                views: count(data, "archive.view"),
                likes: count(data, "likes"),
                ..RawCounters::default()
            },
            shape: "upstat",
            ..Decoded::default()
        })
    } else if data.as_object().is_some_and(|o| o.is_empty()) {
        // upstat answers `{}` to an anonymous client (it needs any logged-in SESSDATA).
        Err(FetchError::LoginRequired {
            reason: "upstat returned no data: it needs a login cookie".into(),
        })
    } else {
        Err(FetchError::layout("unknown data shape", body))
    }
}

fn decode_card(data: &Value, body: &str) -> Result<Decoded, FetchError> {
    // `follower` at the top of data and `card.fans` carry the same number; either will do.
    let followers = count(data, "follower").or_else(|| count(data, "card.fans"));
    if followers.is_none() {
        return Err(FetchError::layout(
            "card without follower or card.fans",
            body,
        ));
    }
    let mut d = Decoded {
        counters: RawCounters {
            followers,
            likes: count(data, "like_num"),
            posts: count(data, "archive_count"),
            following: count(data, "card.attention").or_else(|| count(data, "card.friend")),
            ..RawCounters::default()
        },
        // `card.mid` is a string in this endpoint (bilibili-API-collect PR #410).
        platform_id: text(data, "card.mid"),
        name: text(data, "card.name"),
        shape: "card",
        ..Default::default()
    };
    if let Some(c) = count(data, "article_count") {
        d.extra.insert("article_count".into(), c);
    }
    if let Some(c) = count(data, "card.Official.type") {
        d.extra.insert("official_type".into(), c);
    }
    Ok(d)
}
