//! `haoqi check`: the store's invariants (haoqi_store::check), printed, and repaired with
//! `--repair`.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use haoqi_store::check::{self, CheckOptions, CheckReport};
use haoqi_store::migrate;

use super::{write_stdout, Session};
use crate::output::{render, Format, Table};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Fix what can be fixed: complete interrupted batches, roll back interrupted imports,
    /// quarantine spool files that cannot be replayed, rebuild rollups that differ from their
    /// readings. Safe to run again.
    #[arg(long)]
    pub repair: bool,
    /// Skip the comparison of every daily rollup with its readings (a scan of the whole table);
    /// what `haoqi init` runs.
    #[arg(long)]
    pub fast: bool,
    /// List (and repair) at most this many rollup differences per run.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub limit: u32,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub(super) async fn run(ctx: &Session, args: &CheckArgs) -> Result<ExitCode> {
    let store = ctx.store().await?;
    migrate::require_current(store.as_ref()).await?;
    let spool = ctx.config.spool(&ctx.location)?;
    let report = check::check(
        store.as_ref(),
        Some(&spool),
        CheckOptions {
            full: !args.fast,
            repair: args.repair,
            limit: args.limit,
        },
    )
    .await?;
    let table = findings_table(&report);
    if args.format == Format::Table {
        outln!("{}", summary(&report, &store.describe()));
        if report.findings.is_empty() {
            return Ok(ExitCode::SUCCESS);
        }
    }
    out!(
        "{}",
        render(args.format, &table, &serde_json::to_value(&report)?)
    );
    Ok(if report.open() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn summary(report: &CheckReport, store: &str) -> String {
    let scope = if report.rollup_checked {
        "batches, imports, spool and every daily rollup"
    } else {
        "batches, imports and spool (rollups not compared: without --fast they are)"
    };
    match (report.findings.len(), report.open()) {
        (0, _) => format!("store {store}: {scope} checked, no differences"),
        (n, 0) => format!("store {store}: {scope} checked, {n} difference(s), all repaired"),
        (n, open) => format!(
            "store {store}: {scope} checked, {n} difference(s), {open} not repaired{}",
            if n == open {
                " (`haoqi check --repair` fixes what it can)"
            } else {
                ""
            }
        ),
    }
}

pub(super) fn findings_table(report: &CheckReport) -> Table {
    let mut t = Table::new(&["kind", "place", "detail", "repaired"]);
    for f in &report.findings {
        t.push(vec![
            f.kind.to_string(),
            f.place.clone(),
            f.detail.clone(),
            if f.repaired { "yes" } else { "no" }.to_string(),
        ]);
    }
    t
}

/// What `haoqi init` says after its fast check: one line per difference.
pub(super) fn init_lines(report: &CheckReport) -> Vec<String> {
    report
        .findings
        .iter()
        .map(|f| {
            format!(
                "check: {} at {}: {}{}",
                f.kind,
                f.place,
                f.detail,
                if f.repaired { " (repaired)" } else { "" }
            )
        })
        .collect()
}
