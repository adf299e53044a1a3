//! The on-disk spool: when the store cannot take a batch, the batch is written here (fsync'd,
//! then renamed into place, then the directory fsync'd) and replayed in order when the store is
//! back or at the next start. A batch that the store rejects as wrong (not "unavailable") is
//! moved to `rejected/` with the reason, so one bad batch cannot block the rest.
//!
//! Replaying is idempotent: a batch carries its deduplication token, so a crash between the
//! store's acknowledgement and the file's removal only means the batch is sent again and
//! counted once.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::Utc;

use crate::{sql, Store, StoreError};
use haoqi_model::reading::Batch;

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
}

static SEQ: AtomicU64 = AtomicU64::new(0);

impl Spool {
    pub fn open(dir: &Path) -> Result<Spool, SpoolError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        Ok(Spool {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes a batch durably; returns its file.
    pub fn push(&self, batch: &Batch) -> Result<PathBuf, SpoolError> {
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
            let header = serde_json::json!({"token": batch.token, "rows": batch.rows});
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

    pub fn read(path: &Path) -> Result<Batch, SpoolError> {
        let f = File::open(path).map_err(io(path))?;
        let mut reader = BufReader::new(f);
        let mut header = String::new();
        reader.read_line(&mut header).map_err(io(path))?;
        let damaged = |reason: String| SpoolError::Damaged {
            path: path.to_path_buf(),
            reason,
        };
        let h: serde_json::Value =
            serde_json::from_str(&header).map_err(|e| damaged(format!("header: {e}")))?;
        let token = h["token"]
            .as_str()
            .ok_or_else(|| damaged("header has no token".into()))?
            .to_string();
        let rows = h["rows"]
            .as_u64()
            .ok_or_else(|| damaged("header has no row count".into()))? as usize;
        let mut data = String::new();
        std::io::Read::read_to_string(&mut reader, &mut data).map_err(io(path))?;
        let lines = data.lines().filter(|l| !l.is_empty()).count();
        if lines != rows {
            return Err(damaged(format!(
                "header says {rows} rows, file has {lines}"
            )));
        }
        Ok(Batch { token, rows, data })
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
#[derive(Debug, Clone)]
pub struct Writer {
    store: Arc<dyn Store>,
    spool: Spool,
}

impl Writer {
    pub fn new(store: Arc<dyn Store>, spool: Spool) -> Self {
        Writer { store, spool }
    }

    pub fn spool(&self) -> &Spool {
        &self.spool
    }

    async fn insert(&self, batch: &Batch) -> Result<(), StoreError> {
        let params = sql::Params::new(self.store.database()).set("token", batch.token.clone());
        let insert = sql::render(sql::queries::READINGS_INSERT, &params)?;
        self.store
            .insert_json_each_row(&insert, batch.data.as_bytes())
            .await
    }

    /// Stores `batch`, or spools it if the store is away. A batch the store refuses as wrong
    /// is an error and is not spooled.
    pub async fn write(&self, batch: &Batch) -> Result<WriteOutcome, WriteError> {
        let replay = self.replay().await?;
        if let Some(reason) = replay.stopped {
            let file = self.spool.push(batch)?;
            return Ok(WriteOutcome::Spooled { file, reason });
        }
        match self.insert(batch).await {
            Ok(()) => Ok(WriteOutcome::Stored),
            Err(e) if e.is_retryable() => {
                let file = self.spool.push(batch)?;
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
        let pending = self.spool.pending()?;
        for (i, path) in pending.iter().enumerate() {
            let batch = match Spool::read(path) {
                Ok(b) => b,
                Err(e @ SpoolError::Damaged { .. }) => {
                    tracing::error!(error = %e, "damaged spool file moved aside");
                    self.spool.reject(path, &e.to_string())?;
                    report.rejected += 1;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            match self.insert(&batch).await {
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
