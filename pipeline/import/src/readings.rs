//! `haoqi import readings`: a filled-in statistics table (seed 001: 序号 / 单位名称 / 关注人数)
//! or a back-office export (公众号 用户增长: 时间 / 新关注人数 / 取消关注人数 / 净增关注人数 /
//! 累积关注人数; 视频号助手 关注者数据) becomes readings with `source = import`.
//!
//! The work is in three steps so that `--dry-run` can show everything and change nothing:
//! [`plan`] reads the table and matches every row to the registry (no store needed);
//! [`compare_with_store`] adds what the store knows (the last reading before each row, for
//! values that look wrong, and readings already stored); [`apply`] writes the ready rows as one
//! batch through the [`Writer`] — all rows or none — and records the file's hash so that the
//! same file imported again imports nothing and says so.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use haoqi_platform::Platform;
use serde::Serialize;

use super::fields::{Field, Mapping};
use super::matching::{Candidate, Identity, Match, MatchedBy, Matcher};
use super::table::{self, column_letter, FileKind, Grid, GridRow, Header};
use super::values::{parse_change_cell, parse_count_cell, parse_date, parse_date_text, When};
use super::{store as records, ImportError, SourceFile};
use haoqi_model::count::Count;
use haoqi_model::reading::{Batch, Reading, Source};
use haoqi_registry::Registry;
use haoqi_store::spool::{WriteOutcome, Writer};
use haoqi_store::Store;

/// The parser version recorded on imported readings.
pub const PARSER_VERSION: &str = "import-1";

/// How to read a file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The platform of every row (else a 平台 column, or the account an id names).
    pub platform: Option<Platform>,
    /// The day of rows without a date of their own.
    pub as_of: Option<NaiveDate>,
    /// Who sent the file (else 填报人 / 填报单位 above the table).
    pub reporter: Option<String>,
    pub sheet: Option<String>,
    /// The one account a per-account export is about (haoqi id, platform id or name).
    pub account: Option<String>,
    pub mapping: Mapping,
    pub skip_unmatched: bool,
    /// Today in Beijing: a date after it is an error.
    pub today: Option<NaiveDate>,
}

/// A problem that stops the import, in one place of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The row as the spreadsheet numbers it (0: the file as a whole).
    pub row: u64,
    /// `C (关注人数)`.
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.row > 0 {
            write!(f, "row {}", self.row)?;
        }
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
        }
        if self.row > 0 || self.column.is_some() {
            write!(f, ": ")?;
        }
        f.write_str(&self.message)
    }
}

/// What becomes of a data row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RowStatus {
    /// Will be (or was) imported.
    Ready,
    /// The count is unknown (`—`, `不详`, empty): reported, not imported as 0.
    Unknown { text: String },
    /// The same account, time and count as an earlier row of the file.
    Duplicate { of_row: u64 },
    /// The store already has this reading.
    AlreadyStored { provenance: String },
    Unmatched {
        reason: String,
        candidates: Vec<Candidate>,
    },
    Ambiguous {
        reason: String,
        candidates: Vec<Candidate>,
    },
    /// A problem in [`ReadingsPlan::problems`] names the cell.
    Invalid,
}

impl RowStatus {
    pub fn key(&self) -> &'static str {
        match self {
            RowStatus::Ready => "ready",
            RowStatus::Unknown { .. } => "unknown_value",
            RowStatus::Duplicate { .. } => "duplicate",
            RowStatus::AlreadyStored { .. } => "already_stored",
            RowStatus::Unmatched { .. } => "unmatched",
            RowStatus::Ambiguous { .. } => "ambiguous",
            RowStatus::Invalid => "invalid",
        }
    }
}

/// The last follower count known before a row's time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Previous {
    pub observed_at: DateTime<Utc>,
    pub followers: u64,
    /// `store` or `row N` of this file.
    pub from: String,
}

/// One data row of the file and what becomes of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowPlan {
    pub row: u64,
    /// What the row calls the account (its name, unit or id).
    pub label: String,
    pub status: RowStatus,
    pub account_id: Option<String>,
    pub display_name: Option<String>,
    pub unit_name: Option<String>,
    pub platform: Option<Platform>,
    pub matched_by: Option<MatchedBy>,
    /// The day the count is for (Beijing).
    pub day: Option<NaiveDate>,
    pub observed_at: Option<DateTime<Utc>>,
    pub followers: Option<Count>,
    pub likes: Option<Count>,
    pub views: Option<Count>,
    pub posts: Option<Count>,
    pub previous: Option<Previous>,
    /// Who reported the row: its 填报人 cell, else the file's reporter.
    pub reporter: Option<String>,
    /// Values that look wrong (a drop by more than half, ten times the last reading, an export
    /// whose columns disagree): shown, and imported with a flag.
    pub warnings: Vec<String>,
    #[serde(skip)]
    net_gain: Option<i64>,
}

