//! Findings the committee must see: follower jumps beyond an account's own trend (also without
//! matching likes/views, and clustered on one unit or prefecture), sharp drops, counters moving
//! backwards (`sql/queries/rank_anomalies.sql`), and accounts whose readings are mostly imported.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::RankInput;
use haoqi_store::sql::{self, Params};
use haoqi_store::{query_as, Store, StoreError};

/// `[rank.anomaly]` in haoqi.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnomalyConfig {
    /// The trend is the mean daily gain over this many previous reading days.
    pub trend_days: u32,
    /// A jump exceeds this multiple of the trend ...
    pub jump_factor: f64,
    /// ... and this many followers in a day.
    pub jump_min: u64,
    /// A jump is "without engagement" when likes + views grew by less than this × its gain.
    pub engagement_ratio: f64,
    /// A drop loses more than this share of the previous value ...
    pub drop_share: f64,
    /// ... and more than this many followers.
    pub drop_min: u64,
    /// Jumps on this many accounts of one unit on one day form a cluster ...
    pub unit_cluster_min: u32,
    /// ... or on this many accounts of one prefecture.
    pub prefecture_cluster_min: u32,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        AnomalyConfig {
            trend_days: 30,
            jump_factor: 10.0,
            jump_min: 1_000,
            engagement_ratio: 0.1,
            drop_share: 0.05,
            drop_min: 500,
            unit_cluster_min: 2,
            prefecture_cluster_min: 3,
        }
    }
}

/// One finding, with the numbers behind it (a row of `rank_anomalies.sql`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    pub account_id: String,
    pub day: NaiveDate,
    pub kind: String,
    pub value: u64,
    pub previous: u64,
    pub gain: i64,
    pub trend: f64,
    pub threshold: f64,
    pub engagement_gain: Option<i64>,
    pub accounts_same_day: u64,
}

impl Anomaly {
    /// The finding in words, numbers included.
    pub fn reason(&self) -> String {
        match self.kind.as_str() {
            "jump" => format!(
                "粉丝单日激增 followers {} → {} (+{}) in a day; own trend {:.0}/day, threshold {:.0}",
                self.previous, self.value, self.gain, self.trend, self.threshold
            ),
            "jump_without_engagement" => format!(
                "激增无互动 followers +{} while likes+views grew {} (< {:.0})",
                self.gain,
                self.engagement_gain.unwrap_or(0),
                self.threshold
            ),
            "unit_cluster" => format!(
                "同单位同日激增 jumps on {} accounts of the unit that day (+{} here)",
                self.accounts_same_day, self.gain
            ),
            "prefecture_cluster" => format!(
                "同地区同日激增 jumps on {} accounts of the prefecture that day (+{} here)",
                self.accounts_same_day, self.gain
            ),
            "drop" => format!(
                "粉丝骤降 followers {} → {} ({}), threshold {:.0}",
                self.previous, self.value, self.gain, self.threshold
            ),
            "backwards_likes" | "backwards_views" => format!(
                "累计数倒退 {} {} → {} ({})",
                self.kind.trim_start_matches("backwards_"),
                self.previous,
                self.value,
                self.gain
            ),
            "mostly_imported" => format!(
                "数据主要为导入 {} of {} readings imported ({:.0}% > {:.0}%)",
                self.value,
                self.previous,
                100.0 * self.value as f64 / self.previous.max(1) as f64,
                self.threshold * 100.0
            ),
            other => other.to_string(),
        }
    }
}

pub async fn find(
    store: &dyn Store,
    from: NaiveDate,
    to: NaiveDate,
    c: &AnomalyConfig,
) -> Result<Vec<Anomaly>, StoreError> {
    let params = Params::new(store.database())
        .set("from_day", from.to_string())
        .set("to_day", to.to_string())
        .set("trend_days", u64::from(c.trend_days.max(1)))
        .set("trend_rows", u64::from(c.trend_days.max(1)) + 1)
        .set("jump_factor", c.jump_factor)
        .set("jump_min", c.jump_min)
        .set("engagement_ratio", c.engagement_ratio)
        .set("drop_share", c.drop_share)
        .set("drop_min", c.drop_min)
        .set("unit_cluster_min", u64::from(c.unit_cluster_min))
        .set(
            "prefecture_cluster_min",
            u64::from(c.prefecture_cluster_min),
        );
    let sql = sql::render(sql::queries::RANK_ANOMALIES, &params)?;
    query_as(store, &sql).await
}

/// Accounts on a crawled platform whose period readings are mostly imported: `value` imported of
/// `previous` readings, dated the period's last day. (WeChat only ever arrives by import.)
pub fn mostly_imported(
    inputs: &[RankInput],
    max_share: f64,
    to: NaiveDate,
    crawled: &[String],
) -> Vec<Anomaly> {
    inputs
        .iter()
        .filter(|i| crawled.contains(&i.platform))
        .filter(|i| i.readings > 0 && i.imported_share > max_share)
        .map(|i| Anomaly {
            account_id: i.account_id.clone(),
            day: to,
            kind: "mostly_imported".into(),
            value: i.imported,
            previous: i.readings,
            gain: 0,
            trend: 0.0,
            threshold: max_share,
            engagement_gain: None,
            accounts_same_day: 1,
        })
        .collect()
}

/// One day of an account's counters (a row of `account_days.sql`, pivoted).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EvidenceDay {
    pub day: NaiveDate,
    pub followers: Option<u64>,
    /// Whether the followers value was exact (its bounds equal) or a rounded count.
    pub followers_exact: Option<bool>,
    pub likes: Option<u64>,
    pub views: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct CounterDay {
    day: NaiveDate,
    metric: String,
    value: u64,
    lo: u64,
    hi: u64,
}

/// The account's days from `days` before to `days` after `day`: what a reviewer looks at
/// before resolving a finding.
pub async fn evidence(
    store: &dyn Store,
    account_id: &str,
    day: NaiveDate,
    days: u64,
) -> Result<Vec<EvidenceDay>, StoreError> {
    let from = day.checked_sub_days(chrono::Days::new(days)).unwrap_or(day);
    let to = day.checked_add_days(chrono::Days::new(days)).unwrap_or(day);
    let params = Params::new(store.database())
        .set("account_id", account_id)
        .set("from_day", from.to_string())
        .set("to_day", to.to_string());
    let q = sql::render(sql::queries::ACCOUNT_DAYS, &params)?;
    let rows: Vec<CounterDay> = query_as(store, &q).await?;
    let mut out: Vec<EvidenceDay> = Vec::new();
    for r in rows {
        if out.last().is_none_or(|d| d.day != r.day) {
            out.push(EvidenceDay {
                day: r.day,
                ..EvidenceDay::default()
            });
        }
        let Some(d) = out.last_mut() else { continue };
        match r.metric.as_str() {
            "followers" => {
                d.followers = Some(r.value);
                d.followers_exact = Some(r.lo == r.hi);
            }
            "likes" => d.likes = Some(r.value),
            "views" => d.views = Some(r.value),
            _ => {}
        }
    }
    Ok(out)
}
