//! What an adapter makes of a response: a raw reading (the counters as the platform wrote them,
//! before normalisation) or a typed [`FetchError`]. A failure is never a reading of zeros.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// A counter as the platform sent it: a JSON integer, or text such as `"12.6万"` that the
/// pipeline normalises with its resolution. Unknown values are absent, never zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RawCount {
    Int(u64),
    Text(String),
}

/// The counters one poll found; `None` where the platform does not expose or did not send one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RawCounters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followers: Option<RawCount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub likes: Option<RawCount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub views: Option<RawCount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posts: Option<RawCount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub following: Option<RawCount>,
}

impl RawCounters {
    /// Fills what `self` lacks from `other` (several endpoints make one poll).
    pub fn merge(&mut self, other: RawCounters) {
        self.followers = self.followers.take().or(other.followers);
        self.likes = self.likes.take().or(other.likes);
        self.views = self.views.take().or(other.views);
        self.posts = self.posts.take().or(other.posts);
        self.following = self.following.take().or(other.following);
    }
}

/// What one response says about an account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Decoded {
    pub counters: RawCounters,
    /// The account's id as the platform states it, when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Further counters kept for the record (Douyin's three follower fields, Bilibili's
    /// article count …).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, RawCount>,
    /// Which response shape was recognised ("card", "render_data", "graphql" …).
    pub shape: &'static str,
}

impl Decoded {
    /// Fills what `self` lacks from `other` (several endpoints make one poll): counters, id and
    /// name the first answer did not give, extra counters it does not have.
    pub fn merge(&mut self, other: Decoded) {
        self.counters.merge(other.counters);
        self.platform_id = self.platform_id.take().or(other.platform_id);
        self.name = self.name.take().or(other.name);
        for (k, v) in other.extra {
            self.extra.entry(k).or_insert(v);
        }
    }
}

/// An HTTP response as the fetch driver hands it to a parser.
#[derive(Debug, Clone)]
pub struct Response<'a> {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: &'a str,
}

impl<'a> Response<'a> {
    /// A saved body, as `haoqi parse` reads it: status 200.
    pub fn saved(body: &'a str) -> Self {
        Response {
            status: 200,
            retry_after: None,
            body,
        }
    }
}

/// Version of the parsers, stored with every reading so a changed parser is traceable. The
/// name is the crate the parsers were first written in, kept so that readings before and
/// after the parsers moved to haoqi-crawl carry the same version for the same code.
pub const PARSER_VERSION: &str = concat!("haoqi-collectors/", env!("CARGO_PKG_VERSION"));