/// Everything known about an import before anything is written.
#[derive(Debug, Clone, Serialize)]
pub struct ReadingsPlan {
    pub file: String,
    pub sha256: String,
    pub kind: FileKind,
    pub sheet: Option<String>,
    pub notes: Vec<String>,
    /// The header's row number.
    pub header_row: u64,
    /// (column, header label, field) for each used column.
    pub columns: Vec<(String, String, Field)>,
    pub platform: Option<Platform>,
    pub reporter: Option<String>,
    pub default_day: Option<NaiveDate>,
    pub rows: Vec<RowPlan>,
    /// Rows that are not data (blank, total, notes, the template's example), by reason.
    pub skipped: BTreeMap<String, Vec<u64>>,
    /// Problems that stop the import; each names its row and column.
    pub problems: Vec<Problem>,
    pub skip_unmatched: bool,
    /// Set by [`compare_with_store`] when this file (same sha256) was imported before.
    pub imported_before: Option<records::ImportRecord>,
    /// The mapping that was applied (user's entries only).
    pub mapping: Mapping,
}

/// The counts at the end of an import, for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub rows_read: usize,
    pub ready: usize,
    pub imported: usize,
    /// Rows not imported, by reason (unknown_value, duplicate, already_stored, unmatched, …,
    /// and the non-data rows: blank, total, note, example, header).
    pub skipped: BTreeMap<String, usize>,
    pub warnings: usize,
    pub problems: usize,
}

impl ReadingsPlan {
    pub fn count(&self, key: &str) -> usize {
        self.rows.iter().filter(|r| r.status.key() == key).count()
    }

    pub fn unmatched(&self) -> usize {
        self.count("unmatched") + self.count("ambiguous")
    }

    /// Why the plan cannot be applied, or `None` when it can.
    pub fn blocker(&self) -> Option<String> {
        if let Some(prev) = &self.imported_before {
            return Some(format!(
                "this file (sha256 {}) was already imported on {} ({} readings{}); nothing to do",
                short(&self.sha256),
                prev.imported_at,
                prev.readings,
                if prev.reporter.is_empty() {
                    String::new()
                } else {
                    format!(", reporter {}", prev.reporter)
                }
            ));
        }
        if !self.problems.is_empty() {
            return Some(format!(
                "{} problem(s) in the file; fix them and import again",
                self.problems.len()
            ));
        }
        if self.rows.is_empty() {
            return Some(format!(
                "no data rows below the header (row {}){}: the table is empty",
                self.header_row,
                if self.skipped.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; skipped: {}",
                        self.skipped
                            .iter()
                            .map(|(why, rows)| format!("{} {why}", rows.len()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ));
        }
        let unmatched = self.unmatched();
        if unmatched > 0 && !self.skip_unmatched {
            return Some(format!(
                "{unmatched} row(s) match no registry account (or several); fix the names, or \
                 pass --skip-unmatched to import the others"
            ));
        }
        None
    }

    pub fn summary(&self, imported: usize) -> Summary {
        let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
        for r in &self.rows {
            if r.status != RowStatus::Ready {
                *skipped.entry(r.status.key().to_string()).or_default() += 1;
            }
        }
        for (why, rows) in &self.skipped {
            if why != "blank" {
                *skipped.entry(why.clone()).or_default() += rows.len();
            }
        }
        Summary {
            rows_read: self.rows.len(),
            ready: self.count("ready"),
            imported,
            skipped,
            warnings: self.rows.iter().filter(|r| !r.warnings.is_empty()).count(),
            problems: self.problems.len(),
        }
    }

    /// The readings the ready rows become.
    pub fn readings(&self) -> Vec<Reading> {
        self.rows
            .iter()
            .filter(|r| r.status == RowStatus::Ready)
            .filter_map(|r| {
                let account_id = r.account_id.clone()?;
                let platform = r.platform?;
                let observed_at = r.observed_at?;
                let mut flags = Vec::new();
                if let Some(rep) = r.reporter.as_deref().filter(|s| !s.is_empty()) {
                    flags.push(format!("reporter={rep}"));
                }
                if !r.warnings.is_empty() {
                    flags.push("import_suspicious".to_string());
                }
                Some(Reading {
                    account_id,
                    platform,
                    observed_at,
                    followers: r.followers,
                    likes: r.likes,
                    views: r.views,
                    posts: r.posts,
                    following: None,
                    source: Source::Import,
                    parser_version: PARSER_VERSION.to_string(),
                    flags,
                    provenance: format!("sha256:{} row {}", self.sha256, r.row),
                })
            })
            .collect()
    }
}

fn short(sha: &str) -> &str {
    &sha[..12.min(sha.len())]
}

/// The words of a total row.
const TOTAL_WORDS: &[&str] = &[
    "合计",
    "总计",
    "小计",
    "总数",
    "合计数",
    "total",
    "sum",
    "汇总",
];
/// A row whose first cell starts with one of these is a note under the table.
const NOTE_PREFIXES: &[&str] = &["注", "备注", "说明", "填表说明", "填报说明", "*", "※"];
/// The template's example row is marked in its 序号 cell.
const EXAMPLE_WORDS: &[&str] = &["示例", "例", "样例", "example", "e.g.", "eg"];

fn classify_non_data(row: &GridRow, header: &Header<Field>) -> Option<&'static str> {
    if row.is_blank() {
        return Some("blank");
    }
    let folded: Vec<String> = row
        .cells
        .iter()
        .map(|c| table::fold_header(&c.text()))
        .collect();
    // A header repeated on a printed page.
    let repeats = header
        .columns
        .iter()
        .filter(|(c, f)| {
            *f != Field::Ignore
                && folded
                    .get(*c)
                    .is_some_and(|t| Field::from_header(t) == Some(*f))
        })
        .count();
    if repeats >= 2 {
        return Some("header");
    }
    let first = row
        .cells
        .iter()
        .find(|c| !c.is_blank())
        .map(|c| c.text().trim().to_string())
        .unwrap_or_default();
    let followers_empty = header
        .column(Field::Followers)
        .is_none_or(|c| row.get(c).is_blank());
    if followers_empty && NOTE_PREFIXES.iter().any(|p| first.starts_with(p)) {
        return Some("note");
    }
    let identity_cols: Vec<usize> = header
        .columns
        .iter()
        .filter(|(_, f)| f.identifies() || *f == Field::Seq)
        .map(|(c, _)| *c)
        .collect();
    let looks_total = |t: &str| TOTAL_WORDS.iter().any(|w| t == *w || t.starts_with(w));
    if folded
        .iter()
        .take(3)
        .chain(identity_cols.iter().filter_map(|c| folded.get(*c)))
        .any(|t| looks_total(t))
    {
        return Some("total");
    }
    if let Some(seq) = header.column(Field::Seq) {
        if folded
            .get(seq)
            .is_some_and(|t| EXAMPLE_WORDS.contains(&t.as_str()))
        {
            return Some("example");
        }
    }
    if identity_cols
        .iter()
        .filter_map(|c| row.cells.get(*c))
        .any(|c| c.text().trim_start().starts_with("示例"))
    {
        return Some("example");
    }
    // Only a pre-numbered 序号 (or a remark): an unused line of the form.
    let content = header
        .columns
        .iter()
        .filter(|(_, f)| !matches!(f, Field::Seq | Field::Ignore))
        .any(|(c, _)| !row.get(*c).is_blank());
    if !content {
        return Some("blank");
    }
    None
}

/// Facts written above the header: 填报时间：2020年12月18日, 填报单位：…, 填报人：….
#[derive(Debug, Default)]
struct Preamble {
    day: Option<NaiveDate>,
    reporter: Option<String>,
    unit: Option<String>,
}

fn read_preamble(rows: &[GridRow]) -> Preamble {
    let mut p = Preamble::default();
    for row in rows {
        let texts: Vec<String> = row
            .cells
            .iter()
            .map(|c| c.text().trim().to_string())
            .collect();
        for (i, t) in texts.iter().enumerate() {
            if t.is_empty() {
                continue;
            }
            let (key, value) = match t.split_once(['：', ':']) {
                Some((k, v)) => {
                    let v = v.trim();
                    let v = if v.is_empty() {
                        texts.get(i + 1).map_or("", |s| s.as_str())
                    } else {
                        v
                    };
                    (table::fold_header(k), v.to_string())
                }
                None => {
                    // 截至2024年3月5日 in a title.
                    if let Some(pos) = t.find("截至").or_else(|| t.find("截止")) {
                        let rest: String = t[pos + "截至".len()..]
                            .chars()
                            .take_while(|c| !matches!(c, ')' | '）' | ' ' | '　'))
                            .collect();
                        if let Ok(w) = parse_date_text(&rest) {
                            p.day.get_or_insert(w.day());
                        }
                    }
                    continue;
                }
            };
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "填报时间" | "填报日期" | "统计时间" | "统计日期" | "日期" | "截至日期"
                | "截止日期" | "时间" => {
                    if let Ok(w) = parse_date_text(&value) {
                        p.day.get_or_insert(w.day());
                    }
                }
                "填报人" | "填表人" | "联系人" | "报送人" => {
                    p.reporter.get_or_insert(value);
                }
                "填报单位" | "报送单位" => {
                    p.unit.get_or_insert(value);
                }
                _ => {}
            }
        }
    }
    p
}

