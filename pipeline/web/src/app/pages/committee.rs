//! 评审, the subsidy committee: the period's ranking per tier with every input and the score,
//! who is ineligible and why, the anomalies with their numbers and a form to resolve each with
//! a note, freezing the ranking under a name, a frozen ranking with its differences from
//! today's data, and the XLSX workbook. The ranking is `haoqi rank`'s (`rank::compute`, the
//! same SQL); resolutions and freezes go to the store as the CLI's do, and to the audit log.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{Days, NaiveDate};

use haoqi_analytics::rank::{self, freeze, xlsx, Ranking, TierFilter};
use haoqi_appdb::Role;
use haoqi_model::table::Table;

use super::super::auth::Viewer;
use super::super::fmt::{self, wan};
use super::super::view::{self, Chrome};
use super::super::Ctx;

const ROLES: &[Role] = &[Role::Admin, Role::Committee];
/// The longest period a page ranks (a year and a day).
const MAX_DAYS: u64 = 366;

pub(super) fn routes() -> Router<Ctx> {
    Router::new()
        .route("/committee", get(committee_page))
        .route("/committee/ranking.xlsx", get(workbook))
        .route("/committee/resolve", post(resolve))
        .route("/committee/freeze", post(freeze_ranking))
        .route("/committee/frozen/{name}", get(frozen_page))
}

#[derive(Debug, Default, serde::Deserialize)]
struct PeriodParams {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    tier: Option<String>,
}

struct Period {
    from: NaiveDate,
    to: NaiveDate,
    tier: TierFilter,
}

/// The period asked for, or the last 30 complete days; a message when it cannot mean anything.
fn period(q: &PeriodParams) -> Result<Period, String> {
    let to = q.to.unwrap_or_else(haoqi_model::time::last_complete_day);
    let from = q.from.unwrap_or(to - Days::new(29));
    haoqi_analytics::limits::check_day(from)?;
    haoqi_analytics::limits::check_day(to)?;
    if to < from {
        return Err(format!("结束日期 {to} 早于开始日期 {from}"));
    }
    if (to - from).num_days() as u64 >= MAX_DAYS {
        return Err(format!("评审期最长 {MAX_DAYS} 天"));
    }
    let both = TierFilter::Both.label();
    let tier = match q
        .tier
        .as_deref()
        .filter(|t| !t.is_empty() && *t != "both" && *t != both)
    {
        Some(t) => t.parse::<TierFilter>()?,
        None => TierFilter::Both,
    };
    Ok(Period { from, to, tier })
}

struct AccountRow {
    rank: u32,
    unit: String,
    account: String,
    platform: String,
    prefecture: String,
    followers: String,
    gained: String,
    completion: String,
    likes: String,
    views: String,
    posts: String,
    coverage: String,
    score: String,
}

struct Group {
    name: String,
    accounts: Vec<AccountRow>,
}

struct IneligibleRow {
    unit: String,
    account: String,
    reasons: String,
}

struct AnomalyRow {
    account_id: String,
    account: String,
    day: String,
    kind: String,
    reason: String,
    /// The account's days around the finding (open findings only).
    evidence: Vec<EvidenceRow>,
}

struct EvidenceRow {
    day: String,
    /// The finding's own day.
    marked: bool,
    followers: String,
    likes: String,
    views: String,
}

/// Days before and after a finding shown as its evidence, and findings given evidence.
const EVIDENCE_DAYS: u64 = 3;
const EVIDENCE_MAX: usize = 50;

struct FrozenRow {
    name: String,
    created: String,
    period: String,
    tier: String,
    formula: String,
}

#[derive(Template)]
#[template(path = "committee.html")]
struct CommitteePage {
    chrome: Chrome,
    from: String,
    to: String,
    tier: String,
    formula: String,
    groups: Vec<Group>,
    ineligible: Vec<IneligibleRow>,
    open: Vec<AnomalyRow>,
    resolved: Vec<AnomalyRow>,
    frozen_list: Vec<FrozenRow>,
    /// Showing a frozen ranking: its name, and its differences from today's data.
    frozen: Option<String>,
    diff: Option<Table>,
    notice: Option<String>,
}

