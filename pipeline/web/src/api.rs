//! The HTTP endpoint: `/metrics` (Prometheus), `/healthz` (store reachability and, under
//! `haoqi run`, each platform's collector state), and the
//! read-only JSON API for dashboards and the wall: `/api/progress` (the leadership report of
//! `haoqi progress --forecast`) and `/api/stalled` (`haoqi stalled`). Built as a `Router` so
//! tests call it without a socket. Nothing here writes.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use crate::cache::Cache;
use crate::error::ApiError;
use crate::metrics::Metrics;
use haoqi_analytics::snapshot::{Latest, Snapshot};
use haoqi_analytics::{goal, whatif::Selection, Settings};
use haoqi_store::Store;

#[derive(Clone)]
pub struct AppState {
    pub metrics: Metrics,
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    /// The health states the gauges' refresh computed last (none served without a refresh).
    pub health: Latest,
    /// The refresh's store check and goal report, and the gate every other store request
    /// goes through.
    pub cache: Cache,
}

/// One platform's collectors, as `/healthz` reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PlatformHealth {
    /// Accounts this instance polls on the platform.
    pub accounts: usize,
    /// `closed`, `half_open` (one probe) or `open` (backing off).
    pub circuit: &'static str,
    pub last_success_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Accounts not read within two intervals.
    pub overdue: usize,
}

/// The collectors' state: a snapshot `haoqi run` refreshes every few seconds, so that
/// `/healthz` stays cheap (it reads the snapshot, it does not ask the scheduler).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CollectorHealth {
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
    pub platforms: BTreeMap<String, PlatformHealth>,
}

pub type CollectorState = Arc<RwLock<CollectorHealth>>;

/// The circuit gauge's number (0, 1, 2) as `/healthz` names it.
pub fn circuit_name(gauge: i64) -> &'static str {
    match gauge {
        0 => "closed",
        1 => "half_open",
        _ => "open",
    }
}

/// `router` whose `/healthz` also reports `collectors` (for `haoqi run`; `serve` and `demo`
/// have no collectors running and use [`router`] alone).
pub fn with_collectors(router: Router, collectors: CollectorState) -> Router {
    router.layer(Extension(collectors))
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/api/progress", get(api_progress))
        .route("/api/stalled", get(api_stalled))
        .with_state(state)
}

#[derive(Debug, serde::Deserialize)]
struct ProgressParams {
    /// Beijing day (default today).
    as_of: Option<chrono::NaiveDate>,
    /// What-if selections separated by `;`, each `key=value[,key=value]`.
    assume: Option<String>,
}

async fn api_progress(
    State(s): State<AppState>,
    Query(q): Query<ProgressParams>,
) -> axum::response::Response {
    let mut assume = Vec::new();
    for part in q
        .assume
        .as_deref()
        .unwrap_or("")
        .split(';')
        .filter(|p| !p.trim().is_empty())
    {
        match part.parse::<Selection>() {
            Ok(sel) => assume.push(sel),
            Err(e) => return ApiError::BadRequest(e.to_string()).into_response(),
        }
    }
    let as_of = match q.as_of.map(haoqi_analytics::limits::check_day) {
        Some(Err(e)) => return ApiError::BadRequest(e).into_response(),
        Some(Ok(d)) => d,
        None => haoqi_model::time::last_complete_day(),
    };
    if assume.is_empty() {
        if let Some((_, report)) = s.cache.progress(chrono::Utc::now(), as_of) {
            return ([("x-haoqi-computed-by", "refresh")], Json(report.as_ref())).into_response();
        }
    }
    match s
        .cache
        .ask(goal::report(s.store.as_ref(), &s.settings, as_of, &assume))
        .await
    {
        Ok(report) => ([("x-haoqi-computed-by", "request")], Json(report)).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, serde::Deserialize)]
struct StalledParams {
    days: Option<u32>,
}

