//! The subsidy committee's ranking: who earned an award for a period, and why.
//!
//! Inputs per account come from `sql/queries/rank_inputs.sql`, findings from
//! `rank_anomalies.sql`; this module applies the eligibility rules and the composite index, and
//! [`xlsx`] writes the committee's workbook.
//!
//! **The index** (formula `haoqi-index-2`), in the manner of the Chinese new-media indices (WCI):
//! each component `x` of an account is log-normalised against the best eligible account of its
//! comparison group, `s = ln(1 + x) / ln(1 + max x)` (0..1; negative gains count as 0), then
//! `score = 1000 · Σ wᵢ·sᵢ / Σ wᵢ` over the components the account has. Components: followers at
//! the end, follower growth, target completion (compared across the whole group), and views
//! gained, likes gained and posts gained — which not every platform exposes, so they are
//! compared within the account's platform only, and an account whose platform lacks one has that
//! weight spread over its other components (the sheet says "n/a").
//!
//! **Ties**: score (rounded to 0.01) descending, then follower growth, then followers at the end,
//! both descending, then the account id ascending.

pub mod anomalies;
pub mod freeze;
pub mod table;
pub mod xlsx;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use haoqi_store::sql::{self, Params};
use haoqi_store::{query_as, Store, StoreError};

pub use anomalies::{Anomaly, AnomalyConfig};

pub const FORMULA_VERSION: &str = "haoqi-index-2";

/// `[rank]` in haoqi.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RankConfig {
    /// Share of the period's days with a followers reading an account needs.
    pub min_coverage: f64,
    /// Above this share of imported readings an account is flagged (`mostly_imported`).
    pub max_imported_share: f64,
    pub require_standardised: bool,
    pub require_naming: bool,
    pub weights: Weights,
    pub anomaly: AnomalyConfig,
}

impl Default for RankConfig {
    fn default() -> Self {
        RankConfig {
            min_coverage: 0.8,
            max_imported_share: 0.5,
            require_standardised: true,
            require_naming: true,
            weights: Weights::default(),
            anomaly: AnomalyConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Weights {
    pub followers: f64,
    pub growth: f64,
    pub completion: f64,
    pub views: f64,
    pub likes: f64,
    pub posts: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            followers: 0.25,
            growth: 0.30,
            completion: 0.10,
            views: 0.15,
            likes: 0.15,
            posts: 0.05,
        }
    }
}

/// One account's inputs for the period (a row of `rank_inputs.sql`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankInput {
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
    pub standardised: bool,
    pub naming_ok: bool,
    pub target: Option<u64>,
    pub followers_end: Option<u64>,
    pub followers_end_lo: Option<u64>,
    pub followers_start: Option<u64>,
    pub followers_gained: Option<i64>,
    pub has_baseline: bool,
    pub likes_gained: Option<i64>,
    pub views_gained: Option<i64>,
    pub posts_end: Option<u64>,
    pub posts_gained: Option<i64>,
    pub days_read: u64,
    pub days_in_period: u64,
    pub coverage: f64,
    pub readings: u64,
    pub imported: u64,
    pub imported_share: f64,
    pub completion: Option<f64>,
    pub at_target: Option<bool>,
}

/// Which accounts compete with each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TierFilter {
    /// Both tiers, each ranked on its own.
    Both,
    Vertical,
    Horizontal,
    Kind(String),
}

impl std::str::FromStr for TierFilter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        const KINDS: [&str; 7] = [
            "region_assoc",
            "prefecture_assoc",
            "county_assoc",
            "society",
            "university",
            "enterprise",
            "museum",
        ];
        match s {
            "vertical" => Ok(TierFilter::Vertical),
            "horizontal" => Ok(TierFilter::Horizontal),
            k if KINDS.contains(&k) => Ok(TierFilter::Kind(k.to_string())),
            other => Err(format!(
                "unknown tier {other:?}: vertical, horizontal or a kind ({})",
                KINDS.join(", ")
            )),
        }
    }
}

impl TierFilter {
    fn group_of(&self, i: &RankInput) -> Option<String> {
        match self {
            TierFilter::Both => Some(i.tier.clone()),
            TierFilter::Vertical => (i.tier == "vertical").then(|| i.tier.clone()),
            TierFilter::Horizontal => (i.tier == "horizontal").then(|| i.tier.clone()),
            TierFilter::Kind(k) => (i.kind == *k).then(|| k.clone()),
        }
    }

