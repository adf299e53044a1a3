//! 管理, the province office's page: the users, the queue of unit reports (resolve with a note),
//! kiosk links for wall screens (create, revoke), and the audit log (read, export as CSV).
//! Admin only; every write here is audited by the application database.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};

use haoqi_appdb::Role;
use haoqi_model::table::Table;

use super::super::auth::Viewer;
use super::super::fmt;
use super::super::view::{self, Chrome};
use super::super::Ctx;

/// Entries of the audit log shown on the page (the export has more).
const AUDIT_SHOWN: usize = 200;
const AUDIT_EXPORTED: usize = 100_000;

pub(super) fn routes() -> Router<Ctx> {
    Router::new()
        .route("/admin", get(admin_page))
        .route("/admin/registry", get(registry_search))
        .route("/admin/users", post(user_add))
        .route("/admin/users/{name}/disable", post(user_disable))
        .route("/admin/users/{name}/enable", post(user_enable))
        .route("/admin/audit.csv", get(audit_csv))
        .route("/admin/kiosk", post(kiosk_create))
        .route("/admin/kiosk/{id}/revoke", post(kiosk_revoke))
        .route("/admin/reports/{id}/resolve", post(report_resolve))
}

struct UserRow {
    name: String,
    role: &'static str,
    binding: String,
    state: &'static str,
    disabled: bool,
}

struct ReportRow {
    id: i64,
    unit_id: String,
    kind: &'static str,
    account: String,
    text: String,
    by: String,
    at: String,
}

struct KioskRow {
    id: i64,
    label: String,
    by: String,
    at: String,
    revoked: bool,
}

struct AuditRow {
    at: String,
    actor: String,
    address: String,
    action: String,
    target: String,
    change: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    chrome: Chrome,
    users: Vec<UserRow>,
    reports: Vec<ReportRow>,
    kiosks: Vec<KioskRow>,
    audit: Vec<AuditRow>,
    /// A kiosk link just created: shown once.
    new_link: Option<String>,
    notice: Option<String>,
    roles: Vec<(&'static str, &'static str)>,
}

async fn admin_page(State(ctx): State<Ctx>, viewer: Viewer) -> Response {
    if let Some(r) = viewer.require(&[Role::Admin]) {
        return r;
    }
    page(&ctx, &viewer, None, None, StatusCode::OK).await
}

async fn page(
    ctx: &Ctx,
    viewer: &Viewer,
    new_link: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let loaded = ctx
        .on_db(|db| {
            Ok::<_, haoqi_appdb::AppDbError>((
                db.users()?,
                db.reports(None, true)?,
                db.kiosks()?,
                db.audit_log(AUDIT_SHOWN, None)?,
            ))
        })
        .await;
    let Ok(Ok((users, reports, kiosks, audit))) = loaded else {
        return view::unavailable();
    };
    let page = AdminPage {
        chrome: viewer.chrome("管理"),
        users: users
            .iter()
            .map(|u| UserRow {
                name: u.name.clone(),
                role: u.grant.role.chinese_name(),
                binding: match (&u.grant.unit_id, u.grant.prefecture) {
                    (Some(unit), _) => format!("单位 {unit}"),
                    (_, Some(p)) => format!("地州 {p}"),
                    _ => String::new(),
                },
                state: if u.disabled_at.is_some() {
                    "已停用"
                } else {
                    "正常"
                },
                disabled: u.disabled_at.is_some(),
            })
            .collect(),
        reports: reports
            .iter()
            .map(|r| ReportRow {
                id: r.id,
                unit_id: r.unit_id.clone(),
                kind: r.kind.chinese_name(),
                account: r.account.clone(),
                text: r.text.clone(),
                by: r.created_by.clone(),
                at: fmt::beijing(r.created_at),
            })
            .collect(),
        kiosks: kiosks
            .iter()
            .map(|k| KioskRow {
                id: k.id,
                label: k.label.clone(),
                by: k.created_by.clone(),
                at: fmt::beijing(k.created_at),
                revoked: k.revoked_at.is_some(),
            })
            .collect(),
        audit: audit
            .iter()
            .map(|e| AuditRow {
                at: fmt::beijing(e.at),
                actor: e.actor.clone(),
                address: e.address.clone(),
                action: e.action.clone(),
                target: e.target.clone(),
                change: match (&e.before, &e.after) {
                    (Some(b), Some(a)) => format!("{b} → {a}"),
                    (None, Some(a)) => a.clone(),
                    (Some(b), None) => b.clone(),
                    (None, None) => String::new(),
                },
            })
            .collect(),
        new_link,
        notice,
        roles: Role::ALL
            .iter()
            .map(|r| (r.as_str(), r.chinese_name()))
            .collect(),
    };
    view::render(status, &page)
}

