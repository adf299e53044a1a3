//! haoqi-simulator: one local HTTP server that answers Bilibili's, Douyin's and
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

mod faults;
mod formats;
pub mod growth;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use haoqi_platform::hash::{mix, seed_of};
use haoqi_platform::Platform;
use serde::{Deserialize, Serialize};

use faults::Fault;
pub use faults::Faults;
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
        let mut r = Router::new();
        for p in Platform::ALL {
            if let Some(f) = formats::of(p) {
                r = f.routes(r);
            }
        }
        r.route("/_sim/stats", get(stats)).with_state(self.clone())
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
    pub(crate) fn admit(&self, platform: Platform) -> bool {
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

    pub(crate) fn fault(&self) -> Option<Fault> {
        let n = self.0.counter.fetch_add(1, Ordering::Relaxed);
        let fault = faults::pick(&self.0.config.faults, n)?;
        self.count(|s| &mut s.faults, &format!("{fault:?}"));
        Some(fault)
    }

    pub(crate) fn config(&self) -> &SimConfig {
        &self.0.config
    }

    pub(crate) fn slow_ms(&self) -> u64 {
        self.0.config.faults.slow_ms
    }

    /// How many platform requests have been answered (a salt for fresh values).
    pub(crate) fn requests_so_far(&self) -> u64 {
        self.0.counter.load(Ordering::Relaxed)
    }

    pub(crate) fn count_path(&self, route: &str) {
        self.count(|s| &mut s.paths, route);
    }

    /// `platform`'s answer to too many requests.
    pub(crate) fn rate_limited(&self, platform: Platform) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(
            "retry-after",
            HeaderValue::from(self.0.config.retry_after_secs),
        );
        match formats::of(platform) {
            Some(f) => f.rate_limited(headers),
            None => (StatusCode::TOO_MANY_REQUESTS, headers, "").into_response(),
        }
    }

    /// The common path of every platform handler: budget, the platform's demands (`refusal`),
    /// faults, lookup, then the answer.
    pub(crate) async fn answer(
        &self,
        platform: Platform,
        route: &str,
        refusal: Option<Response>,
        id: Option<&str>,
        ok: impl FnOnce(&SimAccount, &Curve, f64) -> String,
    ) -> Response {
        let Some(format) = formats::of(platform) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        self.count_path(route);
        if !self.admit(platform) {
            return self.rate_limited(platform);
        }
        if let Some(r) = refusal {
            return r;
        }
        let fault = self.fault();
        match fault {
            Some(Fault::RateLimited) => return self.rate_limited(platform),
            Some(Fault::Captcha) => return format.captcha(),
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
            return (StatusCode::OK, format.not_found()).into_response();
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
            Some(Fault::Layout) => (StatusCode::OK, format.changed_layout()).into_response(),
            _ => (StatusCode::OK, body).into_response(),
        }
    }
}

async fn stats(State(s): State<Simulator>) -> Json<SimStats> {
    Json(s.stats())
}
