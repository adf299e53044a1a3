//! haoqi-web: what haoqi answers over HTTP — the read-only JSON API for dashboards and the wall
//! ([`api`]), `/healthz`, and `/metrics` ([`metrics`], registered once at start). Built as a
//! `Router` from state so tests call it without a socket. The web application (logins, roles,
//! pages) is [`app`], one module per area.
//!
//! Depends on: haoqi-model, haoqi-store, haoqi-appdb, haoqi-registry (names of kinds),
//! haoqi-analytics. The binary wires it to a listener.

pub mod api;
pub mod app;
pub mod cache;
mod error;
pub mod metrics;

pub use api::{router, with_collectors, AppState, CollectorHealth, CollectorState, PlatformHealth};
pub use cache::Cache;
pub use error::ApiError;
pub use metrics::Metrics;
