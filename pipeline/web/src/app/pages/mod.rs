//! One module per area of the web application, each with its routes and templates. The home
//! page sends each role to its own place.

mod admin;
mod committee;
mod ops;
mod prefecture;
mod unit;
mod wall;

use std::sync::Arc;

use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};

use haoqi_analytics::goal::{self, GoalReport};
use haoqi_appdb::Role;

use super::auth::Viewer;
use super::view;
use super::Ctx;

pub(crate) fn routes() -> Router<Ctx> {
    Router::new()
        .route("/", get(home))
        .merge(wall::routes())
        .merge(unit::routes())
        .merge(prefecture::routes())
        .merge(admin::routes())
        .merge(ops::routes())
        .merge(committee::routes())
}

async fn home(viewer: Viewer) -> Response {
    let g = viewer.grant();
    let to = match (g.role, &g.unit_id, g.prefecture) {
        (Role::Unit, Some(u), _) => format!("/unit/{}", url_path(u)),
        (Role::Liaison, _, Some(p)) => format!("/prefecture/{p}"),
        (Role::Admin, _, _) => "/admin".into(),
        (Role::Ops, _, _) => "/ops".into(),
        (Role::Committee, _, _) => "/committee".into(),
        _ => "/wall".into(),
    };
    Redirect::to(&to).into_response()
}

fn url_path(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The goal report for `as_of`: the refresh's while it is fresh (what `/api/progress` answers),
/// else computed now through the same gate as every other store request. Returns when it was
/// computed.
pub(crate) async fn goal_report(
    ctx: &Ctx,
    as_of: NaiveDate,
) -> Result<(DateTime<Utc>, Arc<GoalReport>), Response> {
    let now = Utc::now();
    if let Some(hit) = ctx.api.cache.progress(now, as_of) {
        return Ok(hit);
    }
    let s = &ctx.api;
    match s
        .cache
        .ask(goal::report(s.store.as_ref(), &s.settings, as_of, &[]))
        .await
    {
        Ok(r) => Ok((now, Arc::new(r))),
        Err(e) => {
            tracing::warn!(error = %e, kind = e.kind(), "a page could not get its figures");
            Err(view::unavailable())
        }
    }
}