/// With the configured thresholds, the refresh's latest states while they are fresh (the ones
/// on `/metrics`); with `?days=N`, or without a fresh refresh, the store is asked.
async fn api_stalled(
    State(s): State<AppState>,
    Query(q): Query<StalledParams>,
) -> axum::response::Response {
    if let Some(Err(e)) = q.days.map(haoqi_analytics::limits::check_stalled_days) {
        return ApiError::BadRequest(e).into_response();
    }
    let now = chrono::Utc::now();
    if q.days.is_none() {
        if let Some(snapshot) = s.health.fresh(now) {
            return Json(snapshot.report("refresh")).into_response();
        }
    }
    let query = s.settings.health(now).with_days(q.days);
    match s.cache.ask(query.run(s.store.as_ref())).await {
        Ok(rows) => Json(
            Snapshot {
                now: query.now,
                rows: Arc::new(rows),
            }
            .report("request"),
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    (
        [("content-type", "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}

/// The collectors' snapshot as JSON, with each platform's last success as an age.
fn collectors_json(c: &CollectorHealth, now: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    let platforms: serde_json::Map<String, serde_json::Value> = c
        .platforms
        .iter()
        .map(|(name, p)| {
            let age = p.last_success_at.map(|at| (now - at).num_seconds().max(0));
            (
                name.clone(),
                serde_json::json!({
                    "accounts": p.accounts,
                    "circuit": p.circuit,
                    "last_success_at": p.last_success_at,
                    "last_success_age_secs": age,
                    "overdue": p.overdue,
                }),
            )
        })
        .collect();
    serde_json::json!({"updated_at": c.updated_at, "platforms": platforms})
}

async fn healthz(
    State(s): State<AppState>,
    collectors: Option<Extension<CollectorState>>,
) -> impl IntoResponse {
    // The refresh's check when there is one: /healthz never waits in the engine's queue behind
    // other requests. Without a refresh (or before its first check) the store is asked, for
    // at most a second.
    let now = chrono::Utc::now();
    let (checked_at, result) = match s.cache.store_check(now) {
        Some((at, r)) => (Some(at), r),
        None => {
            let ask = tokio::time::timeout(
                std::time::Duration::from_secs(1),
                s.store.query_rows("SELECT 1 AS ok"),
            )
            .await;
            match ask {
                Ok(Ok(_)) => (None, Ok(())),
                Ok(Err(e)) => (None, Err(e.kind())),
                // Busy, not down: the process is alive and the store is working.
                Err(_) => (None, Ok(())),
            }
        }
    };
    let mut body = match result {
        Ok(()) => (
            StatusCode::OK,
            serde_json::json!({"status": "ok", "store": s.store.describe(), "store_checked_at": checked_at}),
        ),
        Err(kind) => (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"status": "store unavailable", "error": kind, "store_checked_at": checked_at}),
        ),
    };
    if let Some(Extension(c)) = collectors {
        let snapshot = c.read().map(|c| c.clone()).unwrap_or_default();
        body.1["collectors"] = collectors_json(&snapshot, chrono::Utc::now());
    }
    (body.0, Json(body.1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use haoqi_store::StoreError;

    #[derive(Debug)]
    struct FakeStore(bool);

    #[async_trait::async_trait]
    impl Store for FakeStore {
        async fn execute(&self, _: &str) -> Result<(), StoreError> {
            Ok(())
        }
        async fn query_json_each_row(&self, _: &str) -> Result<Vec<u8>, StoreError> {
            if self.0 {
                Ok(Vec::new())
            } else {
                Err(StoreError::Unavailable("down".into()))
            }
        }
        async fn insert_json_each_row(&self, _: &str, _: &[u8]) -> Result<(), StoreError> {
            Ok(())
        }
        fn database(&self) -> &str {
            "t"
        }
        fn describe(&self) -> String {
            "fake".into()
        }
    }

    fn state(up: bool) -> AppState {
        AppState {
            metrics: Metrics::new().unwrap(),
            store: Arc::new(FakeStore(up)),
            settings: Arc::new(Settings {
                goal: Default::default(),
                stale_after_hours: haoqi_analytics::ProgressConfig::default().stale_after_hours,
                stalled: Default::default(),
                forecast: Default::default(),
                rank: Default::default(),
                interval_mins: 60,
                crawled: vec!["bilibili".into()],
            }),
            health: Latest::default(),
            cache: Cache::default(),
        }
    }

    async fn json(r: axum::response::Response) -> (StatusCode, serde_json::Value) {
        let status = r.status();
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    async fn get(state: AppState, c: Option<CollectorState>) -> (StatusCode, serde_json::Value) {
        json(
            healthz(State(state), c.map(Extension))
                .await
                .into_response(),
        )
        .await
    }

    #[tokio::test]
    async fn healthz_reports_the_store_and_each_platforms_collectors() {
        // serve/demo: no collectors, the answer is as before.
        let (status, body) = get(state(true), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "ok");
        assert!(body.get("collectors").is_none());

        let at = chrono::Utc::now() - chrono::Duration::seconds(90);
        let c: CollectorState = Arc::default();
        {
            let mut h = c.write().unwrap();
            h.updated_at = Some(chrono::Utc::now());
            h.platforms.insert(
                "bilibili".into(),
                PlatformHealth {
                    accounts: 694,
                    circuit: circuit_name(2),
                    last_success_at: Some(at),
                    overdue: 12,
                },
            );
            h.platforms.insert(
                "douyin".into(),
                PlatformHealth {
                    accounts: 3,
                    circuit: circuit_name(0),
                    last_success_at: None,
                    overdue: 3,
                },
            );
        }
        let (status, body) = get(state(true), Some(c.clone())).await;
        assert_eq!(status, StatusCode::OK);
        let b = &body["collectors"]["platforms"]["bilibili"];
        assert_eq!(b["circuit"], "open");
        assert_eq!(b["overdue"], 12);
        assert_eq!(b["accounts"], 694);
        let age = b["last_success_age_secs"].as_i64().unwrap();
        assert!((90..100).contains(&age), "{age}");
        let d = &body["collectors"]["platforms"]["douyin"];
        assert_eq!(d["circuit"], "closed");
        assert!(d["last_success_age_secs"].is_null(), "never read: no age");

        // The store away: 503, and the collectors are still reported.
        let (status, body) = get(state(false), Some(c)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["error"], "unavailable");
        assert_eq!(body["collectors"]["platforms"]["bilibili"]["overdue"], 12);
    }

    async fn stalled(state: AppState, days: Option<u32>) -> (StatusCode, serde_json::Value) {
        json(api_stalled(State(state), Query(StalledParams { days })).await).await
    }

    #[tokio::test]
    async fn stalled_answers_from_the_refresh_while_it_is_fresh() {
        let blocked: haoqi_analytics::health::AccountHealth =
            serde_json::from_value(serde_json::json!({
                "account_id": "C1-bl", "unit_id": "C1", "unit_name": "某县科协", "kind": "county_assoc",
                "tier": "vertical", "prefecture_code": 650100, "prefecture_name": "乌鲁木齐市",
                "department": "科普部", "platform": "bilibili", "display_name": "某县科协",
                "state": "collection_blocked", "since": "2026-11-29", "followers": 5100,
                "followers_lo": 5100, "followers_hi": 5100, "observed_at": "2026-11-29 11:00:00.000",
                "hours_since_reading": 1.0, "overdue_after_hours": 2, "reference_day": null,
                "reference_followers_hi": null, "peak_followers_lo": 5100, "posts": null,
                "reference_posts_hi": null, "last_attempt_at": "2026-11-29 11:30:00.000",
                "last_outcome": "blocked", "last_error": "captcha"
            }))
            .unwrap();
        // The store is away: whatever comes back comes from the refresh.
        let s = state(false);
        let s = AppState {
            health: Latest::every(std::time::Duration::from_secs(60)),
            ..s
        };
        let (status, _) = stalled(s.clone(), None).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "nothing refreshed yet"
        );

        let judged = chrono::Utc::now() - chrono::Duration::seconds(30);
        s.health.put(Snapshot {
            now: judged,
            rows: Arc::new(vec![blocked]),
        });
        let (status, body) = stalled(s.clone(), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["computed_by"], "refresh");
        assert_eq!(body["counts"]["collection_blocked"], 1);
        assert_eq!(body["counts"]["growing"], 0);
        assert_eq!(body["accounts"][0]["account_id"], "C1-bl");
        assert_eq!(
            body["now"]
                .as_str()
                .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok()),
            Some(judged)
        );
        // A window of decades is refused with the range.
        let (status, body) = stalled(s.clone(), Some(30_000)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body["error"].as_str().unwrap().contains("1..=365"),
            "{body}"
        );
        // Other thresholds than the refresh's: the store is asked.
        let (status, _) = stalled(s.clone(), Some(3)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        // Two refreshes missed: the snapshot is no longer served.
        s.health.put(Snapshot {
            now: chrono::Utc::now() - chrono::Duration::seconds(121),
            rows: Arc::new(Vec::new()),
        });
        let (status, _) = stalled(s, None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
}
