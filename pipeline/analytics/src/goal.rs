//! The leadership report: where the matrix stands, how fast it grows, when it reaches the goal,
//! what each tier and prefecture contributes, and what-ifs. One structure serves
//! `haoqi progress --forecast` and `/api/progress`, so the wall and the terminal agree.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::forecast::{self, Forecast};
use super::series::{self, SeriesPoint};
use super::whatif::{self, Selection, WhatIf};
use super::Settings;
use crate::progress::{Progress, ProgressQuery};
use haoqi_model::table::group_thousands;
use haoqi_model::table::Table;
use haoqi_store::{Store, StoreError};

/// A tier's or prefecture's part in the goal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    pub dimension: String,
    pub key: String,
    pub label: String,
    pub accounts: u64,
    pub followers: u64,
    /// `followers / goal`.
    pub share_of_goal: f64,
    pub with_target: u64,
    pub at_target: u64,
    /// `at_target / with_target` (None when no account has a computable target).
    pub share_at_target: Option<f64>,
    pub delta_7d: Option<i64>,
    pub delta_30d: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoalReport {
    pub progress: Progress,
    pub forecast: Forecast,
    /// The matrix total day by day over the forecast window, with its deltas.
    pub matrix_series: Vec<SeriesPoint>,
    pub contributions: Vec<Contribution>,
    /// The week's biggest risers and fallers by certain growth (beyond their counts' rounding).
    pub movers: Movers,
    pub what_if: Option<WhatIf>,
}

/// One account that moved most over the 7 days to the as-of day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mover {
    pub account_id: String,
    pub unit_name: String,
    pub display_name: String,
    pub platform: String,
    pub followers: Option<u64>,
    /// The growth over 7 days that rounding cannot explain (`account_growth.sql`).
    pub certain_growth_7d: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Movers {
    pub risers: Vec<Mover>,
    pub fallers: Vec<Mover>,
}

/// Accounts listed each way.
pub const MOVERS: usize = 5;

/// The `n` biggest certain gains and the `n` biggest certain losses.
pub fn movers(growth: &[series::AccountGrowth], n: usize) -> Movers {
    let mut moved: Vec<(&series::AccountGrowth, i64)> = growth
        .iter()
        .filter_map(|g| g.certain_growth_7d.map(|c| (g, c)))
        .filter(|(_, c)| *c != 0)
        .collect();
    moved.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| a.0.account_id.cmp(&b.0.account_id))
    });
    let mover = |(g, c): &(&series::AccountGrowth, i64)| Mover {
        account_id: g.account_id.clone(),
        unit_name: g.unit_name.clone(),
        display_name: g.display_name.clone(),
        platform: g.platform.clone(),
        followers: g.followers,
        certain_growth_7d: *c,
    };
    Movers {
        risers: moved
            .iter()
            .filter(|m| m.1 > 0)
            .take(n)
            .map(mover)
            .collect(),
        fallers: moved
            .iter()
            .rev()
            .filter(|m| m.1 < 0)
            .take(n)
            .map(mover)
            .collect(),
    }
}

