//! One adapter per platform: which requests a poll makes and how each answer is decoded. The
//! adapters are small on purpose; the fetch driver, limits and scheduling are shared.
//!
//! A poll makes the fewest requests that carry the counters (DESIGN.md §4). Douyin's profile
//! JSON (or page) and Kuaishou's `visionProfile` are one request each. Bilibili's `card` alone
//! has followers, likes, videos and the name, so a *quick* poll is `card` only; a *full* poll
//! (every [`PlatformSettings::detail_every`]-th interval of an account, staggered over the
//! accounts) adds `relation/stat` (followers, following), `navnum` (content counts) and, where
//! a configured login cookie makes it answer, `upstat` (views). 694 accounts at 0.5/s: quick
//! polls take 23 minutes of a 60-minute interval; with a full poll every 24 intervals (daily)
//! the average is 1 + 3/24 requests per poll, 26 minutes, leaving room for retries and probes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use url::Url;

use crate::bilibili::Endpoint;
use crate::error::FetchError;
use crate::fetch::RequestSpec;
use crate::hash::seed_of;
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
    /// Douyin: an external service that signs each profile request URL (see [`crate::signer`]).
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

/// How long to wait before asking for a buvid3 again after finger/spi failed.
const BUVID_RETRY: Duration = Duration::from_secs(600);

#[derive(Debug)]
enum BuvidState {
    /// Not fetched yet, or the last attempt failed at this time.
    Missing(Option<Instant>),
    Have(bilibili::Buvid),
}

/// Bilibili (reference §1): anonymous, no signature.
///
/// - **buvid3.** Browsers carry an anonymous `buvid3`/`buvid4` cookie pair; requests without
///   one are risk-controlled sooner. When the configured cookie has no `buvid3=`, the adapter
///   asks `x/frontend/finger/spi` (on the configured base host, within the platform's budget)
///   once, keeps the pair for the life of the process and sends it with every request. A
///   failed attempt is retried after 10 minutes; polls go on without it meanwhile. It is not
///   "activated" with a forged fingerprint and not rotated to get around a block: a block opens
///   the circuit like any other. An operator can instead put a `buvid3=…` in the cookie
///   (`HAOQI_BILIBILI_COOKIE`), or turn fetching off (`fetch_buvid3 = false`).
/// - **Views.** `x/space/upstat` answers only a logged-in client (any SESSDATA), so it is asked
///   on full polls only when the configured cookie has `SESSDATA=`; if it still answers "no
///   data" the cookie no longer logs in, and upstat is not asked again until a restart (with
///   the new cookie).
pub struct Bilibili {
    settings: PlatformSettings,
    buvid: Mutex<BuvidState>,
    upstat_refused: AtomicBool,
}

impl Bilibili {
    pub fn new(settings: PlatformSettings) -> Self {
        Bilibili {
            settings,
            buvid: Mutex::new(BuvidState::Missing(None)),
            upstat_refused: AtomicBool::new(false),
        }
    }

    fn cookie_has(&self, name: &str) -> bool {
        self.settings.cookie.as_deref().is_some_and(|c| {
            c.split(';')
                .any(|part| part.trim_start().starts_with(&format!("{name}=")))
        })
    }

    fn wants_buvid(&self) -> bool {
        self.settings.fetch_buvid3 && !self.cookie_has("buvid3")
    }

    fn asks_upstat(&self) -> bool {
        self.cookie_has("SESSDATA") && !self.upstat_refused.load(Ordering::Relaxed)
    }

    /// The buvid3 this adapter obtained, if any (tests, logs).
    pub fn buvid3(&self) -> Option<String> {
        match &*self.buvid.lock().ok()? {
            BuvidState::Have(b) => Some(b.b3.clone()),
            BuvidState::Missing(_) => None,
        }
    }

    fn headers(&self) -> Vec<(String, String)> {
        let obtained = match self.buvid.lock().as_deref() {
            Ok(BuvidState::Have(b)) => Some(b.cookie()),
            _ => None,
        };
        let cookie = match (self.settings.cookie.as_deref(), obtained) {
            (Some(c), Some(b)) => Some(format!("{}; {b}", c.trim_end_matches([';', ' ']))),
            (Some(c), None) => Some(c.to_string()),
            (None, b) => b,
        };
        let mut headers = cookie_header(&cookie);
        headers.push(("referer".into(), "https://www.bilibili.com/".into()));
        headers
    }

    fn request(
        &self,
        e: Endpoint,
        platform_id: &str,
        optional: bool,
    ) -> Result<RequestSpec, FetchError> {
        Ok(RequestSpec {
            url: join(
                &self.settings.base,
                e.path(),
                &[(e.id_param(), platform_id)],
            )?,
            json_body: None,
            headers: self.headers(),
            optional,
        })
    }
}

