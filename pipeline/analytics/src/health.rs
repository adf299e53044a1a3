//! Account health for operations: one state per active account, each with an owner who acts on
//! it. The judgement is ClickHouse SQL (`sql/queries/account_health.sql`); this module passes the
//! thresholds, explains each state with the numbers behind it, and lays out the answer by
//! responsible department.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use haoqi_model::table::group_thousands;
use haoqi_model::table::{opt_num, Table};
use haoqi_store::sql::{self, Params};
use haoqi_store::{query_as, Store, StoreError};

/// `[stalled]` in haoqi.toml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StalledConfig {
    /// No growth beyond the readings' resolution for this many days: `flat`.
    pub flat_days: u32,
    /// No new post for this many days (where the platform exposes posts): `no_posts`.
    pub no_posts_days: u32,
    /// A loss of at least this share of the recent peak ...
    pub drop_share: f64,
    /// ... and at least this many followers: `dropping`.
    pub drop_min: u64,
    /// Platforms that arrive only by import (WeChat) report this often; two intervals without a
    /// reading make them `overdue`, as two collection intervals do for crawled platforms.
    pub import_interval_days: u32,
    /// Days of daily rollups the judgement reads.
    pub lookback_days: u32,
}

impl Default for StalledConfig {
    fn default() -> Self {
        StalledConfig {
            flat_days: 7,
            no_posts_days: 14,
            drop_share: 0.05,
            drop_min: 100,
            import_interval_days: 31,
            lookback_days: 90,
        }
    }
}

/// The health states, in the order the query tests them (the first that applies wins).
pub const STATES: [&str; 7] = [
    "gone",
    "collection_blocked",
    "overdue",
    "dropping",
    "flat",
    "no_posts",
    "growing",
];

/// Who acts on a state.
pub fn owner(state: &str) -> &'static str {
    match state {
        "flat" | "no_posts" | "dropping" => "内容团队 content team",
        "collection_blocked" => "平台运维 platform operations",
        "gone" => "名录维护 registry owner",
        "overdue" => "数据采集 collection operations",
        _ => "",
    }
}

/// One account's state (a row of `account_health.sql`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountHealth {
    pub account_id: String,
    pub unit_id: String,
    pub unit_name: String,
    pub kind: String,
    pub tier: String,
    pub prefecture_code: Option<u32>,
    pub prefecture_name: Option<String>,
    pub department: String,
    pub platform: String,
    pub display_name: String,
    pub state: String,
    pub since: Option<NaiveDate>,
    pub followers: Option<u64>,
    pub followers_lo: Option<u64>,
    pub followers_hi: Option<u64>,
    pub observed_at: Option<String>,
    pub hours_since_reading: Option<f64>,
    pub overdue_after_hours: u32,
    pub reference_day: Option<NaiveDate>,
    pub reference_followers_hi: Option<u64>,
    pub peak_followers_lo: Option<u64>,
    pub posts: Option<u64>,
    pub reference_posts_hi: Option<u64>,
    pub last_attempt_at: Option<String>,
    pub last_outcome: Option<String>,
    pub last_error: Option<String>,
    /// Filled in by [`HealthQuery::run`]: who acts, and why in numbers.
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub reason: String,
}

/// The question: every active account's state at `now`.
#[derive(Debug, Clone)]
pub struct HealthQuery {
    pub now: DateTime<Utc>,
    pub config: StalledConfig,
    /// Minutes between two polls of a crawled account.
    pub interval_mins: u64,
    /// Platforms the collectors poll; the others arrive by import.
    pub crawled: Vec<String>,
}

impl HealthQuery {
    /// `--days N` / `?days=N`: one horizon for both `flat` and `no_posts`.
    pub fn with_days(mut self, days: Option<u32>) -> Self {
        if let Some(days) = days {
            self.config.flat_days = days.max(1);
            self.config.no_posts_days = days.max(1);
        }
        self
    }

    pub fn crawl_overdue_hours(&self) -> u64 {
        (2 * self.interval_mins).div_ceil(60).max(1)
    }

    fn params(&self, store: &dyn Store) -> Params {
        let c = &self.config;
        Params::new(store.database())
            .set("now", haoqi_model::time::to_clickhouse(self.now))
            .set(
                "as_of_day",
                haoqi_model::time::beijing_day(self.now).to_string(),
            )
            .set("crawl_overdue_hours", self.crawl_overdue_hours())
            .set(
                "import_overdue_hours",
                2 * 24 * u64::from(c.import_interval_days),
            )
            .set(
                "lookback_days",
                u64::from(c.lookback_days.max(c.flat_days + 1)),
            )
            .set("flat_days", u64::from(c.flat_days))
            .set("no_posts_days", u64::from(c.no_posts_days))
            .set("drop_share", c.drop_share)
            .set("drop_min", c.drop_min)
            .set("crawled", self.crawled.as_slice())
    }

