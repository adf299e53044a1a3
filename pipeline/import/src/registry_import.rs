//! `haoqi registry import FILE`: the association's list of units and accounts, kept in a
//! spreadsheet (CSV or XLSX; the layout `haoqi registry export` writes and `haoqi template
//! registry` offers: one row per account, with its unit's columns repeated), becomes the
//! registry.
//!
//! Every field is checked as `registry load` checks it (named by row and column), the result as a
//! whole by the rules of `haoqi registry check`, and the differences from the current registry
//! are shown first: units and accounts added, changed (with the fields), deactivated. Nothing is
//! written unless all of it is valid; then `units.csv` and `accounts.csv` are replaced (written
//! beside, then renamed) in the registry directory.
//!
//! By default the file is the whole list: an account the file leaves out is deactivated (kept,
//! `active = false`, so its history stays), and a unit it leaves out is kept. `--partial` only
//! adds and changes what the file lists.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use haoqi_platform::Platform;
use serde::Serialize;

use super::readings::Problem;
use super::table::{self, column_letter, fold_header, Grid, GridRow, Header};
use super::{ImportError, SourceFile};
use haoqi_registry::check::{self, CheckReport};
use haoqi_registry::{Account, Kind, Origin, Registry, Role, TargetRules, Unit};

/// The columns of the registry spreadsheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegField {
    Seq,
    UnitId,
    Kind,
    UnitName,
    PrefectureCode,
    CountyCode,
    Department,
    Sample,
    UnitNote,
    AccountId,
    Platform,
    PlatformId,
    DisplayName,
    Role,
    Standardised,
    Active,
    AccountNote,
}

impl RegField {
    pub const ALL: [RegField; 17] = [
        RegField::Seq,
        RegField::UnitId,
        RegField::Kind,
        RegField::UnitName,
        RegField::PrefectureCode,
        RegField::CountyCode,
        RegField::Department,
        RegField::Sample,
        RegField::UnitNote,
        RegField::AccountId,
        RegField::Platform,
        RegField::PlatformId,
        RegField::DisplayName,
        RegField::Role,
        RegField::Standardised,
        RegField::Active,
        RegField::AccountNote,
    ];

    /// The header the export and the template write: Chinese, with the registry's column name.
    pub fn label(self) -> String {
        format!("{}（{}）", self.chinese(), self.english())
    }

    pub fn chinese(self) -> &'static str {
        match self {
            RegField::AccountId => "账号编号",
            RegField::PlatformId => "平台账号ID",
            _ => self.synonyms()[0],
        }
    }

    pub fn english(self) -> &'static str {
        match self {
            RegField::Seq => "seq",
            RegField::UnitId => "unit_id",
            RegField::Kind => "kind",
            RegField::UnitName => "name",
            RegField::PrefectureCode => "prefecture_code",
            RegField::CountyCode => "county_code",
            RegField::Department => "department",
            RegField::Sample => "sample",
            RegField::UnitNote => "unit_note",
            RegField::AccountId => "account_id",
            RegField::Platform => "platform",
            RegField::PlatformId => "platform_id",
            RegField::DisplayName => "display_name",
            RegField::Role => "role",
            RegField::Standardised => "standardised",
            RegField::Active => "active",
            RegField::AccountNote => "note",
        }
    }

    fn synonyms(self) -> &'static [&'static str] {
        match self {
            RegField::Seq => &["序号", "no", "#"],
            RegField::UnitId => &["单位编号", "单位id", "单位代码", "unit_id"],
            RegField::Kind => &["单位类型", "类型", "单位类别", "kind"],
            RegField::UnitName => &["单位名称", "单位", "unit_name", "name"],
            RegField::PrefectureCode => {
                &["地州代码", "地州市代码", "所属地州代码", "prefecture_code"]
            }
            RegField::CountyCode => &["县市区代码", "县代码", "所属县市区代码", "county_code"],
            RegField::Department => &["负责部门", "部门", "主管部门", "department"],
            RegField::Sample => &["样例", "样例数据", "sample"],
            RegField::UnitNote => &["单位备注", "unit_note"],
            RegField::AccountId => &["账号编号", "账号id", "account_id"],
            RegField::Platform => &["平台", "platform"],
            RegField::PlatformId => &["平台账号id", "平台id", "平台账号", "platform_id"],
            RegField::DisplayName => &["账号名称", "账号", "display_name", "account_name"],
            RegField::Role => &["角色", "账号角色", "role"],
            RegField::Standardised => &["标准化账号", "标准化", "standardised", "standardized"],
            RegField::Active => &["启用", "在用", "是否启用", "active"],
            RegField::AccountNote => &["账号备注", "备注", "note", "account_note"],
        }
    }

    pub fn from_header(label: &str) -> Option<RegField> {
        let f = fold_header(label);
        RegField::ALL
            .into_iter()
            .find(|x| x.synonyms().contains(&f.as_str()))
    }
}

