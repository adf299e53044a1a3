//! 单位, a unit's own page: each of its accounts with its latest value and age, target and
//! completion, what is wrong with its data and what to do about it, and a form to tell the
//! office about a wrong or missing account. A unit login sees only its own unit; a liaison only
//! units of its prefecture; anyone else outside gets the same 404 as for a unit that does not
//! exist.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};

use haoqi_analytics::progress::AccountProgress;
use haoqi_appdb::reports::{ReportKind, UnitReport};
use haoqi_appdb::Role;

use super::super::auth::Viewer;
use super::super::fmt::{self, group_thousands, wan};
use super::super::view::{self, Chrome};
use super::super::Ctx;

pub(super) fn routes() -> Router<Ctx> {
    Router::new()
        .route("/unit/{unit_id}", get(unit_page))
        .route("/unit/{unit_id}/report", post(report))
}

struct AccountRow {
    platform: String,
    name: String,
    platform_id: String,
    followers: String,
    followers_full: String,
    age: String,
    target: String,
    completion: String,
    problems: Vec<&'static str>,
}

struct ReportRow {
    kind: &'static str,
    account: String,
    text: String,
    at: String,
    state: String,
}

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    chrome: Chrome,
    unit_id: String,
    unit_name: String,
    prefecture: String,
    as_of: String,
    total: String,
    accounts: Vec<AccountRow>,
    problems: usize,
    reports: Vec<ReportRow>,
    kinds: Vec<(&'static str, &'static str)>,
    may_report: bool,
    notice: Option<String>,
    /// The plan's video platforms the unit has no active account on.
    missing: Vec<String>,
}

/// Accounts of `unit_id` the viewer may see (none: outside its scope, or no such unit).
async fn visible_accounts(
    ctx: &Ctx,
    viewer: &Viewer,
    unit_id: &str,
) -> Result<Vec<AccountProgress>, Response> {
    super::scoped_accounts(ctx, Some(unit_id), &viewer.grant().scope()).await
}

fn problems_of(a: &AccountProgress) -> Vec<&'static str> {
    let mut p = Vec::new();
    if a.followers.is_none() {
        p.push("还没有任何读数：请确认账号 ID 正确、主页公开");
    } else if a.stale == Some(true) {
        p.push("读数已过时：采集没有读到这个账号，请确认主页可公开访问");
    }
    if !a.naming_ok {
        // The plan's naming rule (seed 000 §3.4), as haoqi_registry::naming checks it.
        p.push(match a.kind.as_str() {
            "region_assoc" => "账号名称不符合命名规则：自治区科协的账号名称应为“好奇新疆”",
            "society" => {
                "账号名称不符合命名规则：学会账号应为“好奇的X说”加主题（如 好奇的X说地理）"
            }
            _ => "账号名称不符合命名规则：应为“好奇”加地名或单位简称（如 好奇阿克苏）",
        });
    }
    if a.target.is_none() {
        p.push("没有可计算的目标：请联系管理员核实单位所在区县");
    }
    p
}

async fn unit_page(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Path(unit_id): Path<String>,
) -> Response {
    render(&ctx, &viewer, &unit_id, None, StatusCode::OK).await
}

async fn render(
    ctx: &Ctx,
    viewer: &Viewer,
    unit_id: &str,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let accounts = match visible_accounts(ctx, viewer, unit_id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(first) = accounts.first() else {
        return view::not_found(viewer);
    };
    let uid = unit_id.to_string();
    let Ok(Ok(reports)) = ctx.on_db(move |db| db.reports(Some(&uid), false)).await else {
        return view::unavailable();
    };
    let rows: Vec<AccountRow> = accounts
        .iter()
        .map(|a| AccountRow {
            platform: a
                .platform
                .parse::<haoqi_platform::Platform>()
                .map_or_else(|_| a.platform.clone(), |p| p.chinese_name().to_string()),
            name: a.display_name.clone(),
            platform_id: a.platform_id.clone(),
            followers: a.followers.map_or_else(|| "-".into(), wan),
            followers_full: a.followers.map_or_else(String::new, group_thousands),
            age: fmt::age(a.age_hours),
            target: a.target.map_or_else(|| "-".into(), wan),
            completion: fmt::opt_pct(a.completion),
            problems: problems_of(a),
        })
        .collect();
    let total: u64 = accounts.iter().filter_map(|a| a.followers).sum();
    // Every unit is to have a standardised account on each video platform (seed 000).
    let missing: Vec<String> = haoqi_platform::Platform::VIDEO
        .iter()
        .filter(|p| !accounts.iter().any(|a| a.platform == p.as_str()))
        .map(|p| p.chinese_name().to_string())
        .collect();
    let page = UnitPage {
        chrome: viewer.chrome(&first.unit_name),
        unit_id: unit_id.to_string(),
        unit_name: first.unit_name.clone(),
        prefecture: first
            .prefecture_name
            .clone()
            .unwrap_or_else(|| "全区".into()),
        as_of: format!("{} 日终", fmt::day(haoqi_model::time::last_complete_day())),
        total: wan(total),
        problems: rows.iter().map(|r| r.problems.len()).sum::<usize>() + missing.len(),
        missing,
        accounts: rows,
        reports: reports.iter().map(report_row).collect(),
        kinds: ReportKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.chinese_name()))
            .collect(),
        may_report: matches!(viewer.role(), Role::Unit | Role::Admin),
        notice,
    };
    view::render(status, &page)
}

fn report_row(r: &UnitReport) -> ReportRow {
    ReportRow {
        kind: r.kind.chinese_name(),
        account: r.account.clone(),
        text: r.text.clone(),
        at: fmt::beijing(r.created_at),
        state: match (&r.resolved_at, &r.resolution) {
            (Some(at), Some(how)) => format!("已处理（{}）：{how}", fmt::beijing(*at)),
            _ => "待省科协处理".into(),
        },
    }
}

#[derive(Debug, serde::Deserialize)]
struct ReportForm {
    csrf: String,
    kind: String,
    account: String,
    text: String,
}

async fn report(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Path(unit_id): Path<String>,
    Form(f): Form<ReportForm>,
) -> Response {
    if let Some(r) = viewer.refuse_write(&f.csrf, &[Role::Unit, Role::Admin]) {
        return r;
    }
    // The unit must be one the viewer may see, checked against the store as the page is.
    match visible_accounts(&ctx, &viewer, &unit_id).await {
        Ok(a) if a.is_empty() => return view::not_found(&viewer),
        Ok(_) => {}
        Err(r) => return r,
    }
    let Some(kind) = ReportKind::parse(&f.kind) else {
        return render(
            &ctx,
            &viewer,
            &unit_id,
            Some("请选择问题类型。".into()),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let actor = viewer.actor();
    let uid = unit_id.clone();
    let added = ctx
        .on_db(move |db| db.add_report(&uid, kind, &f.account, &f.text, &actor))
        .await;
    match added {
        Ok(Ok(_)) => Redirect::to(&format!("/unit/{}", super::url_path(&unit_id))).into_response(),
        Ok(Err(haoqi_appdb::AppDbError::Invalid(m))) => {
            let text = if m.contains("too long") {
                format!(
                    "内容过长：说明最多 {} 个字符，账号最多 200 个字符。没有保存。",
                    haoqi_appdb::reports::MAX_TEXT
                )
            } else {
                "请写明问题（说明不能为空）。没有保存。".into()
            };
            render(&ctx, &viewer, &unit_id, Some(text), StatusCode::BAD_REQUEST).await
        }
        _ => view::unavailable(),
    }
}
