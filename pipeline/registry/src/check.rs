//! `haoqi registry check`: validates the registry as a whole and reports, rule by rule, what
//! breaks it. Errors are broken data (duplicates, dangling references, a county under the wrong
//! prefecture); warnings are things the association wants to see and fix but that do not stop
//! haoqi from working (a name that breaks the naming rule, a unit without an account on a video
//! platform, a target that cannot be computed).

use std::collections::{BTreeMap, HashMap, HashSet};

use haoqi_platform::Platform;
use serde::Serialize;

use super::{naming, Kind, Origin, RegionLevel, Registry, TargetRules};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// The rules, in report order: (id, severity, what it checks).
pub const RULES: &[(&str, Severity, &str)] = &[
    (
        "duplicate_id",
        Severity::Error,
        "a region code, unit id or account id is used twice",
    ),
    (
        "duplicate_platform_id",
        Severity::Error,
        "two accounts claim the same id on one platform",
    ),
    (
        "unknown_unit",
        Severity::Error,
        "an account's unit does not exist",
    ),
    (
        "unknown_region",
        Severity::Error,
        "a unit's prefecture or county code is not in regions.csv at that level",
    ),
    (
        "county_wrong_prefecture",
        Severity::Error,
        "a unit's county is not under its prefecture",
    ),
    (
        "kind_location",
        Severity::Error,
        "a unit lacks (or has) the prefecture/county its kind requires (or forbids)",
    ),
    (
        "region_data",
        Severity::Error,
        "regions.csv is inconsistent (parents, levels, county sums above the prefecture total)",
    ),
    (
        "naming_rule",
        Severity::Warning,
        "a standardised account's name breaks 好奇XXX / 好奇的X说XX",
    ),
    (
        "missing_platform",
        Severity::Warning,
        "a unit has no active standardised account on one of the four video platforms",
    ),
    (
        "target_unknown",
        Severity::Warning,
        "a unit's per-account target cannot be computed",
    ),
    (
        "population_unverified",
        Severity::Warning,
        "a target rests on a population flagged UNVERIFIED",
    ),
    (
        "plan_counts",
        Severity::Warning,
        "the number of units of a kind differs from the plan",
    ),
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// The unit, account or region concerned.
    pub subject: String,
    /// File and line, when the finding is about one record.
    pub location: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub registry: String,
    pub regions: usize,
    pub units: usize,
    pub accounts: usize,
    pub errors: usize,
    pub warnings: usize,
    /// Findings per rule, every rule listed (0 when clean).
    pub per_rule: BTreeMap<&'static str, usize>,
    pub findings: Vec<Finding>,
}

impl CheckReport {
    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }
}

struct Collector {
    findings: Vec<Finding>,
}

impl Collector {
    fn add(
        &mut self,
        rule: &'static str,
        subject: impl Into<String>,
        at: Option<&Origin>,
        message: String,
    ) {
        let severity = RULES
            .iter()
            .find(|r| r.0 == rule)
            .map_or(Severity::Error, |r| r.1);
        self.findings.push(Finding {
            rule,
            severity,
            subject: subject.into(),
            location: at.map(ToString::to_string),
            message,
        });
    }
}

/// Runs every rule over `registry`.
pub fn check(registry: &Registry, rules: &TargetRules) -> CheckReport {
    let mut c = Collector {
        findings: Vec::new(),
    };
    check_regions(registry, &mut c);
    check_units(registry, rules, &mut c);
    check_accounts(registry, &mut c);

    let mut per_rule: BTreeMap<&'static str, usize> = RULES.iter().map(|r| (r.0, 0)).collect();
    for f in &c.findings {
        *per_rule.entry(f.rule).or_default() += 1;
    }
    let order: HashMap<&str, usize> = RULES.iter().enumerate().map(|(i, r)| (r.0, i)).collect();
    c.findings
        .sort_by_key(|f| (f.severity, order.get(f.rule).copied().unwrap_or(usize::MAX)));
    CheckReport {
        registry: registry.source.clone(),
        regions: registry.regions.len(),
        units: registry.units.len(),
        accounts: registry.accounts.len(),
        errors: c
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count(),
        warnings: c
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count(),
        per_rule,
        findings: c.findings,
    }
}