fn page_of(r: &Ranking, chrome: Chrome) -> CommitteePage {
    let name_of = |id: &str| {
        r.inputs().find(|i| i.account_id == id).map_or_else(
            || id.to_string(),
            |i| format!("{} · {}", i.unit_name, i.display_name),
        )
    };
    let anomaly = |a: &rank::anomalies::Anomaly| AnomalyRow {
        account_id: a.account_id.clone(),
        account: name_of(&a.account_id),
        day: fmt::day(a.day),
        kind: a.kind.clone(),
        reason: a.reason(),
        evidence: Vec::new(),
    };
    let platform = |p: &str| {
        p.parse::<haoqi_platform::Platform>()
            .map_or_else(|_| p.to_string(), |p| p.chinese_name().to_string())
    };
    CommitteePage {
        chrome,
        from: fmt::day(r.from),
        to: fmt::day(r.to),
        tier: r.tier.clone(),
        formula: r.formula_version.clone(),
        groups: r
            .groups
            .iter()
            .map(|g| Group {
                name: fmt::tier_name(g),
                accounts: r
                    .accounts
                    .iter()
                    .filter(|a| &a.group == g)
                    .map(|a| AccountRow {
                        rank: a.rank,
                        unit: a.input.unit_name.clone(),
                        account: a.input.display_name.clone(),
                        platform: platform(&a.input.platform),
                        prefecture: a.input.prefecture_name.clone().unwrap_or_default(),
                        followers: a.input.followers_end.map_or_else(|| "-".into(), wan),
                        gained: fmt::signed(a.input.followers_gained),
                        completion: fmt::opt_pct(a.input.completion),
                        likes: fmt::signed(a.input.likes_gained),
                        views: fmt::signed(a.input.views_gained),
                        posts: fmt::signed(a.input.posts_gained),
                        coverage: fmt::pct(a.input.coverage),
                        score: format!("{:.2}", a.score),
                    })
                    .collect(),
            })
            .collect(),
        ineligible: r
            .ineligible
            .iter()
            .map(|i| IneligibleRow {
                unit: i.input.unit_name.clone(),
                account: i.input.display_name.clone(),
                reasons: i.reasons.join("；"),
            })
            .collect(),
        open: r.anomalies.iter().map(anomaly).collect(),
        resolved: r.resolved.iter().map(anomaly).collect(),
        frozen_list: Vec::new(),
        frozen: None,
        diff: None,
        notice: None,
    }
}

/// Each open finding's days around it, from the account's daily counters.
async fn add_evidence(ctx: &Ctx, open: &mut [AnomalyRow]) {
    let store = ctx.api.store.as_ref();
    for a in open.iter_mut().take(EVIDENCE_MAX) {
        let Ok(day) = a.day.parse::<NaiveDate>() else {
            continue;
        };
        let asked = ctx
            .api
            .cache
            .ask(rank::anomalies::evidence(
                store,
                &a.account_id,
                day,
                EVIDENCE_DAYS,
            ))
            .await;
        let Ok(days) = asked else {
            continue;
        };
        let n = |v: Option<u64>| v.map_or_else(|| "-".into(), fmt::group_thousands);
        a.evidence = days
            .iter()
            .map(|d| EvidenceRow {
                day: fmt::day(d.day),
                marked: d.day == day,
                followers: match (d.followers, d.followers_exact) {
                    (Some(f), Some(false)) => format!("≈{}", fmt::group_thousands(f)),
                    (f, _) => n(f),
                },
                likes: n(d.likes),
                views: n(d.views),
            })
            .collect();
    }
}

async fn frozen_list(ctx: &Ctx) -> Result<Vec<FrozenRow>, Response> {
    let list = freeze::list(ctx.api.store.as_ref()).await.map_err(|e| {
        tracing::warn!(error = %e, "frozen rankings not listed");
        view::unavailable()
    })?;
    Ok(list
        .into_iter()
        .map(|f| FrozenRow {
            name: f.name,
            created: f.created_at,
            period: format!("{} – {}", f.from_day, f.to_day),
            tier: f.tier,
            formula: f.formula_version,
        })
        .collect())
}

