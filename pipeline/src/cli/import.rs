//! The import commands: `import readings`, `registry import`, `registry export` and
//! `template readings|registry`. Each is a thin layer over `haoqi_import`.

use haoqi_model::tick::Tick;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use haoqi_platform::Platform;

use super::{write_stdout, Session};
use crate::output::{Format, Table};
use haoqi_import::readings::{self, ReadingsPlan, RowStatus};
use haoqi_import::registry_import::{self, RegistryPlan};
use haoqi_import::{store as records, template, Mapping, SourceFile};
use haoqi_registry::Registry;
use haoqi_store::migrate;
use haoqi_store::spool::Writer;

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Import follower counts from a filled-in statistics table (序号/单位名称/关注人数) or a
    /// back-office export (公众号 用户增长, 视频号助手 关注者数据): CSV (UTF-8, BOM, GBK) or
    /// XLSX/XLS. Rows are matched to the registry by account id, account name or unit name;
    /// nothing is imported until every row matches (or --skip-unmatched), and then all rows at
    /// once. The same file imported twice imports nothing the second time.
    #[command(
        after_help = "Examples:\n  haoqi import readings 关注情况统计表.xlsx --platform wechat_official --reporter 陈伟秋 --dry-run\n  haoqi import readings 关注情况统计表.csv --platform wechat_official --as-of 2024-03-05\n  haoqi import readings 用户增长.xls --account XJ-P-650100-gzh\n  haoqi import readings 关注者数据.csv --platform wechat_channels --map \"关注者总数=followers,日期=date\" --save-map channels-v2\n  haoqi import readings 关注者数据-3月.csv --platform wechat_channels --use-map channels-v2\n\nFields for --map: followers, date, unit, account, account_id, platform_id, platform, reporter,\nlikes, views, posts, new_followers, unfollows, net_gain, seq, ignore (a column may be named by\nits header text or its letter, e.g. C=followers)."
    )]
    Readings(ReadingsArgs),
}

fn parse_day(s: &str) -> Result<NaiveDate, String> {
    haoqi_import::values::parse_date_text(s).map(haoqi_import::values::When::day)
}

#[derive(Args, Debug)]
pub struct ReadingsArgs {
    /// The file: .csv, .xlsx or .xls (the content decides, not the name).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The platform of every row (else a 平台 column, or the account an id names).
    #[arg(long)]
    pub platform: Option<Platform>,
    /// The day of rows without a date of their own (default: 填报时间 above the table).
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub as_of: Option<NaiveDate>,
    /// Who sent the file (default: 填报人 or 填报单位 above the table); kept with each reading.
    #[arg(long, value_name = "NAME")]
    pub reporter: Option<String>,
    /// Show what would be imported (matched, unmatched, duplicates, values that look wrong)
    /// and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The sheet of a workbook (default: the first).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// The one account of a per-account export (haoqi id, platform id such as gh_…, or name).
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Column mapping for layouts haoqi does not recognise: HEADER=FIELD,… .
    #[arg(long = "map", value_name = "HEADER=FIELD,…")]
    pub map: Option<Mapping>,
    /// Save the mapping (--use-map plus --map) under this name after a successful import.
    #[arg(long, value_name = "NAME")]
    pub save_map: Option<String>,
    /// Start from a saved mapping.
    #[arg(long, value_name = "NAME")]
    pub use_map: Option<String>,
    /// Import the rows that match and list the others.
    #[arg(long)]
    pub skip_unmatched: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Args, Debug)]
pub struct RegistryImportArgs {
    /// The spreadsheet: CSV or XLSX in the layout of `haoqi registry export`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The registry directory to write (default: --registry / registry.dir). The registry
    /// already there is the starting point; a new directory starts from the session's registry
    /// (--registry, or the built-in reference).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Only add and change what the file lists (default: the file is the whole list, and
    /// accounts it leaves out are deactivated).
    #[arg(long)]
    pub partial: bool,
    /// Show the differences and the checks; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not load the result into the store (only write the files).
    #[arg(long)]
    pub no_load: bool,
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Args, Debug)]
pub struct RegistryExportArgs {
    /// The workbook to write (.xlsx).
    #[arg(long, value_name = "FILE.xlsx")]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateKind {
    /// The statistics table a unit fills in (序号/单位名称/账号名称/平台/关注人数/统计日期).
    Readings,
    /// The units-and-accounts sheet of `haoqi registry import`.
    Registry,
}