impl Adapter for Bilibili {
    fn platform(&self) -> Platform {
        Platform::Bilibili
    }
    fn base(&self) -> &Url {
        &self.settings.base
    }
    fn requests(&self, platform_id: &str, depth: Depth) -> Result<Vec<RequestSpec>, FetchError> {
        if depth == Depth::Quick {
            return Ok(vec![self.request(Endpoint::Card, platform_id, false)?]);
        }
        // relation/stat first: where it answers, its followers and following are the reading's
        // (card carries the same figures). The card must answer; the others may fail alone.
        let mut v = vec![
            self.request(Endpoint::RelationStat, platform_id, true)?,
            self.request(Endpoint::Card, platform_id, false)?,
            self.request(Endpoint::Navnum, platform_id, true)?,
        ];
        if self.asks_upstat() {
            v.push(self.request(Endpoint::Upstat, platform_id, true)?);
        }
        Ok(v)
    }
    fn decode(&self, req: &RequestSpec, resp: &Response<'_>) -> Result<Decoded, FetchError> {
        let endpoint = Endpoint::of_path(req.url.path());
        let decoded = bilibili::decode(resp);
        if endpoint == Some(Endpoint::Upstat) {
            if let Err(FetchError::LoginRequired { .. }) = &decoded {
                if !self.upstat_refused.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        "bilibili upstat answers no data: the configured SESSDATA cookie does not log in; views are not polled until a restart"
                    );
                }
            }
        }
        let d = decoded?;
        // An answer in another endpoint's shape is not this request's answer.
        match endpoint {
            Some(e) if e.shape() != d.shape => Err(FetchError::layout(
                format!("{} answered in the shape of {}", e.path(), d.shape),
                resp.body,
            )),
            _ => Ok(d),
        }
    }
    fn detail_every(&self) -> u32 {
        self.settings.detail_every
    }
    fn requests_per_poll(&self) -> f64 {
        let extra = if self.asks_upstat() { 3.0 } else { 2.0 };
        match self.settings.detail_every {
            0 => 1.0,
            n => 1.0 + extra / f64::from(n),
        }
    }
    fn session_request(&self) -> Option<RequestSpec> {
        if !self.wants_buvid() {
            return None;
        }
        match &*self.buvid.lock().ok()? {
            BuvidState::Have(_) => return None,
            BuvidState::Missing(Some(at)) if at.elapsed() < BUVID_RETRY => return None,
            BuvidState::Missing(_) => {}
        }
        let url = join(&self.settings.base, Endpoint::FingerSpi.path(), &[]).ok()?;
        let mut headers = cookie_header(&self.settings.cookie);
        headers.push(("referer".into(), "https://www.bilibili.com/".into()));
        Some(RequestSpec {
            url,
            json_body: None,
            headers,
            optional: true,
        })
    }
    fn session_answer(&self, answer: Result<&Response<'_>, &FetchError>) -> Result<(), FetchError> {
        let got = match answer {
            Ok(resp) => bilibili::decode_spi(resp),
            Err(e) => Err(e.clone()),
        };
        let Ok(mut state) = self.buvid.lock() else {
            return Ok(());
        };
        match got {
            Ok(b) => {
                tracing::info!("bilibili: obtained an anonymous buvid3 from finger/spi");
                *state = BuvidState::Have(b);
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, "bilibili: no buvid3 from finger/spi; polling without one, asking again in 10 min");
                *state = BuvidState::Missing(Some(Instant::now()));
                Err(e)
            }
        }
    }
}

