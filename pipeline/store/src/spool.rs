//! The on-disk spool: when the store cannot take a batch, the batch is written here (fsync'd,
//! then renamed into place, then the directory fsync'd) and replayed in order when the store is
//! back or at the next start. A batch that the store rejects as wrong (not "unavailable") is
//! moved to `rejected/` with the reason, so one bad batch cannot block the rest.
//!
//! Replaying is idempotent: a batch carries its deduplication token, so a crash between the
//! store's acknowledgement and the file's removal only means the batch is sent again and
//! counted once.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use chrono::Utc;

use crate::{journal, sql, Store, StoreError};
use haoqi_model::reading::{batch_id, Batch};

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("spool file {} is damaged: {reason}", .path.display())]
    Damaged { path: PathBuf, reason: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
    /// The store this spool belongs to ([`crate::StoreLocation::spool_key`]); written into every
    /// file, so a file copied from another store's spool is recognised and not replayed.
    store: String,
}

static SEQ: AtomicU64 = AtomicU64::new(0);

impl Spool {
    /// The spool of the store `store` (its spool key) in `dir`.
    pub fn open(dir: &Path, store: &str) -> Result<Spool, SpoolError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        Ok(Spool {
            dir: dir.to_path_buf(),
            store: store.to_string(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes a batch of readings durably; returns its file.
    pub fn push(&self, batch: &Batch) -> Result<PathBuf, SpoolError> {
        self.push_kind(batch, Kind::Readings)
    }

    fn push_kind(&self, batch: &Batch, kind: Kind) -> Result<PathBuf, SpoolError> {
        // Names sort in arrival order: milliseconds, then a process-local sequence.
        let name = format!(
            "{:013}-{:06}-{}.jsonl",
            Utc::now().timestamp_millis(),
            SEQ.fetch_add(1, Ordering::Relaxed) % 1_000_000,
            &batch.token[..16.min(batch.token.len())]
        );
        let path = self.dir.join(&name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        {
            let mut f = File::create(&tmp).map_err(io(&tmp))?;
            let header = serde_json::json!({"token": batch.token, "rows": batch.rows, "store": self.store, "kind": kind.as_str()});
            writeln!(f, "{header}").map_err(io(&tmp))?;
            f.write_all(batch.data.as_bytes()).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
        }
        fs::rename(&tmp, &path).map_err(io(&path))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.dir))?;
        Ok(path)
    }

    /// Spooled batch files, oldest first.
    pub fn pending(&self) -> Result<Vec<PathBuf>, SpoolError> {
        let mut files: Vec<PathBuf> = fs::read_dir(&self.dir)
            .map_err(io(&self.dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "jsonl")
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| !n.starts_with('.'))
            })
            .collect();
        files.sort();
        Ok(files)
    }

    /// Reads a spooled batch of this spool's store. A file that is not UTF-8, not a batch, or
    /// another store's is [`SpoolError::Damaged`] (and [`Writer::replay`] moves it aside).
    pub fn read(&self, path: &Path) -> Result<(Kind, Batch), SpoolError> {
        let (store, kind, batch) = Self::read_file(path)?;
        match store {
            Some(s) if s != self.store => Err(SpoolError::Damaged {
                path: path.to_path_buf(),
                reason: format!(
                    "this batch was spooled for the store {s}, not for {}; it is not replayed here",
                    self.store
                ),
            }),
            _ => Ok((kind, batch)),
        }
    }

