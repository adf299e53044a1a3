//! haoqi-registry: the registry of the matrix: regions (with 2020 census populations), units and their accounts,
//! read from three CSV files in a directory (`regions.csv`, `units.csv`, `accounts.csv`), or the
//! built-in reference registry for the whole matrix as the plan describes it.
//!
//! Loading is all or nothing: every problem in every file is reported (file, line, field) and
//! no partial registry is returned. Loading checks each field; [`check`] then checks the whole
//! (duplicates, references, the naming rule, missing platforms) and reports per rule.
//! [`dimensions`] publishes the registry to the store as the tables every query joins.
//!
//! The reference registry's files sit beside this crate's sources, in `pipeline/registry/`.
//!
//! Depends on: haoqi-model, haoqi-store (for [`dimensions`] only).

pub mod check;
mod csvfile;
pub mod dimensions;
mod model;
pub mod naming;
pub mod reference;
mod targets;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use haoqi_platform::Platform;

pub use csvfile::LoadError;
pub use model::{Account, Kind, Origin, Region, RegionLevel, Role, Tier, Unit};
pub use targets::{Target, TargetRules};

use csvfile::CsvFile;

pub const REGIONS_FILE: &str = "regions.csv";
pub const UNITS_FILE: &str = "units.csv";
pub const ACCOUNTS_FILE: &str = "accounts.csv";

pub const REGION_COLUMNS: &[&str] = &[
    "code",
    "name",
    "level",
    "parent_code",
    "population_2020",
    "source",
];
pub const UNIT_COLUMNS: &[&str] = &[
    "unit_id",
    "kind",
    "name",
    "prefecture_code",
    "county_code",
    "department",
    "sample",
    "note",
];
pub const ACCOUNT_COLUMNS: &[&str] = &[
    "account_id",
    "unit_id",
    "platform",
    "platform_id",
    "display_name",
    "role",
    "standardised",
    "active",
];

/// The reference registry shipped in the binary (the files under `pipeline/registry/`).
pub const REFERENCE_DIR_LABEL: &str = "pipeline/registry (built-in reference)";
const REFERENCE_REGIONS: &str = include_str!("../regions.csv");
const REFERENCE_UNITS: &str = include_str!("../units.csv");
const REFERENCE_ACCOUNTS: &str = include_str!("../accounts.csv");

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("the registry in {dir} has {} problem(s); nothing was loaded:\n{}",
        .errors.len(),
        .errors.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Invalid { dir: String, errors: Vec<LoadError> },
}

/// The whole registry, as loaded.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    /// Where it came from, for messages.
    pub source: String,
    pub regions: Vec<Region>,
    pub units: Vec<Unit>,
    pub accounts: Vec<Account>,
}

impl Registry {
    /// Loads `regions.csv`, `units.csv` and `accounts.csv` from `dir`.
    pub fn load_dir(dir: &Path) -> Result<Registry, RegistryError> {
        let mut errors = Vec::new();
        let mut read = |name: &str| -> Option<(PathBuf, String)> {
            let path = dir.join(name);
            match std::fs::read(&path) {
                Ok(bytes) => match csvfile::decode(&path, &bytes) {
                    Ok(text) => Some((path, text)),
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                },
                Err(e) => {
                    errors.push(LoadError {
                        file: path,
                        line: 0,
                        field: None,
                        message: format!("cannot read: {e}"),
                    });
                    None
                }
            }
        };
        let regions = read(REGIONS_FILE);
        let units = read(UNITS_FILE);
        let accounts = read(ACCOUNTS_FILE);
        let source = dir.display().to_string();
        match (regions, units, accounts) {
            (Some(r), Some(u), Some(a)) if errors.is_empty() => {
                Self::parse(source, (&r.0, &r.1), (&u.0, &u.1), (&a.0, &a.1))
            }
            _ => Err(RegistryError::Invalid {
                dir: source,
                errors,
            }),
        }
    }

    /// The built-in reference registry: the whole matrix as the plan describes it.
    pub fn reference() -> Result<Registry, RegistryError> {
        let dir = Path::new("pipeline/registry");
        Self::parse(
            REFERENCE_DIR_LABEL.to_string(),
            (&dir.join(REGIONS_FILE), REFERENCE_REGIONS),
            (&dir.join(UNITS_FILE), REFERENCE_UNITS),
            (&dir.join(ACCOUNTS_FILE), REFERENCE_ACCOUNTS),
        )
    }

