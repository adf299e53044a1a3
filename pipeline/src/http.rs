//! The HTTP endpoint: `/metrics` (Prometheus) and `/healthz` (store reachability). Built as a
//! `Router` so tests call it without a socket.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use crate::metrics::Metrics;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub metrics: Metrics,
    pub store: Arc<dyn Store>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(state)
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
