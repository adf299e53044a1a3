//! `haoqi check`: the store's invariants, each difference reported with its place, and with
//! `repair` fixed where the store alone can fix it (idempotently; running it twice finds
//! nothing the second time).
//!
//! - every batch begun is done (else: its rollup is derived again, [`crate::journal`]);
//! - every imported reading belongs to a recorded import, and every record's batch holds the
//!   readings it says (an interrupted import is rolled back: its readings and their rollup
//!   go, so that importing the file again writes it whole);
//! - every spool file is readable and belongs to this store (else: quarantined);
//! - with `full`, every account-day's rollup counts exactly its readings and ends on their last
//!   value (else: the day's rollup is rebuilt from the readings).

use serde::{Deserialize, Serialize};

use crate::journal;
use crate::spool::Spool;
use crate::sql::{self, Params};
use crate::{query_as, Store, StoreError};

#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions {
    /// Compare every account-day's rollup with its readings (a scan of the whole table).
    pub full: bool,
    pub repair: bool,
    /// At most this many rollup differences are listed (and repaired per run).
    pub limit: u32,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// interrupted_batch | unrecorded_import | short_import | damaged_spool_file |
    /// foreign_spool_file | legacy_spool_file | rollup
    pub kind: &'static str,
    /// Where: a batch id, a file's sha256, a spool file, `account day metric`.
    pub place: String,
    pub detail: String,
    pub repaired: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckReport {
    pub findings: Vec<Finding>,
    /// Whether the rollup was compared with the readings (`full`).
    pub rollup_checked: bool,
}

impl CheckReport {
    /// Differences not repaired.
    pub fn open(&self) -> usize {
        self.findings.iter().filter(|f| !f.repaired).count()
    }
}

#[derive(Debug, Deserialize)]
struct ImportRow {
    sha256: String,
    has_record: u8,
    file_name: String,
    recorded: u64,
    stored: u64,
    in_recorded_batch: u64,
    batches: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RollupRow {
    metric: String,
    account_id: String,
    day: String,
    readings: u64,
    rolled_up: u64,
    value: u64,
    rolled_up_value: u64,
}

#[derive(Debug, Deserialize)]
struct DayRow {
    day: String,
}

/// Checks the store (and the spool, when given) and repairs what it may.
pub async fn check(
    store: &dyn Store,
    spool: Option<&Spool>,
    opts: CheckOptions,
) -> Result<CheckReport, StoreError> {
    let mut report = CheckReport::default();
    interrupted_batches(store, opts, &mut report).await?;
    imports(store, opts, &mut report).await?;
    if let Some(spool) = spool {
        for (place, kind, detail) in spool.problems() {
            // A legacy file may well be this store's: it is left for the operator to move.
            let repaired = opts.repair
                && kind != "legacy_spool_file"
                && spool.quarantine(&place, &detail).is_ok();
            report.findings.push(Finding {
                kind,
                place: place.display().to_string(),
                detail,
                repaired,
            });
        }
    }
    if opts.full {
        rollup(store, opts, &mut report).await?;
        report.rollup_checked = true;
    }
    Ok(report)
}

async fn interrupted_batches(
    store: &dyn Store,
    opts: CheckOptions,
    report: &mut CheckReport,
) -> Result<(), StoreError> {
    let pending = if opts.repair {
        journal::recover(store).await?
    } else {
        journal::pending(store).await?
    };
    report.findings.extend(pending.into_iter().map(|p| Finding {
        kind: "interrupted_batch",
        place: format!("batch {}", p.batch_id),
        detail: format!(
            "begun {} ({} rows) and never done: the daily rollup of its readings may be missing",
            p.begun_at, p.rows
        ),
        repaired: opts.repair,
    }));
    Ok(())
}

async fn imports(
    store: &dyn Store,
    opts: CheckOptions,
    report: &mut CheckReport,
) -> Result<(), StoreError> {
    let params = Params::new(store.database());
    let rows: Vec<ImportRow> =
        query_as(store, &sql::render(sql::queries::CHECK_IMPORTS, &params)?).await?;
    for r in rows {
        if r.has_record == 0 {
            let repaired = if opts.repair {
                forget_batches(store, &r.batches).await?;
                true
            } else {
                false
            };
            report.findings.push(Finding {
                kind: "unrecorded_import",
                place: format!("file sha256:{}", r.sha256),
                detail: format!(
                    "{} readings from this file are stored (batches {}) but no import of it was recorded: an import that was interrupted, or whose batch waited in the spool. {}",
                    r.stored,
                    r.batches.join(", "),
                    if repaired {
                        "Removed, with their rollup: import the file again to write it whole."
                    } else {
                        "Import the file again to complete it, or `haoqi check --repair` removes them so that the next import writes it whole."
                    }
                ),
                repaired,
            });
        } else {
            report.findings.push(Finding {
                kind: "short_import",
                place: format!("file sha256:{} ({})", r.sha256, r.file_name),
                detail: format!(
                    "the import record says {} readings; its batch holds {} ({} from the file in all). Import the file again.",
                    r.recorded, r.in_recorded_batch, r.stored
                ),
                repaired: false,
            });
        }
    }
    Ok(())
}

/// Rolls back the readings of `batches`: they go, and the rollup of the days they touched is
/// rebuilt from what remains.
async fn forget_batches(store: &dyn Store, batches: &[String]) -> Result<(), StoreError> {
    let params = Params::new(store.database()).set("batches", batches);
    let days: Vec<String> =
        query_as::<DayRow>(store, &sql::render(sql::queries::BATCH_DAYS, &params)?)
            .await?
            .into_iter()
            .map(|d| d.day)
            .collect();
    store
        .execute(&sql::render(sql::queries::READINGS_FORGET, &params)?)
        .await?;
    rebuild_days(store, &days).await
}

async fn rebuild_days(store: &dyn Store, days: &[String]) -> Result<(), StoreError> {
    // A few thousand keys per statement keep the SQL text small.
    for chunk in days.chunks(2_000) {
        let params = Params::new(store.database()).set("days", chunk);
        store
            .execute(&sql::render(sql::queries::ROLLUP_FORGET, &params)?)
            .await?;
        journal::rebuild(store, &[], chunk).await?;
    }
    Ok(())
}

async fn rollup(
    store: &dyn Store,
    opts: CheckOptions,
    report: &mut CheckReport,
) -> Result<(), StoreError> {
    let params = Params::new(store.database()).set("limit", u64::from(opts.limit.max(1)));
    let rows: Vec<RollupRow> =
        query_as(store, &sql::render(sql::queries::CHECK_ROLLUP, &params)?).await?;
    let mut days: Vec<String> = rows
        .iter()
        .map(|r| format!("{}|{}", r.account_id, r.day))
        .collect();
    days.sort();
    days.dedup();
    if opts.repair {
        rebuild_days(store, &days).await?;
    }
    report.findings.extend(rows.into_iter().map(|r| Finding {
        kind: "rollup",
        place: format!("{} {} {}", r.account_id, r.day, r.metric),
        detail: format!(
            "{} readings (last value {}), the daily rollup counts {} (last value {})",
            r.readings, r.value, r.rolled_up, r.rolled_up_value
        ),
        repaired: opts.repair,
    }));
    Ok(())
}
