//! Freezing a ranking the committee adopted, reprinting it, and what changed since; and the
//! reviewers' resolutions of anomalies. Tables: `sql/migrations/0006_rankings.sql`.

use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{rank, Components, RankData, RankInput, Ranking, TierFilter};
use haoqi_model::table::Table;
use haoqi_store::sql::{self, Params};
use haoqi_store::{query_as, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum FreezeError {
    #[error("a ranking named {0:?} is already frozen; choose another name")]
    Exists(String),
    #[error("no frozen ranking named {0:?} (haoqi rank --list shows them)")]
    Missing(String),
    #[error("frozen ranking {name:?} cannot be read: {message}")]
    Corrupt { name: String, message: String },
    #[error("ranking {name:?} cannot be encoded for freezing: {message}")]
    Encode { name: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Deserialize)]
struct FrozenRow {
    ranking_json: String,
    data_json: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FreezeInfo {
    pub name: String,
    pub created_at: String,
    pub from_day: NaiveDate,
    pub to_day: NaiveDate,
    pub tier: String,
    pub formula_version: String,
}

pub async fn list(store: &dyn Store) -> Result<Vec<FreezeInfo>, StoreError> {
    let sql = sql::render(
        sql::queries::RANK_FREEZE_LIST,
        &Params::new(store.database()),
    )?;
    query_as(store, &sql).await
}

#[derive(Deserialize)]
struct Count {
    n: u64,
}

async fn exists(store: &dyn Store, name: &str) -> Result<bool, StoreError> {
    let sql = sql::render(
        sql::queries::RANK_FREEZE_COUNT,
        &Params::new(store.database()).set("name", name),
    )?;
    let rows: Vec<Count> = query_as(store, &sql).await?;
    Ok(rows.first().is_some_and(|c| c.n > 0))
}

fn token(name: &str, part: &str) -> String {
    hex::encode(Sha256::digest(format!("freeze\0{name}\0{part}").as_bytes()))
}

/// Stores the ranking with its inputs, findings and configuration under `name`.
pub async fn freeze(
    store: &dyn Store,
    name: &str,
    ranking: &Ranking,
    data: &RankData,
) -> Result<(), FreezeError> {
    if exists(store, name).await? {
        return Err(FreezeError::Exists(name.to_string()));
    }
    let json = |v: serde_json::Result<String>| {
        v.map_err(|e| FreezeError::Encode {
            name: name.to_string(),
            message: e.to_string(),
        })
    };
    let header = serde_json::json!({
        "name": name,
        "created_at": haoqi_model::time::to_clickhouse(Utc::now()),
        "from_day": ranking.from.to_string(),
        "to_day": ranking.to.to_string(),
        "tier": ranking.tier,
        "formula_version": ranking.formula_version,
        "config_json": json(serde_json::to_string(&ranking.config))?,
        "data_json": json(serde_json::to_string(data))?,
        "ranking_json": json(serde_json::to_string(ranking))?,
    });
    // Entries and findings first: a freeze is visible (by its header) only once complete.
    let rows: Vec<String> = entries(name, ranking)
        .iter()
        .map(ToString::to_string)
        .collect();
    insert(store, "rank_entries", &token(name, "entries"), &rows).await?;
    let mut findings: Vec<String> = Vec::new();
    for (a, status) in ranking
        .anomalies
        .iter()
        .map(|a| (a, "open"))
        .chain(ranking.resolved.iter().map(|a| (a, "resolved")))
    {
        findings.push(
            serde_json::json!({
                "name": name, "account_id": a.account_id, "day": a.day.to_string(),
                "kind": a.kind, "value": a.value, "previous": a.previous, "gain": a.gain,
                "trend": a.trend, "threshold": a.threshold, "engagement_gain": a.engagement_gain,
                "accounts_same_day": a.accounts_same_day, "status": status, "reason": a.reason(),
            })
            .to_string(),
        );
    }
    insert(
        store,
        "rank_freeze_anomalies",
        &token(name, "anomalies"),
        &findings,
    )
    .await?;
    insert(
        store,
        "rank_freezes",
        &token(name, "header"),
        &[header.to_string()],
    )
    .await?;
    Ok(())
}

/// The flat rows Grafana reads: every ranked account, then every ineligible one.
fn entries(name: &str, r: &Ranking) -> Vec<serde_json::Value> {
    let row = |group: &str,
               rank: Option<u32>,
               score: Option<f64>,
               c: Option<&Components>,
               i: &RankInput,
               reasons: &[String]| {
        serde_json::json!({
            "name": name,
            "grp": group,
            "rank": rank,
            "account_id": i.account_id,
            "display_name": i.display_name,
            "unit_id": i.unit_id,
            "unit_name": i.unit_name,
            "kind": i.kind,
            "tier": i.tier,
            "prefecture_name": i.prefecture_name,
            "department": i.department,
            "platform": i.platform,
            "followers_end": i.followers_end,
            "followers_gained": i.followers_gained,
            "views_gained": i.views_gained,
            "likes_gained": i.likes_gained,
            "posts_gained": i.posts_gained,
            "target": i.target,
            "completion": i.completion,
            "coverage": i.coverage,
            "s_followers": c.and_then(|c| c.followers),
            "s_growth": c.and_then(|c| c.growth),
            "s_completion": c.and_then(|c| c.completion),
            "s_views": c.and_then(|c| c.views),
            "s_likes": c.and_then(|c| c.likes),
            "s_posts": c.and_then(|c| c.posts),
            "score": score,
            "eligible": c.is_some(),
            "reasons": reasons.join("; "),
        })
    };
    r.accounts
        .iter()
        .map(|a| {
            row(
                &a.group,
                Some(a.rank),
                Some(a.score),
                Some(&a.components),
                &a.input,
                &[],
            )
        })
        .chain(
            r.ineligible
                .iter()
                .map(|x| row(&x.group, None, None, None, &x.input, &x.reasons)),
        )
        .collect()
}

async fn insert(
    store: &dyn Store,
    table: &str,
    token: &str,
    rows: &[String],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = sql::render(
        sql::queries::RANK_FREEZE_INSERT,
        &Params::new(store.database())
            .set("table", table)
            .set("token", token),
    )?;
    store
        .insert_json_each_row(&sql, rows.join("\n").as_bytes())
        .await
}

/// The frozen ranking and the data it was computed from.
pub async fn load(store: &dyn Store, name: &str) -> Result<(Ranking, RankData), FreezeError> {
    let sql = sql::render(
        sql::queries::RANK_FREEZE_LOAD,
        &Params::new(store.database()).set("name", name),
    )?;
    let rows: Vec<FrozenRow> = query_as(store, &sql).await?;
    let row = rows
        .into_iter()
        .next()
        .ok_or_else(|| FreezeError::Missing(name.to_string()))?;
    let corrupt = |e: serde_json::Error| FreezeError::Corrupt {
        name: name.to_string(),
        message: e.to_string(),
    };
    let ranking: Ranking = serde_json::from_str(&row.ranking_json).map_err(corrupt)?;
    let data: RankData = serde_json::from_str(&row.data_json).map_err(corrupt)?;
    Ok((ranking, data))
}

/// Recomputes the frozen ranking from its frozen inputs and configuration: equal to the frozen
/// one unless the formula itself changed.
pub fn reproduce(frozen: &Ranking, data: &RankData) -> Ranking {
    let tier = tier_of(&frozen.tier);
    let resolved: Vec<(String, NaiveDate, String)> = frozen
        .resolved
        .iter()
        .map(|a| (a.account_id.clone(), a.day, a.kind.clone()))
        .collect();
    rank(
        data,
        frozen.from,
        frozen.to,
        &tier,
        &frozen.config,
        &resolved,
    )
}

pub fn tier_of(label: &str) -> TierFilter {
    label.parse().unwrap_or(TierFilter::Both)
}

/// What changed between the frozen ranking and a fresh one: per account, rank, score,
/// eligibility and the inputs behind them.
pub fn diff(frozen: &Ranking, fresh: &Ranking) -> Table {
    let mut t = Table::new(&[
        "account",
        "group",
        "frozen rank",
        "fresh rank",
        "frozen score",
        "fresh score",
        "frozen followers",
        "fresh followers",
        "frozen growth",
        "fresh growth",
        "change",
    ]);
    #[derive(Default, Clone)]
    struct Side {
        group: String,
        rank: Option<u32>,
        score: Option<f64>,
        followers: Option<u64>,
        growth: Option<i64>,
        eligible: bool,
    }
    let sides = |r: &Ranking| {
        let mut m: std::collections::BTreeMap<String, Side> = Default::default();
        for a in &r.accounts {
            m.insert(
                a.input.account_id.clone(),
                Side {
                    group: a.group.clone(),
                    rank: Some(a.rank),
                    score: Some(a.score),
                    followers: a.input.followers_end,
                    growth: a.input.followers_gained,
                    eligible: true,
                },
            );
        }
        for i in &r.ineligible {
            m.insert(
                i.input.account_id.clone(),
                Side {
                    group: i.group.clone(),
                    followers: i.input.followers_end,
                    growth: i.input.followers_gained,
                    ..Side::default()
                },
            );
        }
        m
    };
    let (a, b) = (sides(frozen), sides(fresh));
    let ids: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let o = |v: Option<String>| v.unwrap_or_default();
    for id in ids {
        let (x, y) = (a.get(id).cloned(), b.get(id).cloned());
        let change = match (&x, &y) {
            (None, Some(_)) => "new account".to_string(),
            (Some(_), None) => "no longer active".to_string(),
            (Some(x), Some(y)) if x.eligible && !y.eligible => "now ineligible".into(),
            (Some(x), Some(y)) if !x.eligible && y.eligible => "now eligible".into(),
            (Some(x), Some(y))
                if x.rank == y.rank
                    && x.score == y.score
                    && x.followers == y.followers
                    && x.growth == y.growth =>
            {
                continue
            }
            (Some(x), Some(y)) if x.rank != y.rank => "rank moved".into(),
            _ => "inputs changed".into(),
        };
        let x = x.unwrap_or_default();
        let y = y.unwrap_or_default();
        t.push(vec![
            id.clone(),
            if y.group.is_empty() { x.group } else { y.group },
            o(x.rank.map(|v| v.to_string())),
            o(y.rank.map(|v| v.to_string())),
            o(x.score.map(|v| format!("{v:.2}"))),
            o(y.score.map(|v| format!("{v:.2}"))),
            o(x.followers.map(|v| v.to_string())),
            o(y.followers.map(|v| v.to_string())),
            o(x.growth.map(|v| v.to_string())),
            o(y.growth.map(|v| v.to_string())),
            change,
        ]);
    }
    t
}

#[derive(Debug, Deserialize)]
struct Resolution {
    account_id: String,
    day: NaiveDate,
    kind: String,
}

/// The findings reviewers have resolved.
pub async fn resolutions(
    store: &dyn Store,
) -> Result<Vec<(String, NaiveDate, String)>, StoreError> {
    let sql = sql::render(
        sql::queries::ANOMALY_RESOLUTIONS,
        &Params::new(store.database()),
    )?;
    let rows: Vec<Resolution> = query_as(store, &sql).await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.account_id, r.day, r.kind))
        .collect())
}