fn check_regions(registry: &Registry, c: &mut Collector) {
    let mut seen = HashSet::new();
    for r in &registry.regions {
        if !seen.insert(r.code) {
            c.add(
                "duplicate_id",
                r.code.to_string(),
                Some(&r.origin),
                format!("region code {} ({}) appears twice", r.code, r.name),
            );
        }
    }
    let by_code = registry.regions_by_code();
    let mut county_sum: HashMap<u32, (u64, usize)> = HashMap::new();
    for r in &registry.regions {
        let expected_parent = match r.level {
            RegionLevel::Region => None,
            RegionLevel::Prefecture | RegionLevel::BingtuanGroup => Some(RegionLevel::Region),
            RegionLevel::County => Some(RegionLevel::Prefecture),
            RegionLevel::BingtuanCity => Some(RegionLevel::BingtuanGroup),
        };
        match (expected_parent, r.parent_code) {
            (None, None) => {}
            (None, Some(p)) => c.add(
                "region_data",
                r.code.to_string(),
                Some(&r.origin),
                format!("{} is the top level but names parent {p}", r.name),
            ),
            (Some(level), None) => c.add(
                "region_data",
                r.code.to_string(),
                Some(&r.origin),
                format!("{} needs a parent_code (a {})", r.name, level.as_str()),
            ),
            (Some(level), Some(p)) => match by_code.get(&p) {
                Some(parent) if parent.level == level => {
                    if r.level == RegionLevel::County {
                        let e = county_sum.entry(p).or_default();
                        e.0 += r.population_2020.unwrap_or(0);
                        e.1 += 1;
                        // Division codes nest: a county's first four digits are its prefecture's.
                        if r.code / 100 != p / 100 {
                            c.add("region_data", r.code.to_string(), Some(&r.origin), format!("county {} ({}) does not share the code prefix of its parent {p}", r.name, r.code));
                        }
                    }
                }
                Some(parent) => c.add(
                    "region_data",
                    r.code.to_string(),
                    Some(&r.origin),
                    format!(
                        "{}'s parent {p} ({}) is a {}, expected a {}",
                        r.name,
                        parent.name,
                        parent.level.as_str(),
                        level.as_str()
                    ),
                ),
                None => c.add(
                    "region_data",
                    r.code.to_string(),
                    Some(&r.origin),
                    format!("{}'s parent {p} is not in regions.csv", r.name),
                ),
            },
        }
    }
    // County figures may fall short of a prefecture's bulletin total (gaps, XPCC cities inside
    // the total), but can never exceed it.
    for (code, (sum, _)) in &county_sum {
        if let Some(p) = by_code.get(code) {
            if let Some(total) = p.population_2020 {
                if *sum > total {
                    c.add(
                        "region_data",
                        code.to_string(),
                        Some(&p.origin),
                        format!(
                            "the counties of {} add up to {sum}, above its total {total}",
                            p.name
                        ),
                    );
                }
            }
        }
    }
}

