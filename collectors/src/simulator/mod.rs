//! The platform simulator: one local HTTP server that answers Bilibili's, Douyin's and
//! Kuaishou's real paths in their real formats for every account it is given, with
//! deterministic growth ([`growth`]) and injectable faults. It also enforces a per-platform
//! request rate and counts violations, so tests can prove the collectors stay within budget.
//!
//! ```text
//! GET  /x/web-interface/card?mid=…   /x/relation/stat?vmid=…   /x/space/navnum?mid=…
//! GET  /x/space/upstat?mid=…                                      (views need a SESSDATA cookie)
//! GET  /x/frontend/finger/spi                                     (an anonymous buvid3/buvid4)
//! GET  /aweme/v1/web/user/profile/other/?sec_user_id=…           GET /user/{sec_uid}
//! POST /graphql  {"operationName":"visionProfile","variables":{"userId":"3x…"},…}
//! GET  /_sim/stats
//! ```
//!
//! Every platform path counts against its platform's limit. Optionally the simulator is as
//! demanding as the real platforms: Bilibili answers -352 to requests without a `buvid3` cookie
//! (`require_buvid3`), Douyin's profile API answers an empty 200 to a request without an
//! `a_bogus` signature (`douyin_require_signature`).

pub mod formats;
pub mod growth;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::hash::{mix, seed_of};
use crate::Platform;
use growth::{day_of, Curve};

/// An account the simulator answers for.
#[derive(Debug, Clone)]
pub struct SimAccount {
    pub platform: Platform,
    pub platform_id: String,
    pub name: String,
    pub seed: u64,
}

impl SimAccount {
    pub fn new(platform: Platform, platform_id: &str, name: &str) -> Self {
        SimAccount {
            platform,
            platform_id: platform_id.to_string(),
            name: name.to_string(),
            seed: seed_of(platform_id),
        }
    }

    /// About one account in two hundred has been deleted.
    pub fn deleted(&self) -> bool {
        mix(self.seed ^ 0xde1e7ed).is_multiple_of(200)
    }
}

/// Fault rates (0.0–1.0), each applied independently per request, deterministically from a
/// request counter so a test run is repeatable.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    pub rate_limited: f64,
    pub captcha: f64,
    pub empty: f64,
    pub server_error: f64,
    pub slow: f64,
    pub truncated: f64,
    pub layout: f64,
    /// How long a slow response takes.
    pub slow_ms: u64,
}

impl Faults {
    /// `total` spread evenly over the seven kinds.
    pub fn uniform(total: f64) -> Faults {
        let each = total / 7.0;
        Faults {
            rate_limited: each,
            captcha: each,
            empty: each,
            server_error: each,
            slow: each,
            truncated: each,
            layout: each,
            slow_ms: 15_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    RateLimited,
    Captcha,
    Empty,
    ServerError,
    Slow,
    Truncated,
    Layout,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    /// Allowed requests per second per platform; more is a violation, answered as the platform
    /// answers (429/412, -412, result 2).
    pub limit_per_sec: f64,
    pub faults: Faults,
    /// Fixes the clock (Unix seconds) for tests; `None` is real time.
    pub fixed_time: Option<i64>,
    /// The `Retry-After` a rate-limited answer carries.
    pub retry_after_secs: u64,
    /// Bilibili answers -352 (risk control) to a request without a `buvid3` cookie.
    pub require_buvid3: bool,
    /// Douyin's profile API answers an empty 200 to a request without `a_bogus`.
    pub douyin_require_signature: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            limit_per_sec: 100.0,
            faults: Faults::default(),
            fixed_time: None,
            retry_after_secs: 30,
            require_buvid3: false,
            douyin_require_signature: false,
        }
    }
}

/// Counters the simulator keeps, served at `/_sim/stats`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SimStats {
    pub requests: HashMap<String, u64>,
    pub violations: HashMap<String, u64>,
    pub faults: HashMap<String, u64>,
    /// Requests by route (`/x/relation/stat`, `/user/{sec_uid}` …).
    pub paths: HashMap<String, u64>,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

struct Inner {
    accounts: HashMap<(Platform, String), SimAccount>,
    config: SimConfig,
    counter: AtomicU64,
    buckets: Mutex<HashMap<Platform, Bucket>>,
    stats: Mutex<SimStats>,
}

