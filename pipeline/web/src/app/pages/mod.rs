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
use haoqi_analytics::progress::{AccountProgress, ProgressQuery};
use haoqi_appdb::Role;
use haoqi_model::scope::Scope;

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

/// The accounts inside `scope` (and of `unit`, when given) as of the last complete day: the
/// refresh's, filtered here, while they are fresh; else asked of the store with the scope as
/// the query's filter, through the gate.
pub(crate) async fn scoped_accounts(
    ctx: &Ctx,
    unit: Option<&str>,
    scope: &Scope,
) -> Result<Vec<AccountProgress>, Response> {
    let as_of = haoqi_model::time::last_complete_day();
    if let Some(rows) = ctx.api.cache.accounts(Utc::now(), as_of) {
        return Ok(rows
            .iter()
            .filter(|a| scope.admits(&a.unit_id, a.prefecture_code))
            .filter(|a| unit.is_none_or(|u| a.unit_id == u))
            .cloned()
            .collect());
    }
    let query = ProgressQuery {
        as_of,
        stale_after_hours: ctx.api.settings.stale_after_hours,
    };
    let store = ctx.api.store.as_ref();
    let asked = match unit {
        Some(u) => {
            ctx.api
                .cache
                .ask(query.accounts_of_unit(store, u, scope))
                .await
        }
        None => ctx.api.cache.ask(query.accounts_in(store, scope)).await,
    };
    asked.map_err(|e| {
        tracing::warn!(error = %e, kind = e.kind(), "a page could not read its accounts");
        view::unavailable()
    })
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
