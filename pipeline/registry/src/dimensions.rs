//! Loads the registry into the store's dimension tables (regions, units, accounts), versioned:
//! an entity gets a new row only when something about it changed, valid from the load time; the
//! first version of an entity is valid from 1970 so that readings older than the first load
//! still find it; an entity that left the registry gets a `deleted` row. Loading the same
//! registry twice writes nothing the second time.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::{naming, Registry, TargetRules};
use haoqi_model::time::to_clickhouse;
use haoqi_store::sql::{self, Params};
use haoqi_store::{query_as, Store, StoreError};

/// What a load changed in one table.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableChanges {
    pub added: usize,
    pub changed: usize,
    pub deleted: usize,
    pub unchanged: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LoadReport {
    pub regions: TableChanges,
    pub units: TableChanges,
    pub accounts: TableChanges,
}

#[derive(serde::Deserialize)]
struct Current {
    id: String,
    row_hash: String,
    deleted: bool,
}

/// Writes the registry's current state into the store.
pub async fn load(
    store: &dyn Store,
    registry: &Registry,
    rules: &TargetRules,
    now: DateTime<Utc>,
) -> Result<LoadReport, StoreError> {
    let regions: Vec<(String, Map<String, Value>)> = registry
        .regions
        .iter()
        .map(|r| {
            (
                r.code.to_string(),
                obj(json!({
                    "code": r.code,
                    "name": r.name,
                    "level": r.level.as_str(),
                    "parent_code": r.parent_code,
                    "population_2020": r.population_2020,
                    "population_verified": r.population_verified(),
                    "source": r.source,
                })),
            )
        })
        .collect();
    let units: Vec<(String, Map<String, Value>)> = registry
        .units
        .iter()
        .map(|u| {
            let t = rules.target(registry, u);
            (
                u.unit_id.clone(),
                obj(json!({
                    "unit_id": u.unit_id,
                    "kind": u.kind.as_str(),
                    "tier": u.kind.tier().as_str(),
                    "name": u.name,
                    "prefecture_code": u.prefecture_code,
                    "county_code": u.county_code,
                    "department": u.department,
                    "target": t.value,
                    "target_basis": t.basis,
                    "target_verified": t.verified,
                    "sample": u.sample,
                })),
            )
        })
        .collect();
    let kinds: HashMap<&str, crate::Kind> = registry
        .units
        .iter()
        .map(|u| (u.unit_id.as_str(), u.kind))
        .collect();
    let accounts: Vec<(String, Map<String, Value>)> = registry
        .accounts
        .iter()
        .map(|a| {
            let naming_ok = kinds
                .get(a.unit_id.as_str())
                .is_some_and(|k| naming::violation(*k, &a.display_name).is_none());
            (
                a.account_id.clone(),
                obj(json!({
                    "account_id": a.account_id,
                    "unit_id": a.unit_id,
                    "platform": a.platform.as_str(),
                    "platform_id": a.platform_id,
                    "display_name": a.display_name,
                    "role": a.role.as_str(),
                    "standardised": a.standardised,
                    "naming_ok": naming_ok,
                    "active": a.active,
                })),
            )
        })
        .collect();
    Ok(LoadReport {
        regions: load_table(store, "regions", "code", regions, now).await?,
        units: load_table(store, "units", "unit_id", units, now).await?,
        accounts: load_table(store, "accounts", "account_id", accounts, now).await?,
    })
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

async fn load_table(
    store: &dyn Store,
    table: &str,
    key: &str,
    rows: Vec<(String, Map<String, Value>)>,
    now: DateTime<Utc>,
) -> Result<TableChanges, StoreError> {
    let params = Params::new(store.database())
        .set("table", table)
        .set("key", key);
    let current: HashMap<String, Current> = query_as::<Current>(
        store,
        &sql::render(sql::queries::DIMENSION_HASHES, &params)?,
    )
    .await?
    .into_iter()
    .map(|c| (c.id.clone(), c))
    .collect();
    let epoch = to_clickhouse(DateTime::<Utc>::UNIX_EPOCH);
    let now = to_clickhouse(now);
    let mut changes = TableChanges::default();
    let mut out = Vec::new();
    let mut present = std::collections::HashSet::new();
    for (id, mut row) in rows {
        present.insert(id.clone());
        row.insert("deleted".into(), Value::Bool(false));
        let hash = hex::encode(Sha256::digest(Value::Object(row.clone()).to_string()));
        let valid_from = match current.get(&id) {
            None => {
                changes.added += 1;
                &epoch
            }
            Some(c) if c.row_hash == hash && !c.deleted => {
                changes.unchanged += 1;
                continue;
            }
            Some(_) => {
                changes.changed += 1;
                &now
            }
        };
        row.insert("valid_from".into(), Value::String(valid_from.clone()));
        row.insert("row_hash".into(), Value::String(hash));
        out.push(Value::Object(row).to_string());
    }
    for (id, c) in &current {
        if !c.deleted && !present.contains(id) {
            changes.deleted += 1;
            let mut row = Map::new();
            row.insert(key.into(), key_value(key, id));
            row.insert("deleted".into(), Value::Bool(true));
            row.insert("valid_from".into(), Value::String(now.clone()));
            row.insert("row_hash".into(), Value::String("deleted".into()));
            out.push(Value::Object(row).to_string());
        }
    }
    if out.is_empty() {
        return Ok(changes);
    }
    let data = out.join("\n");
    let token = format!("{table}-{}", hex::encode(Sha256::digest(data.as_bytes())));
    let insert = sql::render(sql::queries::DIMENSION_INSERT, &params.set("token", token))?;
    store.insert_json_each_row(&insert, data.as_bytes()).await?;
    Ok(changes)
}

fn key_value(key: &str, id: &str) -> Value {
    if key == "code" {
        id.parse::<u64>()
            .map_or(Value::String(id.into()), Value::from)
    } else {
        Value::String(id.into())
    }
}