/// The ranking of the period `q` asks for (`haoqi rank`'s computation), or the page that says
/// why there is none.
async fn ranking_for(
    ctx: &Ctx,
    q: &PeriodParams,
) -> Result<(Period, Ranking, rank::RankData), Response> {
    let p = period(q).map_err(|m| view::message(StatusCode::BAD_REQUEST, "评审期无效", &m))?;
    let s = &ctx.api.settings;
    let (ranking, data) = ctx
        .api
        .cache
        .ask(rank::compute(
            ctx.api.store.as_ref(),
            p.from,
            p.to,
            &p.tier,
            &s.rank,
            &s.crawled,
        ))
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "committee page: ranking not computed");
            view::unavailable()
        })?;
    Ok((p, ranking, data))
}

async fn committee_page(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Query(q): Query<PeriodParams>,
) -> Response {
    if let Some(r) = viewer.require(ROLES) {
        return r;
    }
    render(&ctx, &viewer, &q, None, StatusCode::OK).await
}

async fn render(
    ctx: &Ctx,
    viewer: &Viewer,
    q: &PeriodParams,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let (_, ranking, _) = match ranking_for(ctx, q).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let mut page = page_of(&ranking, viewer.chrome("评审"));
    add_evidence(ctx, &mut page.open).await;
    page.frozen_list = match frozen_list(ctx).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    page.notice = notice;
    view::render(status, &page)
}

async fn frozen_page(State(ctx): State<Ctx>, viewer: Viewer, Path(name): Path<String>) -> Response {
    if let Some(r) = viewer.require(ROLES) {
        return r;
    }
    let (frozen, _) = match freeze::load(ctx.api.store.as_ref(), &name).await {
        Ok(f) => f,
        Err(freeze::FreezeError::Missing(_)) => return view::not_found(&viewer),
        Err(e) => {
            tracing::warn!(error = %e, "frozen ranking not read");
            return view::unavailable();
        }
    };
    let fresh = ctx
        .api
        .cache
        .ask(rank::compute(
            ctx.api.store.as_ref(),
            frozen.from,
            frozen.to,
            &freeze::tier_of(&frozen.tier),
            &frozen.config,
            &ctx.api.settings.crawled,
        ))
        .await;
    let mut page = page_of(&frozen, viewer.chrome(&format!("评审 · {name}")));
    page.frozen = Some(name);
    match fresh {
        Ok((f, _)) => page.diff = Some(freeze::diff(&frozen, &f)),
        Err(e) => {
            tracing::warn!(error = %e, "today's ranking for the diff not computed");
            page.notice = Some("今日数据暂时无法计算，本次未显示与冻结排名的差异。".into());
        }
    }
    page.frozen_list = match frozen_list(&ctx).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    view::render(StatusCode::OK, &page)
}

#[derive(Debug, serde::Deserialize)]
struct ResolveForm {
    csrf: String,
    account_id: String,
    day: NaiveDate,
    kind: String,
    note: String,
    #[serde(flatten)]
    period: PeriodParams,
}

/// The committee page of the period `q`.
fn back_to(q: &PeriodParams) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    if let Some(f) = q.from {
        s.append_pair("from", &f.to_string());
    }
    if let Some(t) = q.to {
        s.append_pair("to", &t.to_string());
    }
    if let Some(t) = &q.tier {
        s.append_pair("tier", t);
    }
    format!("/committee?{}", s.finish())
}

async fn resolve(State(ctx): State<Ctx>, viewer: Viewer, Form(f): Form<ResolveForm>) -> Response {
    if let Some(r) = viewer.refuse_write(&f.csrf, ROLES) {
        return r;
    }
    let q = &f.period;
    let note = f.note.trim();
    if note.is_empty() || note.chars().count() > 2000 {
        let text = "请写明说明（1 到 2000 个字符），没有保存。".to_string();
        return render(&ctx, &viewer, q, Some(text), StatusCode::BAD_REQUEST).await;
    }
    // Only a finding of this period's ranking can be resolved from this page.
    let (_, ranking, _) = match ranking_for(&ctx, q).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let known = ranking
        .anomalies
        .iter()
        .any(|a| a.account_id == f.account_id && a.day == f.day && a.kind == f.kind);
    if !known {
        let text = "这个异常不在本期的待处理列表中（可能已处理），没有保存。".to_string();
        return render(&ctx, &viewer, q, Some(text), StatusCode::BAD_REQUEST).await;
    }
    let finding = (f.account_id.clone(), f.day, f.kind.clone());
    let reviewer = viewer.session.user.name.clone();
    if let Err(e) = freeze::resolve(ctx.api.store.as_ref(), &finding, note, &reviewer).await {
        tracing::warn!(error = %e, "anomaly resolution not stored");
        return view::unavailable();
    }
    let actor = viewer.actor();
    let target = format!("{}:{}:{}", f.account_id, f.day, f.kind);
    let after = serde_json::json!({"note": note});
    audit_after_store(&ctx, actor, "anomaly.resolve", target, after).await;
    Redirect::to(&back_to(q)).into_response()
}