pub async fn report(
    store: &dyn Store,
    settings: &Settings,
    as_of: NaiveDate,
    assume: &[Selection],
) -> Result<GoalReport, StoreError> {
    let query = ProgressQuery {
        as_of,
        stale_after_hours: settings.stale_after_hours,
    };
    let goal = settings.goal.followers;
    let progress = query.summary(store, goal, settings.goal.deadline).await?;
    // 30 days more than the window so the window's first day has its 30-day delta too.
    let window = u64::from(settings.forecast.window_days.max(31));
    let from = as_of.checked_sub_days(Days::new(window)).unwrap_or(as_of);
    let points = series::daily(
        store,
        from,
        as_of,
        &["matrix", "tier", "region"],
        settings.stale_after_hours,
    )
    .await?;
    let matrix_series: Vec<SeriesPoint> = points
        .iter()
        .filter(|p| p.dimension == "matrix")
        .cloned()
        .collect();
    // Paces and trends are fitted to complete days only: asked about today, the forecast ends
    // with yesterday (today's sweep is partial).
    let today = haoqi_model::time::today();
    let fit_to = if as_of >= today {
        today.pred_opt().unwrap_or(today)
    } else {
        as_of
    };
    let totals: Vec<(NaiveDate, u64)> = matrix_series
        .iter()
        .filter(|p| p.day <= fit_to)
        .map(|p| (p.day, p.followers))
        .collect();
    let mut forecast = forecast::forecast(
        &totals,
        fit_to,
        goal,
        settings.goal.deadline,
        &settings.forecast,
    );
    if let Some(window_start) = forecast.reached_before {
        // At the goal all through the window: when it got there is further back.
        match reached(store, settings, window_start, goal).await? {
            Reached::On(d) => {
                forecast.reached_on = Some(d);
                forecast.reached_before = None;
            }
            Reached::FromTheStart(d) => forecast.reached_before = Some(d),
        }
    }
    let last = |dim: &str, key: &str| {
        points
            .iter()
            .rev()
            .find(|p| p.dimension == dim && p.key == key && p.day == as_of)
    };
    // Tiers first, then prefectures.
    let contributions = ["tier", "region"]
        .iter()
        .flat_map(|dim| progress.groups.iter().filter(move |g| g.dimension == *dim))
        .map(|g| {
            let s = last(&g.dimension, &g.key);
            Contribution {
                dimension: g.dimension.clone(),
                key: g.key.clone(),
                label: g.label.clone(),
                accounts: g.accounts,
                followers: g.followers,
                share_of_goal: g.followers as f64 / goal.max(1) as f64,
                with_target: g.with_target,
                at_target: g.at_target,
                share_at_target: (g.with_target > 0)
                    .then(|| g.at_target as f64 / g.with_target as f64),
                delta_7d: s.and_then(|p| p.delta_7d),
                delta_30d: s.and_then(|p| p.delta_30d),
            }
        })
        .collect();
    let what_if = if assume.is_empty() {
        None
    } else {
        let accounts = query.accounts(store).await?;
        Some(whatif::what_if(&accounts, assume, goal))
    };
    let growth = series::account_growth(store, as_of, settings.stale_after_hours).await?;
    Ok(GoalReport {
        progress,
        forecast,
        matrix_series,
        contributions,
        movers: movers(&growth, MOVERS),
        what_if,
    })
}

/// When the matrix total first reached the goal, looking back from `before` (a day it was at
/// the goal) a year at a time.
enum Reached {
    /// The first day at the goal after a day below it.
    On(NaiveDate),
    /// At the goal on the first day of data.
    FromTheStart(NaiveDate),
}

async fn reached(
    store: &dyn Store,
    settings: &Settings,
    before: NaiveDate,
    goal: u64,
) -> Result<Reached, StoreError> {
    // The earliest day known to be at the goal so far.
    let mut earliest = before;
    // Twenty years is older than any matrix.
    for _ in 0..20 {
        let Some(to) = earliest.pred_opt() else {
            break;
        };
        let from = to.checked_sub_days(Days::new(364)).unwrap_or(to);
        let mut days: Vec<(NaiveDate, u64)> =
            series::daily(store, from, to, &["matrix"], settings.stale_after_hours)
                .await?
                .into_iter()
                .filter(|p| p.dimension == "matrix")
                .map(|p| (p.day, p.followers))
                .collect();
        days.sort();
        for (day, followers) in days.iter().rev() {
            if *followers < goal {
                // A total of 0 is a day before any reading: the data begin at the goal.
                return Ok(if *followers == 0 {
                    Reached::FromTheStart(earliest)
                } else {
                    Reached::On(earliest)
                });
            }
            earliest = *day;
        }
        if days.len() < 365 {
            break;
        }
    }
    Ok(Reached::FromTheStart(earliest))
}

fn day(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "—".into())
}

fn num(x: f64) -> String {
    if x < 0.0 {
        format!("-{}", group_thousands((-x).round() as u64))
    } else {
        group_thousands(x.round() as u64)
    }
}