/// Records that a reviewer has explained a finding.
pub async fn resolve(
    store: &dyn Store,
    finding: &(String, NaiveDate, String),
    note: &str,
    reviewer: &str,
) -> Result<(), StoreError> {
    let row = serde_json::json!({
        "account_id": finding.0, "day": finding.1.to_string(), "kind": finding.2,
        "note": note, "reviewer": reviewer, "at": haoqi_model::time::to_clickhouse(Utc::now()),
    })
    .to_string();
    let sql = sql::render(
        sql::queries::ANOMALY_RESOLVE,
        &Params::new(store.database()),
    )?;
    store.insert_json_each_row(&sql, row.as_bytes()).await
}

/// Parses `ACCOUNT:DAY:KIND`.
pub fn parse_finding(s: &str) -> Result<(String, NaiveDate, String), String> {
    let mut parts = s.splitn(3, ':');
    let (Some(a), Some(d), Some(k)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!(
            "{s:?}: expected ACCOUNT:DAY:KIND, e.g. U1-dy:2024-03-15:jump"
        ));
    };
    let day = d
        .parse()
        .map_err(|e| format!("{s:?}: day {d:?} is not a date: {e}"))?;
    if a.is_empty() || k.is_empty() {
        return Err(format!("{s:?}: expected ACCOUNT:DAY:KIND"));
    }
    Ok((a.to_string(), day, k.to_string()))
}
