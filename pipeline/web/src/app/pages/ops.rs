//! 运维, operations: every active account's health state grouped by the department that acts
//! on it, since when, the numbers behind it and the last attempt's outcome, and an
//! acknowledgement (who handles it, a note) per account. The states are `haoqi stalled`'s: the
//! refresh's latest while fresh, else asked of the store, as `/api/stalled` does.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;

use haoqi_analytics::health::{self, AccountHealth};
use haoqi_appdb::acks::Acknowledgement;
use haoqi_appdb::Role;

use super::super::auth::Viewer;
use super::super::fmt;
use super::super::view::{self, Chrome};
use super::super::Ctx;

const ROLES: &[Role] = &[Role::Admin, Role::Ops];

pub(super) fn routes() -> Router<Ctx> {
    Router::new()
        .route("/ops", get(ops_page))
        .route("/ops/acknowledge", post(acknowledge))
}

pub(crate) fn state_name(state: &str) -> &'static str {
    match state {
        "growing" => "正常增长",
        "flat" => "停滞",
        "no_posts" => "未发布内容",
        "collection_blocked" => "采集受阻",
        "gone" => "账号失效",
        "overdue" => "逾期未读",
        "dropping" => "粉丝下降",
        _ => "其他",
    }
}

struct Count {
    name: &'static str,
    n: usize,
}

struct Row {
    account_id: String,
    state: String,
    state_name: &'static str,
    unit: String,
    account: String,
    platform: String,
    department: String,
    since: String,
    reason: String,
    last: String,
    ack: String,
}

#[derive(Template)]
#[template(path = "ops.html")]
struct OpsPage {
    chrome: Chrome,
    judged_at: String,
    counts: Vec<Count>,
    rows: Vec<Row>,
    notice: Option<String>,
}

async fn states(ctx: &Ctx) -> Result<(chrono::DateTime<Utc>, Arc<Vec<AccountHealth>>), Response> {
    let now = Utc::now();
    if let Some(s) = ctx.api.health.fresh(now) {
        return Ok((s.now, s.rows));
    }
    let query = ctx.api.settings.health(now);
    match ctx.api.cache.ask(query.run(ctx.api.store.as_ref())).await {
        Ok(rows) => Ok((now, Arc::new(rows))),
        Err(e) => {
            tracing::warn!(error = %e, "ops page: health states not read");
            Err(view::unavailable())
        }
    }
}

fn rows(states: &[AccountHealth], acks: &HashMap<String, Acknowledgement>) -> Vec<Row> {
    let mut out: Vec<Row> = states
        .iter()
        .filter(|h| h.state != "growing")
        .map(|h| Row {
            account_id: h.account_id.clone(),
            state: h.state.clone(),
            state_name: state_name(&h.state),
            unit: h.unit_name.clone(),
            account: h.display_name.clone(),
            platform: h
                .platform
                .parse::<haoqi_platform::Platform>()
                .map_or_else(|_| h.platform.clone(), |p| p.chinese_name().to_string()),
            department: if h.owner.is_empty() {
                h.department.clone()
            } else {
                format!("{} · {}", h.owner, h.department)
            },
            since: h.since.map_or_else(|| "-".into(), fmt::day),
            reason: h.reason.clone(),
            last: match (&h.last_outcome, &h.last_error) {
                (Some(o), Some(e)) if !e.is_empty() => format!("{o}：{e}"),
                (Some(o), _) => o.clone(),
                _ => "-".into(),
            },
            // An acknowledgement of an earlier state does not cover a new one.
            ack: acks
                .get(&h.account_id)
                .filter(|a| a.state == h.state)
                .map_or_else(String::new, |a| {
                    format!(
                        "{} {}（{} 于 {}）",
                        a.assignee,
                        a.note,
                        a.created_by,
                        fmt::beijing(a.created_at)
                    )
                }),
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.department, &a.state, &a.since, &a.account_id).cmp(&(
            &b.department,
            &b.state,
            &b.since,
            &b.account_id,
        ))
    });
    out
}

async fn ops_page(State(ctx): State<Ctx>, viewer: Viewer) -> Response {
    if let Some(r) = viewer.require(ROLES) {
        return r;
    }
    render(&ctx, &viewer, None, StatusCode::OK).await
}

async fn render(
    ctx: &Ctx,
    viewer: &Viewer,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let (at, states) = match states(ctx).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(Ok(acks)) = ctx.on_db(move |db| db.acknowledgements()).await else {
        return view::unavailable();
    };
    let page = OpsPage {
        chrome: viewer.chrome("运维"),
        judged_at: fmt::beijing(at),
        counts: health::counts(&states)
            .into_iter()
            .map(|(state, n)| Count {
                name: state_name(state),
                n,
            })
            .collect(),
        rows: rows(&states, &acks),
        notice,
    };
    view::render(status, &page)
}

#[derive(Debug, serde::Deserialize)]
struct AckForm {
    csrf: String,
    account_id: String,
    state: String,
    assignee: String,
    note: String,
}

async fn acknowledge(State(ctx): State<Ctx>, viewer: Viewer, Form(f): Form<AckForm>) -> Response {
    if let Some(r) = viewer.refuse_write(&f.csrf, ROLES) {
        return r;
    }
    // Only an account in that state now can be acknowledged.
    let known = match states(&ctx).await {
        Ok((_, s)) => s
            .iter()
            .any(|h| h.account_id == f.account_id && h.state == f.state),
        Err(r) => return r,
    };
    if !known {
        let text = "这个账号已不在该状态（页面可能已过时），没有保存。".to_string();
        return render(&ctx, &viewer, Some(text), StatusCode::BAD_REQUEST).await;
    }
    let actor = viewer.actor();
    let done = ctx
        .on_db(move |db| db.acknowledge(&f.account_id, &f.state, &f.assignee, &f.note, &actor))
        .await;
    match done {
        Ok(Ok(())) => Redirect::to("/ops").into_response(),
        Ok(Err(haoqi_appdb::AppDbError::Invalid(_))) => {
            let text = "请填写负责人或处理说明（负责人最多 100 字，说明最多 2000 字），没有保存。";
            render(&ctx, &viewer, Some(text.into()), StatusCode::BAD_REQUEST).await
        }
        _ => view::unavailable(),
    }
}