/// The simulator's state; cheap to clone into handlers.
#[derive(Clone)]
pub struct Simulator(Arc<Inner>);

impl Simulator {
    pub fn new(accounts: impl IntoIterator<Item = SimAccount>, config: SimConfig) -> Self {
        Simulator(Arc::new(Inner {
            accounts: accounts
                .into_iter()
                .map(|a| ((a.platform, a.platform_id.clone()), a))
                .collect(),
            config,
            counter: AtomicU64::new(0),
            buckets: Mutex::new(HashMap::new()),
            stats: Mutex::new(SimStats::default()),
        }))
    }

    pub fn stats(&self) -> SimStats {
        self.0.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/x/web-interface/card", get(bili_card))
            .route("/x/relation/stat", get(bili_stat))
            .route("/x/space/navnum", get(bili_navnum))
            .route("/x/space/upstat", get(bili_upstat))
            .route("/x/frontend/finger/spi", get(bili_spi))
            .route("/aweme/v1/web/user/profile/other/", get(douyin_json))
            .route("/user/{sec_uid}", get(douyin_page))
            .route("/graphql", post(kuaishou_graphql))
            .route("/_sim/stats", get(stats))
            .with_state(self.clone())
    }

    /// Serves on `listener` until the future is dropped.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        axum::serve(listener, self.router()).await
    }

    fn now_day(&self) -> f64 {
        let secs = self.0.config.fixed_time.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
        day_of(secs)
    }

    fn count(&self, map: fn(&mut SimStats) -> &mut HashMap<String, u64>, key: &str) {
        if let Ok(mut s) = self.0.stats.lock() {
            *map(&mut s).entry(key.to_string()).or_default() += 1;
        }
    }

    /// Admits a request to `platform`'s budget; `false` is a violation.
    fn admit(&self, platform: Platform) -> bool {
        self.count(|s| &mut s.requests, platform.as_str());
        let limit = self.0.config.limit_per_sec;
        let Ok(mut buckets) = self.0.buckets.lock() else {
            return true;
        };
        let now = Instant::now();
        // A burst of one second's worth is tolerated, as a token bucket on the platform side.
        let b = buckets.entry(platform).or_insert(Bucket {
            tokens: limit.max(1.0),
            last: now,
        });
        b.tokens =
            (b.tokens + now.duration_since(b.last).as_secs_f64() * limit).min(limit.max(1.0));
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            drop(buckets);
            self.count(|s| &mut s.violations, platform.as_str());
            false
        }
    }

    fn fault(&self) -> Option<Fault> {
        let f = &self.0.config.faults;
        let n = self.0.counter.fetch_add(1, Ordering::Relaxed);
        let x = (mix(n ^ 0x5eed) % 1_000_000) as f64 / 1_000_000.0;
        let mut edge = 0.0;
        for (rate, fault) in [
            (f.rate_limited, Fault::RateLimited),
            (f.captcha, Fault::Captcha),
            (f.empty, Fault::Empty),
            (f.server_error, Fault::ServerError),
            (f.slow, Fault::Slow),
            (f.truncated, Fault::Truncated),
            (f.layout, Fault::Layout),
        ] {
            edge += rate;
            if x < edge {
                self.count(|s| &mut s.faults, &format!("{fault:?}"));
                return Some(fault);
            }
        }
        None
    }

    /// Bilibili's refusal of a request without a buvid3 cookie, when configured to refuse.
    fn bili_refusal(&self, headers: &HeaderMap) -> Option<Response> {
        let has_buvid3 = headers
            .get("cookie")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.split(';').any(|p| p.trim_start().starts_with("buvid3=")));
        (self.0.config.require_buvid3 && !has_buvid3).then(|| captcha(Platform::Bilibili))
    }

    /// The common path of every platform handler: budget, the platform's demands (`refusal`),
    /// faults, lookup, then the answer.
    async fn answer(
        &self,
        platform: Platform,
        route: &str,
        refusal: Option<Response>,
        id: Option<&str>,
        ok: impl FnOnce(&SimAccount, &Curve, f64) -> String,
    ) -> Response {
        let retry_after = self.0.config.retry_after_secs;
        self.count(|s| &mut s.paths, route);
        if !self.admit(platform) {
            return rate_limited(platform, retry_after);
        }
        if let Some(r) = refusal {
            return r;
        }
        let fault = self.fault();
        match fault {
            Some(Fault::RateLimited) => return rate_limited(platform, retry_after),
            Some(Fault::Captcha) => return captcha(platform),
            Some(Fault::Empty) => return (StatusCode::OK, "").into_response(),
            Some(Fault::ServerError) => {
                return (StatusCode::BAD_GATEWAY, "<html>502 Bad Gateway</html>").into_response()
            }
            Some(Fault::Slow) => {
                tokio::time::sleep(Duration::from_millis(self.0.config.faults.slow_ms)).await
            }
            _ => {}
        }
        let account = id.and_then(|id| self.0.accounts.get(&(platform, id.to_string())));
        let Some(account) = account.filter(|a| !a.deleted()) else {
            return not_found(platform);
        };
        let curve = Curve::new(account.seed);
        let body = ok(account, &curve, self.now_day());
        match fault {
            Some(Fault::Truncated) => {
                let cut = body
                    .char_indices()
                    .nth(body.chars().count() / 3)
                    .map_or(0, |(i, _)| i);
                (StatusCode::OK, body[..cut].to_string()).into_response()
            }
            Some(Fault::Layout) => (StatusCode::OK, changed_layout(platform)).into_response(),
            _ => (StatusCode::OK, body).into_response(),
        }
    }
}

