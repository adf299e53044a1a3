//! Versioned schema migrations. `haoqi init` applies, in order, every migration in
//! [`sql::MIGRATIONS`](super::sql::MIGRATIONS) that the database's `schema_migrations` table does
//! not list; running it again is a no-op. A migration whose text changed after it was applied is
//! an error: the schema in the store would no longer be the one the files describe.
//!
//! After the migrations, the views in [`sql::VIEWS`](super::sql::VIEWS) are (re)created from
//! their query files whenever a file's checksum differs from the one recorded: those views are
//! the binary's queries, published for the dashboards, so they follow the files.

use sha2::{Digest, Sha256};

use super::sql::{self, Params};
use super::{query_as, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
struct AppliedView {
    name: String,
    checksum: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
struct Applied {
    version: u32,
    name: String,
    checksum: String,
}

/// What [`migrate`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MigrationReport {
    pub applied: Vec<(u32, String)>,
    pub already: usize,
    /// Views (re)created from their query files.
    pub views: Vec<String>,
}

fn checksum(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Brings the store's schema up to date.
pub async fn migrate(store: &dyn Store) -> Result<MigrationReport, StoreError> {
    migrate_to(store, u32::MAX).await
}

/// Applies the migrations up to and including version `last` (tests of an upgrade start from
/// an earlier schema with data in it); the query views only when that is the latest.
pub async fn migrate_to(store: &dyn Store, last: u32) -> Result<MigrationReport, StoreError> {
    let params = Params::new(store.database());
    store
        .execute(&sql::render(sql::queries::MIGRATIONS_CREATE, &params)?)
        .await?;
    let applied: Vec<Applied> = query_as(
        store,
        &sql::render(sql::queries::MIGRATIONS_APPLIED, &params)?,
    )
    .await?;
    let mut report = MigrationReport::default();
    for (version, name, text) in sql::MIGRATIONS.iter().filter(|m| m.0 <= last) {
        let sum = checksum(text);
        if let Some(done) = applied.iter().find(|a| a.version == *version) {
            if done.checksum != sum {
                return Err(StoreError::Config(format!(
                    "migration {version} ({name}) was changed after it was applied to {}; \
                     add a new migration instead of editing an applied one",
                    store.describe()
                )));
            }
            report.already += 1;
            continue;
        }
        for stmt in sql::statements(text) {
            store.execute(&sql::render_schema(&stmt, &params)?).await?;
        }
        let record = params
            .clone()
            .set("version", u64::from(*version))
            .set("name", *name)
            .set("checksum", sum);
        store
            .execute(&sql::render(sql::queries::MIGRATIONS_RECORD, &record)?)
            .await?;
        tracing::info!(version, name, "applied migration");
        report.applied.push((*version, name.to_string()));
    }
    if sql::MIGRATIONS.last().is_some_and(|m| m.0 <= last) {
        report.views = publish_views(store, &params).await?;
    }
    Ok(report)
}

async fn publish_views(store: &dyn Store, params: &Params) -> Result<Vec<String>, StoreError> {
    let applied: Vec<AppliedView> =
        query_as(store, &sql::render(sql::queries::VIEWS_APPLIED, params)?).await?;
    let mut done = Vec::new();
    for (name, query) in sql::VIEWS {
        let sum = checksum(&sql::expand(query));
        if applied.iter().any(|a| a.name == *name && a.checksum == sum) {
            continue;
        }
        let stmt = sql::view_statement(name, query);
        store.execute(&sql::render_schema(&stmt, params)?).await?;
        let record = params.clone().set("name", *name).set("checksum", sum);
        store
            .execute(&sql::render(sql::queries::VIEWS_RECORD, &record)?)
            .await?;
        tracing::info!(view = name, "published view");
        done.push(name.to_string());
    }
    Ok(done)
}

/// The schema version the store is at, or `None` before `haoqi init`.
pub async fn current_version(store: &dyn Store) -> Result<Option<u32>, StoreError> {
    let params = Params::new(store.database());
    match query_as::<Applied>(
        store,
        &sql::render(sql::queries::MIGRATIONS_APPLIED, &params)?,
    )
    .await
    {
        Ok(applied) => Ok(applied.iter().map(|a| a.version).max()),
        // UNKNOWN_TABLE (60) / UNKNOWN_DATABASE (81): not initialised.
        Err(StoreError::Query { code: 60 | 81, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Fails with a clear message unless the store is at the schema this binary expects.
/// For the collectors: the schema must be current when the store answers; when it is away
/// (a retryable error), collection goes on and readings are spooled until it is back — losing
/// readings because the store was down at start would be worse. Returns whether it answered.
pub async fn require_current_or_away(store: &dyn Store) -> Result<bool, StoreError> {
    match require_current(store).await {
        Ok(()) => Ok(true),
        Err(e) if e.is_retryable() => {
            tracing::warn!(
                store = %store.describe(),
                error = %e,
                "store unreachable: collecting anyway, readings are spooled and replayed when it is back"
            );
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

pub async fn require_current(store: &dyn Store) -> Result<(), StoreError> {
    let want = sql::MIGRATIONS.last().map(|m| m.0);
    let have = current_version(store).await?;
    if have < want {
        return Err(StoreError::Config(format!(
            "the store {} is at schema {} but this haoqi needs {}; run `haoqi init`",
            store.describe(),
            have.map_or("none".to_string(), |v| v.to_string()),
            want.unwrap_or(0)
        )));
    }
    Ok(())
}