#[derive(Debug, serde::Deserialize)]
struct FreezeForm {
    csrf: String,
    name: String,
    #[serde(flatten)]
    period: PeriodParams,
}

async fn freeze_ranking(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Form(f): Form<FreezeForm>,
) -> Response {
    if let Some(r) = viewer.refuse_write(&f.csrf, ROLES) {
        return r;
    }
    let q = &f.period;
    let name = f.name.trim();
    let valid = (1..=100).contains(&name.chars().count())
        && !name.chars().any(|c| c.is_control() || c == '/');
    if !valid {
        let text = "名称需 1 到 100 个字符，不含“/”。没有冻结。".to_string();
        return render(&ctx, &viewer, q, Some(text), StatusCode::BAD_REQUEST).await;
    }
    let (p, ranking, data) = match ranking_for(&ctx, q).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    match freeze::freeze(ctx.api.store.as_ref(), name, &ranking, &data).await {
        Ok(()) => {}
        Err(freeze::FreezeError::Exists(_)) => {
            let text = format!("已有名为“{name}”的冻结排名，请换一个名称。");
            return render(&ctx, &viewer, q, Some(text), StatusCode::CONFLICT).await;
        }
        Err(e) => {
            tracing::warn!(error = %e, "ranking not frozen");
            return view::unavailable();
        }
    }
    let actor = viewer.actor();
    let target = name.to_string();
    let after = serde_json::json!({"from": p.from, "to": p.to, "tier": ranking.tier, "formula": ranking.formula_version});
    audit_after_store(&ctx, actor, "ranking.freeze", target, after).await;
    let to = format!(
        "/committee/frozen/{}",
        url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
    );
    Redirect::to(&to).into_response()
}

/// Records a write already made in the store. The store has no transaction with the
/// application database, so a failed record cannot undo the write: it is logged as an error
/// with what it would have said.
async fn audit_after_store(
    ctx: &Ctx,
    actor: haoqi_appdb::Actor,
    action: &'static str,
    target: String,
    after: serde_json::Value,
) {
    let logged = after.clone();
    let done = ctx
        .on_db(move |db| db.audit(&actor, action, &target, Some(&after)))
        .await;
    if !matches!(done, Ok(Ok(()))) {
        tracing::error!(action, after = %logged, "a committee write was stored but not audited");
    }
}

/// The committee's workbook for the period, as `haoqi rank --out F.xlsx` writes it.
async fn workbook(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Query(q): Query<PeriodParams>,
) -> Response {
    if let Some(r) = viewer.require(ROLES) {
        return r;
    }
    let (p, ranking, _) = match ranking_for(&ctx, &q).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let s = &ctx.api.settings;
    let progress = haoqi_analytics::progress::ProgressQuery {
        as_of: ranking.to,
        stale_after_hours: s.stale_after_hours,
    };
    let matrix = match ctx
        .api
        .cache
        .ask(progress.summary(ctx.api.store.as_ref(), s.goal.followers, s.goal.deadline))
        .await
    {
        Ok(p) => p.matrix.followers,
        Err(_) => return view::unavailable(),
    };
    let goal = s.goal.followers;
    // Built in memory off the async threads (a quarter's workbook takes a few hundred ms).
    let built = tokio::task::spawn_blocking(move || xlsx::to_bytes(&ranking, goal, matrix)).await;
    let Ok(Ok(bytes)) = built else {
        return view::unavailable();
    };
    let file = format!("haoqi-ranking-{}-{}.xlsx", p.from, p.to);
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}