fn layout(file: &str, message: String) -> ImportError {
    ImportError::Layout {
        file: file.to_string(),
        message,
    }
}

/// Reads the table and matches every row to the registry.
pub fn plan(
    source: &SourceFile,
    registry: &Registry,
    opts: &Options,
    progress: &dyn haoqi_model::tick::Tick,
) -> Result<ReadingsPlan, ImportError> {
    let grid: &Grid = &source.grid;
    let file = source.name();
    let header = header_of(grid, &opts.mapping, &file)?;
    check_columns(grid, &header, opts, &file)?;
    let matcher = Matcher::new(registry);
    let fixed_account = match &opts.account {
        Some(a) => Some(resolve_account(&matcher, a, opts.platform, &file)?),
        None => None,
    };
    let mut plan = empty_plan(source, &header, opts, &matcher, fixed_account);
    let data = &grid.rows[header.index + 1..];
    progress.start(data.len() as u64);
    let rows = RowReader {
        header: &header,
        opts,
        matcher: &matcher,
        fixed_account,
        default_day: plan.default_day,
        platform: plan.platform,
        reporter: plan.reporter.clone(),
    };
    let mut date_missing = Vec::new();
    for row in data {
        progress.advance(1);
        if let Some(why) = classify_non_data(row, &header) {
            plan.skipped
                .entry(why.to_string())
                .or_default()
                .push(row.number);
            continue;
        }
        let (rp, problems) = rows.read(row);
        if rp.day.is_none() && problems.is_empty() {
            date_missing.push(row.number);
        }
        plan.problems.extend(problems);
        plan.rows.push(rp);
    }
    flag_missing_dates(&mut plan, &header, &date_missing);
    mark_duplicates(&mut plan, &header);
    check_sequences(&mut plan);
    if plan.reporter.is_none() {
        plan.reporter = plan.rows.iter().find_map(|r| r.reporter.clone());
    }
    plan.problems.sort_by_key(|p| p.row);
    Ok(plan)
}