pub struct Douyin(pub PlatformSettings);
pub struct Kuaishou(pub PlatformSettings);

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
        douyin::decode(resp)
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
            "query": kuaishou::VISION_PROFILE_QUERY,
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
        kuaishou::decode(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PlatformSettings {
        PlatformSettings::new(Url::parse("http://127.0.0.1:9000").unwrap())
    }

    fn paths(reqs: &[RequestSpec]) -> Vec<&str> {
        reqs.iter().map(|r| r.url.path()).collect()
    }

    fn cookie(r: &RequestSpec) -> Option<&str> {
        r.headers
            .iter()
            .find(|(k, _)| k == "cookie")
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn ids_cannot_leave_the_configured_host() {
        let evil = "1&x=@evil.example/../../";
        for depth in [Depth::Quick, Depth::Full] {
            for r in Bilibili::new(settings()).requests(evil, depth).unwrap() {
                assert_eq!(r.url.host_str(), Some("127.0.0.1"));
                assert!(r.url.path().starts_with("/x/"), "{}", r.url);
                assert_eq!(r.url.query_pairs().count(), 1, "{}", r.url);
            }
        }
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
    fn bilibili_quick_polls_read_the_card_and_full_polls_every_endpoint() {
        let b = Bilibili::new(settings());
        let quick = b.requests("42", Depth::Quick).unwrap();
        assert_eq!(paths(&quick), ["/x/web-interface/card"]);
        assert!(!quick[0].optional);
        let full = b.requests("42", Depth::Full).unwrap();
        assert_eq!(
            paths(&full),
            [
                "/x/relation/stat",
                "/x/web-interface/card",
                "/x/space/navnum"
            ],
            "no upstat without a login cookie"
        );
        assert_eq!(full[0].url.query(), Some("vmid=42"));
        assert_eq!(
            full.iter().map(|r| r.optional).collect::<Vec<_>>(),
            [true, false, true],
            "only the card is required"
        );
        assert!((b.requests_per_poll() - (1.0 + 2.0 / 24.0)).abs() < 1e-9);

        let mut s = settings();
        s.cookie = Some("SESSDATA=abc; bili_jct=x".into());
        let logged_in = Bilibili::new(s);
        let full = logged_in.requests("42", Depth::Full).unwrap();
        assert_eq!(full.last().map(|r| r.url.path()), Some("/x/space/upstat"));
        assert!((logged_in.requests_per_poll() - (1.0 + 3.0 / 24.0)).abs() < 1e-9);
        // upstat says "no data": the cookie does not log in; upstat is not asked again.
        let anon = Response::saved(r#"{"code":0,"message":"0","ttl":1,"data":{}}"#);
        let upstat = full.last().unwrap();
        assert_eq!(
            logged_in.decode(upstat, &anon).unwrap_err().kind(),
            "login_required"
        );
        assert!(
            !paths(&logged_in.requests("42", Depth::Full).unwrap()).contains(&"/x/space/upstat")
        );
    }

    #[test]
    fn an_answer_in_another_endpoints_shape_is_a_layout_change() {
        let b = Bilibili::new(settings());
        let card_req = &b.requests("1234567890", Depth::Quick).unwrap()[0];
        let stat = Response::saved(
            r#"{"code":0,"message":"0","ttl":1,"data":{"mid":1234567890,"following":58,"whisper":0,"black":0,"follower":283417}}"#,
        );
        assert_eq!(
            b.decode(card_req, &stat).unwrap_err().kind(),
            "layout_changed"
        );
    }

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

    #[test]
    fn buvid3_is_fetched_once_kept_and_sent_with_the_configured_cookie() {
        let mut s = settings();
        s.cookie = Some("SESSDATA=abc".into());
        let b = Bilibili::new(s);
        let spi = b.session_request().expect("asks finger/spi");
        assert_eq!(spi.url.path(), "/x/frontend/finger/spi");
        assert_eq!(spi.url.host_str(), Some("127.0.0.1"));
        let answer = Response::saved(
            r#"{"code":0,"data":{"b_3":"AB12-CD34-infoc","b_4":"XY-99=="},"message":"ok"}"#,
        );
        b.session_answer(Ok(&answer)).unwrap();
        assert!(b.session_request().is_none(), "kept, not asked again");
        assert_eq!(b.buvid3().as_deref(), Some("AB12-CD34-infoc"));
        let card = &b.requests("42", Depth::Quick).unwrap()[0];
        assert_eq!(
            cookie(card),
            Some("SESSDATA=abc; buvid3=AB12-CD34-infoc; buvid4=XY-99==")
        );

        // A failure is remembered: no new attempt for 10 minutes.
        let b = Bilibili::new(settings());
        assert!(b.session_request().is_some());
        let e = b
            .session_answer(Err(&FetchError::Transport {
                reason: "timed out".into(),
            }))
            .unwrap_err();
        assert_eq!(e.kind(), "transport");
        assert!(b.session_request().is_none());
        assert_eq!(cookie(&b.requests("42", Depth::Quick).unwrap()[0]), None);

        // A value unfit for a cookie header is refused, not sent.
        let b = Bilibili::new(settings());
        let bad = Response::saved(r#"{"code":0,"data":{"b_3":"x; evil=1\r\n"},"message":"ok"}"#);
        assert_eq!(
            b.session_answer(Ok(&bad)).unwrap_err().kind(),
            "layout_changed"
        );
    }

    #[test]
    fn a_buvid3_in_the_cookie_or_fetching_off_means_no_finger_spi() {
        let mut s = settings();
        s.cookie = Some("buvid3=OWN-infoc; SESSDATA=x".into());
        assert!(Bilibili::new(s).session_request().is_none());
        let mut s = settings();
        s.fetch_buvid3 = false;
        assert!(Bilibili::new(s).session_request().is_none());
    }

    #[test]
    fn douyin_signs_the_json_api_only() {
        let mut s = settings();
        s.signer = Some(Url::parse("http://127.0.0.1:7000/sign").unwrap());
        assert!(Douyin(s.clone()).signer().is_some());
        s.page_mode = true;
        assert!(Douyin(s).signer().is_none());
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