fn check_units(registry: &Registry, rules: &TargetRules, c: &mut Collector) {
    let by_code = registry.regions_by_code();
    let mut seen = HashSet::new();
    let mut per_kind: HashMap<Kind, usize> = HashMap::new();
    for u in &registry.units {
        if !seen.insert(u.unit_id.as_str()) {
            c.add(
                "duplicate_id",
                &u.unit_id,
                Some(&u.origin),
                format!("unit id {} appears twice", u.unit_id),
            );
        }
        *per_kind.entry(u.kind).or_default() += 1;
        let (needs_pref, needs_county) = match u.kind {
            Kind::RegionAssoc | Kind::Society => (Some(false), Some(false)),
            Kind::PrefectureAssoc => (Some(true), Some(false)),
            Kind::CountyAssoc => (Some(true), Some(true)),
            // Located in a prefecture; a county is optional.
            Kind::University | Kind::Enterprise | Kind::Museum => (Some(true), None),
        };
        let what = |field: &str, need: bool| {
            if need {
                format!("a {} needs {field}", u.kind)
            } else {
                format!("a {} is region-wide and has no {field}", u.kind)
            }
        };
        if let Some(need) = needs_pref {
            if need != u.prefecture_code.is_some() {
                c.add(
                    "kind_location",
                    &u.unit_id,
                    Some(&u.origin),
                    what("prefecture_code", need),
                );
            }
        }
        if let Some(need) = needs_county {
            if need != u.county_code.is_some() {
                c.add(
                    "kind_location",
                    &u.unit_id,
                    Some(&u.origin),
                    what("county_code", need),
                );
            }
        }
        if let Some(p) = u.prefecture_code {
            if let Err(why) = region_at(&by_code, p, RegionLevel::Prefecture, "prefecture_code") {
                c.add("unknown_region", &u.unit_id, Some(&u.origin), why);
            }
        }
        if let Some(k) = u.county_code {
            match region_at(&by_code, k, RegionLevel::County, "county_code") {
                Err(why) => c.add("unknown_region", &u.unit_id, Some(&u.origin), why),
                Ok(r) if u.prefecture_code.is_some() && r.parent_code != u.prefecture_code => {
                    c.add(
                        "county_wrong_prefecture",
                        &u.unit_id,
                        Some(&u.origin),
                        format!(
                            "county {} ({k}) is under {}, not under prefecture {}",
                            r.name,
                            r.parent_code.map_or("nothing".into(), |x| x.to_string()),
                            u.prefecture_code.map_or(String::new(), |x| x.to_string())
                        ),
                    );
                }
                Ok(_) => {}
            }
        }
        let target = rules.target(registry, u);
        if target.value.is_none() {
            c.add(
                "target_unknown",
                &u.unit_id,
                Some(&u.origin),
                format!("{}: {}", u.name, target.basis),
            );
        } else if !target.verified {
            c.add(
                "population_unverified",
                &u.unit_id,
                Some(&u.origin),
                format!("{}: {}", u.name, target.basis),
            );
        }
    }
    for kind in Kind::ALL {
        let have = per_kind.get(&kind).copied().unwrap_or(0);
        if have != kind.planned_count() {
            c.add(
                "plan_counts",
                kind.as_str(),
                None,
                format!(
                    "{have} {} ({}) registered; the plan lists {}",
                    kind,
                    kind.chinese_name(),
                    kind.planned_count()
                ),
            );
        }
    }
}

/// The region a unit's code names, if it is in the regions file at the level the field needs.
fn region_at<'a>(
    by_code: &HashMap<u32, &'a super::Region>,
    code: u32,
    level: RegionLevel,
    field: &str,
) -> Result<&'a super::Region, String> {
    match by_code.get(&code) {
        Some(r) if r.level == level => Ok(r),
        Some(r) => Err(format!(
            "{field} {code} is {} (a {}), not a {}",
            r.name,
            r.level.as_str(),
            level.as_str()
        )),
        None => Err(format!("{field} {code} is not in regions.csv")),
    }
}

fn check_accounts(registry: &Registry, c: &mut Collector) {
    let units: HashMap<&str, &super::Unit> = registry
        .units
        .iter()
        .map(|u| (u.unit_id.as_str(), u))
        .collect();
    let mut seen = HashSet::new();
    let mut platform_ids: HashMap<(Platform, &str), &str> = HashMap::new();
    for a in &registry.accounts {
        if !seen.insert(a.account_id.as_str()) {
            c.add(
                "duplicate_id",
                &a.account_id,
                Some(&a.origin),
                format!("account id {} appears twice", a.account_id),
            );
        }
        if !a.platform_id.is_empty() {
            if let Some(other) =
                platform_ids.insert((a.platform, a.platform_id.as_str()), a.account_id.as_str())
            {
                c.add(
                    "duplicate_platform_id",
                    &a.account_id,
                    Some(&a.origin),
                    format!(
                        "{} id {} is also account {other}",
                        a.platform, a.platform_id
                    ),
                );
            }
        }
        match units.get(a.unit_id.as_str()) {
            None => c.add(
                "unknown_unit",
                &a.account_id,
                Some(&a.origin),
                format!("unit {} does not exist", a.unit_id),
            ),
            Some(u) => {
                if a.standardised {
                    if let Some(why) = naming::violation(u.kind, &a.display_name) {
                        c.add(
                            "naming_rule",
                            &a.account_id,
                            Some(&a.origin),
                            format!("{} ({} on {}): {why}", a.display_name, u.name, a.platform),
                        );
                    }
                }
            }
        }
    }
    for u in &registry.units {
        for p in Platform::VIDEO {
            let has = registry
                .accounts_of(&u.unit_id)
                .any(|a| a.platform == p && a.standardised && a.active);
            if !has {
                c.add(
                    "missing_platform",
                    &u.unit_id,
                    Some(&u.origin),
                    format!(
                        "{} has no active standardised account on {} ({})",
                        u.name,
                        p,
                        p.chinese_name()
                    ),
                );
            }
        }
    }
}