/// The header row, found by the fields its labels (or `--map`) name; every `--map` column must
/// be in it.
fn header_of(grid: &Grid, mapping: &Mapping, file: &str) -> Result<Header<Field>, ImportError> {
    let header = table::find_header(grid, |col, label| {
        mapping
            .lookup(col, label)
            .or_else(|| Field::from_header(label))
    })
    .ok_or_else(|| {
        layout(
            file,
            format!(
                "no header row found in the first {} rows: no column is named like 单位名称, \
                 账号名称, 关注人数, 粉丝数, 日期 (or followers, date …); name the columns with \
                 --map HEADER=FIELD",
                table::HEADER_SCAN_ROWS
            ),
        )
    })?;
    let unused = mapping.unused(&header.labels);
    if !unused.is_empty() {
        return Err(layout(
            file,
            format!(
                "--map names column(s) {} that the header (row {}) does not have; its columns \
                 are {}",
                unused.join(", "),
                grid.rows[header.index].number,
                header
                    .labels
                    .iter()
                    .filter(|l| !l.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(header)
}

/// The columns make a readings table: one column per field, a follower count, and something
/// that names the unit or account (or `--account`).
fn check_columns(
    grid: &Grid,
    header: &Header<Field>,
    opts: &Options,
    file: &str,
) -> Result<(), ImportError> {
    let mut seen: HashMap<Field, usize> = HashMap::new();
    for (col, field) in &header.columns {
        if matches!(field, Field::Ignore | Field::Seq) {
            continue;
        }
        if let Some(other) = seen.insert(*field, *col) {
            return Err(layout(
                file,
                format!(
                    "two columns could be {field}: {} and {}; say which with --map, e.g. \
                     --map \"{}=ignore\"",
                    header.describe(other),
                    header.describe(*col),
                    header.labels.get(*col).map_or("", |s| s.as_str())
                ),
            ));
        }
    }
    let found: Vec<String> = header
        .labels
        .iter()
        .filter(|l| !l.is_empty())
        .cloned()
        .collect();
    if header.column(Field::Followers).is_none() {
        let hint = if header.column(Field::NewFollowers).is_some()
            || header.column(Field::NetGain).is_some()
        {
            " (an official account's 用户增长 export needs its cumulative column, 累积关注人数)"
        } else {
            ""
        };
        return Err(layout(
            file,
            format!(
                "no follower-count column{hint}; the header (row {}) has {}; name it with --map \
                 \"HEADER=followers\"",
                grid.rows[header.index].number,
                found.join(", ")
            ),
        ));
    }
    let identifies = header.columns.iter().any(|(_, f)| f.identifies());
    if !identifies && opts.account.is_none() {
        return Err(layout(
            file,
            format!(
                "no column names the unit or account (单位名称, 账号名称, 账号ID; found {}); \
                 for one account's export pass --account ID",
                found.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The plan before its rows: the file, the columns, and what the lines above the table say
/// (reporter, date) unless the options say it.
fn empty_plan(
    source: &SourceFile,
    header: &Header<Field>,
    opts: &Options,
    matcher: &Matcher,
    fixed_account: Option<usize>,
) -> ReadingsPlan {
    let grid = &source.grid;
    let preamble = read_preamble(&grid.rows[..header.index]);
    let reporter = opts
        .reporter
        .clone()
        .or(preamble.reporter.clone())
        .or(preamble.unit.clone());
    let mut notes = grid.notes.clone();
    if opts.as_of.is_none() {
        if let Some(d) = preamble.day {
            notes.push(format!(
                "date {d} from the lines above the table (填报时间)"
            ));
        }
    }
    ReadingsPlan {
        file: source.name(),
        sha256: source.sha256.clone(),
        kind: grid.kind.clone(),
        sheet: grid.sheet.clone(),
        notes,
        header_row: grid.rows[header.index].number,
        columns: header
            .columns
            .iter()
            .map(|(c, f)| {
                (
                    column_letter(*c),
                    header.labels.get(*c).cloned().unwrap_or_default(),
                    *f,
                )
            })
            .collect(),
        platform: opts
            .platform
            .or(fixed_account.map(|i| matcher.account(i).platform)),
        reporter,
        default_day: opts.as_of.or(preamble.day),
        rows: Vec::new(),
        skipped: BTreeMap::new(),
        problems: Vec::new(),
        skip_unmatched: opts.skip_unmatched,
        imported_before: None,
        mapping: opts.mapping.clone(),
    }
}

/// Reads one data row into its plan: its counts, date and platform, and its match in the
/// registry.
struct RowReader<'a> {
    header: &'a Header<Field>,
    opts: &'a Options,
    matcher: &'a Matcher<'a>,
    fixed_account: Option<usize>,
    default_day: Option<NaiveDate>,
    platform: Option<Platform>,
    reporter: Option<String>,
}

/// What one row says, before matching.
struct Cells {
    followers: Option<Count>,
    likes: Option<Count>,
    views: Option<Count>,
    posts: Option<Count>,
    new_followers: Option<i64>,
    unfollows: Option<i64>,
    net_gain: Option<i64>,
    when: Option<When>,
    platform: Option<Platform>,
}

impl RowReader<'_> {
    fn read(&self, row: &GridRow) -> (RowPlan, Vec<Problem>) {
        let mut problems: Vec<Problem> = Vec::new();
        let cells = self.cells(row, &mut problems);
        let text = |f: Field| self.text(row, f);
        let unit_text = text(Field::Unit);
        let account_text = text(Field::Account);
        let id_text = text(Field::AccountId);
        let pid_text = text(Field::PlatformId);
        let identity = Identity {
            account_id: id_text.as_deref(),
            platform_id: pid_text.as_deref(),
            account_name: account_text.as_deref(),
            unit_name: unit_text.as_deref(),
            platform: cells.platform,
        };
        let label = match self.fixed_account {
            Some(i) if identity.label().is_empty() => self.matcher.account(i).display_name.clone(),
            _ => identity.label(),
        };
        let found = match self.fixed_account {
            Some(i) => Match::Account {
                index: i,
                by: MatchedBy::AccountId,
            },
            None => self.matcher.find(&identity),
        };
        let mut rp = RowPlan {
            row: row.number,
            label,
            status: RowStatus::Ready,
            account_id: None,
            display_name: None,
            unit_name: unit_text.clone(),
            platform: cells.platform,
            matched_by: None,
            day: cells.when.map(When::day),
            observed_at: cells.when.map(When::instant),
            followers: cells.followers,
            likes: cells.likes,
            views: cells.views,
            posts: cells.posts,
            previous: None,
            reporter: text(Field::Reporter).or_else(|| self.reporter.clone()),
            warnings: Vec::new(),
            net_gain: cells.net_gain,
        };
        self.apply_match(&mut rp, found);
        if let (Some(n), Some(u), Some(net)) =
            (cells.new_followers, cells.unfollows, cells.net_gain)
        {
            if n - u != net {
                rp.warnings.push(format!(
                    "新关注 {n} − 取消关注 {u} = {} but 净增 says {net}",
                    n - u
                ));
            }
        }
        if !problems.is_empty() {
            rp.status = RowStatus::Invalid;
        } else if rp.status == RowStatus::Ready && cells.followers.is_none() {
            let followers_col = self.header.column(Field::Followers).unwrap_or(0);
            rp.status = RowStatus::Unknown {
                text: row.get(followers_col).text().trim().to_string(),
            };
        }
        (rp, problems)
    }

    fn text(&self, row: &GridRow, f: Field) -> Option<String> {
        self.header
            .column(f)
            .map(|c| row.get(c).text().trim().to_string())
            .filter(|t| !t.is_empty())
    }

    /// The row's counts, date and platform; each cell that does not parse is a problem.
    fn cells(&self, row: &GridRow, problems: &mut Vec<Problem>) -> Cells {
        let header = self.header;
        let col = |f: Field| header.column(f);
        // A problem in a cell, or (column None) in the row as a whole.
        let mut fail = |c: Option<usize>, message: String| {
            problems.push(Problem {
                row: row.number,
                column: c.map(|c| header.describe(c)),
                message,
            });
        };
        let followers_col = col(Field::Followers).unwrap_or(0);
        let followers = match parse_count_cell(row.get(followers_col)) {
            Ok(c) => c,
            Err(e) => {
                fail(Some(followers_col), e);
                None
            }
        };
        let mut count = |f: Field| -> Option<Count> {
            let c = col(f)?;
            parse_count_cell(row.get(c))
                .map_err(|e| fail(Some(c), e))
                .ok()
                .flatten()
        };
        let (likes, views, posts) = (
            count(Field::Likes),
            count(Field::Views),
            count(Field::Posts),
        );
        let mut change = |f: Field| -> Option<i64> {
            let c = col(f)?;
            parse_change_cell(row.get(c))
                .map_err(|e| fail(Some(c), e))
                .ok()
                .flatten()
        };
        let (new_followers, unfollows, net_gain) = (
            change(Field::NewFollowers),
            change(Field::Unfollows),
            change(Field::NetGain),
        );
        let when = match col(Field::Date) {
            Some(c) => match parse_date(row.get(c)) {
                Ok(Some(w)) => Some(w),
                Ok(None) => self.default_day.map(When::Day),
                Err(e) => {
                    fail(Some(c), e);
                    None
                }
            },
            None => self.default_day.map(When::Day),
        };
        if let (Some(w), Some(today)) = (when, self.opts.today) {
            if w.day() > today {
                // The date comes from the Date column or, without one, from --date or the
                // sheet's heading: blame the column only when there is one.
                fail(
                    col(Field::Date),
                    format!("{} is in the future (today is {today})", w.day()),
                );
            }
        }
        let platform = match (self.opts.platform, col(Field::Platform)) {
            (Some(p), _) => Some(p),
            (None, Some(c)) => match self.text(row, Field::Platform) {
                Some(t) => t
                    .parse::<Platform>()
                    .map_err(|e| fail(Some(c), e.to_string()))
                    .ok(),
                None => None,
            },
            (None, None) => self.platform,
        };
        Cells {
            followers,
            likes,
            views,
            posts,
            new_followers,
            unfollows,
            net_gain,
            when,
            platform,
        }
    }

    fn apply_match(&self, rp: &mut RowPlan, found: Match) {
        match found {
            Match::Account { index, by } => {
                let a = self.matcher.account(index);
                rp.account_id = Some(a.account_id.clone());
                rp.display_name = Some(a.display_name.clone());
                rp.unit_name = self.matcher.unit_of(a).map(|u| u.name.clone());
                rp.platform = Some(a.platform);
                rp.matched_by = Some(by);
            }
            Match::Unmatched { reason, candidates } => {
                rp.status = RowStatus::Unmatched { reason, candidates };
            }
            Match::Ambiguous { reason, candidates } => {
                rp.status = RowStatus::Ambiguous { reason, candidates };
            }
        }
    }
}

/// Rows without a date (no date cell, no `--as-of`, no 填报时间) are one problem for the file.
fn flag_missing_dates(plan: &mut ReadingsPlan, header: &Header<Field>, date_missing: &[u64]) {
    if date_missing.is_empty() {
        return;
    }
    let date_col = header.column(Field::Date);
    plan.problems.push(Problem {
        row: 0,
        column: date_col.map(|c| header.describe(c)),
        message: format!(
            "no date for row(s) {}: the file has {}; pass --as-of DATE",
            list_rows(date_missing),
            if date_col.is_some() {
                "empty date cells"
            } else {
                "no date column and no 填报时间 above the table"
            }
        ),
    });
    for r in &mut plan.rows {
        if date_missing.contains(&r.row) {
            r.status = RowStatus::Invalid;
        }
    }
}

fn list_rows(rows: &[u64]) -> String {
    let shown: Vec<String> = rows.iter().take(10).map(u64::to_string).collect();
    if rows.len() > 10 {
        format!("{} and {} more", shown.join(", "), rows.len() - 10)
    } else {
        shown.join(", ")
    }
}

/// `--account`: the one account of a per-account export.
fn resolve_account(
    matcher: &Matcher<'_>,
    text: &str,
    platform: Option<Platform>,
    file: &str,
) -> Result<usize, ImportError> {
    let by_id = matcher.find(&Identity {
        account_id: Some(text),
        platform,
        ..Default::default()
    });
    let found = match by_id {
        Match::Account { .. } => by_id,
        _ => matcher.find(&Identity {
            account_name: Some(text),
            platform,
            ..Default::default()
        }),
    };
    match found {
        Match::Account { index, .. } => Ok(index),
        Match::Unmatched { reason, candidates } | Match::Ambiguous { reason, candidates } => {
            Err(ImportError::Account {
                file: file.to_string(),
                account: text.to_string(),
                reason,
                candidates: candidates.iter().map(ToString::to_string).collect(),
            })
        }
    }
}

/// Rows for the same account and time: the same count is a duplicate (imported once), a
/// different count is a problem.
fn mark_duplicates(plan: &mut ReadingsPlan, header: &Header<Field>) {
    let mut first: HashMap<(String, DateTime<Utc>), usize> = HashMap::new();
    let followers_col = header.column(Field::Followers).map(|c| header.describe(c));
    for i in 0..plan.rows.len() {
        let r = &plan.rows[i];
        if !matches!(r.status, RowStatus::Ready) {
            continue;
        }
        let (Some(a), Some(t)) = (r.account_id.clone(), r.observed_at) else {
            continue;
        };
        match first.get(&(a.clone(), t)) {
            None => {
                first.insert((a, t), i);
            }
            Some(&j) => {
                let earlier = &plan.rows[j];
                if earlier.followers == r.followers
                    && earlier.likes == r.likes
                    && earlier.views == r.views
                    && earlier.posts == r.posts
                {
                    let of_row = earlier.row;
                    plan.rows[i].status = RowStatus::Duplicate { of_row };
                } else {
                    let show = |c: Option<Count>| c.map_or("-".to_string(), |c| c.to_string());
                    plan.problems.push(Problem {
                        row: r.row,
                        column: followers_col.clone(),
                        message: format!(
                            "{} ({a}) on {} is also in row {} with a different count: {} here, {} there",
                            r.label,
                            r.day.map_or(String::new(), |d| d.to_string()),
                            earlier.row,
                            show(r.followers),
                            show(earlier.followers)
                        ),
                    });
                    plan.rows[i].status = RowStatus::Invalid;
                }
            }
        }
    }
}

/// Within the file, each account's rows in time order: the previous row is the last reading
/// before the next (an export has one row a day), and an export's net change must agree with
/// its cumulative count.
fn check_sequences(plan: &mut ReadingsPlan) {
    let mut by_account: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in plan.rows.iter().enumerate() {
        if r.status == RowStatus::Ready {
            if let Some(a) = &r.account_id {
                by_account.entry(a.clone()).or_default().push(i);
            }
        }
    }
    for idx in by_account.values_mut() {
        idx.sort_by_key(|i| plan.rows[*i].observed_at);
        for w in idx.windows(2) {
            let (prev_i, cur_i) = (w[0], w[1]);
            let (Some(pf), Some(pt)) = (plan.rows[prev_i].followers, plan.rows[prev_i].observed_at)
            else {
                continue;
            };
            let prev_row = plan.rows[prev_i].row;
            let prev_day = plan.rows[prev_i].day;
            let cur = &mut plan.rows[cur_i];
            cur.previous = Some(Previous {
                observed_at: pt,
                followers: pf.value,
                from: format!("row {prev_row}"),
            });
            if let (Some(net), Some(f), Some(pd), Some(cd)) =
                (cur.net_gain, cur.followers, prev_day, cur.day)
            {
                if pd.succ_opt() == Some(cd) {
                    let diff = f.value as i128 - pf.value as i128;
                    if diff != i128::from(net) {
                        cur.warnings.push(format!(
                            "累积关注 changes by {diff} since {pd} but 净增 says {net}"
                        ));
                    }
                }
            }
        }
    }
}

/// Adds what the store knows: whether this file was imported before, readings already stored
/// for a row's account and time, and the last reading before each row (for values that look
/// wrong: a drop of more than half, or ten times the last count).
pub async fn compare_with_store(
    plan: &mut ReadingsPlan,
    store: &dyn Store,
) -> Result<(), ImportError> {
    plan.imported_before = records::find_import(store, "readings", &plan.sha256).await?;
    let keys: Vec<(u32, String, DateTime<Utc>)> = plan
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == RowStatus::Ready)
        .filter_map(|(i, r)| Some((i as u32, r.account_id.clone()?, r.observed_at?)))
        .collect();
    let last = records::last_readings(store, &keys).await?;
    for (i, prev) in last {
        let Some(r) = plan.rows.get_mut(i as usize) else {
            continue;
        };
        if Some(prev.observed_at) == r.observed_at {
            let same = r.followers.map(|c| c.value) == Some(prev.followers);
            if same {
                r.status = RowStatus::AlreadyStored {
                    provenance: prev.provenance.clone(),
                };
            } else {
                plan.problems.push(Problem {
                    row: r.row,
                    column: None,
                    message: format!(
                        "the store already has {} followers for {} ({}) at {} ({} {}); this file \
                         says {}",
                        prev.followers,
                        r.label,
                        r.account_id.clone().unwrap_or_default(),
                        r.day.map_or(String::new(), |d| d.to_string()),
                        prev.source,
                        prev.provenance,
                        r.followers.map_or("-".into(), |c| c.to_string())
                    ),
                });
                r.status = RowStatus::Invalid;
            }
            continue;
        }
        // The store's reading counts unless the file has a later one before this row.
        let from_file_is_later = r
            .previous
            .as_ref()
            .is_some_and(|p| p.observed_at >= prev.observed_at);
        if !from_file_is_later {
            r.previous = Some(Previous {
                observed_at: prev.observed_at,
                followers: prev.followers,
                from: format!("store ({})", prev.source),
            });
        }
    }
    for r in &mut plan.rows {
        if let (Some(p), Some(f)) = (&r.previous, r.followers) {
            if let Some(w) = suspicion(p, f) {
                r.warnings.push(w);
            }
        }
    }
    plan.problems.sort_by_key(|p| p.row);
    Ok(())
}

/// A value that looks wrong next to the previous one.
fn suspicion(prev: &Previous, now: Count) -> Option<String> {
    let when = haoqi_model::time::beijing_day(prev.observed_at);
    if prev.followers >= 2 && now.value.saturating_mul(2) < prev.followers {
        Some(format!(
            "dropped by more than half: {} → {} (last reading {} on {when}, {})",
            prev.followers, now.value, prev.followers, prev.from
        ))
    } else if prev.followers > 0 && now.value >= prev.followers.saturating_mul(10) {
        Some(format!(
            "{}× the last reading: {} → {} (on {when}, {})",
            now.value / prev.followers,
            prev.followers,
            now.value,
            prev.from
        ))
    } else {
        None
    }
}

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Applied {
    pub readings: usize,
    pub batch_token: String,
    /// Set when the store was away: the batch waits in the spool and is written (whole) later.
    pub spooled: Option<String>,
}

/// Writes the ready rows as one batch (all or none) and records the import.
pub async fn apply(
    plan: &ReadingsPlan,
    store: &dyn Store,
    writer: &Writer,
) -> Result<Applied, ImportError> {
    if let Some(why) = plan.blocker() {
        return Err(ImportError::Refused(format!("nothing was imported: {why}")));
    }
    // Complete what an interrupted run left first (its batches' rollup), even when every row
    // of this file is already stored and nothing is written below.
    writer.replay().await?;
    let readings = plan.readings();
    let batch = Batch::new(&readings, Utc::now());
    let spooled = if readings.is_empty() {
        None
    } else {
        match writer.write(&batch).await? {
            WriteOutcome::Stored => None,
            WriteOutcome::Spooled { file, reason } => {
                Some(format!("{reason}; waiting in {}", file.display()))
            }
        }
    };
    // With the store away the import cannot be recorded now; the readings are safe and will be
    // written. Importing the file again once the store is back records it (the same rows make
    // the same batch, which is written only once).
    if spooled.is_none() {
        let summary = plan.summary(readings.len());
        records::record_import(
            store,
            &records::NewImport {
                sha256: &plan.sha256,
                file_name: &plan.file,
                kind: "readings",
                platform: plan.platform.map_or("", Platform::as_str),
                reporter: plan.reporter.as_deref().unwrap_or(""),
                rows_read: summary.rows_read,
                readings: readings.len(),
                skipped: summary.skipped.values().sum(),
                batch_id: haoqi_model::reading::batch_id(&batch.token),
                mapping: &plan.mapping.to_json(),
            },
        )
        .await?;
    }
    Ok(Applied {
        readings: readings.len(),
        batch_token: batch.token,
        spooled,
    })
}

/// Reads `path` from disk: the bytes, their sha256, and the sheet as a grid.
pub fn read_source(path: &Path, sheet: Option<&str>) -> Result<SourceFile, ImportError> {
    SourceFile::read(path, sheet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(text: &str, opts: &Options) -> Result<ReadingsPlan, ImportError> {
        let registry = Registry::reference().expect("reference");
        let src = SourceFile::from_bytes(Path::new("t.csv"), text.as_bytes(), None)?;
        plan(&src, &registry, opts, &haoqi_model::tick::NoTicks)
    }

    fn gzh() -> Options {
        Options {
            platform: Some(Platform::WechatOfficial),
            today: NaiveDate::from_ymd_opt(2026, 1, 1),
            ..Options::default()
        }
    }

    #[test]
    fn preamble_gives_the_day_and_reporter_and_non_data_rows_are_skipped() {
        let p = plan_of(
            "统计表,,\n填报单位：,新疆科协,\n填报人：王五,,\n填报时间：2024/3/5,,\n序号,单位名称,关注人数（人）\n\
             示例,乌鲁木齐市科协,100\n1,乌鲁木齐市科协,120\n2,,\n,,\n序号,单位名称,关注人数\n合计,,120\n注：无,,\n",
            &gzh(),
        )
        .unwrap();
        assert_eq!(p.header_row, 5);
        assert_eq!(p.default_day, NaiveDate::from_ymd_opt(2024, 3, 5));
        assert_eq!(
            p.reporter.as_deref(),
            Some("王五"),
            "填报人 before 填报单位"
        );
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].row, 7);
        for (why, row) in [
            ("example", 6),
            ("blank", 8),
            ("header", 10),
            ("total", 11),
            ("note", 12),
        ] {
            assert!(
                p.skipped.get(why).is_some_and(|r| r.contains(&row)),
                "{why}: {:?}",
                p.skipped
            );
        }
        assert!(p.blocker().is_none());
        let r = &p.readings()[0];
        assert_eq!(r.source, Source::Import);
        assert_eq!(r.provenance, format!("sha256:{} row 7", p.sha256));
        assert_eq!(r.flags, vec!["reporter=王五".to_string()]);
    }

    #[test]
    fn layout_errors_say_what_to_do() {
        let e = plan_of("单位名称,备注\n乌鲁木齐市科协,x\n", &gzh()).unwrap_err();
        assert!(e.to_string().contains("no follower-count column"), "{e}");
        let e = plan_of("关注人数,日期\n1,2024-03-05\n", &gzh()).unwrap_err();
        assert!(e.to_string().contains("--account"), "{e}");
        let e = plan_of("单位名称,关注人数,粉丝数\n乌鲁木齐市科协,1,1\n", &gzh()).unwrap_err();
        assert!(
            e.to_string().contains("two columns could be followers"),
            "{e}"
        );
        let e = plan_of("a,b\n1,2\n", &gzh()).unwrap_err();
        assert!(e.to_string().contains("no header row"), "{e}");
        let mut opts = gzh();
        opts.account = Some("gh_nope".into());
        let e = plan_of("时间,累积关注人数\n2024-03-05,1\n", &opts).unwrap_err();
        assert!(matches!(e, ImportError::Account { .. }), "{e}");
    }

    #[test]
    fn a_row_without_a_date_or_with_a_future_one_is_a_problem() {
        let p = plan_of("单位名称,关注人数\n乌鲁木齐市科协,120\n", &gzh()).unwrap();
        assert_eq!(p.problems.len(), 1);
        assert!(
            p.problems[0].message.contains("--as-of"),
            "{:?}",
            p.problems
        );
        assert_eq!(p.rows[0].status, RowStatus::Invalid);
        let p = plan_of(
            "单位名称,关注人数,日期\n乌鲁木齐市科协,120,2030-01-01\n",
            &gzh(),
        )
        .unwrap();
        assert_eq!(
            p.problems[0].to_string(),
            "row 2, column C (日期): 2030-01-01 is in the future (today is 2026-01-01)"
        );
    }

    #[test]
    fn a_platform_column_and_unknown_platforms() {
        let mut opts = gzh();
        opts.platform = None;
        opts.as_of = NaiveDate::from_ymd_opt(2024, 3, 5);
        let p = plan_of(
            "账号名称,平台,粉丝数\n好奇阿克苏市,抖音,1.3万\n好奇阿克苏市,快手,12000\n好奇阿克苏市,微博,1\n好奇阿克苏市,,1\n",
            &opts,
        )
        .unwrap();
        assert_eq!(p.rows[0].account_id.as_deref(), Some("XJ-C-652901-dy"));
        assert_eq!(p.rows[1].account_id.as_deref(), Some("XJ-C-652901-ks"));
        assert!(p.problems[0]
            .to_string()
            .starts_with("row 4, column B (平台): unknown platform \"微博\""));
        assert!(
            matches!(p.rows[3].status, RowStatus::Ambiguous { .. }),
            "{:?}",
            p.rows[3].status
        );
    }

    #[test]
    fn suspicion_needs_a_real_change() {
        let prev = Previous {
            observed_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            followers: 1_000,
            from: "store".into(),
        };
        assert!(suspicion(&prev, Count::exact(499))
            .unwrap()
            .contains("more than half"));
        assert!(suspicion(&prev, Count::exact(500)).is_none());
        assert!(suspicion(&prev, Count::exact(9_999)).is_none());
        assert!(suspicion(&prev, Count::exact(10_000))
            .unwrap()
            .contains("10×"));
    }
}