    fn read_file(path: &Path) -> Result<(Option<String>, Kind, Batch), SpoolError> {
        let damaged = |reason: String| SpoolError::Damaged {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = fs::read(path).map_err(io(path))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            damaged(format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        let (header, data) = text.split_once('\n').unwrap_or((&text, ""));
        let h: serde_json::Value =
            serde_json::from_str(header).map_err(|e| damaged(format!("header: {e}")))?;
        let token = h["token"]
            .as_str()
            .ok_or_else(|| damaged("header has no token".into()))?
            .to_string();
        let rows = h["rows"]
            .as_u64()
            .ok_or_else(|| damaged("header has no row count".into()))? as usize;
        let store = h["store"].as_str().map(str::to_string);
        // Files spooled before events were spooled too hold readings.
        let kind = match h["kind"].as_str() {
            None | Some("readings") => Kind::Readings,
            Some("events") => Kind::Events,
            Some(other) => return Err(damaged(format!("unknown batch kind {other:?}"))),
        };
        let lines = data.lines().filter(|l| !l.is_empty()).count();
        if lines != rows {
            return Err(damaged(format!(
                "header says {rows} rows, file has {lines}"
            )));
        }
        Ok((
            store,
            kind,
            Batch {
                token,
                rows,
                data: data.to_string(),
            },
        ))
    }

    /// Files that cannot be replayed here: (file, kind, why). For `haoqi check`.
    pub fn problems(&self) -> Vec<(PathBuf, &'static str, String)> {
        let Ok(files) = self.pending() else {
            return Vec::new();
        };
        let own = files.into_iter().filter_map(|p| match self.read(&p) {
            Ok(_) => None,
            Err(SpoolError::Damaged { reason, .. }) => {
                let kind = if reason.contains("spooled for the store") {
                    "foreign_spool_file"
                } else {
                    "damaged_spool_file"
                };
                Some((p, kind, reason))
            }
            Err(e) => Some((p, "damaged_spool_file", e.to_string())),
        });
        own.chain(self.legacy().into_iter().map(|p| {
            let why = format!(
                "spooled before each store had its own spool, so it may be another store's; if it belongs to this store, move it into {} and it is replayed",
                self.dir.display()
            );
            (p, "legacy_spool_file", why)
        }))
        .collect()
    }

    /// Batch files left directly in the directory above (where every store's batches went
    /// before spools were per store). They are never replayed automatically.
    fn legacy(&self) -> Vec<PathBuf> {
        let Some(parent) = self.dir.parent() else {
            return Vec::new();
        };
        let Ok(entries) = fs::read_dir(parent) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        files.sort();
        files
    }

    /// Moves a file that cannot be replayed to `rejected/`, with the reason beside it.
    pub fn quarantine(&self, path: &Path, reason: &str) -> Result<(), SpoolError> {
        self.reject(path, reason)
    }

    fn reject(&self, path: &Path, reason: &str) -> Result<(), SpoolError> {
        let dir = self.dir.join("rejected");
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let name = path.file_name().map(PathBuf::from).unwrap_or_default();
        let dest = dir.join(&name);
        fs::rename(path, &dest).map_err(io(&dest))?;
        let mut why = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(name).with_extension("reason.txt"))
            .map_err(io(&dir))?;
        writeln!(why, "{reason}").map_err(io(&dir))?;
        Ok(())
    }
}

/// What a spooled batch holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Readings,
    /// Collection events (`collection_events`): operational records, spooled like readings so
    /// an outage leaves no hole in an account's attempts.
    Events,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Readings => "readings",
            Kind::Events => "events",
        }
    }
}

/// What happened to a batch handed to the [`Writer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    Stored,
    /// The store was away; the batch is safe on disk.
    Spooled {
        file: PathBuf,
        reason: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Interrupted batches completed first (their rollup derived again).
    pub recovered: usize,
    pub replayed: usize,
    pub rows: usize,
    pub rejected: usize,
    pub remaining: usize,
    /// Why replay stopped early (the store is still away).
    pub stopped: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error("the store refused the batch: {0}")]
    Rejected(StoreError),
    #[error(transparent)]
    Store(StoreError),
}

/// Writes batches to the store, spooling them when it is away and replaying the spool first,
/// so batches reach the store in the order they were written.
///
/// Each insert is journalled (begun, then done: [`crate::journal`]); before its first write a
/// writer completes the batches an earlier process left begun, so a kill at any moment costs
/// nothing but the work of deriving their rollup again.
#[derive(Debug, Clone)]
pub struct Writer {
    store: Arc<dyn Store>,
    spool: Spool,
    recovered: Arc<AtomicBool>,
}

