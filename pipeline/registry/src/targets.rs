//! Per-account follower targets, from the plan (seed 000 §4.1): every account of a prefecture or
//! county association must reach 25 % of its place's resident population; every account of a
//! society, university, enterprise association or museum 20,000. The plan sets no figure for the
//! region's own account, so it is configuration. A target that cannot be computed (the
//! population is unknown) is `None` with the reason, never 0.

use haoqi_model::table::group_thousands;
use serde::{Deserialize, Serialize};

use super::{Kind, Registry, Unit};

/// The rules, from `haoqi.toml` `[targets]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TargetRules {
    /// Share of the resident population, in percent, for prefecture and county associations.
    pub population_percent: u64,
    /// Followers per account for societies, universities, enterprises and museums.
    pub horizontal: u64,
    /// Followers for the region association's account (好奇新疆); none in the plan.
    pub region_assoc: Option<u64>,
}

impl Default for TargetRules {
    fn default() -> Self {
        TargetRules {
            population_percent: 25,
            horizontal: 20_000,
            region_assoc: None,
        }
    }
}

/// A unit's per-account target and how it was derived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub value: Option<u64>,
    /// In words, for reports: "25% of 天山区 652,792 (2020 census)".
    pub basis: String,
    /// False when the population behind it is flagged UNVERIFIED in the regions file.
    pub verified: bool,
}

impl TargetRules {
    pub fn target(&self, registry: &Registry, unit: &Unit) -> Target {
        match unit.kind {
            Kind::RegionAssoc => match self.region_assoc {
                Some(v) => Target {
                    value: Some(v),
                    basis: "configured (targets.region_assoc)".into(),
                    verified: true,
                },
                None => Target {
                    value: None,
                    basis: "not set: the plan gives none; set targets.region_assoc".into(),
                    verified: true,
                },
            },
            Kind::PrefectureAssoc | Kind::CountyAssoc => {
                let code = if unit.kind == Kind::CountyAssoc {
                    unit.county_code
                } else {
                    unit.prefecture_code
                };
                let Some(region) = code.and_then(|c| registry.region(c)) else {
                    return Target {
                        value: None,
                        basis: format!("unknown: region {code:?} is not in the regions file"),
                        verified: false,
                    };
                };
                match region.population_2020 {
                    Some(pop) => Target {
                        // Ceiling: reaching 25 % means followers >= pop / 4.
                        value: Some((pop * self.population_percent).div_ceil(100)),
                        basis: format!(
                            "{}% of {} {} (2020 census){}",
                            self.population_percent,
                            region.name,
                            group_thousands(pop),
                            if region.population_verified() {
                                ""
                            } else {
                                ", population UNVERIFIED"
                            }
                        ),
                        verified: region.population_verified(),
                    },
                    None => Target {
                        value: None,
                        basis: format!(
                            "unknown: the 2020 population of {} ({}) is missing",
                            region.name, region.code
                        ),
                        verified: false,
                    },
                }
            }
            Kind::Society | Kind::University | Kind::Enterprise | Kind::Museum => Target {
                value: Some(self.horizontal),
                basis: format!("{} per account (plan)", group_thousands(self.horizontal)),
                verified: true,
            },
        }
    }
}