#[derive(Debug, serde::Deserialize)]
struct SearchParams {
    q: Option<String>,
}

struct RegistryRow {
    unit_id: String,
    unit: String,
    kind: String,
    prefecture: String,
    account_id: String,
    platform: String,
    account: String,
    followers: String,
    age: String,
}

#[derive(Template)]
#[template(path = "registry.html")]
struct RegistryPage {
    chrome: Chrome,
    q: String,
    rows: Vec<RegistryRow>,
    total: usize,
    shown: usize,
}

/// Rows shown for one search (the count says how many matched).
const SEARCH_SHOWN: usize = 200;

/// Every unit and account, searched by unit, account, id, platform id or prefecture: the
/// registry as the store holds it, with each account's latest value (`progress_accounts.sql`).
async fn registry_search(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    axum::extract::Query(p): axum::extract::Query<SearchParams>,
) -> Response {
    if let Some(r) = viewer.require(&[Role::Admin]) {
        return r;
    }
    let q = p.q.unwrap_or_default().trim().to_string();
    if q.chars().count() > 100 {
        return view::message(
            StatusCode::BAD_REQUEST,
            "搜索词过长",
            "搜索词最多 100 个字符。",
        );
    }
    let accounts = match super::scoped_accounts(&ctx, None, &haoqi_model::scope::Scope::All).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let needle = q.to_lowercase();
    let matched: Vec<_> = accounts
        .iter()
        .filter(|a| {
            needle.is_empty()
                || [
                    &a.unit_id,
                    &a.unit_name,
                    &a.account_id,
                    &a.display_name,
                    &a.platform_id,
                    a.prefecture_name.as_deref().unwrap_or(""),
                ]
                .iter()
                .any(|f| f.to_lowercase().contains(&needle))
        })
        .collect();
    let rows = matched
        .iter()
        .take(SEARCH_SHOWN)
        .map(|a| RegistryRow {
            unit_id: a.unit_id.clone(),
            unit: a.unit_name.clone(),
            kind: fmt::kind_name(&a.kind),
            prefecture: a.prefecture_name.clone().unwrap_or_default(),
            account_id: a.account_id.clone(),
            platform: a
                .platform
                .parse::<haoqi_platform::Platform>()
                .map_or_else(|_| a.platform.clone(), |p| p.chinese_name().to_string()),
            account: a.display_name.clone(),
            followers: a.followers.map_or_else(|| "-".into(), fmt::wan),
            age: fmt::age(a.age_hours),
        })
        .collect::<Vec<_>>();
    let page = RegistryPage {
        chrome: viewer.chrome("名录"),
        q,
        total: matched.len(),
        shown: rows.len(),
        rows,
    };
    view::render(StatusCode::OK, &page)
}

/// The whole audit log as CSV (UTF-8 with BOM, so Excel shows the Chinese); the export itself
/// is audited.
async fn audit_csv(State(ctx): State<Ctx>, viewer: Viewer) -> Response {
    if let Some(r) = viewer.require(&[Role::Admin]) {
        return r;
    }
    let actor = viewer.actor();
    let entries = ctx
        .on_db(move |db| {
            db.audit(&actor, "audit.export", "audit", None)?;
            db.audit_log(AUDIT_EXPORTED, None)
        })
        .await;
    let Ok(Ok(entries)) = entries else {
        return view::unavailable();
    };
    let out = audit_csv_text(&entries);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"haoqi-audit.csv\"",
            ),
        ],
        out,
    )
        .into_response()
}

