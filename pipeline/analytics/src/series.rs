//! Daily carry-forward series (matrix, tier, kind, prefecture, platform) and per-account growth.
//! The arithmetic is `sql/queries/series_daily.sql` and `account_growth.sql`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use haoqi_model::table::{opt_num, Table};
use haoqi_store::sql::{self, Params};
use haoqi_store::{query_as, Store, StoreError};

/// One group's total on one day (a row of `series_daily.sql`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    pub dimension: String,
    pub key: String,
    pub label: String,
    pub day: NaiveDate,
    pub followers: u64,
    pub followers_lo: u64,
    pub reporting: u64,
    pub stale: u64,
    pub max_age_days: u64,
    pub delta_1d: Option<i64>,
    pub delta_7d: Option<i64>,
    pub delta_30d: Option<i64>,
    pub rate_1d: Option<f64>,
    pub rate_7d: Option<f64>,
    pub rate_30d: Option<f64>,
}

/// One account's growth (a row of `account_growth.sql`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountGrowth {
    pub account_id: String,
    pub unit_id: String,
    pub unit_name: String,
    pub kind: String,
    pub tier: String,
    pub prefecture_code: Option<u32>,
    pub prefecture_name: Option<String>,
    pub platform: String,
    pub display_name: String,
    pub followers: Option<u64>,
    pub observed_at: Option<String>,
    pub followers_1d_ago: Option<u64>,
    pub followers_7d_ago: Option<u64>,
    pub followers_30d_ago: Option<u64>,
    pub delta_1d: Option<i64>,
    pub delta_7d: Option<i64>,
    pub delta_30d: Option<i64>,
    pub rate_7d: Option<f64>,
    pub rate_30d: Option<f64>,
    pub certain_growth_7d: Option<i64>,
    pub certain_growth_30d: Option<i64>,
}

pub const DIMENSIONS: [&str; 5] = ["matrix", "tier", "kind", "region", "platform"];

pub async fn daily(
    store: &dyn Store,
    from: NaiveDate,
    to: NaiveDate,
    dimensions: &[&str],
    stale_after_hours: u32,
) -> Result<Vec<SeriesPoint>, StoreError> {
    let params = Params::new(store.database())
        .set("from_day", from.to_string())
        .set("to_day", to.to_string())
        .set("stale_after_hours", u64::from(stale_after_hours))
        .set("dimensions", dimensions);
    let sql = sql::render(sql::queries::SERIES_DAILY, &params)?;
    query_as(store, &sql).await
}

pub async fn account_growth(
    store: &dyn Store,
    as_of: NaiveDate,
    stale_after_hours: u32,
) -> Result<Vec<AccountGrowth>, StoreError> {
    let params = Params::new(store.database())
        .set("as_of_day", as_of.to_string())
        .set("stale_after_hours", u64::from(stale_after_hours));
    let sql = sql::render(sql::queries::ACCOUNT_GROWTH, &params)?;
    query_as(store, &sql).await
}

fn signed(n: Option<i64>) -> String {
    n.map(|v| {
        let s = haoqi_model::table::group_thousands(v.unsigned_abs());
        if v < 0 {
            format!("-{s}")
        } else {
            format!("+{s}")
        }
    })
    .unwrap_or_default()
}

fn pct(r: Option<f64>) -> String {
    r.map(|r| format!("{:+.2}%", r * 100.0)).unwrap_or_default()
}

pub fn series_table(points: &[SeriesPoint]) -> Table {
    let mut t = Table::new(&[
        "group",
        "day",
        "followers",
        "reporting",
        "stale",
        "Δ1d",
        "Δ7d",
        "Δ30d",
        "7d rate",
        "30d rate",
    ]);
    for p in points {
        t.push(vec![
            p.label.clone(),
            p.day.to_string(),
            opt_num(Some(p.followers)),
            p.reporting.to_string(),
            p.stale.to_string(),
            signed(p.delta_1d),
            signed(p.delta_7d),
            signed(p.delta_30d),
            pct(p.rate_7d),
            pct(p.rate_30d),
        ]);
    }
    t
}

pub fn growth_table(rows: &[AccountGrowth]) -> Table {
    let mut t = Table::new(&[
        "account",
        "unit",
        "platform",
        "followers",
        "Δ1d",
        "Δ7d",
        "Δ30d",
        "7d rate",
        "certain 7d",
    ]);
    for r in rows {
        t.push(vec![
            r.account_id.clone(),
            r.unit_name.clone(),
            r.platform.clone(),
            opt_num(r.followers),
            signed(r.delta_1d),
            signed(r.delta_7d),
            signed(r.delta_30d),
            pct(r.rate_7d),
            signed(r.certain_growth_7d),
        ]);
    }
    t
}
