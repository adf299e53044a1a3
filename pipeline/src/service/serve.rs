//! The HTTP side of every long-running command: the gauges' refresh, the router over the store,
//! the listener and the signals that stop it. `haoqi serve` is this alone; `run` and `demo` start
//! it beside their other work.

use std::sync::Arc;

use haoqi_analytics::snapshot::Latest;
use haoqi_analytics::Settings;
use haoqi_store::Store;
use haoqi_web::{AppState, Cache, Metrics};
use tokio::sync::watch;

/// How often `run` and `demo` recompute the health and goal gauges.
pub const REFRESH_SECS: u64 = 60;

/// Every `secs` until `stop` turns true (or for ever): checks the store, recomputes the health
/// and goal gauges, and keeps the store check, the health states and today's goal report for
/// `/healthz`, `/api/stalled` and `/api/progress`. Returns where they are kept.
pub fn spawn_refresh(
    store: Arc<dyn Store>,
    settings: Arc<Settings>,
    metrics: Metrics,
    stop: Option<watch::Receiver<bool>>,
    secs: u64,
) -> (Latest, Cache) {
    let every = std::time::Duration::from_secs(secs.max(5));
    let latest = Latest::every(every);
    let cache = Cache::every(every);
    let (keep, keep_cache) = (latest.clone(), cache.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if stop.as_ref().is_some_and(|s| *s.borrow()) {
                break;
            }
            let checked = store
                .query_rows("SELECT 1 AS ok")
                .await
                .map(|_| ())
                .map_err(|e| e.kind());
            keep_cache.put_store_check(chrono::Utc::now(), checked);
            match super::refresh::refresh(store.as_ref(), &settings, &metrics, &keep).await {
                Ok((at, report)) => {
                    // Every account's progress for the pages of units and prefectures, put
                    // before the report: a report from this refresh means its accounts are in.
                    let as_of = report.progress.as_of;
                    let query = haoqi_analytics::progress::ProgressQuery {
                        as_of,
                        stale_after_hours: settings.stale_after_hours,
                    };
                    match query.accounts(store.as_ref()).await {
                        Ok(rows) => keep_cache.put_accounts(at, as_of, rows),
                        Err(e) => tracing::warn!(error = %e, "accounts not refreshed"),
                    }
                    keep_cache.put_progress(at, report);
                }
                // The refresh timestamp stops moving, which is itself alertable.
                Err(e) => tracing::warn!(error = %e, "health and goal gauges not refreshed"),
            }
        }
    });
    (latest, cache)
}

/// The web application's part of an HTTP surface: its database and settings.
#[derive(Clone)]
pub struct Web {
    pub db: Arc<haoqi_appdb::AppDb>,
    pub config: haoqi_web::app::WebConfig,
}

/// The JSON API and `/metrics` over `store` (and with `web`, the web application's pages),
/// with the gauges refreshed every `refresh_secs` until `stop` turns true.
pub fn app(
    store: Arc<dyn Store>,
    settings: Settings,
    metrics: Metrics,
    stop: Option<watch::Receiver<bool>>,
    refresh_secs: u64,
    web: Option<Web>,
) -> axum::Router {
    let settings = Arc::new(settings);
    let (health, cache) = spawn_refresh(
        store.clone(),
        settings.clone(),
        metrics.clone(),
        stop,
        refresh_secs,
    );
    let state = AppState {
        metrics,
        store,
        settings,
        health,
        cache,
    };
    match web {
        Some(w) => haoqi_web::app::router(state, w.db, &w.config),
        None => haoqi_web::router(state),
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, with each request's peer address
/// known (login throttling and the audit log need it).
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Binds `addr`, saying which address failed.
pub async fn bind(addr: std::net::SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("listening on {addr}: {e}"))
}

/// Resolves when SIGINT or SIGTERM arrives.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
