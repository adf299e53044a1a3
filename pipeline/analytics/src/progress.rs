//! Goal progress: the matrix total against the goal, and the same figures by tier, kind,
//! prefecture and platform, as of the end of a Beijing day. The arithmetic is ClickHouse SQL
//! (`sql/migrations/0003_progress_views.sql`, `sql/queries/progress_*.sql`); this module runs
//! it, checks the answer's shape, and lays it out.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use haoqi_model::scope::Scope;
use haoqi_model::table::group_thousands;
use haoqi_model::table::{opt_num, Table};
use haoqi_store::sql::{self, Params};
use haoqi_store::{query_as, Store, StoreError};

/// One group's figures (a row of `progress_summary.sql`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupProgress {
    pub dimension: String,
    pub key: String,
    pub label: String,
    pub accounts: u64,
    pub reporting: u64,
    pub never_reported: u64,
    pub stale: u64,
    /// Sum of the carried-forward last readings.
    pub followers: u64,
    /// Sum of their lower bounds: what is certain.
    pub followers_lo: u64,
    pub with_target: u64,
    pub target_unknown: u64,
    pub target_sum: u64,
    pub at_target: u64,
    pub oldest_reading_at: Option<String>,
    pub max_age_hours: Option<f64>,
}

/// One account's state (a row of `progress_accounts.sql`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountProgress {
    pub account_id: String,
    pub unit_id: String,
    pub unit_name: String,
    pub kind: String,
    pub tier: String,
    pub prefecture_code: Option<u32>,
    pub prefecture_name: Option<String>,
    pub county_code: Option<u32>,
    pub county_name: Option<String>,
    pub department: String,
    pub platform: String,
    pub platform_id: String,
    pub display_name: String,
    pub role: String,
    pub standardised: bool,
    pub naming_ok: bool,
    pub target: Option<u64>,
    pub target_basis: String,
    pub target_verified: bool,
    pub followers: Option<u64>,
    pub followers_lo: Option<u64>,
    pub followers_hi: Option<u64>,
    pub observed_at: Option<String>,
    pub source: Option<String>,
    pub age_hours: Option<f64>,
    pub stale: Option<bool>,
    pub at_target: Option<bool>,
    pub completion: Option<f64>,
}

/// What a progress breakdown groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Tier,
    Kind,
    Region,
    Platform,
    Account,
}

impl By {
    pub const ALL: [By; 5] = [By::Tier, By::Kind, By::Region, By::Platform, By::Account];

    pub fn dimension(self) -> &'static str {
        match self {
            By::Tier => "tier",
            By::Kind => "kind",
            By::Region => "region",
            By::Platform => "platform",
            By::Account => "account",
        }
    }
}

impl std::str::FromStr for By {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        By::ALL
            .into_iter()
            .find(|b| b.dimension() == s)
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a breakdown (one of {})",
                    By::ALL.map(By::dimension).join(", ")
                )
            })
    }
}

/// The goal and where the matrix stands against it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub as_of: NaiveDate,
    pub goal: u64,
    pub deadline: NaiveDate,
    pub matrix: GroupProgress,
    /// `followers / goal`.
    pub share_of_goal: f64,
    /// Whether the goal is reached for certain (the lower bounds reach it).
    pub goal_reached: bool,
    pub groups: Vec<GroupProgress>,
}

pub struct ProgressQuery {
    pub as_of: NaiveDate,
    pub stale_after_hours: u32,
}

impl ProgressQuery {
    fn params(&self, store: &dyn Store) -> Params {
        Params::new(store.database())
            .set("as_of_day", self.as_of.to_string())
            .set("stale_after_hours", u64::from(self.stale_after_hours))
    }

    pub async fn summary(
        &self,
        store: &dyn Store,
        goal: u64,
        deadline: NaiveDate,
    ) -> Result<Progress, StoreError> {
        let sql = sql::render(sql::queries::PROGRESS_SUMMARY, &self.params(store))?;
        let groups: Vec<GroupProgress> = query_as(store, &sql).await?;
        let matrix = groups
            .iter()
            .find(|g| g.dimension == "matrix")
            .cloned()
            .unwrap_or_else(empty_matrix);
        Ok(Progress {
            as_of: self.as_of,
            goal,
            deadline,
            share_of_goal: matrix.followers as f64 / goal as f64,
            goal_reached: matrix.followers_lo >= goal,
            matrix,
            groups,
        })
    }

    pub async fn accounts(&self, store: &dyn Store) -> Result<Vec<AccountProgress>, StoreError> {
        self.accounts_in(store, &Scope::All).await
    }

    /// The accounts inside `scope` only: the filter is in the query, so nothing outside it is
    /// read for someone who may not see it.
    pub async fn accounts_in(
        &self,
        store: &dyn Store,
        scope: &Scope,
    ) -> Result<Vec<AccountProgress>, StoreError> {
        self.accounts_where(store, scope.unit_param(), scope.prefecture_param())
            .await
    }

    /// One unit's accounts, as far as they lie inside `within` (a liaison asking about a unit
    /// of another prefecture gets none).
    pub async fn accounts_of_unit(
        &self,
        store: &dyn Store,
        unit_id: &str,
        within: &Scope,
    ) -> Result<Vec<AccountProgress>, StoreError> {
        let outside = match within {
            Scope::Unit(own) => own != unit_id,
            Scope::All | Scope::Prefecture(_) => false,
        };
        if unit_id.is_empty() || outside {
            return Ok(Vec::new());
        }
        self.accounts_where(store, unit_id, within.prefecture_param())
            .await
    }