    pub fn label(&self) -> String {
        match self {
            TierFilter::Both => "vertical+horizontal".into(),
            TierFilter::Vertical => "vertical".into(),
            TierFilter::Horizontal => "horizontal".into(),
            TierFilter::Kind(k) => k.clone(),
        }
    }
}

/// A component's normalised value, or why it has none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Components {
    pub followers: Option<f64>,
    pub growth: Option<f64>,
    pub completion: Option<f64>,
    pub views: Option<f64>,
    pub likes: Option<f64>,
    pub posts: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedAccount {
    pub group: String,
    pub rank: u32,
    pub score: f64,
    pub components: Components,
    pub input: RankInput,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedUnit {
    pub group: String,
    pub rank: u32,
    pub score: f64,
    pub unit_id: String,
    pub unit_name: String,
    pub kind: String,
    pub prefecture_name: Option<String>,
    pub accounts: u32,
    pub followers_end: u64,
    pub followers_gained: i64,
    pub likes_gained: Option<i64>,
    pub views_gained: Option<i64>,
    pub posts_gained: Option<i64>,
    pub completion: Option<f64>,
    pub components: Components,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ineligible {
    pub group: String,
    pub reasons: Vec<String>,
    pub input: RankInput,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub tier: String,
    pub formula_version: String,
    pub config: RankConfig,
    pub groups: Vec<String>,
    pub accounts: Vec<RankedAccount>,
    pub units: Vec<RankedUnit>,
    pub ineligible: Vec<Ineligible>,
    pub anomalies: Vec<Anomaly>,
    /// Anomalies a reviewer has resolved (kept, not counted against eligibility).
    pub resolved: Vec<Anomaly>,
}

impl Ranking {
    /// Every account considered: the ranked ones, then the ineligible ones.
    pub fn inputs(&self) -> impl Iterator<Item = &RankInput> {
        self.accounts
            .iter()
            .map(|a| &a.input)
            .chain(self.ineligible.iter().map(|i| &i.input))
    }
}

/// The period's inputs and findings, as read from the store (what a freeze keeps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankData {
    pub inputs: Vec<RankInput>,
    pub anomalies: Vec<Anomaly>,
}

pub async fn load(
    store: &dyn Store,
    from: NaiveDate,
    to: NaiveDate,
    config: &RankConfig,
    crawled: &[String],
) -> Result<RankData, StoreError> {
    let params = Params::new(store.database())
        .set("from_day", from.to_string())
        .set("to_day", to.to_string());
    let sql = sql::render(sql::queries::RANK_INPUTS, &params)?;
    let inputs: Vec<RankInput> = query_as(store, &sql).await?;
    let mut found = anomalies::find(store, from, to, &config.anomaly).await?;
    found.extend(anomalies::mostly_imported(
        &inputs,
        config.max_imported_share,
        to,
        crawled,
    ));
    found.sort_by(|a, b| (&a.account_id, a.day, &a.kind).cmp(&(&b.account_id, b.day, &b.kind)));
    Ok(RankData {
        inputs,
        anomalies: found,
    })
}

/// A fresh ranking: the period's data read from the store, the reviewers' resolutions applied.
pub async fn compute(
    store: &dyn Store,
    from: NaiveDate,
    to: NaiveDate,
    tier: &TierFilter,
    config: &RankConfig,
    crawled: &[String],
) -> Result<(Ranking, RankData), StoreError> {
    let data = load(store, from, to, config, crawled).await?;
    let resolved = freeze::resolutions(store).await?;
    Ok((rank(&data, from, to, tier, config, &resolved), data))
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// `ln(1+x) / ln(1+max)`, 0 when the best is 0. Exact: the published formula rounds once, the
/// score to 0.01 (`haoqi-index-1` rounded each component to six decimals first, which moved
/// scores near a half-cent; `haoqi-index-2` does not).
fn lognorm(x: f64, max: f64) -> f64 {
    if max <= 0.0 {
        0.0
    } else {
        (1.0 + x.max(0.0)).ln() / (1.0 + max).ln()
    }
}

struct Raw {
    followers: Option<f64>,
    growth: Option<f64>,
    completion: Option<f64>,
    views: Option<f64>,
    likes: Option<f64>,
    posts: Option<f64>,
}

fn raw(i: &RankInput) -> Raw {
    let pos = |v: Option<i64>| v.map(|x| x.max(0) as f64);
    Raw {
        followers: i.followers_end.map(|v| v as f64),
        growth: pos(i.followers_gained),
        completion: i.completion,
        views: pos(i.views_gained),
        likes: pos(i.likes_gained),
        posts: pos(i.posts_gained),
    }
}

fn score(c: &Components, w: &Weights) -> f64 {
    let parts = [
        (c.followers, w.followers),
        (c.growth, w.growth),
        (c.completion, w.completion),
        (c.views, w.views),
        (c.likes, w.likes),
        (c.posts, w.posts),
    ];
    let (num, den) = parts
        .iter()
        .filter_map(|(s, w)| s.map(|s| (s * w, *w)))
        .fold((0.0, 0.0), |(n, d), (a, b)| (n + a, d + b));
    if den <= 0.0 {
        0.0
    } else {
        round(1000.0 * num / den, 2)
    }
}

/// Normalises each eligible member of a group against the group's best (platform-specific
/// components against the best of the same platform).
fn components_for(members: &[(String, Raw)], per_platform: bool) -> Vec<Components> {
    // The maxima once: the group's, and each platform's for the platform-only components.
    let mut group = Maxima::default();
    let mut platforms: BTreeMap<&str, Maxima> = BTreeMap::new();
    for (p, r) in members {
        group.update(r);
        platforms.entry(p.as_str()).or_default().update(r);
    }
    members
        .iter()
        .map(|(p, r)| {
            let scope = match platforms.get(p.as_str()) {
                Some(m) if per_platform => m,
                _ => &group,
            };
            let norm = |x: Option<f64>, max: f64| x.map(|x| lognorm(x, max));
            Components {
                followers: norm(r.followers, group.followers),
                growth: norm(r.growth, group.growth),
                completion: norm(r.completion, group.completion),
                views: norm(r.views, scope.views),
                likes: norm(r.likes, scope.likes),
                posts: norm(r.posts, scope.posts),
            }
        })
        .collect()
}

/// The largest value of each component (0 where none has it).
#[derive(Default)]
struct Maxima {
    followers: f64,
    growth: f64,
    completion: f64,
    views: f64,
    likes: f64,
    posts: f64,
}

impl Maxima {
    fn update(&mut self, r: &Raw) {
        let up = |m: &mut f64, v: Option<f64>| *m = m.max(v.unwrap_or(0.0));
        up(&mut self.followers, r.followers);
        up(&mut self.growth, r.growth);
        up(&mut self.completion, r.completion);
        up(&mut self.views, r.views);
        up(&mut self.likes, r.likes);
        up(&mut self.posts, r.posts);
    }
}

/// Why an account cannot be ranked (empty: eligible).
pub fn reasons(i: &RankInput, open: &[&Anomaly], c: &RankConfig) -> Vec<String> {
    let mut r = Vec::new();
    if c.require_standardised && !i.standardised {
        r.push("不是规范账号 not the unit's standardised account".to_string());
    }
    if c.require_naming && !i.naming_ok {
        r.push(format!(
            "名称不合规范 name {:?} breaks the naming rule",
            i.display_name
        ));
    }
    if i.followers_end.is_none() {
        r.push("无数据 no followers reading".to_string());
    } else if i.coverage + 1e-9 < c.min_coverage {
        r.push(format!(
            "数据覆盖不足 coverage {}/{} days = {:.0}% < {:.0}%",
            i.days_read,
            i.days_in_period,
            i.coverage * 100.0,
            c.min_coverage * 100.0
        ));
    }
    if !open.is_empty() {
        let list: Vec<String> = open
            .iter()
            .map(|a| format!("{} {}", a.kind, a.day))
            .collect();
        r.push(format!(
            "未处理异常 {} unresolved anomal{}: {}",
            open.len(),
            if open.len() == 1 { "y" } else { "ies" },
            list.join(", ")
        ));
    }
    r
}

/// Ranks `data` for the period; `resolved` are (account, day, kind) a reviewer has cleared.
pub fn rank(
    data: &RankData,
    from: NaiveDate,
    to: NaiveDate,
    tier: &TierFilter,
    config: &RankConfig,
    resolved: &[(String, NaiveDate, String)],
) -> Ranking {
    let is_resolved = |a: &Anomaly| {
        resolved
            .iter()
            .any(|(acc, d, k)| *acc == a.account_id && *d == a.day && *k == a.kind)
    };
    let (cleared, open): (Vec<&Anomaly>, Vec<&Anomaly>) =
        data.anomalies.iter().partition(|a| is_resolved(a));
    let mut groups: BTreeMap<String, Vec<&RankInput>> = BTreeMap::new();
    let mut ineligible = Vec::new();
    for i in &data.inputs {
        let Some(g) = tier.group_of(i) else { continue };
        let mine: Vec<&Anomaly> = open
            .iter()
            .copied()
            .filter(|a| a.account_id == i.account_id)
            .collect();
        let why = reasons(i, &mine, config);
        if why.is_empty() {
            groups.entry(g).or_default().push(i);
        } else {
            ineligible.push(Ineligible {
                group: g,
                reasons: why,
                input: i.clone(),
            });
        }
    }
    let mut accounts = Vec::new();
    let mut units = Vec::new();
    for (g, members) in &groups {
        let raws: Vec<(String, Raw)> = members
            .iter()
            .map(|i| (i.platform.clone(), raw(i)))
            .collect();
        let comps = components_for(&raws, true);
        let mut ranked: Vec<RankedAccount> = members
            .iter()
            .zip(comps)
            .map(|(i, c)| RankedAccount {
                group: g.clone(),
                rank: 0,
                score: score(&c, &config.weights),
                components: c,
                input: (*i).clone(),
            })
            .collect();
        ranked.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.input.followers_gained.cmp(&a.input.followers_gained))
                .then(b.input.followers_end.cmp(&a.input.followers_end))
                .then(a.input.account_id.cmp(&b.input.account_id))
        });
        for (n, r) in ranked.iter_mut().enumerate() {
            r.rank = n as u32 + 1;
        }
        units.extend(rank_units(g, members, config));
        accounts.extend(ranked);
    }
    ineligible
        .sort_by(|a, b| (&a.group, &a.input.account_id).cmp(&(&b.group, &b.input.account_id)));
    Ranking {
        from,
        to,
        tier: tier.label(),
        formula_version: FORMULA_VERSION.into(),
        config: config.clone(),
        groups: groups.keys().cloned().collect(),
        accounts,
        units,
        ineligible,
        anomalies: open.into_iter().cloned().collect(),
        resolved: cleared.into_iter().cloned().collect(),
    }
}