fn rate_limited(platform: Platform, retry_after_secs: u64) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", HeaderValue::from(retry_after_secs));
    match platform {
        Platform::Bilibili => (
            StatusCode::PRECONDITION_FAILED,
            headers,
            r#"{"code":-412,"message":"请求被拦截","ttl":1,"data":null}"#,
        )
            .into_response(),
        Platform::Kuaishou => (
            StatusCode::OK,
            r#"{"data":{"visionProfile":{"result":2,"hostName":"sim","userProfile":null}}}"#,
        )
            .into_response(),
        _ => (StatusCode::TOO_MANY_REQUESTS, headers, "").into_response(),
    }
}

fn captcha(platform: Platform) -> Response {
    match platform {
        Platform::Bilibili => (StatusCode::OK, r#"{"code":-352,"message":"风控校验失败","ttl":1,"data":{"v_voucher":"voucher_sim"}}"#).into_response(),
        Platform::Kuaishou => (StatusCode::OK, r#"{"errors":[{"message":"No Login"}],"data":null}"#).into_response(),
        _ => (StatusCode::OK, "<!DOCTYPE html><html><head><title>验证码中间页</title></head><body><div id=\"captcha_container\"></div><iframe src=\"https://rmc.bytedance.com/verifycenter/captcha/v2\"></iframe></body></html>").into_response(),
    }
}

fn not_found(platform: Platform) -> Response {
    let body = match platform {
        Platform::Bilibili => r#"{"code":-404,"message":"啥都木有","ttl":1,"data":null}"#,
        Platform::Kuaishou => {
            r#"{"data":{"visionProfile":{"result":1,"hostName":"sim","userProfile":null}}}"#
        }
        _ => r#"{"status_code":0,"status_msg":null,"user":null}"#,
    };
    (StatusCode::OK, body).into_response()
}

fn changed_layout(platform: Platform) -> &'static str {
    match platform {
        Platform::Bilibili => {
            r#"{"code":0,"message":"0","ttl":1,"data":{"card":{"mid":"0","name":"x"},"stats":{"fans_total":1}}}"#
        }
        Platform::Kuaishou => {
            r#"{"data":{"visionProfile":{"result":1,"hostName":"sim","userProfile":{"ownerCount":{"fanCount":1},"profile":{"user_id":"x"}}}}}"#
        }
        _ => r#"{"status_code":0,"user":{"nickname":"x","fans":{"total":1}}}"#,
    }
}

#[derive(Deserialize)]
struct MidQuery {
    mid: Option<String>,
    vmid: Option<String>,
}

async fn bili_card(
    State(s): State<Simulator>,
    headers: HeaderMap,
    Query(q): Query<MidQuery>,
) -> Response {
    let refusal = s.bili_refusal(&headers);
    s.answer(
        Platform::Bilibili,
        "/x/web-interface/card",
        refusal,
        q.mid.as_deref(),
        formats::bilibili_card,
    )
    .await
}

async fn bili_stat(
    State(s): State<Simulator>,
    headers: HeaderMap,
    Query(q): Query<MidQuery>,
) -> Response {
    let refusal = s.bili_refusal(&headers);
    s.answer(
        Platform::Bilibili,
        "/x/relation/stat",
        refusal,
        q.vmid.as_deref(),
        formats::bilibili_stat,
    )
    .await
}

async fn bili_navnum(
    State(s): State<Simulator>,
    headers: HeaderMap,
    Query(q): Query<MidQuery>,
) -> Response {
    let refusal = s.bili_refusal(&headers);
    s.answer(
        Platform::Bilibili,
        "/x/space/navnum",
        refusal,
        q.mid.as_deref(),
        |_, c, d| formats::bilibili_navnum(c, d),
    )
    .await
}

/// `x/frontend/finger/spi`: a fresh anonymous buvid3/buvid4 pair (not tied to an account).
async fn bili_spi(State(s): State<Simulator>) -> Response {
    s.count(|st| &mut st.paths, "/x/frontend/finger/spi");
    if !s.admit(Platform::Bilibili) {
        return rate_limited(Platform::Bilibili, s.0.config.retry_after_secs);
    }
    match s.fault() {
        Some(Fault::RateLimited) => rate_limited(Platform::Bilibili, s.0.config.retry_after_secs),
        Some(Fault::Captcha) => captcha(Platform::Bilibili),
        Some(Fault::ServerError) => {
            (StatusCode::BAD_GATEWAY, "<html>502 Bad Gateway</html>").into_response()
        }
        Some(Fault::Empty | Fault::Truncated | Fault::Layout) => {
            (StatusCode::OK, r#"{"code":0,"data":{},"message":"ok"}"#).into_response()
        }
        fault => {
            if fault == Some(Fault::Slow) {
                tokio::time::sleep(Duration::from_millis(s.0.config.faults.slow_ms)).await;
            }
            let n = s.0.counter.load(Ordering::Relaxed);
            (StatusCode::OK, formats::bilibili_spi(n)).into_response()
        }
    }
}

async fn bili_upstat(
    State(s): State<Simulator>,
    headers: HeaderMap,
    Query(q): Query<MidQuery>,
) -> Response {
    let logged_in = headers
        .get("cookie")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("SESSDATA="));
    let refusal = s.bili_refusal(&headers);
    s.answer(
        Platform::Bilibili,
        "/x/space/upstat",
        refusal,
        q.mid.as_deref(),
        |_, c, d| formats::bilibili_upstat(c, d, logged_in),
    )
    .await
}

#[derive(Deserialize)]
struct SecQuery {
    sec_user_id: Option<String>,
    a_bogus: Option<String>,
}

async fn douyin_json(State(s): State<Simulator>, Query(q): Query<SecQuery>) -> Response {
    // Douyin's dominant refusal of an unsigned request: HTTP 200, empty body.
    let unsigned = q.a_bogus.as_deref().is_none_or(str::is_empty);
    let refusal = (s.0.config.douyin_require_signature && unsigned)
        .then(|| (StatusCode::OK, "").into_response());
    s.answer(
        Platform::Douyin,
        "/aweme/v1/web/user/profile/other/",
        refusal,
        q.sec_user_id.as_deref(),
        formats::douyin_profile_json,
    )
    .await
}

async fn douyin_page(State(s): State<Simulator>, Path(sec_uid): Path<String>) -> Response {
    s.answer(
        Platform::Douyin,
        "/user/{sec_uid}",
        None,
        Some(&sec_uid),
        formats::douyin_page,
    )
    .await
}

async fn kuaishou_graphql(
    State(s): State<Simulator>,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let id = body["variables"]["userId"].as_str().map(str::to_string);
    s.answer(
        Platform::Kuaishou,
        "/graphql",
        None,
        id.as_deref(),
        formats::kuaishou_graphql,
    )
    .await
}

async fn stats(State(s): State<Simulator>) -> Json<SimStats> {
    Json(s.stats())
}
