//! The store's part of a backup: `BACKUP DATABASE … TO File(path)` and its `RESTORE`, run by
//! the engine itself, so the copy is consistent per table part while collection goes on (a
//! batch written during the backup is in it or not, whole; `haoqi check --repair` after a
//! restore completes what the journal says was in flight).

use std::path::Path;

use serde::Deserialize;

use crate::sql::{self, Params};
use crate::{query_as, Store, StoreError};

#[derive(Debug, Deserialize)]
struct Count {
    n: u64,
}

fn path_param(path: &Path) -> Result<String, StoreError> {
    path.to_str()
        .map(str::to_string)
        .ok_or_else(|| StoreError::Config(format!("{}: not a UTF-8 path", path.display())))
}

/// Backs the store's database up to `dest`, a directory that must not exist yet.
pub async fn backup(store: &dyn Store, dest: &Path) -> Result<(), StoreError> {
    let params = Params::new(store.database()).set("path", path_param(dest)?);
    let q = sql::render(sql::queries::BACKUP_DATABASE, &params)?;
    store.execute(&q).await
}

/// Tables in the store's database now.
pub async fn table_count(store: &dyn Store) -> Result<u64, StoreError> {
    let params = Params::new(store.database()).set("database", store.database());
    let q = sql::render(sql::queries::DATABASE_TABLES, &params)?;
    let rows: Vec<Count> = query_as(store, &q).await?;
    Ok(rows.first().map_or(0, |c| c.n))
}

/// Restores a backup from `src` into the store, which must not hold the database's tables yet
/// (a restore never mixes with data already there).
pub async fn restore(store: &dyn Store, src: &Path) -> Result<(), StoreError> {
    let present = table_count(store).await?;
    if present > 0 {
        return Err(StoreError::Config(format!(
            "the store {} already holds {present} table(s) in database {}: restore into a new store (--store embedded:NEW_PATH)",
            store.describe(),
            store.database()
        )));
    }
    let params = Params::new(store.database()).set("path", path_param(src)?);
    let q = sql::render(sql::queries::RESTORE_DATABASE, &params)?;
    store.execute(&q).await
}
