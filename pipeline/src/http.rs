//! The HTTP endpoint: `/metrics` (Prometheus), `/healthz` (store reachability), and the
//! read-only JSON API for dashboards and the wall: `/api/progress` (the leadership report of
//! `haoqi progress --forecast`) and `/api/stalled` (`haoqi stalled`). Built as a `Router` so
//! tests call it without a socket. Nothing here writes.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use crate::analytics::{goal, health, whatif::Selection, Settings};
use crate::metrics::Metrics;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub metrics: Metrics,
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/api/progress", get(api_progress))
        .route("/api/stalled", get(api_stalled))
        .with_state(state)
}

fn error(status: StatusCode, message: String) -> axum::response::Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
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
            Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
        }
    }
    let as_of = q.as_of.unwrap_or_else(crate::time::today);
    match goal::report(s.store.as_ref(), &s.settings, as_of, &assume).await {
        Ok(report) => Json(report).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

#[derive(Debug, serde::Deserialize)]
struct StalledParams {
    days: Option<u32>,
}

async fn api_stalled(
    State(s): State<AppState>,
    Query(q): Query<StalledParams>,
) -> axum::response::Response {
    let mut query = s.settings.health(chrono::Utc::now());
    if let Some(days) = q.days {
        query.config.flat_days = days.max(1);
        query.config.no_posts_days = days.max(1);
    }
    match query.run(s.store.as_ref()).await {
        Ok(rows) => {
            let counts: serde_json::Map<String, serde_json::Value> = health::counts(&rows)
                .into_iter()
                .map(|(k, n)| (k.to_string(), n.into()))
                .collect();
            Json(serde_json::json!({
                "now": query.now,
                "counts": counts,
                "accounts": rows,
            }))
            .into_response()
        }
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    (
        [("content-type", "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}

async fn healthz(State(s): State<AppState>) -> impl IntoResponse {
    match s.store.query_rows("SELECT 1 AS ok").await {
        Ok(_) => (
            StatusCode::OK,
            Json(serde_json::json!({"status": "ok", "store": s.store.describe()})),
        ),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "store unavailable", "error": e.kind()})),
        ),
    }
}
