//! What an adapter is: which requests a poll of one account makes and how each answer is
//! decoded. Each platform's adapter lives in `platforms/<platform>/adapter.rs`; they are small
//! on purpose, because the fetch driver, limits and scheduling here are shared.
//!
//! A poll makes the fewest requests that carry the counters (DESIGN.md §4). Douyin's profile
//! JSON (or page) and Kuaishou's `visionProfile` are one request each. Bilibili's `card` alone
//! has followers, likes, videos and the name, so a *quick* poll is `card` only; a *full* poll
//! (every [`PlatformSettings::detail_every`]-th interval of an account, staggered over the
//! accounts) adds `relation/stat` (followers, following), `navnum` (content counts) and, where
//! a configured login cookie makes it answer, `upstat` (views). 694 accounts at 0.5/s: quick
//! polls take 23 minutes of a 60-minute interval; with a full poll every 24 intervals (daily)
//! the average is 1 + 3/24 requests per poll, 26 minutes, leaving room for retries and probes.

use url::Url;

use haoqi_platform::hash::seed_of;
use haoqi_platform::{Decoded, FetchError, Platform, Response};

use crate::fetch::RequestSpec;

/// Per-platform settings an operator gives (base URL, cookie, signer).
#[derive(Debug, Clone)]
pub struct PlatformSettings {
    pub base: Url,
    /// Sent as `Cookie`; from configuration, never logged.
    pub cookie: Option<String>,
    /// Douyin: read the profile page instead of the JSON API.
    pub page_mode: bool,
    /// Douyin: an external service that signs each profile request URL (see the signer module).
    pub signer: Option<Url>,
    /// Bilibili: a full poll (relation/stat, card, navnum, upstat) every this many intervals of
    /// an account, a quick one (card) otherwise; 1 is every poll, 0 never.
    pub detail_every: u32,
    /// Bilibili: when the cookie has no `buvid3`, ask `x/frontend/finger/spi` for an anonymous
    /// one once and send it with every request.
    pub fetch_buvid3: bool,
}

impl PlatformSettings {
    /// The defaults for `base`: no cookie or signer, a full Bilibili poll daily (every 24
    /// intervals), an anonymous buvid3 fetched when the cookie has none.
    pub fn new(base: Url) -> Self {
        PlatformSettings {
            base,
            cookie: None,
            page_mode: false,
            signer: None,
            detail_every: 24,
            fetch_buvid3: true,
        }
    }
}

/// How much a poll asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// The fewest requests that carry the counters.
    Quick,
    /// Every endpoint the adapter reads.
    Full,
}

/// Whether the poll of the account `platform_id` in interval `slot` is a full one: with
/// `every` = N, each account has one full poll in N consecutive intervals, and the accounts'
/// full polls are spread evenly over those N intervals (by a hash of the id).
pub fn depth(every: u32, platform_id: &str, slot: u64) -> Depth {
    if every == 0 {
        return Depth::Quick;
    }
    let every = u64::from(every);
    if (seed_of(platform_id) % every + slot % every).is_multiple_of(every) {
        Depth::Full
    } else {
        Depth::Quick
    }
}

pub trait Adapter: Send + Sync {
    fn platform(&self) -> Platform;
    fn base(&self) -> &Url;
    /// The requests of one poll of the account with this platform id, in order. A request that
    /// is not `optional` must succeed for the poll to give a reading.
    fn requests(&self, platform_id: &str, depth: Depth) -> Result<Vec<RequestSpec>, FetchError>;
    /// Decodes the answer to `req` (one of this adapter's requests).
    fn decode(&self, req: &RequestSpec, resp: &Response<'_>) -> Result<Decoded, FetchError>;
    /// Every how many intervals a poll is [`Depth::Full`] (see [`depth`]); 1: always.
    fn detail_every(&self) -> u32 {
        1
    }
    /// Requests an average poll makes, for the budget check.
    fn requests_per_poll(&self) -> f64 {
        1.0
    }
    /// A request the adapter needs answered before it polls (Bilibili's anonymous buvid3), when
    /// it needs one now.
    fn session_request(&self) -> Option<RequestSpec> {
        None
    }
    /// The answer to [`Adapter::session_request`] (or why there is none). An error is returned
    /// for the caller to judge: a rate-limit or block signal fails the poll.
    fn session_answer(&self, answer: Result<&Response<'_>, &FetchError>) -> Result<(), FetchError> {
        answer.map(|_| ()).map_err(FetchError::clone)
    }
    /// The signing service each request URL goes through first, if any.
    fn signer(&self) -> Option<&Url> {
        None
    }
}

pub(crate) fn join(base: &Url, path: &str, query: &[(&str, &str)]) -> Result<Url, FetchError> {
    let mut url = base.join(path).map_err(|e| FetchError::Transport {
        reason: format!("bad base URL {base}: {e}"),
    })?;
    if !query.is_empty() {
        // Values are percent-encoded by the serializer: an id cannot change the host or path.
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

pub(crate) fn cookie_header(cookie: &Option<String>) -> Vec<(String, String)> {
    cookie
        .iter()
        .map(|c| ("cookie".to_string(), c.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_spreads_full_polls_evenly_over_the_intervals() {
        let ids: Vec<String> = (0..2400).map(|i| format!("{}", 3_000_000 + i)).collect();
        for slot in 100..124u64 {
            let full = ids
                .iter()
                .filter(|id| depth(24, id, slot) == Depth::Full)
                .count();
            // 2400 / 24 = 100 per interval, give or take the hash.
            assert!((60..=140).contains(&full), "slot {slot}: {full}");
        }
        for id in ids.iter().take(50) {
            let fulls = (0..24u64)
                .filter(|s| depth(24, id, *s) == Depth::Full)
                .count();
            assert_eq!(fulls, 1, "exactly one full poll in 24 intervals");
            assert!((0..5u64).all(|s| depth(1, id, s) == Depth::Full));
            assert!((0..5u64).all(|s| depth(0, id, s) == Depth::Quick));
        }
    }
}
