//! A backup of everything haoqi keeps: the store's database (the engine's own BACKUP) and the
//! application database (SQLite's online backup), with a manifest, into one new directory; and
//! the restore of such a directory into a new store. Both copies are made while the data is in
//! use: `haoqi serve` makes them on a schedule (`[backup]`), `haoqi backup` on demand.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use haoqi_appdb::AppDb;
use haoqi_store::Store;

pub const MANIFEST: &str = "MANIFEST.json";
const STORE_DIR: &str = "store";
const APP_DB: &str = "app.sqlite";

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub haoqi_version: String,
    pub store: String,
    pub database: String,
    pub tables: u64,
    pub users: usize,
    pub audit_entries: i64,
}

/// Backs both databases up into `dir`, which must not exist yet (a backup never overwrites
/// one). Returns what was written.
pub async fn backup(store: &dyn Store, app: &AppDb, dir: &Path) -> Result<Manifest> {
    if dir.exists() {
        bail!(
            "{} exists: a backup goes into a new directory",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // The engine resolves a relative path against its own working directory: give it ours.
    let dir = dir
        .canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))?;
    app.backup(&dir.join(APP_DB))?;
    haoqi_store::backup::backup(store, &dir.join(STORE_DIR))
        .await
        .with_context(|| format!("backing up the store {}", store.describe()))?;
    let manifest = Manifest {
        created_at: chrono::Utc::now(),
        haoqi_version: env!("CARGO_PKG_VERSION").into(),
        store: store.describe(),
        database: store.database().into(),
        tables: haoqi_store::backup::table_count(store).await?,
        users: app.users()?.len(),
        audit_entries: app.audit_count()?,
    };
    std::fs::write(
        dir.join(MANIFEST),
        serde_json::to_string_pretty(&manifest)? + "\n",
    )
    .with_context(|| format!("writing the manifest in {}", dir.display()))?;
    Ok(manifest)
}

/// Restores the backup in `dir` into `store` (which must not hold the database yet) and the
/// application database at `app_path` (which must not exist).
pub async fn restore(store: &dyn Store, app_path: &Path, dir: &Path) -> Result<Manifest> {
    let text = std::fs::read_to_string(dir.join(MANIFEST))
        .with_context(|| format!("{} is not a haoqi backup (no {MANIFEST})", dir.display()))?;
    let manifest: Manifest = serde_json::from_str(&text)
        .with_context(|| format!("{}: the manifest cannot be read", dir.display()))?;
    if app_path.exists() {
        bail!(
            "the application database {} exists: restore into a new place ([web] database or a new --store)",
            app_path.display()
        );
    }
    let dir: PathBuf = dir.canonicalize()?;
    haoqi_store::backup::restore(store, &dir.join(STORE_DIR)).await?;
    if let Some(parent) = app_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::copy(dir.join(APP_DB), app_path)
        .with_context(|| format!("copying the application database to {}", app_path.display()))?;
    // Opening it checks it and brings its schema up to date.
    AppDb::open(app_path)?;
    Ok(manifest)
}

/// The directory of a scheduled backup made at `at` under `base`.
pub fn scheduled_dir(base: &Path, at: chrono::DateTime<chrono::Utc>) -> PathBuf {
    base.join(
        at.with_timezone(&haoqi_model::time::DISPLAY_TZ)
            .format("haoqi-%Y%m%d-%H%M%S")
            .to_string(),
    )
}

/// Removes the oldest scheduled backups under `base` beyond the newest `keep`. Only directories
/// named `haoqi-…` that hold a manifest are counted or removed: nothing else there is touched.
pub fn prune(base: &Path, keep: usize) -> Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(base)
        .with_context(|| format!("listing {}", base.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("haoqi-"))
                && p.join(MANIFEST).is_file()
        })
        .collect();
    found.sort();
    let excess = found.len().saturating_sub(keep);
    let removed: Vec<PathBuf> = found.into_iter().take(excess).collect();
    for p in &removed {
        std::fs::remove_dir_all(p).with_context(|| format!("removing {}", p.display()))?;
    }
    Ok(removed)
}

/// Every `every` (the first one after `every`), a backup under `base`, then the oldest beyond
/// `keep` removed; each outcome logged. Runs until the process ends.
pub fn spawn_schedule(
    store: Arc<dyn Store>,
    app: Arc<AppDb>,
    base: PathBuf,
    every: std::time::Duration,
    keep: usize,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            let dir = scheduled_dir(&base, chrono::Utc::now());
            match backup(store.as_ref(), &app, &dir).await {
                Ok(m) => {
                    tracing::info!(dir = %dir.display(), tables = m.tables, "scheduled backup written");
                    match prune(&base, keep) {
                        Ok(removed) if !removed.is_empty() => {
                            tracing::info!(removed = removed.len(), "old backups removed")
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "old backups not removed"),
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), dir = %dir.display(), "scheduled backup failed")
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_keeps_the_newest_and_touches_nothing_else() {
        let base = tempfile::tempdir().expect("tempdir");
        for name in [
            "haoqi-20261201-000000",
            "haoqi-20261202-000000",
            "haoqi-20261203-000000",
        ] {
            std::fs::create_dir_all(base.path().join(name)).expect("mkdir");
            std::fs::write(base.path().join(name).join(MANIFEST), "{}").expect("manifest");
        }
        std::fs::create_dir_all(base.path().join("haoqi-19990101-000000")).expect("no manifest");
        std::fs::create_dir_all(base.path().join("other")).expect("other");
        let removed = prune(base.path(), 2).expect("prune");
        assert_eq!(removed, vec![base.path().join("haoqi-20261201-000000")]);
        assert!(base.path().join("haoqi-19990101-000000").exists());
        assert!(base.path().join("other").exists());
        assert!(base.path().join("haoqi-20261203-000000").exists());
        assert!(prune(base.path(), 2).expect("again").is_empty());
    }
}
