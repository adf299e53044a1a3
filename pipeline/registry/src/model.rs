//! The registry's typed values: regions, units, accounts, and the vocabulary they use.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use haoqi_platform::Platform;
use serde::Serialize;

/// Where an entity was read from, for messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Origin {
    pub file: PathBuf,
    pub line: u64,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    Region,
    Prefecture,
    County,
    BingtuanGroup,
    BingtuanCity,
}

impl FromStr for RegionLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "region" => RegionLevel::Region,
            "prefecture" => RegionLevel::Prefecture,
            "county" => RegionLevel::County,
            "bingtuan_group" => RegionLevel::BingtuanGroup,
            "bingtuan_city" => RegionLevel::BingtuanCity,
            _ => {
                return Err(
                    "unknown level (expected region, prefecture, county, bingtuan_group, \
                     bingtuan_city)"
                        .into(),
                )
            }
        })
    }
}

impl RegionLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RegionLevel::Region => "region",
            RegionLevel::Prefecture => "prefecture",
            RegionLevel::County => "county",
            RegionLevel::BingtuanGroup => "bingtuan_group",
            RegionLevel::BingtuanCity => "bingtuan_city",
        }
    }
}

/// An administrative division with its 2020 census resident population.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Region {
    pub code: u32,
    pub name: String,
    pub level: RegionLevel,
    pub parent_code: Option<u32>,
    /// Missing stays missing: a target that needs it is reported as unknown.
    pub population_2020: Option<u64>,
    pub source: String,
    #[serde(skip)]
    pub origin: Origin,
}

impl Region {
    /// A population whose source could not be pinned to the 2020 census (see
    /// `shared/data/xinjiang_regions.md`): usable, but flagged wherever it is used.
    pub fn population_verified(&self) -> bool {
        self.population_2020.is_some() && !self.source.trim_start().starts_with("UNVERIFIED")
    }
}

/// The kinds of unit in the matrix (seed 000 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    RegionAssoc,
    PrefectureAssoc,
    CountyAssoc,
    Society,
    University,
    Enterprise,
    Museum,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::RegionAssoc,
        Kind::PrefectureAssoc,
        Kind::CountyAssoc,
        Kind::Society,
        Kind::University,
        Kind::Enterprise,
        Kind::Museum,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::RegionAssoc => "region_assoc",
            Kind::PrefectureAssoc => "prefecture_assoc",
            Kind::CountyAssoc => "county_assoc",
            Kind::Society => "society",
            Kind::University => "university",
            Kind::Enterprise => "enterprise",
            Kind::Museum => "museum",
        }
    }

    pub fn chinese_name(self) -> &'static str {
        match self {
            Kind::RegionAssoc => "自治区科协",
            Kind::PrefectureAssoc => "地州市科协",
            Kind::CountyAssoc => "县市区科协",
            Kind::Society => "自治区学会",
            Kind::University => "高校科协",
            Kind::Enterprise => "企业科协",
            Kind::Museum => "科普场馆",
        }
    }

    pub fn tier(self) -> Tier {
        match self {
            Kind::RegionAssoc | Kind::PrefectureAssoc | Kind::CountyAssoc => Tier::Vertical,
            _ => Tier::Horizontal,
        }
    }

    /// How many units of this kind the plan (seed 000 §3.1–3.2) lists.
    pub fn planned_count(self) -> usize {
        match self {
            Kind::RegionAssoc => 1,
            Kind::PrefectureAssoc => 14,
            Kind::CountyAssoc => 96,
            Kind::Society => 130,
            Kind::University => 37,
            Kind::Enterprise => 387,
            Kind::Museum => 29,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.chinese_name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown kind (expected one of {})",
                    Kind::ALL.map(Kind::as_str).join(", ")
                )
            })
    }
}

/// Kinds grouped for leadership: the vertical chain of associations and the horizontal rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Vertical,
    Horizontal,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Vertical => "vertical",
            Tier::Horizontal => "horizontal",
        }
    }
}

/// An organisation in the matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unit {
    pub unit_id: String,
    pub kind: Kind,
    pub name: String,
    pub prefecture_code: Option<u32>,
    pub county_code: Option<u32>,
    pub department: String,
    /// Part of the generated reference sample, not a real organisation's data.
    pub sample: bool,
    pub note: String,
    #[serde(skip)]
    pub origin: Origin,
}

/// Old account kept as the official channel, or the new one for activities (seed 000 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Official,
    Flexible,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Official => "official",
            Role::Flexible => "flexible",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "official" | "官方账号" => Ok(Role::Official),
            "flexible" | "灵活账号" => Ok(Role::Flexible),
            _ => Err("unknown role (expected official or flexible)".into()),
        }
    }
}

/// One account of a unit on one platform.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    pub account_id: String,
    pub unit_id: String,
    pub platform: Platform,
    pub platform_id: String,
    pub display_name: String,
    pub role: Role,
    /// The unit's standardised account on this platform, the one the naming rule applies to.
    pub standardised: bool,
    pub active: bool,
    pub note: String,
    #[serde(skip)]
    pub origin: Origin,
}