/// How a changed entity differs: (field, before, after).
pub type FieldChanges = Vec<(String, String, String)>;

/// The difference between the current registry and the imported one.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RegistryDiff {
    pub units_added: Vec<String>,
    pub units_changed: Vec<(String, FieldChanges)>,
    /// Units the file leaves out (kept).
    pub units_not_in_file: Vec<String>,
    pub accounts_added: Vec<String>,
    pub accounts_changed: Vec<(String, FieldChanges)>,
    pub accounts_deactivated: Vec<String>,
    pub units_unchanged: usize,
    pub accounts_unchanged: usize,
}

impl RegistryDiff {
    pub fn is_empty(&self) -> bool {
        self.units_added.is_empty()
            && self.units_changed.is_empty()
            && self.accounts_added.is_empty()
            && self.accounts_changed.is_empty()
            && self.accounts_deactivated.is_empty()
    }
}

/// A registry spreadsheet read and checked, not yet written.
#[derive(Debug, Clone)]
pub struct RegistryPlan {
    pub file: String,
    pub sha256: String,
    pub rows_read: usize,
    pub skipped: BTreeMap<String, Vec<u64>>,
    /// Field problems, by row and column.
    pub problems: Vec<Problem>,
    /// The registry as it would be.
    pub registry: Registry,
    pub diff: RegistryDiff,
    /// `registry check` on the result.
    pub check: CheckReport,
    pub notes: Vec<String>,
}

impl RegistryPlan {
    /// Why it cannot be applied.
    pub fn blocker(&self) -> Option<String> {
        if !self.problems.is_empty() {
            Some(format!(
                "{} problem(s) in the file; nothing was changed",
                self.problems.len()
            ))
        } else if self.check.has_errors() {
            Some(format!(
                "the registry would break {} rule(s) of `haoqi registry check` (errors listed \
                 above); nothing was changed",
                self.check.errors
            ))
        } else {
            None
        }
    }
}

fn parse_bool(t: &str) -> Option<bool> {
    match t.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "是" | "√" => Some(true),
        "false" | "0" | "no" | "n" | "否" | "×" => Some(false),
        _ => None,
    }
}

/// Reads and checks a registry spreadsheet against the current registry.
pub fn plan(
    source: &SourceFile,
    current: &Registry,
    rules: &TargetRules,
    partial: bool,
) -> Result<RegistryPlan, ImportError> {
    let grid: &Grid = &source.grid;
    let file = source.name();
    let header = registry_header(grid, &file)?;
    let mut sheet = SheetReader {
        header: &header,
        problems: Vec::new(),
        units: Vec::new(),
        unit_rows: HashMap::new(),
        accounts: Vec::new(),
        account_rows: HashMap::new(),
    };
    let mut skipped: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut rows_read = 0;
    for row in &grid.rows[header.index + 1..] {
        if let Some(why) = skip_reason(row, &header) {
            skipped.entry(why.into()).or_default().push(row.number);
            continue;
        }
        rows_read += 1;
        let origin = Origin {
            file: source.path.clone(),
            line: row.number,
        };
        sheet.read(row, origin);
    }
    let SheetReader {
        problems,
        units,
        accounts,
        ..
    } = sheet;
    let (registry, diff) = merge(current, units, accounts, partial, &file);
    let check = check::check(&registry, rules);
    let mut notes = grid.notes.clone();
    if partial {
        notes.push("partial: only what the file lists is added or changed".into());
    }
    Ok(RegistryPlan {
        file,
        sha256: source.sha256.clone(),
        rows_read,
        skipped,
        problems,
        registry,
        diff,
        check,
        notes,
    })
}

