//! 地州, a prefecture's page for its liaison (and the office): its units ranked by completion
//! of target, who has problems, who is behind. A liaison opens only its own prefecture.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use haoqi_analytics::progress::AccountProgress;
use haoqi_model::scope::Scope;

use super::super::auth::Viewer;
use super::super::fmt::{self, wan};
use super::super::view::{self, Chrome};
use super::super::Ctx;

pub(super) fn routes() -> Router<Ctx> {
    Router::new().route("/prefecture/{code}", get(prefecture_page))
}

struct UnitRow {
    unit_id: String,
    name: String,
    kind: String,
    accounts: usize,
    followers: String,
    completion: String,
    at_target: String,
    problems: usize,
    behind: bool,
}

#[derive(Template)]
#[template(path = "prefecture.html")]
struct PrefecturePage {
    chrome: Chrome,
    name: String,
    as_of: String,
    total: String,
    units: Vec<UnitRow>,
    behind: usize,
}

/// A unit is behind when under half of its accounts with a target are at it, or when one of
/// its accounts has no fresh reading.
fn summarise(accounts: &[AccountProgress]) -> Vec<UnitRow> {
    let mut by_unit: BTreeMap<&str, Vec<&AccountProgress>> = BTreeMap::new();
    for a in accounts {
        by_unit.entry(&a.unit_id).or_default().push(a);
    }
    let mut rows: Vec<(f64, UnitRow)> = by_unit
        .into_iter()
        .map(|(unit_id, accs)| {
            let with_target: Vec<_> = accs.iter().filter(|a| a.target.is_some()).collect();
            let at = with_target
                .iter()
                .filter(|a| a.at_target == Some(true))
                .count();
            let completion: Option<f64> = if with_target.is_empty() {
                None
            } else {
                Some(
                    with_target
                        .iter()
                        .map(|a| a.completion.unwrap_or(0.0).min(1.0))
                        .sum::<f64>()
                        / with_target.len() as f64,
                )
            };
            let problems = accs
                .iter()
                .filter(|a| a.followers.is_none() || a.stale == Some(true) || !a.naming_ok)
                .count();
            let share_at = (!with_target.is_empty()).then(|| at as f64 / with_target.len() as f64);
            let behind = share_at.is_some_and(|s| s < 0.5)
                || accs
                    .iter()
                    .any(|a| a.followers.is_none() || a.stale == Some(true));
            let row = UnitRow {
                unit_id: unit_id.to_string(),
                name: accs[0].unit_name.clone(),
                kind: fmt::kind_name(&accs[0].kind),
                accounts: accs.len(),
                followers: wan(accs.iter().filter_map(|a| a.followers).sum()),
                completion: fmt::opt_pct(completion),
                at_target: format!("{at}/{}", with_target.len()),
                problems,
                behind,
            };
            (completion.unwrap_or(-1.0), row)
        })
        .collect();
    rows.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| a.1.unit_id.cmp(&b.1.unit_id))
    });
    rows.into_iter().map(|(_, r)| r).collect()
}

async fn prefecture_page(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Response {
    let Ok(code) = code.parse::<u32>() else {
        return view::not_found(&viewer);
    };
    match viewer.grant().scope() {
        Scope::All => {}
        Scope::Prefecture(own) if own == code => {}
        Scope::Prefecture(_) => return view::not_found(&viewer),
        Scope::Unit(_) => return view::forbidden(&viewer),
    }
    let as_of = haoqi_model::time::last_complete_day();
    let accounts = match super::scoped_accounts(&ctx, None, &Scope::Prefecture(code)).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(name) = accounts.iter().find_map(|a| a.prefecture_name.clone()) else {
        return view::not_found(&viewer);
    };
    let units = summarise(&accounts);
    let page = PrefecturePage {
        chrome: viewer.chrome(&name),
        as_of: format!("{} 日终", fmt::day(as_of)),
        total: wan(accounts.iter().filter_map(|a| a.followers).sum()),
        behind: units.iter().filter(|u| u.behind).count(),
        name,
        units,
    };
    view::render(StatusCode::OK, &page)
}
