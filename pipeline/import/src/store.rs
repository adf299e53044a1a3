//! What imports keep in the store besides readings: one record per imported file (by sha256, so
//! the same file is not imported twice), saved column mappings, and the last reading before each
//! row of an import (to flag values that look wrong). The SQL is in `import/sql/`, rendered by
//! [`haoqi_store::sql`] like every other statement.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use super::fields::Mapping;
use super::ImportError;
use haoqi_model::time::to_clickhouse;
use haoqi_store::sql::{self, Params};
use haoqi_store::{query_as, Store, StoreError};

pub const LAST_READINGS: &str = include_str!("../../store/sql/queries/last_readings.sql");
pub const IMPORT_FIND: &str = include_str!("../../store/sql/queries/import_find.sql");
pub const IMPORT_RECORD: &str = include_str!("../../store/sql/queries/import_record.sql");
pub const MAPPING_SAVE: &str = include_str!("../../store/sql/queries/mapping_save.sql");
pub const MAPPING_GET: &str = include_str!("../../store/sql/queries/mapping_get.sql");

/// An earlier import of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRecord {
    pub file_name: String,
    pub reporter: String,
    /// Beijing time, `YYYY-MM-DD HH:MM`.
    pub imported_at: String,
    pub readings: u64,
    pub batch_id: String,
}

pub async fn find_import(
    store: &dyn Store,
    kind: &str,
    sha256: &str,
) -> Result<Option<ImportRecord>, StoreError> {
    let p = Params::new(store.database())
        .set("kind", kind)
        .set("sha256", sha256);
    let rows: Vec<ImportRecord> = query_as(store, &sql::render(IMPORT_FIND, &p)?).await?;
    Ok(rows.into_iter().next())
}

/// The record of a file being imported.
#[derive(Debug, Clone)]
pub struct NewImport<'a> {
    pub sha256: &'a str,
    pub file_name: &'a str,
    pub kind: &'a str,
    pub platform: &'a str,
    pub reporter: &'a str,
    pub rows_read: usize,
    pub readings: usize,
    pub skipped: usize,
    pub batch_id: &'a str,
    pub mapping: &'a str,
}

pub async fn record_import(store: &dyn Store, r: &NewImport<'_>) -> Result<(), StoreError> {
    let row = serde_json::json!({
        "file_sha256": r.sha256,
        "file_name": r.file_name,
        "kind": r.kind,
        "platform": r.platform,
        "reporter": r.reporter,
        "rows_read": r.rows_read,
        "readings": r.readings,
        "skipped": r.skipped,
        "batch_id": r.batch_id,
        "mapping": r.mapping,
        "imported_at": to_clickhouse(Utc::now()),
    });
    let insert = sql::render(IMPORT_RECORD, &Params::new(store.database()))?;
    store
        .insert_json_each_row(&insert, format!("{row}\n").as_bytes())
        .await
}

/// The last follower reading at or before a row's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastReading {
    pub observed_at: DateTime<Utc>,
    pub followers: u64,
    pub source: String,
    pub provenance: String,
}

#[derive(Deserialize)]
struct LastRow {
    idx: u32,
    observed_at: String,
    followers: serde_json::Value,
    source: String,
    provenance: String,
}

/// Keys per query: the keys are part of the query text, which ClickHouse limits
/// (`max_query_size`, 256 KiB by default); 1,000 keys take about 80 KB.
const KEYS_PER_QUERY: usize = 1_000;

/// For each `(index, account, time)`: the account's latest follower reading at or before the
/// time, keyed by the index. Rows without one are absent.
pub async fn last_readings(
    store: &dyn Store,
    keys: &[(u32, String, DateTime<Utc>)],
) -> Result<Vec<(u32, LastReading)>, StoreError> {
    let mut out = Vec::new();
    for chunk in keys.chunks(KEYS_PER_QUERY) {
        out.extend(last_readings_of(store, chunk).await?);
    }
    Ok(out)
}

