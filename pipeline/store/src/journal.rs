//! The batch journal (migrations/0012_batch_journal.sql): a batch is `begun` before its insert
//! and `done` after it, so a process killed in between leaves a trace, and [`recover`] completes
//! what the engine left half-written: the daily rollup of the readings that made it in. The
//! readings themselves are never guessed at: what is in the table is what the platform or the
//! file said.

use chrono::{DateTime, Duration, Utc};
use haoqi_model::time::to_clickhouse;
use serde::Deserialize;

use crate::sql::{self, Params};
use crate::{query_as, Store, StoreError};

/// How old a begun batch must be before a process that shares the store with others treats it
/// as abandoned (an insert of 10,000 readings takes well under a second; a slow server, seconds).
const ABANDONED_AFTER_SECS: i64 = 600;

pub(crate) async fn mark(
    store: &dyn Store,
    batch_id: &str,
    state: &str,
    rows: usize,
) -> Result<(), StoreError> {
    let row = serde_json::json!({
        "batch_id": batch_id,
        "state": state,
        "rows": rows,
        "at": to_clickhouse(Utc::now()),
    });
    let insert = sql::render(sql::queries::JOURNAL_INSERT, &Params::new(store.database()))?;
    store
        .insert_json_each_row(&insert, format!("{row}\n").as_bytes())
        .await
}

/// A batch begun and never done.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Pending {
    pub batch_id: String,
    pub rows: u32,
    pub begun_at: String,
}

/// Batches begun and not done that no live process can still be writing.
pub async fn pending(store: &dyn Store) -> Result<Vec<Pending>, StoreError> {
    let before: DateTime<Utc> = if store.exclusive() {
        Utc::now() + Duration::seconds(1)
    } else {
        Utc::now() - Duration::seconds(ABANDONED_AFTER_SECS)
    };
    let q = sql::render(
        sql::queries::JOURNAL_PENDING,
        &Params::new(store.database()).set("before", to_clickhouse(before)),
    )?;
    query_as(store, &q).await
}

/// Re-derives the rollup of the readings of `batches` and of the account-days `days`
/// (`account|YYYY-MM-DD`); idempotent.
pub(crate) async fn rebuild(
    store: &dyn Store,
    batches: &[String],
    days: &[String],
) -> Result<(), StoreError> {
    if batches.is_empty() && days.is_empty() {
        return Ok(());
    }
    let q = sql::render(
        sql::queries::ROLLUP_REBUILD,
        &Params::new(store.database())
            .set("batches", batches)
            .set("days", days),
    )?;
    store.execute(&q).await
}

/// Completes every abandoned batch: its readings' rollup is derived again and the batch marked
/// done. Returns what it completed.
pub async fn recover(store: &dyn Store) -> Result<Vec<Pending>, StoreError> {
    let pending = pending(store).await?;
    if pending.is_empty() {
        return Ok(pending);
    }
    let ids: Vec<String> = pending.iter().map(|p| p.batch_id.clone()).collect();
    rebuild(store, &ids, &[]).await?;
    for p in &pending {
        mark(store, &p.batch_id, "done", p.rows as usize).await?;
        tracing::warn!(
            batch = %p.batch_id,
            rows = p.rows,
            begun_at = %p.begun_at,
            "an interrupted batch was completed: its readings' daily rollup was derived again"
        );
    }
    Ok(pending)
}