/// The report as text for a terminal.
pub fn text(r: &GoalReport) -> String {
    let f = &r.forecast;
    let mut out = crate::progress::headline(&r.progress);
    out.push('\n');
    let pace = |p: Option<f64>| p.map(num).unwrap_or_else(|| "—".into());
    out.push_str(&format!(
        "Pace: {} a day over 7 days, {} over 30 days. ",
        pace(f.pace_7d),
        pace(f.pace_30d)
    ));
    match (f.reached_on, f.reached_before, f.required_daily_growth) {
        (Some(d), _, _) => out.push_str(&format!("The goal was reached on {d}.\n")),
        (None, Some(d), _) => out.push_str(&format!(
            "The goal was reached before the data begin: the total was past it on the first day of data, {d}.\n"
        )),
        (None, None, Some(need)) => out.push_str(&format!(
            "Needed to make {}: {} a day for {} days.\n",
            f.deadline,
            num(need),
            f.days_to_deadline
        )),
        (None, None, None) => out.push_str(&format!(
            "The deadline {} passed {} days ago; {} followers still to go.\n",
            f.deadline,
            -f.days_to_deadline,
            group_thousands(f.remaining)
        )),
    }
    out.push('\n');
    let mut t = Table::new(&[
        "method 方法",
        "per day",
        "range",
        "reaches goal",
        "earliest",
        "latest",
        "at deadline",
    ]);
    let reached = f.reached_on.is_some() || f.reached_before.is_some();
    let reach = |d: Option<NaiveDate>| {
        if reached {
            "reached 已达成".to_string()
        } else {
            day(d)
        }
    };
    for m in &f.methods {
        t.push(vec![
            m.method.to_string(),
            num(m.daily_growth),
            format!("{} – {}", num(m.daily_growth_low), num(m.daily_growth_high)),
            reach(m.reach_date),
            reach(m.reach_date_earliest),
            reach(m.reach_date_latest),
            m.at_deadline
                .map(group_thousands)
                .unwrap_or_else(|| "—".into()),
        ]);
    }
    match &f.note {
        Some(note) => out.push_str(&format!("No forecast: {note}.\n")),
        None => {
            out.push_str(&format!(
                "Forecast from {} days of totals ({} to {}); range = slope ± 2 standard errors; \
                 \"—\" = not within {} days.\n",
                f.window_days,
                day(f.window_from),
                f.as_of,
                10 * 365
            ));
            out.push_str(&t.to_text());
        }
    }
    out.push('\n');
    out.push_str(&contribution_table(&r.contributions).to_text());
    if let Some(w) = &r.what_if {
        out.push_str(&format!(
            "\nWhat if {}: {} accounts ({} lifted to target, {} already there, {} without a \
             target) add {} followers: {} = {:.1}% of the goal{}.\n",
            w.assumptions.join(" + "),
            w.accounts,
            w.lifted,
            w.already_at_target,
            w.target_unknown,
            group_thousands(w.followers_added),
            group_thousands(w.followers_then),
            w.share_of_goal_then * 100.0,
            if w.goal_reached_then {
                ", goal reached"
            } else {
                ""
            }
        ));
    }
    out
}

pub fn contribution_table(rows: &[Contribution]) -> Table {
    let mut t = Table::new(&[
        "group",
        "accounts",
        "followers",
        "share of goal",
        "at target",
        "Δ7d",
        "Δ30d",
    ]);
    for c in rows {
        let delta = |d: Option<i64>| d.map(|d| num(d as f64)).unwrap_or_default();
        t.push(vec![
            c.label.clone(),
            c.accounts.to_string(),
            group_thousands(c.followers),
            format!("{:.1}%", c.share_of_goal * 100.0),
            match c.share_at_target {
                Some(s) => format!("{}/{} ({:.0}%)", c.at_target, c.with_target, s * 100.0),
                None => "no target".into(),
            },
            delta(c.delta_7d),
            delta(c.delta_30d),
        ]);
    }
    t
}

/// `[goal]` in the configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GoalConfig {
    /// Followers summed over all accounts (seed 000 §4.1: 不低于2000万).
    pub followers: u64,
    /// The plan says end of 2024.
    pub deadline: NaiveDate,
}

impl Default for GoalConfig {
    fn default() -> Self {
        GoalConfig {
            followers: 20_000_000,
            deadline: NaiveDate::from_ymd_opt(2024, 12, 31).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row of `account_growth.sql` with only what `movers` reads filled in.
    fn growth(id: &str, certain: Option<i64>) -> series::AccountGrowth {
        serde_json::from_value(serde_json::json!({
            "account_id": id, "unit_id": "u", "unit_name": format!("unit {id}"),
            "kind": "society", "tier": "horizontal", "prefecture_code": null,
            "prefecture_name": null, "platform": "douyin", "display_name": id,
            "followers": 10000, "observed_at": null, "followers_1d_ago": null,
            "followers_7d_ago": null, "followers_30d_ago": null, "delta_1d": null,
            "delta_7d": null, "delta_30d": null, "rate_7d": null, "rate_30d": null,
            "certain_growth_7d": certain, "certain_growth_30d": null
        }))
        .expect("row")
    }

    #[test]
    fn movers_are_the_biggest_certain_changes_each_way() {
        let rows = vec![
            growth("a", Some(500)),
            growth("b", Some(-40)),
            growth("c", None),
            growth("d", Some(0)),
            growth("e", Some(900)),
            growth("f", Some(-700)),
        ];
        let m = movers(&rows, 1);
        assert_eq!(m.risers.len(), 1);
        assert_eq!(m.risers[0].account_id, "e");
        assert_eq!(m.fallers.len(), 1);
        assert_eq!(m.fallers[0].account_id, "f");
        let all = movers(&rows, 5);
        let ids = |v: &[Mover]| v.iter().map(|m| m.account_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&all.risers), ["e", "a"]);
        // An account whose change rounding may explain (None) or that did not move is neither.
        assert_eq!(ids(&all.fallers), ["f", "b"]);
    }
}