async fn last_readings_of(
    store: &dyn Store,
    keys: &[(u32, String, DateTime<Utc>)],
) -> Result<Vec<(u32, LastReading)>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let tuples: Vec<String> = keys
        .iter()
        .map(|(i, a, t)| format!("({i},{},{})", sql::quote(a), sql::quote(&to_clickhouse(*t))))
        .collect();
    let mut accounts: Vec<&str> = keys.iter().map(|(_, a, _)| a.as_str()).collect();
    accounts.sort_unstable();
    accounts.dedup();
    let accounts: Vec<String> = accounts.iter().map(|a| sql::quote(a)).collect();
    let p = Params::new(store.database())
        .set("keys", format!("[{}]", tuples.join(",")))
        .set("accounts", format!("[{}]", accounts.join(",")));
    let rows: Vec<LastRow> = query_as(store, &sql::render(LAST_READINGS, &p)?).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let followers = r
            .followers
            .as_u64()
            .or_else(|| r.followers.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| {
                StoreError::Decode(format!("followers {} is not a count", r.followers))
            })?;
        let observed_at = NaiveDateTime::parse_from_str(&r.observed_at, "%Y-%m-%d %H:%M:%S%.f")
            .map_err(|e| StoreError::Decode(format!("observed_at {:?}: {e}", r.observed_at)))?
            .and_utc();
        out.push((
            r.idx,
            LastReading {
                observed_at,
                followers,
                source: r.source,
                provenance: r.provenance,
            },
        ));
    }
    Ok(out)
}

#[derive(Deserialize)]
struct MappingRow {
    name: String,
    mapping: String,
}

pub async fn save_mapping(
    store: &dyn Store,
    name: &str,
    mapping: &Mapping,
) -> Result<(), StoreError> {
    let row = serde_json::json!({
        "name": name,
        "mapping": mapping.to_json(),
        "created_at": to_clickhouse(Utc::now()),
    });
    let insert = sql::render(MAPPING_SAVE, &Params::new(store.database()))?;
    store
        .insert_json_each_row(&insert, format!("{row}\n").as_bytes())
        .await
}

/// Every saved mapping, by name.
pub async fn mappings(store: &dyn Store) -> Result<Vec<(String, String)>, StoreError> {
    let p = Params::new(store.database()).set("name", "");
    let rows: Vec<MappingRow> = query_as(store, &sql::render(MAPPING_GET, &p)?).await?;
    Ok(rows.into_iter().map(|r| (r.name, r.mapping)).collect())
}

/// A saved mapping; an unknown name is an error listing the saved ones.
pub async fn load_mapping(store: &dyn Store, name: &str) -> Result<Mapping, ImportError> {
    let p = Params::new(store.database()).set("name", name);
    let rows: Vec<MappingRow> = query_as(store, &sql::render(MAPPING_GET, &p)?).await?;
    match rows.into_iter().next() {
        Some(r) => Mapping::from_json(&r.mapping).map_err(ImportError::BadMapping),
        None => Err(ImportError::UnknownMapping {
            name: name.to_string(),
            known: mappings(store).await?.into_iter().map(|(n, _)| n).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statements_render() {
        let p = Params::new("haoqi")
            .set("keys", "[(0,'a','2024-03-05 15:59:59.000')]")
            .set("accounts", "['a']")
            .set("kind", "readings")
            .set("sha256", "x")
            .set("name", "");
        for q in [
            LAST_READINGS,
            IMPORT_FIND,
            IMPORT_RECORD,
            MAPPING_SAVE,
            MAPPING_GET,
        ] {
            let sql = sql::render(q, &p).unwrap();
            assert!(!sql.contains("{db:"), "{sql}");
        }
        let sql = sql::render(LAST_READINGS, &p).unwrap();
        assert!(sql.contains("CAST('[(0,\\'a\\',"), "{sql}");
    }
}