    /// The regions of the built-in reference registry alone (what the reference units are
    /// generated from).
    pub fn reference_regions() -> Result<Vec<Region>, RegistryError> {
        let mut errors = Vec::new();
        let path = Path::new("pipeline/registry").join(REGIONS_FILE);
        let regions = parse_file(
            (&path, REFERENCE_REGIONS),
            REGION_COLUMNS,
            &mut errors,
            parse_region,
        );
        if errors.is_empty() {
            Ok(regions)
        } else {
            Err(RegistryError::Invalid {
                dir: REFERENCE_DIR_LABEL.into(),
                errors,
            })
        }
    }

    /// The text of the built-in reference files: (regions, units, accounts).
    pub fn reference_texts() -> [(&'static str, &'static str); 3] {
        [
            (REGIONS_FILE, REFERENCE_REGIONS),
            (UNITS_FILE, REFERENCE_UNITS),
            (ACCOUNTS_FILE, REFERENCE_ACCOUNTS),
        ]
    }

    /// Loads from `dir`, or the built-in reference when `dir` is `None`.
    pub fn load(dir: Option<&Path>) -> Result<Registry, RegistryError> {
        match dir {
            Some(d) => Self::load_dir(d),
            None => Self::reference(),
        }
    }

    /// Parses the three files' texts.
    pub fn parse(
        source: String,
        regions: (&Path, &str),
        units: (&Path, &str),
        accounts: (&Path, &str),
    ) -> Result<Registry, RegistryError> {
        let mut errors = Vec::new();
        let regions = parse_file(regions, REGION_COLUMNS, &mut errors, parse_region);
        let units = parse_file(units, UNIT_COLUMNS, &mut errors, parse_unit);
        let accounts = parse_file(accounts, ACCOUNT_COLUMNS, &mut errors, parse_account);
        if errors.is_empty() {
            Ok(Registry {
                source,
                regions,
                units,
                accounts,
            })
        } else {
            Err(RegistryError::Invalid {
                dir: source,
                errors,
            })
        }
    }

    pub fn region(&self, code: u32) -> Option<&Region> {
        self.regions.iter().find(|r| r.code == code)
    }

    pub fn regions_by_code(&self) -> HashMap<u32, &Region> {
        self.regions.iter().map(|r| (r.code, r)).collect()
    }

    pub fn unit(&self, unit_id: &str) -> Option<&Unit> {
        self.units.iter().find(|u| u.unit_id == unit_id)
    }

    pub fn accounts_of<'a>(&'a self, unit_id: &'a str) -> impl Iterator<Item = &'a Account> + 'a {
        self.accounts.iter().filter(move |a| a.unit_id == unit_id)
    }

    /// Active accounts on a platform.
    pub fn active_on(&self, platform: Platform) -> impl Iterator<Item = &Account> + '_ {
        self.accounts
            .iter()
            .filter(move |a| a.active && a.platform == platform)
    }
}