#[derive(Args, Debug)]
pub struct TemplateArgs {
    #[arg(value_enum)]
    pub kind: TemplateKind,
    /// The workbook to write (.xlsx).
    #[arg(long, value_name = "FILE.xlsx")]
    pub out: PathBuf,
    /// Readings: the platform of the example row (default: wechat_official).
    #[arg(long)]
    pub platform: Option<Platform>,
}

fn bar() -> crate::output::Bar {
    crate::output::Bar::new("{bar:40} {pos}/{len} rows ({eta} left)")
}

fn candidates(c: &[haoqi_import::matching::Candidate]) -> String {
    if c.is_empty() {
        String::new()
    } else {
        format!(
            "; closest: {}",
            c.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    }
}

fn status_note(r: &readings::RowPlan) -> String {
    let mut parts = Vec::new();
    match &r.status {
        RowStatus::Ready => {}
        RowStatus::Unknown { text } => parts.push(format!(
            "count unknown ({}); not imported",
            if text.is_empty() { "empty" } else { text }
        )),
        RowStatus::Duplicate { of_row } => parts.push(format!("same as row {of_row}")),
        RowStatus::AlreadyStored { provenance } => {
            // sha256:<64 hex> row N → sha256:<12 hex>… row N
            let short = match provenance.strip_prefix("sha256:") {
                Some(rest) if rest.len() > 12 => {
                    let (hash, row) = rest.split_once(' ').unwrap_or((rest, ""));
                    format!("sha256:{}… {row}", &hash[..12.min(hash.len())])
                }
                _ => provenance.clone(),
            };
            parts.push(format!("already in the store ({short})"))
        }
        RowStatus::Unmatched {
            reason,
            candidates: c,
        }
        | RowStatus::Ambiguous {
            reason,
            candidates: c,
        } => parts.push(format!("{reason}{}", candidates(c))),
        RowStatus::Invalid => parts.push("see problems".into()),
    }
    parts.extend(r.warnings.iter().cloned());
    parts.join("; ")
}

fn rows_table(plan: &ReadingsPlan, only_exceptions: bool) -> Table {
    let mut t = Table::new(&[
        "row",
        "in file",
        "status",
        "account_id",
        "account",
        "platform",
        "day",
        "followers",
        "previous",
        "note",
    ]);
    for r in &plan.rows {
        if only_exceptions && r.status == RowStatus::Ready && r.warnings.is_empty() {
            continue;
        }
        t.push(vec![
            r.row.to_string(),
            r.label.clone(),
            r.status.key().to_string(),
            r.account_id.clone().unwrap_or_default(),
            r.display_name.clone().unwrap_or_default(),
            r.platform.map_or(String::new(), |p| p.as_str().to_string()),
            r.day.map_or(String::new(), |d| d.to_string()),
            r.followers.map_or("-".into(), |c| c.to_string()),
            r.previous.as_ref().map_or(String::new(), |p| {
                format!(
                    "{} ({})",
                    p.followers,
                    haoqi_model::time::beijing_day(p.observed_at)
                )
            }),
            status_note(r),
        ]);
    }
    t
}

fn summary_line(plan: &ReadingsPlan, imported: usize, verb: &str) -> String {
    let s = plan.summary(imported);
    let skipped: Vec<String> = s
        .skipped
        .iter()
        .map(|(why, n)| format!("{n} {}", why.replace('_', " ")))
        .collect();
    format!(
        "{} row(s) read, {} {verb}{}{}",
        s.rows_read,
        s.imported,
        if skipped.is_empty() {
            String::new()
        } else {
            format!(", skipped: {}", skipped.join(", "))
        },
        if s.warnings > 0 {
            format!("; {} value(s) look wrong (listed above)", s.warnings)
        } else {
            String::new()
        }
    )
}

fn print_plan(plan: &ReadingsPlan, dry_run: bool) {
    let sheet = plan
        .sheet
        .as_ref()
        .map_or(String::new(), |s| format!(", sheet {s:?}"));
    outln!(
        "{}: {}{sheet}, sha256 {}…",
        plan.file,
        plan.kind.describe(),
        &plan.sha256[..12.min(plan.sha256.len())]
    );
    let cols: Vec<String> = plan
        .columns
        .iter()
        .filter(|c| c.2 != haoqi_import::Field::Ignore)
        .map(|(c, label, f)| format!("{c} {label}={f}"))
        .collect();
    outln!("header row {}: {}", plan.header_row, cols.join(", "));
    outln!(
        "platform {}, date {}, reporter {}",
        plan.platform
            .map_or("per row".to_string(), |p| p.to_string()),
        plan.default_day
            .map_or("per row".to_string(), |d| d.to_string()),
        plan.reporter.as_deref().unwrap_or("-")
    );
    for n in &plan.notes {
        outln!("note: {n}");
    }
    for (why, rows) in &plan.skipped {
        if why != "blank" {
            outln!(
                "skipped {why} row(s): {}",
                rows.iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    outln!();
    let t = rows_table(plan, !dry_run);
    if !t.rows.is_empty() {
        out!("{}", t.to_text());
        outln!();
    }
    if !plan.problems.is_empty() {
        outln!("problems ({}):", plan.problems.len());
        for p in &plan.problems {
            outln!("  {p}");
        }
        outln!();
    }
    let unmatched: Vec<&readings::RowPlan> = plan
        .rows
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                RowStatus::Unmatched { .. } | RowStatus::Ambiguous { .. }
            )
        })
        .collect();
    if !unmatched.is_empty() {
        outln!("unmatched or ambiguous ({}):", unmatched.len());
        for r in unmatched {
            outln!("  row {} {:?}: {}", r.row, r.label, status_note(r));
        }
        outln!();
    }
    let odd: Vec<&readings::RowPlan> = plan
        .rows
        .iter()
        .filter(|r| !r.warnings.is_empty())
        .collect();
    if !odd.is_empty() {
        outln!("values that look wrong ({}):", odd.len());
        for r in odd {
            outln!("  row {} {}: {}", r.row, r.label, r.warnings.join("; "));
        }
        outln!();
    }
}

pub(super) async fn import(ctx: &Session, cmd: &ImportCommand) -> Result<ExitCode> {
    match cmd {
        ImportCommand::Readings(args) => import_readings(ctx, args).await,
    }
}

async fn import_readings(ctx: &Session, args: &ReadingsArgs) -> Result<ExitCode> {
    let registry = ctx.registry()?;
    let store = ctx.store().await?;
    migrate::require_current(store.as_ref()).await?;
    let mut mapping = match &args.use_map {
        Some(name) => records::load_mapping(store.as_ref(), name).await?,
        None => Mapping::default(),
    };
    if let Some(m) = &args.map {
        mapping = mapping.merged(m);
    }
    let source = SourceFile::read(&args.file, args.sheet.as_deref())?;
    let opts = readings::Options {
        platform: args.platform,
        as_of: args.as_of,
        reporter: args.reporter.clone(),
        sheet: args.sheet.clone(),
        account: args.account.clone(),
        mapping: mapping.clone(),
        skip_unmatched: args.skip_unmatched,
        today: Some(haoqi_model::time::today()),
    };
    let bar = bar();
    let mut plan = readings::plan(&source, &registry, &opts, &bar)?;
    bar.finish();
    readings::compare_with_store(&mut plan, store.as_ref()).await?;
    let blocker = plan.blocker();
    // A file imported before: say so without listing it again (a dry run still lists it).
    if args.format == Format::Table && (plan.imported_before.is_none() || args.dry_run) {
        print_plan(&plan, args.dry_run);
    }
    if let Some(prev) = &plan.imported_before {
        let msg = format!(
            "nothing imported: this file was already imported on {} as {} ({} readings{})",
            prev.imported_at,
            prev.file_name,
            prev.readings,
            if prev.reporter.is_empty() {
                String::new()
            } else {
                format!(", reporter {}", prev.reporter)
            }
        );
        emit(args.format, &plan, None, &msg)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.dry_run {
        let msg = match &blocker {
            Some(why) => format!("dry run: would import nothing: {why}"),
            None => format!(
                "dry run: would import {} reading(s); nothing was changed. {}",
                plan.count("ready"),
                summary_line(&plan, plan.count("ready"), "to import")
            ),
        };
        emit(args.format, &plan, None, &msg)?;
        return Ok(if blocker.is_some() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }
    if let Some(why) = blocker {
        emit(
            args.format,
            &plan,
            None,
            &format!("nothing was imported: {why}"),
        )?;
        return Ok(ExitCode::FAILURE);
    }
    let spool = ctx.config.spool(&ctx.location)?;
    let writer = Writer::new(store.clone(), spool);
    let applied = readings::apply(&plan, store.as_ref(), &writer).await?;
    if let Some(name) = &args.save_map {
        records::save_mapping(store.as_ref(), name, &mapping).await?;
        if args.format == Format::Table {
            outln!("saved the mapping {mapping} as {name:?} (reuse it with --use-map {name})");
        }
    }
    let mut msg = format!(
        "imported {} reading(s) as one batch (source import, provenance sha256:{}… row N). {}",
        applied.readings,
        &plan.sha256[..12.min(plan.sha256.len())],
        summary_line(&plan, applied.readings, "imported")
    );
    if let Some(s) = &applied.spooled {
        msg.push_str(&format!(
            "\nthe store is unavailable ({s}); the batch is spooled and will be written whole \
             when it is back. The import itself is not recorded: import the file again then to \
             record it (its readings are written once)"
        ));
    }
    emit(args.format, &plan, Some(&applied), &msg)?;
    Ok(ExitCode::SUCCESS)
}

fn emit(
    format: Format,
    plan: &ReadingsPlan,
    applied: Option<&readings::Applied>,
    message: &str,
) -> Result<()> {
    match format {
        Format::Table => outln!("{message}"),
        Format::Csv => out!("{}", rows_table(plan, false).to_csv()),
        Format::Json => {
            let v = serde_json::json!({
                "message": message,
                "summary": plan.summary(applied.map_or(0, |a| a.readings)),
                "applied": applied,
                "plan": plan,
            });
            out!("{}\n", serde_json::to_string_pretty(&v)?);
        }
    }
    Ok(())
}

/// The text of the current registry's regions.csv (copied into a new registry directory).
fn regions_text(ctx: &Session) -> Result<String> {
    match &ctx.registry_dir {
        Some(dir) => {
            let path = dir.join(haoqi_registry::REGIONS_FILE);
            std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
        }
        None => Ok(Registry::reference_texts()[0].1.to_string()),
    }
}

fn diff_table(plan: &RegistryPlan) -> Table {
    let mut t = Table::new(&["change", "id", "details"]);
    let d = &plan.diff;
    for id in &d.units_added {
        let name = plan
            .registry
            .unit(id)
            .map_or(String::new(), |u| format!("{} ({})", u.name, u.kind));
        t.push(vec!["unit added".into(), id.clone(), name]);
    }
    for (id, changes) in &d.units_changed {
        t.push(vec![
            "unit changed".into(),
            id.clone(),
            changes_text(changes),
        ]);
    }
    for id in &d.units_not_in_file {
        t.push(vec![
            "unit not in file (kept)".into(),
            id.clone(),
            String::new(),
        ]);
    }
    for id in &d.accounts_added {
        let details = plan
            .registry
            .accounts
            .iter()
            .find(|a| &a.account_id == id)
            .map_or(String::new(), |a| {
                format!("{} {} of {}", a.platform, a.display_name, a.unit_id)
            });
        t.push(vec!["account added".into(), id.clone(), details]);
    }
    for (id, changes) in &d.accounts_changed {
        t.push(vec![
            "account changed".into(),
            id.clone(),
            changes_text(changes),
        ]);
    }
    for id in &d.accounts_deactivated {
        t.push(vec![
            "account deactivated".into(),
            id.clone(),
            String::new(),
        ]);
    }
    t
}

fn changes_text(c: &registry_import::FieldChanges) -> String {
    c.iter()
        .map(|(f, a, b)| format!("{f}: {a:?} → {b:?}"))
        .collect::<Vec<_>>()
        .join("; ")
}

pub(super) async fn registry_import(ctx: &Session, args: &RegistryImportArgs) -> Result<ExitCode> {
    let Some(dir) = args.out.clone().or(ctx.registry_dir.clone()) else {
        anyhow::bail!(
            "registry import writes a registry directory, and the built-in reference cannot be \
             changed: pass --out DIR (a new or existing registry directory) or --registry DIR; \
             `haoqi registry reference --out DIR` starts one"
        );
    };
    // The registry being changed: the one already in the directory written to, else the
    // session's (its --registry directory or the built-in reference).
    let current = if dir.join(haoqi_registry::UNITS_FILE).exists() {
        Registry::load_dir(&dir)?
    } else {
        ctx.registry()?
    };
    let source = SourceFile::read(&args.file, args.sheet.as_deref())?;
    let plan = registry_import::plan(&source, &current, &ctx.config.targets, args.partial)?;
    let d = &plan.diff;
    let headline = format!(
        "{}: {} row(s) read; units: {} added, {} changed, {} unchanged{}; accounts: {} added, {} \
         changed, {} deactivated, {} unchanged",
        plan.file,
        plan.rows_read,
        d.units_added.len(),
        d.units_changed.len(),
        d.units_unchanged,
        if d.units_not_in_file.is_empty() {
            String::new()
        } else {
            format!(", {} not in the file (kept)", d.units_not_in_file.len())
        },
        d.accounts_added.len(),
        d.accounts_changed.len(),
        d.accounts_deactivated.len(),
        d.accounts_unchanged
    );
    let diff = diff_table(&plan);
    let errors: Vec<&haoqi_registry::check::Finding> = plan
        .check
        .findings
        .iter()
        .filter(|f| f.severity == haoqi_registry::check::Severity::Error)
        .collect();
    match args.format {
        Format::Table => {
            outln!("{headline}");
            for n in &plan.notes {
                outln!("note: {n}");
            }
            if !diff.rows.is_empty() {
                outln!();
                out!("{}", diff.to_text());
            }
            if !plan.problems.is_empty() {
                outln!("\nproblems ({}):", plan.problems.len());
                for p in &plan.problems {
                    outln!("  {p}");
                }
            }
            if !errors.is_empty() {
                outln!("\nregistry check errors ({}):", errors.len());
                for f in &errors {
                    outln!("  {} {}: {}", f.rule, f.subject, f.message);
                }
            }
            outln!(
                "registry check on the result: {} error(s), {} warning(s)",
                plan.check.errors,
                plan.check.warnings
            );
        }
        Format::Csv => out!("{}", diff.to_csv()),
        Format::Json => {
            let v = serde_json::json!({
                "file": plan.file,
                "rows_read": plan.rows_read,
                "diff": plan.diff,
                "problems": plan.problems,
                "check": {"errors": plan.check.errors, "warnings": plan.check.warnings, "findings": errors},
            });
            out!("{}\n", serde_json::to_string_pretty(&v)?);
        }
    }
    if let Some(why) = plan.blocker() {
        if args.format == Format::Table {
            outln!("nothing was changed: {why}");
        }
        return Ok(ExitCode::FAILURE);
    }
    if args.dry_run {
        if args.format == Format::Table {
            outln!("dry run: nothing was changed");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if plan.diff.is_empty() && dir.join(haoqi_registry::UNITS_FILE).exists() {
        if args.format == Format::Table {
            outln!("no changes; {} left as it is", dir.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let written = registry_import::write_registry(&plan, &dir, &regions_text(ctx)?)?;
    // Read back what was written: the files must load as the registry they describe.
    let reloaded = Registry::load_dir(&dir)?;
    if args.format == Format::Table {
        for f in &written {
            outln!("wrote {}", f.display());
        }
        outln!(
            "registry {}: {} units, {} accounts",
            dir.display(),
            reloaded.units.len(),
            reloaded.accounts.len()
        );
    }
    if !args.no_load {
        let store = ctx.store().await?;
        migrate::require_current(store.as_ref()).await?;
        let changes = haoqi_registry::dimensions::load(
            store.as_ref(),
            &reloaded,
            &ctx.config.targets,
            chrono::Utc::now(),
        )
        .await?;
        records::record_import(
            store.as_ref(),
            &records::NewImport {
                sha256: &plan.sha256,
                file_name: &plan.file,
                kind: "registry",
                platform: "",
                reporter: "",
                rows_read: plan.rows_read,
                readings: 0,
                skipped: 0,
                batch_id: "",
                mapping: "",
            },
        )
        .await?;
        if args.format == Format::Table {
            outln!(
                "loaded into the store {}: units {} added, {} changed; accounts {} added, {} changed",
                store.describe(),
                changes.units.added,
                changes.units.changed,
                changes.accounts.added,
                changes.accounts.changed
            );
        }
    }
    if ctx.registry_dir.as_deref() != Some(dir.as_path()) && args.format == Format::Table {
        outln!("use it with --registry {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

pub(super) fn registry_export(ctx: &Session, args: &RegistryExportArgs) -> Result<ExitCode> {
    let registry = ctx.registry()?;
    let bytes = template::registry_export(&registry)?;
    write_file(&args.out, &bytes)?;
    outln!(
        "wrote {}: {} units, {} accounts (edit it and load it back with `haoqi registry import {}`)",
        args.out.display(),
        registry.units.len(),
        registry.accounts.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn template(ctx: &Session, args: &TemplateArgs) -> Result<ExitCode> {
    let bytes = match args.kind {
        TemplateKind::Readings => {
            let registry = ctx.registry()?;
            template::readings_template(&registry, args.platform, haoqi_model::time::today())?
        }
        TemplateKind::Registry => template::registry_template()?,
    };
    write_file(&args.out, &bytes)?;
    outln!(
        "wrote {} (sheet {}: columns, an example row marked 示例 that is not imported, drop-down \
         lists; instructions in sheet {})",
        args.out.display(),
        match args.kind {
            TemplateKind::Readings => template::READINGS_SHEET,
            TemplateKind::Registry => template::REGISTRY_SHEET,
        },
        template::HELP_SHEET
    );
    Ok(ExitCode::SUCCESS)
}
