//! The web application: server-rendered pages in Chinese for every person in the matrix, on
//! the same listener as the JSON API. One module per area under [`pages`]; what is shared —
//! who is asking ([`auth`]), CSRF ([`csrf`]), security headers ([`headers`]), the vendored
//! assets ([`assets`]) and how figures are written ([`fmt`]) — lives beside them.
//!
//! Every page decides on the server, from the session's role and binding, what it may show;
//! the queries take the viewer's scope as a filter. A page a role may not open is 403; a unit
//! or prefecture outside the viewer's scope is 404, the same answer as one that does not exist.
//! Adding a page is a new module in `pages/` with its template, and one line in [`router`].

mod assets;
pub(crate) mod auth;
mod csrf;
mod fmt;
mod headers;
mod pages;
mod rejections;
mod view;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;

use crate::api::AppState;
use haoqi_appdb::AppDb;

/// Form bodies are small; anything larger is refused before it is read.
const FORM_LIMIT_BYTES: usize = 64 * 1024;

/// What every page handler has: the API's state (the store, the settings, the cache) and the
/// application database.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) api: AppState,
    pub(crate) db: Arc<AppDb>,
    /// Cookies marked `Secure` (behind HTTPS).
    pub(crate) secure_cookies: bool,
}

impl Ctx {
    /// Runs `work` on the application database on a blocking thread (SQLite is synchronous and
    /// a password hash takes tens of milliseconds); `Err` only when that thread failed.
    pub(crate) async fn on_db<R, F>(&self, work: F) -> Result<R, tokio::task::JoinError>
    where
        R: Send + 'static,
        F: FnOnce(&AppDb) -> R + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || work(&db)).await
    }
}

/// How the web application is set up.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark the session cookie `Secure` (set when haoqi is served over HTTPS).
    pub secure_cookies: bool,
}

/// The whole HTTP surface: the pages, the JSON API, `/healthz` and `/metrics`, with security
/// headers on every answer.
pub fn router(api: AppState, db: Arc<AppDb>, config: &WebConfig) -> Router {
    let ctx = Ctx {
        api: api.clone(),
        db,
        secure_cookies: config.secure_cookies,
    };
    let pages = Router::new()
        .merge(pages::routes())
        .merge(auth::routes())
        .merge(assets::routes())
        .layer(DefaultBodyLimit::max(FORM_LIMIT_BYTES))
        .layer(axum::middleware::from_fn(rejections::in_chinese))
        .with_state(ctx);
    pages
        .merge(crate::api::router(api))
        .layer(axum::middleware::from_fn(headers::security))
}