/// The audit log as CSV (UTF-8 with BOM, so Excel shows the Chinese; quoting by the project's
/// table writer). A cell beginning with `=`, `+`, `-` or `@` gets a leading `'` so a
/// spreadsheet does not run it as a formula: the log holds what people typed.
fn audit_csv_text(entries: &[haoqi_appdb::AuditEntry]) -> String {
    let defuse = |s: &str| {
        if s.starts_with(['=', '+', '-', '@']) {
            format!("'{s}")
        } else {
            s.to_string()
        }
    };
    let mut t = Table::new(&[
        "id",
        "at_beijing",
        "actor",
        "address",
        "action",
        "target",
        "before",
        "after",
    ]);
    for e in entries {
        t.push(
            [
                e.id.to_string(),
                fmt::beijing(e.at),
                e.actor.clone(),
                e.address.clone(),
                e.action.clone(),
                e.target.clone(),
                e.before.clone().unwrap_or_default(),
                e.after.clone().unwrap_or_default(),
            ]
            .iter()
            .map(|c| defuse(c))
            .collect(),
        );
    }
    format!("\u{feff}{}", t.to_csv())
}

#[derive(Debug, serde::Deserialize)]
struct UserForm {
    csrf: String,
    name: String,
    role: String,
    unit_id: String,
    prefecture: String,
    password: String,
}

/// A new login from the office's form: the role's binding must name a unit or prefecture that
/// has accounts in the store, the password follows the same rules as `haoqi user add`.
async fn user_add(State(ctx): State<Ctx>, viewer: Viewer, Form(f): Form<UserForm>) -> Response {
    if let Some(r) = viewer.refuse_write(&f.csrf, &[Role::Admin]) {
        return r;
    }
    let refuse = |text: String| async {
        page(&ctx, &viewer, None, Some(text), StatusCode::BAD_REQUEST).await
    };
    let Ok(role) = f.role.parse::<Role>() else {
        return refuse("请选择角色。没有开设。".into()).await;
    };
    let unit = Some(f.unit_id.trim().to_string()).filter(|u| !u.is_empty());
    let prefecture = match f.prefecture.trim() {
        "" => None,
        p => match p.parse::<u32>() {
            Ok(p) => Some(p),
            Err(_) => {
                return refuse(format!("地州代码“{p}”不是数字（例如 653100）。没有开设。")).await
            }
        },
    };
    let grant = match haoqi_appdb::role::Grant::new(role, unit.clone(), prefecture) {
        Ok(g) => g,
        Err(_) => {
            return refuse(
                "单位账号需填写单位编号，联络员需填写地州代码，其他角色两者都不填。没有开设。"
                    .into(),
            )
            .await
        }
    };
    if unit.is_some() || prefecture.is_some() {
        let all = match super::scoped_accounts(&ctx, None, &haoqi_model::scope::Scope::All).await {
            Ok(a) => a,
            Err(r) => return r,
        };
        let known = all.iter().any(|a| {
            unit.as_deref().is_none_or(|u| a.unit_id == u)
                && prefecture.is_none_or(|p| a.prefecture_code == Some(p))
        });
        if !known {
            return refuse("名录中没有这个单位或地州的账号。没有开设。".into()).await;
        }
    }
    let actor = viewer.actor();
    let name = f.name.trim().to_string();
    let password = f.password;
    let added = ctx
        .on_db(move |db| db.add_user(&haoqi_appdb::NewUser { name, grant }, &password, &actor))
        .await;
    match added {
        Ok(Ok(_)) => Redirect::to("/admin").into_response(),
        Ok(Err(haoqi_appdb::AppDbError::UserExists(n))) => {
            refuse(format!("用户名“{n}”已存在。没有开设。")).await
        }
        Ok(Err(haoqi_appdb::AppDbError::Invalid(m))) => {
            let text = if m.contains("password") {
                "密码至少 10 个字符，首尾不能有空格。没有开设。"
            } else {
                "用户名需 2 到 64 个字符，不含空格。没有开设。"
            };
            refuse(text.into()).await
        }
        _ => view::unavailable(),
    }
}

async fn user_disable(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Path(name): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    set_disabled(ctx, viewer, name, f, true).await
}

async fn user_enable(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Path(name): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    set_disabled(ctx, viewer, name, f, false).await
}