    pub async fn run(&self, store: &dyn Store) -> Result<Vec<AccountHealth>, StoreError> {
        let sql = sql::render(sql::queries::ACCOUNT_HEALTH, &self.params(store))?;
        let mut rows: Vec<AccountHealth> = query_as(store, &sql).await?;
        for r in &mut rows {
            r.owner = owner(&r.state).to_string();
            r.reason = reason(r, &self.config);
        }
        Ok(rows)
    }
}

fn n(v: Option<u64>) -> String {
    v.map(group_thousands).unwrap_or_else(|| "?".into())
}

/// The numbers behind a state, in words an operator can check against the readings.
pub fn reason(r: &AccountHealth, c: &StalledConfig) -> String {
    let error = r.last_error.as_deref().unwrap_or("");
    match r.state.as_str() {
        "gone" => format!("platform answers not_found: {error}"),
        "collection_blocked" => format!(
            "last attempt {}: {error}",
            r.last_outcome.as_deref().unwrap_or("?")
        ),
        "overdue" => match r.hours_since_reading {
            None => "never read".to_string(),
            Some(h) => format!(
                "last reading {h:.1} h ago (overdue after {} h)",
                r.overdue_after_hours
            ),
        },
        "dropping" => format!(
            "{} now (≤{}) vs ≥{} at the {}-day peak",
            n(r.followers),
            n(r.followers_hi),
            n(r.peak_followers_lo),
            c.flat_days
        ),
        "flat" => format!(
            "{} now (≥{}) vs ≤{} on {}: no growth beyond resolution in {} days",
            n(r.followers),
            n(r.followers_lo),
            n(r.reference_followers_hi),
            r.reference_day.map(|d| d.to_string()).unwrap_or_default(),
            c.flat_days
        ),
        "no_posts" => format!(
            "{} posts now vs {} {} days ago",
            n(r.posts),
            n(r.reference_posts_hi),
            c.no_posts_days
        ),
        _ => String::new(),
    }
}

/// Counts per state, in [`STATES`] order (zeros included).
pub fn counts(rows: &[AccountHealth]) -> Vec<(&'static str, usize)> {
    STATES
        .iter()
        .map(|s| (*s, rows.iter().filter(|r| r.state == *s).count()))
        .collect()
}

/// Department by department, the accounts that need someone (growing ones only with `all`).
pub fn table(rows: &[AccountHealth], all: bool) -> Table {
    let mut t = Table::new(&[
        "department 责任部门",
        "state 状态",
        "owner 处理",
        "unit 单位",
        "platform",
        "account 账号",
        "followers",
        "since 起始",
        "why 依据",
    ]);
    let mut shown: Vec<&AccountHealth> = rows
        .iter()
        .filter(|r| all || r.state != "growing")
        .collect();
    let rank = |s: &str| STATES.iter().position(|x| *x == s).unwrap_or(STATES.len());
    shown.sort_by(|a, b| {
        (&a.department, rank(&a.state), &a.platform, &a.account_id).cmp(&(
            &b.department,
            rank(&b.state),
            &b.platform,
            &b.account_id,
        ))
    });
    for r in shown {
        t.push(vec![
            r.department.clone(),
            r.state.clone(),
            r.owner.clone(),
            r.unit_name.clone(),
            r.platform.clone(),
            r.display_name.clone(),
            opt_num(r.followers),
            r.since.map(|d| d.to_string()).unwrap_or_default(),
            r.reason.clone(),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_but_growing_has_an_owner() {
        for s in STATES {
            assert_eq!(owner(s).is_empty(), s == "growing", "{s}");
        }
    }

    #[test]
    fn overdue_after_two_intervals_rounded_up_to_hours() {
        let q = |mins| HealthQuery {
            now: Utc::now(),
            config: StalledConfig::default(),
            interval_mins: mins,
            crawled: vec![],
        };
        assert_eq!(q(60).crawl_overdue_hours(), 2);
        assert_eq!(q(45).crawl_overdue_hours(), 2);
        assert_eq!(q(10).crawl_overdue_hours(), 1);
        assert_eq!(q(24 * 60).crawl_overdue_hours(), 48);
    }
}