impl Writer {
    pub fn new(store: Arc<dyn Store>, spool: Spool) -> Self {
        Writer {
            store,
            spool,
            recovered: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn spool(&self) -> &Spool {
        &self.spool
    }

    async fn insert(&self, kind: Kind, batch: &Batch) -> Result<(), StoreError> {
        let store = self.store.as_ref();
        if kind == Kind::Events {
            let params = sql::Params::new(store.database()).set("token", batch.token.clone());
            let insert = sql::render(sql::queries::EVENTS_INSERT, &params)?;
            return store
                .insert_json_each_row(&insert, batch.data.as_bytes())
                .await;
        }
        let id = batch_id(&batch.token);
        journal::mark(store, id, "begun", batch.rows).await?;
        let params = sql::Params::new(store.database()).set("token", batch.token.clone());
        let insert = sql::render(sql::queries::READINGS_INSERT, &params)?;
        store
            .insert_json_each_row(&insert, batch.data.as_bytes())
            .await?;
        journal::mark(store, id, "done", batch.rows).await
    }

    /// Stores `batch`, or spools it if the store is away. A batch the store refuses as wrong
    /// is an error and is not spooled.
    pub async fn write(&self, batch: &Batch) -> Result<WriteOutcome, WriteError> {
        self.write_kind(Kind::Readings, batch).await
    }

    /// Stores a batch of collection events (`JSONEachRow`, its token a hash of the rows), or
    /// spools it when the store is away.
    pub async fn write_events(&self, batch: &Batch) -> Result<WriteOutcome, WriteError> {
        self.write_kind(Kind::Events, batch).await
    }

    async fn write_kind(&self, kind: Kind, batch: &Batch) -> Result<WriteOutcome, WriteError> {
        let replay = self.replay().await?;
        if let Some(reason) = replay.stopped {
            let file = self.spool.push_kind(batch, kind)?;
            return Ok(WriteOutcome::Spooled { file, reason });
        }
        match self.insert(kind, batch).await {
            Ok(()) => Ok(WriteOutcome::Stored),
            Err(e) if e.is_retryable() => {
                let file = self.spool.push_kind(batch, kind)?;
                tracing::warn!(error = %e, file = %file.display(), rows = batch.rows, "store unavailable; batch spooled");
                Ok(WriteOutcome::Spooled {
                    file,
                    reason: e.to_string(),
                })
            }
            Err(e) => Err(WriteError::Rejected(e)),
        }
    }

    /// Sends every spooled batch, oldest first, until the spool is empty or the store fails.
    pub async fn replay(&self) -> Result<ReplayReport, WriteError> {
        let mut report = ReplayReport::default();
        if !self.recovered.load(Ordering::Relaxed) {
            match journal::recover(self.store.as_ref()).await {
                Ok(done) => {
                    report.recovered = done.len();
                    self.recovered.store(true, Ordering::Relaxed);
                }
                Err(e) if e.is_retryable() => {
                    report.remaining = self.spool.pending()?.len();
                    report.stopped = Some(e.to_string());
                    return Ok(report);
                }
                Err(e) => return Err(WriteError::Store(e)),
            }
        }
        let pending = self.spool.pending()?;
        for (i, path) in pending.iter().enumerate() {
            let (kind, batch) = match self.spool.read(path) {
                Ok(b) => b,
                Err(e @ SpoolError::Damaged { .. }) => {
                    tracing::error!(error = %e, "damaged spool file moved aside");
                    self.spool.reject(path, &e.to_string())?;
                    report.rejected += 1;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            match self.insert(kind, &batch).await {
                Ok(()) => {
                    // A crash here leaves the file: the next replay sends the same token again.
                    fs::remove_file(path).map_err(io(path))?;
                    report.replayed += 1;
                    report.rows += batch.rows;
                }
                Err(e) if e.is_retryable() => {
                    report.remaining = pending.len() - i;
                    report.stopped = Some(e.to_string());
                    return Ok(report);
                }
                Err(e) => {
                    tracing::error!(error = %e, file = %path.display(), "store rejected a spooled batch; moved to rejected/");
                    self.spool.reject(path, &e.to_string())?;
                    report.rejected += 1;
                }
            }
        }
        Ok(report)
    }
}