async fn set_disabled(
    ctx: Ctx,
    viewer: Viewer,
    name: String,
    f: CsrfOnly,
    disabled: bool,
) -> Response {
    if let Some(r) = viewer.refuse_write(&f.csrf, &[Role::Admin]) {
        return r;
    }
    if disabled && name.eq_ignore_ascii_case(&viewer.session.user.name) {
        let text = "不能停用自己正在使用的账号。".to_string();
        return page(&ctx, &viewer, None, Some(text), StatusCode::BAD_REQUEST).await;
    }
    let actor = viewer.actor();
    match ctx
        .on_db(move |db| db.set_disabled(&name, disabled, &actor))
        .await
    {
        Ok(Ok(_)) => Redirect::to("/admin").into_response(),
        Ok(Err(haoqi_appdb::AppDbError::NoSuchUser(_))) => view::not_found(&viewer),
        _ => view::unavailable(),
    }
}

#[derive(Debug, serde::Deserialize)]
struct KioskForm {
    csrf: String,
    label: String,
}

async fn kiosk_create(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Form(f): Form<KioskForm>,
) -> Response {
    if let Some(r) = viewer.refuse_write(&f.csrf, &[Role::Admin]) {
        return r;
    }
    let actor = viewer.actor();
    let made = ctx.on_db(move |db| db.create_kiosk(&f.label, &actor)).await;
    match made {
        Ok(Ok((_, token))) => {
            let link = format!("/wall?kiosk={token}");
            page(&ctx, &viewer, Some(link), None, StatusCode::OK).await
        }
        Ok(Err(haoqi_appdb::AppDbError::Invalid(_))) => {
            let text = "大屏链接需要 1 到 100 个字符的名称（例如：三楼大屏）。".to_string();
            page(&ctx, &viewer, None, Some(text), StatusCode::BAD_REQUEST).await
        }
        _ => view::unavailable(),
    }
}

#[derive(Debug, serde::Deserialize)]
struct CsrfOnly {
    csrf: String,
}

async fn kiosk_revoke(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if let Some(r) = viewer.refuse_write(&f.csrf, &[Role::Admin]) {
        return r;
    }
    let actor = viewer.actor();
    match ctx.on_db(move |db| db.revoke_kiosk(id, &actor)).await {
        Ok(Ok(())) => Redirect::to("/admin").into_response(),
        Ok(Err(haoqi_appdb::AppDbError::Invalid(_))) => view::not_found(&viewer),
        _ => view::unavailable(),
    }
}

#[derive(Debug, serde::Deserialize)]
struct ResolveForm {
    csrf: String,
    resolution: String,
}

async fn report_resolve(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<ResolveForm>,
) -> Response {
    if let Some(r) = viewer.refuse_write(&f.csrf, &[Role::Admin]) {
        return r;
    }
    let actor = viewer.actor();
    let done = ctx
        .on_db(move |db| db.resolve_report(id, &f.resolution, &actor))
        .await;
    match done {
        Ok(Ok(())) => Redirect::to("/admin").into_response(),
        Ok(Err(haoqi_appdb::AppDbError::Invalid(m))) => {
            let text = if m.contains("too long") {
                "处理说明过长（最多 2000 个字符），没有保存。"
            } else if m.contains("no open report") {
                "这个报告已处理或不存在。"
            } else {
                "请写明处理结果，没有保存。"
            };
            page(
                &ctx,
                &viewer,
                None,
                Some(text.into()),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        _ => view::unavailable(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_cells_are_quoted_and_defused() {
        let entry = |actor: &str| haoqi_appdb::AuditEntry {
            id: 1,
            at: chrono::DateTime::from_timestamp(0, 0).expect("time"),
            actor: actor.into(),
            address: "a".into(),
            action: "x".into(),
            target: "t".into(),
            before: None,
            after: None,
        };
        let line = |actor: &str| {
            let text = super::audit_csv_text(&[entry(actor)]);
            let row = text.lines().nth(1).expect("row").to_string();
            let after_time = row.splitn(3, ',').nth(2).expect("cells").to_string();
            after_time
        };
        assert!(super::audit_csv_text(&[]).starts_with("\u{feff}id,at_beijing,actor"));
        assert_eq!(line("plain"), "plain,a,x,t,,");
        assert_eq!(line("a,b"), "\"a,b\",a,x,t,,");
        assert_eq!(line("say \"hi\""), "\"say \"\"hi\"\"\",a,x,t,,");
        assert_eq!(line("=cmd()"), "'=cmd(),a,x,t,,");
    }
}