/// Units: the sums of their eligible accounts, scored the same way across the group (sums mix
/// platforms, so every component is compared across the whole group).
fn rank_units(group: &str, members: &[&RankInput], config: &RankConfig) -> Vec<RankedUnit> {
    let mut by_unit: BTreeMap<&str, Vec<&RankInput>> = BTreeMap::new();
    for m in members {
        by_unit.entry(m.unit_id.as_str()).or_default().push(m);
    }
    let sum = |v: &[&RankInput], f: &dyn Fn(&RankInput) -> Option<i64>| {
        let vals: Vec<i64> = v.iter().filter_map(|i| f(i)).collect();
        (!vals.is_empty()).then(|| vals.iter().sum::<i64>())
    };
    let mut out: Vec<RankedUnit> = by_unit
        .values()
        .map(|accts| {
            let first = accts[0];
            let followers_end: u64 = accts.iter().filter_map(|i| i.followers_end).sum();
            let targets: u64 = accts.iter().filter_map(|i| i.target).sum();
            RankedUnit {
                group: group.to_string(),
                rank: 0,
                score: 0.0,
                unit_id: first.unit_id.clone(),
                unit_name: first.unit_name.clone(),
                kind: first.kind.clone(),
                prefecture_name: first.prefecture_name.clone(),
                accounts: accts.len() as u32,
                followers_end,
                followers_gained: sum(accts, &|i| i.followers_gained).unwrap_or(0),
                likes_gained: sum(accts, &|i| i.likes_gained),
                views_gained: sum(accts, &|i| i.views_gained),
                posts_gained: sum(accts, &|i| i.posts_gained),
                completion: (targets > 0).then(|| followers_end as f64 / targets as f64),
                components: Components {
                    followers: None,
                    growth: None,
                    completion: None,
                    views: None,
                    likes: None,
                    posts: None,
                },
            }
        })
        .collect();
    let raws: Vec<(String, Raw)> = out
        .iter()
        .map(|u| {
            let pos = |v: Option<i64>| v.map(|x| x.max(0) as f64);
            (
                String::new(),
                Raw {
                    followers: Some(u.followers_end as f64),
                    growth: Some(u.followers_gained.max(0) as f64),
                    completion: u.completion,
                    views: pos(u.views_gained),
                    likes: pos(u.likes_gained),
                    posts: pos(u.posts_gained),
                },
            )
        })
        .collect();
    for (u, c) in out.iter_mut().zip(components_for(&raws, false)) {
        u.score = score(&c, &config.weights);
        u.components = c;
    }
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.followers_gained.cmp(&a.followers_gained))
            .then(b.followers_end.cmp(&a.followers_end))
            .then(a.unit_id.cmp(&b.unit_id))
    });
    for (n, u) in out.iter_mut().enumerate() {
        u.rank = n as u32 + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognorm_is_zero_to_one_and_flat_for_an_empty_field() {
        assert_eq!(lognorm(0.0, 100.0), 0.0);
        assert_eq!(lognorm(100.0, 100.0), 1.0);
        assert_eq!(lognorm(-5.0, 100.0), 0.0);
        assert_eq!(lognorm(5.0, 0.0), 0.0);
        let mid = lognorm(9.0, 99.0);
        assert!((mid - 0.5).abs() < 1e-6, "{mid}");
    }

    /// The score is the published formula to the letter: `1000 · Σ wᵢsᵢ / Σ wᵢ` with
    /// `s = ln(1+x)/ln(1+max)` exact, rounded once, to 0.01, at the end. Rounding each component
    /// first moved scores near a half-cent by 0.01 and swapped neighbours (issue 19, item 1).
    #[test]
    fn scores_follow_the_published_formula_without_rounding_the_components() {
        let w = Weights::default();
        let max: f64 = 250_000.0;
        let exact = |g: f64, f: f64| {
            let s = |x: f64| (1.0 + x).ln() / (1.0 + max).ln();
            let num = s(g) * w.growth + s(f) * w.followers;
            let den = w.growth + w.followers;
            (1000.0 * num / den * 100.0).round() / 100.0
        };
        let mut checked = 0;
        for g in (0..250_000u32).step_by(37) {
            let f = f64::from(g) * 0.61 + 17.0;
            let c = Components {
                followers: Some(lognorm(f, max)),
                growth: Some(lognorm(f64::from(g), max)),
                completion: None,
                views: None,
                likes: None,
                posts: None,
            };
            assert_eq!(
                score(&c, &w),
                exact(f64::from(g), f),
                "growth {g}, followers {f}"
            );
            checked += 1;
        }
        assert!(checked > 6_000);
    }

    #[test]
    fn missing_components_spread_their_weight() {
        let w = Weights::default();
        let all = Components {
            followers: Some(1.0),
            growth: Some(1.0),
            completion: Some(1.0),
            views: Some(1.0),
            likes: Some(1.0),
            posts: Some(1.0),
        };
        assert_eq!(score(&all, &w), 1000.0);
        // No views or likes on the platform: the others carry the score alone.
        let some = Components {
            views: None,
            likes: None,
            ..all.clone()
        };
        assert_eq!(score(&some, &w), 1000.0);
        let half = Components {
            growth: Some(0.5),
            ..some
        };
        // (0.25 + 0.30·0.5 + 0.10 + 0.05) / 0.70 = 0.7857…
        assert_eq!(score(&half, &w), 785.71);
    }

    #[test]
    fn tiers_parse() {
        assert_eq!("vertical".parse(), Ok(TierFilter::Vertical));
        assert_eq!("museum".parse(), Ok(TierFilter::Kind("museum".to_string())));
        assert!("zoo".parse::<TierFilter>().is_err());
    }
}