fn parse_file<T>(
    (path, text): (&Path, &str),
    columns: &[&str],
    errors: &mut Vec<LoadError>,
    parse: impl Fn(&csvfile::Row<'_>, &mut Vec<LoadError>) -> Option<T>,
) -> Vec<T> {
    match CsvFile::parse(path, text, columns) {
        Ok(file) => file
            .records
            .iter()
            .filter_map(|(line, rec)| parse(&file.row(*line, rec), errors))
            .collect(),
        Err(mut e) => {
            errors.append(&mut e);
            Vec::new()
        }
    }
}

fn origin(row: &csvfile::Row<'_>) -> Origin {
    Origin {
        file: row.path().to_path_buf(),
        line: row.line,
    }
}

fn parse_region(row: &csvfile::Row<'_>, errors: &mut Vec<LoadError>) -> Option<Region> {
    let before = errors.len();
    let code = row.parsed::<u32>("code", errors);
    let name = row.required("name", errors);
    let level = row.parsed::<RegionLevel>("level", errors);
    let parent_code = row.optional::<u32>("parent_code", errors);
    let population_2020 = row.optional::<u64>("population_2020", errors);
    if let Some(c) = code {
        if !(100_000..=999_999).contains(&c) {
            row.fail(
                "code",
                format!("{c} is not a 6-digit division code"),
                errors,
            );
        }
    }
    if errors.len() > before {
        return None;
    }
    Some(Region {
        code: code?,
        name: name?,
        level: level?,
        parent_code,
        population_2020,
        source: row.text("source").to_string(),
        origin: origin(row),
    })
}

fn parse_unit(row: &csvfile::Row<'_>, errors: &mut Vec<LoadError>) -> Option<Unit> {
    let before = errors.len();
    let unit_id = row.required("unit_id", errors);
    let kind = row.parsed::<Kind>("kind", errors);
    let name = row.required("name", errors);
    let prefecture_code = row.optional::<u32>("prefecture_code", errors);
    let county_code = row.optional::<u32>("county_code", errors);
    let sample = row.boolean("sample", false, errors);
    if errors.len() > before {
        return None;
    }
    Some(Unit {
        unit_id: unit_id?,
        kind: kind?,
        name: name?,
        prefecture_code,
        county_code,
        department: row.text("department").to_string(),
        sample,
        note: row.text("note").to_string(),
        origin: origin(row),
    })
}

fn parse_account(row: &csvfile::Row<'_>, errors: &mut Vec<LoadError>) -> Option<Account> {
    let before = errors.len();
    let account_id = row.required("account_id", errors);
    let unit_id = row.required("unit_id", errors);
    let platform = row.parsed::<Platform>("platform", errors);
    let display_name = row.required("display_name", errors);
    let role = row.parsed::<Role>("role", errors);
    let standardised = row.boolean("standardised", false, errors);
    let active = row.boolean("active", true, errors);
    if errors.len() > before {
        return None;
    }
    Some(Account {
        account_id: account_id?,
        unit_id: unit_id?,
        platform: platform?,
        platform_id: row.text("platform_id").to_string(),
        display_name: display_name?,
        role: role?,
        standardised,
        active,
        note: row.text("note").to_string(),
        origin: origin(row),
    })
}

/// Checks on the researched regions table (`shared/data/xinjiang_regions.md` describes it).
#[cfg(test)]
mod region_data_tests {
    use super::*;

    fn regions() -> Vec<Region> {
        Registry::reference_regions().expect("regions")
    }

    #[test]
    fn fourteen_prefectures_and_ninety_six_counties() {
        let r = regions();
        let n = |l| r.iter().filter(|x| x.level == l).count();
        assert_eq!(n(RegionLevel::Region), 1);
        assert_eq!(n(RegionLevel::Prefecture), 14);
        assert_eq!(n(RegionLevel::County), 96);
        assert!(
            r.iter().all(|x| !x.source.is_empty()),
            "every row keeps its source"
        );
    }

    #[test]
    fn every_county_has_a_verified_population() {
        // The NBS county tabulation of the 2020 census (分县资料—2020) fills all 96 counties.
        let r = regions();
        let missing: Vec<&str> = r
            .iter()
            .filter(|x| x.level == RegionLevel::County && x.population_2020.is_none())
            .map(|x| x.name.as_str())
            .collect();
        assert!(missing.is_empty(), "{missing:?}");
        let unverified: Vec<&str> = r
            .iter()
            .filter(|x| x.population_2020.is_some() && !x.population_verified())
            .map(|x| x.name.as_str())
            .collect();
        assert!(unverified.is_empty(), "{unverified:?}");
        let zepu = r
            .iter()
            .find(|x| x.name == "泽普县")
            .and_then(|x| x.population_2020);
        assert_eq!(zepu, Some(214_543));
    }

    #[test]
    fn census_totals_add_up() {
        let r = regions();
        let pop = |code: u32| {
            r.iter()
                .find(|x| x.code == code)
                .and_then(|x| x.population_2020)
        };
        let prefectures: u64 = r
            .iter()
            .filter(|x| x.level == RegionLevel::Prefecture)
            .filter_map(|x| x.population_2020)
            .sum();
        // 14 prefectures + the XPCC group (659000) = the region's census total.
        assert_eq!(Some(prefectures + pop(659000).unwrap_or(0)), pop(650000));
        // Per prefecture the counties sum to the bulletin's total, or fall short by exactly the
        // one XPCC city set up after 2010 inside it: the bulletin counts those cities, the county
        // tabulation does not (data note, "Sum checks").
        let xpcc: Vec<u64> = r
            .iter()
            .filter(|x| x.parent_code == Some(659000))
            .filter_map(|x| x.population_2020)
            .collect();
        let mut exact = 0;
        for p in r.iter().filter(|x| x.level == RegionLevel::Prefecture) {
            let counties: u64 = r
                .iter()
                .filter(|x| x.level == RegionLevel::County && x.parent_code == Some(p.code))
                .filter_map(|x| x.population_2020)
                .sum();
            let total = p.population_2020.unwrap_or(0);
            let residual = total.checked_sub(counties);
            assert!(
                residual == Some(0) || residual.is_some_and(|d| xpcc.contains(&d)),
                "{}: counties {counties} against {total}",
                p.name
            );
            exact += usize::from(residual == Some(0));
        }
        assert_eq!(
            exact, 8,
            "prefectures without a newer XPCC city add up exactly"
        );
    }

    #[test]
    fn the_researched_table_is_copied_unchanged() {
        let shared =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/xinjiang_regions.csv");
        // The shared folder sits beside the repository in development and CI.
        if let Ok(text) = std::fs::read_to_string(&shared) {
            assert_eq!(
                text,
                REFERENCE_REGIONS,
                "pipeline/registry/regions.csv differs from {}",
                shared.display()
            );
        }
    }
}