/// The header row, with every column a registry sheet must have.
fn registry_header(grid: &Grid, file: &str) -> Result<Header<RegField>, ImportError> {
    let header: Header<RegField> = table::find_header(grid, |_, l| RegField::from_header(l))
        .ok_or_else(|| ImportError::Layout {
            file: file.to_string(),
            message: "no header row found: expected columns such as 单位编号（unit_id）, \
                      单位类型（kind）, 单位名称（name）, 账号编号（account_id）, 平台（platform） \
                      (the layout of `haoqi registry export` and `haoqi template registry`)"
                .into(),
        })?;
    let missing: Vec<String> = [
        RegField::UnitId,
        RegField::Kind,
        RegField::UnitName,
        RegField::AccountId,
        RegField::Platform,
        RegField::DisplayName,
    ]
    .into_iter()
    .filter(|f| header.column(*f).is_none())
    .map(RegField::label)
    .collect();
    if !missing.is_empty() {
        return Err(ImportError::Layout {
            file: file.to_string(),
            message: format!(
                "the header (row {}) lacks {}; it has {}",
                grid.rows[header.index].number,
                missing.join(", "),
                header
                    .labels
                    .iter()
                    .filter(|l| !l.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    Ok(header)
}

/// Why a row holds no unit or account: blank, an example row, a repeated header.
fn skip_reason(row: &GridRow, header: &Header<RegField>) -> Option<&'static str> {
    let content = header
        .columns
        .iter()
        .filter(|(_, f)| *f != RegField::Seq)
        .any(|(c, _)| !row.get(*c).is_blank());
    if !content {
        return Some("blank");
    }
    let first = row
        .cells
        .iter()
        .find(|c| !c.is_blank())
        .map(|c| c.text().trim().to_string())
        .unwrap_or_default();
    if ["示例", "例", "example"]
        .iter()
        .any(|w| first.starts_with(w))
    {
        return Some("example");
    }
    let unit_id = header
        .column(RegField::UnitId)
        .map(|c| row.get(c).text().trim().to_string())
        .unwrap_or_default();
    (RegField::from_header(&unit_id) == Some(RegField::UnitId)).then_some("header")
}

/// Reads the sheet's rows into units and accounts: a unit's first row defines it, later rows
/// must agree where they say something; an account appears once.
struct SheetReader<'a> {
    header: &'a Header<RegField>,
    problems: Vec<Problem>,
    units: Vec<Unit>,
    /// Unit id → (index in `units`, the row that defined it).
    unit_rows: HashMap<String, (usize, u64)>,
    accounts: Vec<Account>,
    account_rows: HashMap<String, u64>,
}

impl SheetReader<'_> {
    fn text(&self, row: &GridRow, f: RegField) -> String {
        self.header
            .column(f)
            .map(|c| row.get(c).text().trim().to_string())
            .unwrap_or_default()
    }

    fn fail(&mut self, row: &GridRow, f: RegField, message: String) {
        self.problems.push(Problem {
            row: row.number,
            column: self.header.column(f).map(|c| self.header.describe(c)),
            message,
        });
    }

    fn read(&mut self, row: &GridRow, origin: Origin) {
        let before = self.problems.len();
        let unit_id = self.text(row, RegField::UnitId);
        if unit_id.is_empty() {
            self.fail(row, RegField::UnitId, "is empty".into());
            return;
        }
        self.unit(row, &unit_id, &origin);
        self.account(row, unit_id, origin, before);
    }

    fn code(&mut self, row: &GridRow, f: RegField) -> Option<u32> {
        let t = self.text(row, f);
        if t.is_empty() {
            return None;
        }
        match t.parse::<u32>() {
            Ok(v) => Some(v),
            Err(_) => {
                self.fail(row, f, format!("{t:?} is not a division code (6 digits)"));
                None
            }
        }
    }

    /// A yes/no cell; empty is `default`.
    fn flag(&mut self, row: &GridRow, f: RegField, default: bool) -> bool {
        match self.text(row, f).as_str() {
            "" => default,
            t => parse_bool(t).unwrap_or_else(|| {
                let message = format!("{t:?} is not a yes/no value (是/否, true/false)");
                self.fail(row, f, message);
                default
            }),
        }
    }

    fn unit(&mut self, row: &GridRow, unit_id: &str, origin: &Origin) {
        let kind_text = self.text(row, RegField::Kind);
        let name = self.text(row, RegField::UnitName);
        let prefecture_code = self.code(row, RegField::PrefectureCode);
        let county_code = self.code(row, RegField::CountyCode);
        let sample = self.flag(row, RegField::Sample, false);
        let Some(&(i, first_row)) = self.unit_rows.get(unit_id) else {
            let kind = match kind_text.parse::<Kind>() {
                Ok(k) => Some(k),
                Err(e) => {
                    let message = if kind_text.is_empty() {
                        "is empty".into()
                    } else {
                        format!("{kind_text:?}: {e}")
                    };
                    self.fail(row, RegField::Kind, message);
                    None
                }
            };
            if name.is_empty() {
                self.fail(row, RegField::UnitName, "is empty".into());
            }
            if let (Some(kind), false) = (kind, name.is_empty()) {
                self.unit_rows
                    .insert(unit_id.to_string(), (self.units.len(), row.number));
                let unit = Unit {
                    unit_id: unit_id.to_string(),
                    kind,
                    name,
                    prefecture_code,
                    county_code,
                    department: self.text(row, RegField::Department),
                    sample,
                    note: self.text(row, RegField::UnitNote),
                    origin: origin.clone(),
                };
                self.units.push(unit);
            }
            return;
        };
        let u = &self.units[i];
        let mut differs = Vec::new();
        if !kind_text.is_empty() && kind_text.parse::<Kind>().ok() != Some(u.kind) {
            differs.push(format!("kind {kind_text:?} vs {}", u.kind));
        }
        if !name.is_empty() && name != u.name {
            differs.push(format!("name {name:?} vs {:?}", u.name));
        }
        if prefecture_code.is_some() && prefecture_code != u.prefecture_code {
            differs.push("prefecture_code".into());
        }
        if county_code.is_some() && county_code != u.county_code {
            differs.push("county_code".into());
        }
        if !differs.is_empty() {
            let message = format!(
                "unit {unit_id} is also in row {first_row} with other values ({})",
                differs.join("; ")
            );
            self.fail(row, RegField::UnitId, message);
        }
    }

    /// The row's account, when it has one; `before` is the problem count before this row, so
    /// a row with any problem adds no account.
    fn account(&mut self, row: &GridRow, unit_id: String, origin: Origin, before: usize) {
        let account_id = self.text(row, RegField::AccountId);
        let platform_text = self.text(row, RegField::Platform);
        let display = self.text(row, RegField::DisplayName);
        if account_id.is_empty() {
            if !platform_text.is_empty() || !display.is_empty() {
                self.fail(
                    row,
                    RegField::AccountId,
                    "is empty but the row has an account".into(),
                );
            }
            return;
        }
        if let Some(first_row) = self.account_rows.get(&account_id).copied() {
            self.fail(
                row,
                RegField::AccountId,
                format!("account {account_id} is also in row {first_row}"),
            );
            return;
        }
        let platform = match platform_text.parse::<Platform>() {
            Ok(p) => Some(p),
            Err(e) => {
                let message = if platform_text.is_empty() {
                    "is empty".into()
                } else {
                    e.to_string()
                };
                self.fail(row, RegField::Platform, message);
                None
            }
        };
        if display.is_empty() {
            self.fail(row, RegField::DisplayName, "is empty".into());
        }
        let role_text = self.text(row, RegField::Role);
        let role = if role_text.is_empty() {
            Some(Role::Flexible)
        } else {
            match role_text.parse::<Role>() {
                Ok(r) => Some(r),
                Err(e) => {
                    self.fail(row, RegField::Role, format!("{role_text:?}: {e}"));
                    None
                }
            }
        };
        let standardised = self.flag(row, RegField::Standardised, false);
        let active = self.flag(row, RegField::Active, true);
        if self.problems.len() > before {
            return;
        }
        let (Some(platform), Some(role)) = (platform, role) else {
            return;
        };
        self.account_rows.insert(account_id.clone(), row.number);
        let account = Account {
            account_id,
            unit_id,
            platform,
            platform_id: self.text(row, RegField::PlatformId),
            display_name: display,
            role,
            standardised,
            active,
            note: self.text(row, RegField::AccountNote),
            origin,
        };
        self.accounts.push(account);
    }
}

fn unit_changes(a: &Unit, b: &Unit) -> FieldChanges {
    let opt = |c: Option<u32>| c.map_or(String::new(), |c| c.to_string());
    let mut out = Vec::new();
    let mut cmp = |f: &str, x: String, y: String| {
        if x != y {
            out.push((f.to_string(), x, y));
        }
    };
    cmp("kind", a.kind.to_string(), b.kind.to_string());
    cmp("name", a.name.clone(), b.name.clone());
    cmp(
        "prefecture_code",
        opt(a.prefecture_code),
        opt(b.prefecture_code),
    );
    cmp("county_code", opt(a.county_code), opt(b.county_code));
    cmp("department", a.department.clone(), b.department.clone());
    cmp("sample", a.sample.to_string(), b.sample.to_string());
    cmp("note", a.note.clone(), b.note.clone());
    out
}

fn account_changes(a: &Account, b: &Account) -> FieldChanges {
    let mut out = Vec::new();
    let mut cmp = |f: &str, x: String, y: String| {
        if x != y {
            out.push((f.to_string(), x, y));
        }
    };
    cmp("unit_id", a.unit_id.clone(), b.unit_id.clone());
    cmp("platform", a.platform.to_string(), b.platform.to_string());
    cmp("platform_id", a.platform_id.clone(), b.platform_id.clone());
    cmp(
        "display_name",
        a.display_name.clone(),
        b.display_name.clone(),
    );
    cmp("role", a.role.as_str().into(), b.role.as_str().into());
    cmp(
        "standardised",
        a.standardised.to_string(),
        b.standardised.to_string(),
    );
    cmp("active", a.active.to_string(), b.active.to_string());
    cmp("note", a.note.clone(), b.note.clone());
    out
}

/// The registry after the import: current entities in their order (updated where the file
/// says so), then new ones in the file's order.
fn merge(
    current: &Registry,
    units: Vec<Unit>,
    accounts: Vec<Account>,
    partial: bool,
    file: &str,
) -> (Registry, RegistryDiff) {
    let mut diff = RegistryDiff::default();
    let mut new_units: HashMap<String, Unit> = units
        .iter()
        .map(|u| (u.unit_id.clone(), u.clone()))
        .collect();
    let mut out_units = Vec::new();
    for u in &current.units {
        match new_units.remove(&u.unit_id) {
            Some(n) => {
                let changes = unit_changes(u, &n);
                if changes.is_empty() {
                    diff.units_unchanged += 1;
                    // Keep the current origin so messages point at the registry file.
                    out_units.push(u.clone());
                } else {
                    diff.units_changed.push((u.unit_id.clone(), changes));
                    out_units.push(n);
                }
            }
            None => {
                if !partial {
                    diff.units_not_in_file.push(u.unit_id.clone());
                } else {
                    diff.units_unchanged += 1;
                }
                out_units.push(u.clone());
            }
        }
    }
    for u in units {
        if new_units.contains_key(&u.unit_id) {
            diff.units_added.push(u.unit_id.clone());
            out_units.push(u);
        }
    }
    let mut new_accounts: HashMap<String, Account> = accounts
        .iter()
        .map(|a| (a.account_id.clone(), a.clone()))
        .collect();
    let mut out_accounts = Vec::new();
    for a in &current.accounts {
        match new_accounts.remove(&a.account_id) {
            Some(n) => {
                let changes = account_changes(a, &n);
                if changes.is_empty() {
                    diff.accounts_unchanged += 1;
                    out_accounts.push(a.clone());
                } else {
                    if a.active && !n.active {
                        diff.accounts_deactivated.push(a.account_id.clone());
                    }
                    let others: FieldChanges = changes
                        .into_iter()
                        .filter(|c| c.0 != "active" || n.active)
                        .collect();
                    if !others.is_empty() {
                        diff.accounts_changed.push((a.account_id.clone(), others));
                    }
                    out_accounts.push(n);
                }
            }
            None if !partial && a.active => {
                diff.accounts_deactivated.push(a.account_id.clone());
                let mut kept = a.clone();
                kept.active = false;
                out_accounts.push(kept);
            }
            None => {
                diff.accounts_unchanged += 1;
                out_accounts.push(a.clone());
            }
        }
    }
    for a in accounts {
        if new_accounts.contains_key(&a.account_id) {
            diff.accounts_added.push(a.account_id.clone());
            out_accounts.push(a);
        }
    }
    (
        Registry {
            source: format!("{} + {file}", current.source),
            regions: current.regions.clone(),
            units: out_units,
            accounts: out_accounts,
        },
        diff,
    )
}

/// The registry's units and accounts as the CSV files `registry load` reads.
pub fn registry_csv(registry: &Registry) -> (String, String) {
    let mut u = csv::Writer::from_writer(Vec::new());
    let mut a = csv::Writer::from_writer(Vec::new());
    let opt = |c: Option<u32>| c.map_or(String::new(), |c| c.to_string());
    let b = |x: bool| if x { "true" } else { "false" };
    let mut res = u.write_record(haoqi_registry::UNIT_COLUMNS).and(
        a.write_record(
            haoqi_registry::ACCOUNT_COLUMNS
                .iter()
                .copied()
                .chain(["note"]),
        ),
    );
    for x in &registry.units {
        res = res.and(u.write_record([
            x.unit_id.as_str(),
            x.kind.as_str(),
            x.name.as_str(),
            &opt(x.prefecture_code),
            &opt(x.county_code),
            x.department.as_str(),
            b(x.sample),
            x.note.as_str(),
        ]));
    }
    for x in &registry.accounts {
        res = res.and(a.write_record([
            x.account_id.as_str(),
            x.unit_id.as_str(),
            x.platform.as_str(),
            x.platform_id.as_str(),
            x.display_name.as_str(),
            x.role.as_str(),
            b(x.standardised),
            b(x.active),
            x.note.as_str(),
        ]));
    }
    // Writing into a Vec cannot fail.
    debug_assert!(res.is_ok());
    let text = |w: csv::Writer<Vec<u8>>| {
        w.into_inner()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default()
    };
    (text(u), text(a))
}

/// Writes the planned registry into `dir`: `units.csv` and `accounts.csv` are written beside
/// their final names and renamed into place once both are complete; `regions.csv` is copied
/// from `regions_text` when the directory has none. Returns the files written.
pub fn write_registry(
    plan: &RegistryPlan,
    dir: &Path,
    regions_text: &str,
) -> Result<Vec<PathBuf>, ImportError> {
    if let Some(why) = plan.blocker() {
        return Err(ImportError::Refused(why));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ImportError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let (units, accounts) = registry_csv(&plan.registry);
    let mut staged = Vec::new();
    let regions = dir.join(haoqi_registry::REGIONS_FILE);
    if !regions.exists() {
        staged.push((regions, regions_text.to_string()));
    }
    staged.push((dir.join(haoqi_registry::UNITS_FILE), units));
    staged.push((dir.join(haoqi_registry::ACCOUNTS_FILE), accounts));
    let mut temps = Vec::new();
    for (path, text) in &staged {
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let tmp = dir.join(format!(".{name}.import.tmp"));
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
            f.write_all(text.as_bytes()).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
        }
        temps.push((tmp, path.clone()));
    }
    let mut written = Vec::new();
    for (tmp, path) in temps {
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        written.push(path);
    }
    Ok(written)
}

/// The rows the export and the template write: one per account (a unit without accounts gets
/// one row of its own), unit columns repeated.
pub fn export_rows(registry: &Registry) -> Vec<Vec<String>> {
    let opt = |c: Option<u32>| c.map_or(String::new(), |c| c.to_string());
    let yes = |x: bool| if x { "是" } else { "否" }.to_string();
    let mut rows = Vec::new();
    let mut by_unit: HashMap<&str, Vec<&Account>> = HashMap::new();
    for a in &registry.accounts {
        by_unit.entry(a.unit_id.as_str()).or_default().push(a);
    }
    let mut seq = 0;
    let mut push = |u: &Unit, a: Option<&Account>, rows: &mut Vec<Vec<String>>| {
        seq += 1;
        let mut r = vec![
            seq.to_string(),
            u.unit_id.clone(),
            u.kind.as_str().to_string(),
            u.name.clone(),
            opt(u.prefecture_code),
            opt(u.county_code),
            u.department.clone(),
            yes(u.sample),
            u.note.clone(),
        ];
        match a {
            Some(a) => r.extend([
                a.account_id.clone(),
                a.platform.as_str().to_string(),
                a.platform_id.clone(),
                a.display_name.clone(),
                a.role.as_str().to_string(),
                yes(a.standardised),
                yes(a.active),
                a.note.clone(),
            ]),
            None => r.extend(std::iter::repeat_n(String::new(), 8)),
        }
        rows.push(r);
    };
    for u in &registry.units {
        match by_unit.get(u.unit_id.as_str()) {
            Some(accounts) => {
                for a in accounts {
                    push(u, Some(a), &mut rows);
                }
            }
            None => push(u, None, &mut rows),
        }
    }
    // Accounts whose unit is missing still appear (check reports them).
    rows
}

/// The column headers, in [`export_rows`] order.
pub fn export_header() -> Vec<String> {
    RegField::ALL.iter().map(|f| f.label()).collect()
}

/// The letter of a registry column in the export layout.
pub fn export_column(f: RegField) -> String {
    column_letter(RegField::ALL.iter().position(|x| *x == f).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> SourceFile {
        SourceFile::from_bytes(Path::new("registry.csv"), text.as_bytes(), None).unwrap()
    }

    fn csv_of(registry: &Registry) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(export_header()).unwrap();
        for r in export_rows(registry) {
            w.write_record(r).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn the_export_imports_as_no_change() {
        let r = Registry::reference().unwrap();
        let p = plan(&source(&csv_of(&r)), &r, &TargetRules::default(), false).unwrap();
        assert!(
            p.problems.is_empty(),
            "{:?}",
            &p.problems[..3.min(p.problems.len())]
        );
        assert!(p.diff.is_empty(), "{:?}", p.diff);
        assert!(p.diff.units_not_in_file.is_empty());
        assert_eq!(p.diff.accounts_unchanged, r.accounts.len());
        assert!(p.blocker().is_none());
        let (u, a) = registry_csv(&p.registry);
        let [(_, _), (_, units), (_, accounts)] = Registry::reference_texts();
        assert_eq!(u, units, "units.csv round-trips");
        assert_eq!(a, accounts, "accounts.csv round-trips");
    }

    #[test]
    fn changes_additions_and_deactivations_are_diffed() {
        let r = Registry::reference().unwrap();
        let mut text = csv_of(&r);
        // Rename an account, add a unit with an account, and leave one account out.
        text = text.replacen(",好奇新疆,", ",好奇新疆官方,", 1);
        text.push_str("9999,XJ-E-NEW,enterprise,新疆新企业科协,650100,,企业工作部,否,,XJ-E-NEW-dy,douyin,MS4wNEW,好奇新企业,flexible,是,是,\n");
        let dropped = "XJ-R-650000-ks";
        let text: String = text
            .lines()
            .filter(|l| !l.contains(dropped))
            .map(|l| format!("{l}\n"))
            .collect();
        let p = plan(&source(&text), &r, &TargetRules::default(), false).unwrap();
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.diff.units_added, vec!["XJ-E-NEW".to_string()]);
        assert_eq!(p.diff.accounts_added, vec!["XJ-E-NEW-dy".to_string()]);
        assert_eq!(p.diff.accounts_changed.len(), 1);
        assert_eq!(p.diff.accounts_changed[0].1[0].0, "display_name");
        assert_eq!(p.diff.accounts_deactivated, vec![dropped.to_string()]);
        let kept = p
            .registry
            .accounts
            .iter()
            .find(|a| a.account_id == dropped)
            .unwrap();
        assert!(!kept.active, "left out: kept, inactive");
        // The same file as a partial import does not deactivate.
        let p = plan(&source(&text), &r, &TargetRules::default(), true).unwrap();
        assert!(p.diff.accounts_deactivated.is_empty());
    }

    #[test]
    fn bad_fields_and_broken_rules_are_refused() {
        let r = Registry::reference().unwrap();
        let header = export_header().join(",");
        let text = format!(
            "{header}\n1,XJ-X-1,shop,某单位,650100,,部,否,,XJ-X-1-dy,tiktok,1,好奇某,boss,maybe,是,\n\
             2,XJ-C-650102,county_assoc,天山区科学技术协会,650100,650102,科普部,否,,XJ-C-650102-dy,douyin,1,好奇天山,flexible,是,是,\n\
             3,XJ-C-650102,museum,天山区科学技术协会,650100,650102,科普部,否,,XJ-C-650102-dy,douyin,1,好奇天山,flexible,是,是,\n"
        );
        let p = plan(&source(&text), &r, &TargetRules::default(), true).unwrap();
        let msgs: Vec<String> = p.problems.iter().map(ToString::to_string).collect();
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("row 2, column C (单位类型（kind）)") && m.contains("shop")),
            "{msgs:?}"
        );
        assert!(msgs.iter().any(|m| m.contains("tiktok")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("boss")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("maybe")), "{msgs:?}");
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("row 4") && m.contains("also in row 3")),
            "{msgs:?}"
        );
        assert!(p.blocker().is_some());
        // A county under the wrong prefecture: a rule of `registry check`.
        let text = format!(
            "{header}\n1,XJ-C-650102,county_assoc,天山区科学技术协会,652900,650102,科普部,否,,XJ-C-650102-dy,douyin,1,好奇天山,flexible,是,是,\n"
        );
        let p = plan(&source(&text), &r, &TargetRules::default(), true).unwrap();
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert!(p.check.has_errors());
        assert!(p
            .check
            .findings
            .iter()
            .any(|f| f.rule == "county_wrong_prefecture"));
        assert!(p.blocker().unwrap().contains("registry check"));
    }
}
