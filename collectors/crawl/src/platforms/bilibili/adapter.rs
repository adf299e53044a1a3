//! Bilibili's adapter: a quick poll reads the card, a full poll adds relation/stat, navnum and
//! (with a login cookie) upstat; an anonymous buvid3 is asked for once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use haoqi_platform::{Decoded, FetchError, Platform, Response};
use url::Url;

use super::decode::{self, Buvid, Endpoint};
use crate::adapter::{cookie_header, join, Adapter, Depth, PlatformSettings};
use crate::fetch::RequestSpec;

/// How long to wait before asking for a buvid3 again after finger/spi failed.
const BUVID_RETRY: Duration = Duration::from_secs(600);

#[derive(Debug)]
enum BuvidState {
    /// Not fetched yet, or the last attempt failed at this time.
    Missing(Option<Instant>),
    Have(Buvid),
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
        let decoded = decode::decode(resp);
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
            Ok(resp) => decode::decode_spi(resp),
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
}