    async fn accounts_where(
        &self,
        store: &dyn Store,
        unit_id: &str,
        prefecture: u32,
    ) -> Result<Vec<AccountProgress>, StoreError> {
        let params = self
            .params(store)
            .set("unit_id", unit_id)
            .set("prefecture", u64::from(prefecture));
        let sql = sql::render(sql::queries::PROGRESS_ACCOUNTS, &params)?;
        query_as(store, &sql).await
    }
}

/// With no accounts the matrix row is absent: every figure is zero accounts, not zero followers.
fn empty_matrix() -> GroupProgress {
    GroupProgress {
        dimension: "matrix".into(),
        key: "all".into(),
        label: "全部 all".into(),
        accounts: 0,
        reporting: 0,
        never_reported: 0,
        stale: 0,
        followers: 0,
        followers_lo: 0,
        with_target: 0,
        target_unknown: 0,
        target_sum: 0,
        at_target: 0,
        oldest_reading_at: None,
        max_age_hours: None,
    }
}

fn pct(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        format!("{:.1}%", 100.0 * part / whole)
    } else {
        "-".into()
    }
}

/// The table for one dimension (the matrix row first).
pub fn group_table(p: &Progress, by: Option<By>) -> Table {
    let mut t = Table::new(&[
        "group",
        "accounts",
        "reporting",
        "never",
        "stale",
        "followers",
        "certain (lo)",
        "goal share",
        "with target",
        "target unknown",
        "at target",
        "max age h",
    ]);
    let dim = by.map_or("matrix", By::dimension);
    for g in p
        .groups
        .iter()
        .filter(|g| g.dimension == "matrix" || g.dimension == dim)
    {
        t.push(vec![
            if g.dimension == "matrix" {
                "matrix 全部".to_string()
            } else {
                g.label.clone()
            },
            g.accounts.to_string(),
            g.reporting.to_string(),
            g.never_reported.to_string(),
            g.stale.to_string(),
            group_thousands(g.followers),
            group_thousands(g.followers_lo),
            pct(g.followers as f64, p.goal as f64),
            g.with_target.to_string(),
            g.target_unknown.to_string(),
            format!(
                "{} ({})",
                g.at_target,
                pct(g.at_target as f64, g.with_target as f64)
            ),
            g.max_age_hours.map_or("-".into(), |h| format!("{h:.1}")),
        ]);
    }
    t
}

pub fn account_table(rows: &[AccountProgress]) -> Table {
    let mut t = Table::new(&[
        "account",
        "name",
        "platform",
        "kind",
        "prefecture",
        "followers",
        "lo",
        "target",
        "completion",
        "at target",
        "last reading (UTC)",
        "age h",
        "target basis",
    ]);
    for a in rows {
        t.push(vec![
            a.account_id.clone(),
            a.display_name.clone(),
            a.platform.clone(),
            a.kind.clone(),
            a.prefecture_name.clone().unwrap_or_else(|| "全区".into()),
            opt_num(a.followers),
            opt_num(a.followers_lo),
            opt_num(a.target),
            a.completion
                .map_or("-".into(), |c| format!("{:.1}%", c * 100.0)),
            match a.at_target {
                Some(true) => "yes".into(),
                Some(false) => "no".into(),
                None => "-".into(),
            },
            a.observed_at.clone().unwrap_or_else(|| "never".into()),
            a.age_hours.map_or("-".into(), |h| format!("{h:.1}")),
            a.target_basis.clone(),
        ]);
    }
    t
}

/// The headline a person reads first.
pub fn headline(p: &Progress) -> String {
    let m = &p.matrix;
    // A day not over yet is "so far": its sweep is partial, and accounts not yet read today
    // carry yesterday's values.
    let when = if p.as_of >= haoqi_model::time::today() {
        "so far today, Beijing; the day is not over"
    } else {
        "end of day, Beijing"
    };
    format!(
        "As of {} ({when}): {} followers ({} certain) of the {} goal = {:.1}%, \
         deadline {}.\n{} accounts: {} reporting, {} never reported, {} stale; {} of {} with a \
         target are at target ({} without a computable target).\n",
        p.as_of,
        group_thousands(m.followers),
        group_thousands(m.followers_lo),
        group_thousands(p.goal),
        p.share_of_goal * 100.0,
        p.deadline,
        m.accounts,
        m.reporting,
        m.never_reported,
        m.stale,
        m.at_target,
        m.with_target,
        m.target_unknown
    )
}

/// `[progress]` in the configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProgressConfig {
    /// A carried-forward reading older than this is shown as stale.
    pub stale_after_hours: u32,
}

impl Default for ProgressConfig {
    fn default() -> Self {
        ProgressConfig {
            stale_after_hours: 48,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakdowns_parse_by_their_names_only() {
        for b in By::ALL {
            assert_eq!(b.dimension().parse::<By>(), Ok(b));
        }
        let e = "colour".parse::<By>().unwrap_err();
        assert!(e.contains("tier, kind, region, platform, account"), "{e}");
    }
}
