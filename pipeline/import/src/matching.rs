//! Matching what a person typed (`乌鲁木齐市科协`, `好奇 阿克苏`, `ｇｈ_89d2…`) to the registry:
//! by account id (haoqi's or the platform's), else by account name, else by unit name. Names
//! are compared normalised: full-width folded to half-width, blanks and separators removed,
//! ASCII lower-cased, the reference sample's `（样例）` dropped; an account name matches with or
//! without its `好奇` prefix, and a unit name by its full name, with `科学技术协会` shortened to
//! `科协`, or by its short place name (`阿克苏地区科学技术协会` = `阿克苏地区科协` = `阿克苏科协`).
//!
//! A name that fits several entities is ambiguous; one that fits none is unmatched. Either way
//! the closest registry entries are offered (character-bigram similarity), so the person can fix
//! the spreadsheet.

use std::collections::{HashMap, HashSet};

use haoqi_platform::Platform;
use serde::Serialize;

use haoqi_registry::{naming, Account, Registry, Unit};

use crate::text::fold_width;
use crate::text::is_blank_char;

/// The form names are compared in.
pub fn normalise(s: &str) -> String {
    let folded = fold_width(s);
    let mut out: String = folded
        .chars()
        .filter(|c| {
            !(is_blank_char(*c)
                || matches!(
                    c,
                    '·' | '•'
                        | '・'
                        | '-'
                        | '_'
                        | '—'
                        | '–'
                        | '"'
                        | '\''
                        | '“'
                        | '”'
                        | '「'
                        | '」'
                        | '《'
                        | '》'
                ))
        })
        .collect::<String>()
        .to_lowercase();
    for suffix in ["(样例)", "（样例）"] {
        if let Some(rest) = out.strip_suffix(suffix) {
            out = rest.to_string();
        }
    }
    out
}

/// Keys an account's name is found by: the name, and the name without `好奇`.
fn account_keys(display_name: &str) -> Vec<String> {
    let n = normalise(display_name);
    let mut keys = vec![n.clone()];
    if let Some(rest) = n.strip_prefix("好奇") {
        if !rest.is_empty() {
            keys.push(rest.to_string());
        }
    }
    keys
}

const FULL: &str = "科学技术协会";
const SHORT: &str = "科协";

/// Keys a unit is found by: its name; with 科学技术协会 as 科协; its place (full and short)
/// with 科协; the region's names 新疆科协 / 自治区科协; 自治区… also as 新疆….
fn unit_keys(unit: &Unit) -> Vec<String> {
    let n = normalise(&unit.name);
    let mut keys = vec![n.clone()];
    let abbreviated = n.replace(FULL, SHORT);
    keys.push(abbreviated.clone());
    if let Some(place) = abbreviated.strip_suffix(SHORT) {
        if !place.is_empty() {
            let short = naming::short_place(place);
            keys.push(format!("{short}{SHORT}"));
            for prefix in ["新疆维吾尔自治区", "自治区"] {
                if let Some(rest) = place.strip_prefix(prefix) {
                    keys.push(format!("新疆{rest}{SHORT}"));
                    keys.push(format!("自治区{rest}{SHORT}"));
                }
            }
        }
    }
    for prefix in ["新疆维吾尔自治区", "自治区"] {
        if let Some(rest) = n.strip_prefix(prefix) {
            if !rest.is_empty() {
                keys.push(format!("新疆{rest}"));
                keys.push(format!("自治区{rest}"));
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// A registry entry offered to the person: the closest ones for an unmatched row, all of them
/// for an ambiguous one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub unit_id: String,
    pub unit_name: String,
    pub account_id: Option<String>,
    pub display_name: Option<String>,
    pub platform: Option<Platform>,
}

impl std::fmt::Display for Candidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.account_id, &self.display_name, self.platform) {
            (Some(id), Some(name), Some(p)) => {
                write!(f, "{name} ({p} {id}, {})", self.unit_name)
            }
            _ => write!(f, "{} ({})", self.unit_name, self.unit_id),
        }
    }
}

/// What a row matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Match {
    /// Index into [`Registry::accounts`], and how it was found.
    Account { index: usize, by: MatchedBy },
    Unmatched {
        reason: String,
        candidates: Vec<Candidate>,
    },
    Ambiguous {
        reason: String,
        candidates: Vec<Candidate>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    AccountId,
    PlatformId,
    AccountName,
    UnitName,
}

impl MatchedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::AccountId => "account id",
            MatchedBy::PlatformId => "platform id",
            MatchedBy::AccountName => "account name",
            MatchedBy::UnitName => "unit name",
        }
    }
}

/// What one row says about who it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity<'a> {
    /// haoqi's account id or the platform's (gh_…, sph…, a Bilibili mid).
    pub account_id: Option<&'a str>,
    pub platform_id: Option<&'a str>,
    pub account_name: Option<&'a str>,
    pub unit_name: Option<&'a str>,
    pub platform: Option<Platform>,
}

impl Identity<'_> {
    /// The text shown for the row in reports.
    pub fn label(&self) -> String {
        [
            self.account_name,
            self.unit_name,
            self.account_id,
            self.platform_id,
        ]
        .into_iter()
        .flatten()
        .next()
        .unwrap_or("")
        .to_string()
    }
}

/// The registry, indexed for matching.
pub struct Matcher<'r> {
    registry: &'r Registry,
    by_account_id: HashMap<String, usize>,
    by_platform_id: HashMap<String, Vec<usize>>,
    by_account_name: HashMap<String, Vec<usize>>,
    by_unit_name: HashMap<String, Vec<usize>>,
    /// (key, unit index) for similarity search.
    unit_names: Vec<(String, usize)>,
    account_names: Vec<(String, usize)>,
    units_by_id: HashMap<&'r str, usize>,
}

impl<'r> Matcher<'r> {
    pub fn new(registry: &'r Registry) -> Self {
        let mut m = Matcher {
            registry,
            by_account_id: HashMap::new(),
            by_platform_id: HashMap::new(),
            by_account_name: HashMap::new(),
            by_unit_name: HashMap::new(),
            unit_names: Vec::new(),
            account_names: Vec::new(),
            units_by_id: HashMap::new(),
        };
        for (i, a) in registry.accounts.iter().enumerate() {
            m.by_account_id.insert(normalise(&a.account_id), i);
            if !a.platform_id.is_empty() {
                m.by_platform_id
                    .entry(normalise(&a.platform_id))
                    .or_default()
                    .push(i);
            }
            for k in account_keys(&a.display_name) {
                let v = m.by_account_name.entry(k).or_default();
                if !v.contains(&i) {
                    v.push(i);
                }
            }
            m.account_names.push((normalise(&a.display_name), i));
        }
        for (i, u) in registry.units.iter().enumerate() {
            m.units_by_id.insert(u.unit_id.as_str(), i);
            m.by_unit_name
                .entry(normalise(&u.unit_id))
                .or_default()
                .push(i);
            for k in unit_keys(u) {
                let v = m.by_unit_name.entry(k).or_default();
                if !v.contains(&i) {
                    v.push(i);
                }
            }
            m.unit_names.push((normalise(&u.name), i));
        }
        m
    }

    pub fn account(&self, index: usize) -> &'r Account {
        &self.registry.accounts[index]
    }

    pub fn unit_of(&self, account: &Account) -> Option<&'r Unit> {
        self.units_by_id
            .get(account.unit_id.as_str())
            .map(|i| &self.registry.units[*i])
    }

    fn account_candidate(&self, i: usize) -> Candidate {
        let a = &self.registry.accounts[i];
        Candidate {
            unit_id: a.unit_id.clone(),
            unit_name: self
                .unit_of(a)
                .map_or_else(|| a.unit_id.clone(), |u| u.name.clone()),
            account_id: Some(a.account_id.clone()),
            display_name: Some(a.display_name.clone()),
            platform: Some(a.platform),
        }
    }

    fn unit_candidate(&self, i: usize) -> Candidate {
        let u = &self.registry.units[i];
        Candidate {
            unit_id: u.unit_id.clone(),
            unit_name: u.name.clone(),
            account_id: None,
            display_name: None,
            platform: None,
        }
    }

    /// Keeps the active accounts on `platform` (when known); inactive ones only if nothing
    /// active is left, so that the reason can be given.
    fn on_platform(&self, accounts: &[usize], platform: Option<Platform>) -> Vec<usize> {
        accounts
            .iter()
            .copied()
            .filter(|i| platform.is_none_or(|p| self.registry.accounts[*i].platform == p))
            .collect()
    }

    fn settle(&self, found: Vec<usize>, by: MatchedBy, what: &str) -> Match {
        let active: Vec<usize> = found
            .iter()
            .copied()
            .filter(|i| self.registry.accounts[*i].active)
            .collect();
        match (active.as_slice(), found.as_slice()) {
            ([one], _) => Match::Account { index: *one, by },
            ([], [one]) => Match::Unmatched {
                reason: format!(
                    "{what} is the account {}, which is inactive in the registry",
                    self.registry.accounts[*one].account_id
                ),
                candidates: vec![self.account_candidate(*one)],
            },
            ([], _) => Match::Unmatched {
                reason: format!("{what} fits only inactive accounts"),
                candidates: found.iter().map(|i| self.account_candidate(*i)).collect(),
            },
            (many, _) => Match::Ambiguous {
                reason: format!("{what} fits {} accounts", many.len()),
                candidates: many.iter().map(|i| self.account_candidate(*i)).collect(),
            },
        }
    }

    /// Finds the account a row is about.
    pub fn find(&self, id: &Identity<'_>) -> Match {
        let platform = id.platform;
        let pname = platform.map_or(String::new(), |p| format!(" on {p}"));
        // 1. Account ids: haoqi's first, then the platform's.
        let mut tried: Vec<String> = Vec::new();
        for raw in [id.account_id, id.platform_id].into_iter().flatten() {
            let key = normalise(raw);
            if key.is_empty() {
                continue;
            }
            tried.push(format!("{raw:?}"));
            if let Some(i) = self.by_account_id.get(&key) {
                let a = &self.registry.accounts[*i];
                if platform.is_some_and(|p| p != a.platform) {
                    return Match::Unmatched {
                        reason: format!(
                            "account {} is on {}, not{pname}",
                            a.account_id, a.platform
                        ),
                        candidates: vec![self.account_candidate(*i)],
                    };
                }
                return self.settle(vec![*i], MatchedBy::AccountId, &format!("id {raw:?}"));
            }
            if let Some(found) = self.by_platform_id.get(&key) {
                let found = self.on_platform(found, platform);
                if !found.is_empty() {
                    return self.settle(found, MatchedBy::PlatformId, &format!("id {raw:?}"));
                }
            }
        }
        // An id that fits nothing, and no name to go on.
        if !tried.is_empty() && id.account_name.is_none() && id.unit_name.is_none() {
            return Match::Unmatched {
                reason: format!("no account has the id {}{pname}", tried.join(" or ")),
                candidates: Vec::new(),
            };
        }
        // 2. The account's name; a unit name in the row settles a tie.
        if let Some(name) = id.account_name.filter(|n| !normalise(n).is_empty()) {
            let found = self
                .by_account_name
                .get(&normalise(name))
                .map(|f| self.on_platform(f, platform))
                .unwrap_or_default();
            let found = match (found.len(), id.unit_name) {
                (2.., Some(unit)) => {
                    let units = self.units_named(unit);
                    let narrowed: Vec<usize> = found
                        .iter()
                        .copied()
                        .filter(|i| {
                            units.iter().any(|u| {
                                self.registry.units[*u].unit_id
                                    == self.registry.accounts[*i].unit_id
                            })
                        })
                        .collect();
                    if narrowed.is_empty() {
                        found
                    } else {
                        narrowed
                    }
                }
                _ => found,
            };
            if !found.is_empty() {
                return self.settle(
                    found,
                    MatchedBy::AccountName,
                    &format!("account name {name:?}{pname}"),
                );
            }
            if id.unit_name.is_none() {
                return Match::Unmatched {
                    reason: format!("no account is named {name:?}{pname}"),
                    candidates: self.closest_accounts(name, platform),
                };
            }
        }
        // 3. The unit's name, then its accounts on the platform.
        if let Some(unit) = id.unit_name.filter(|n| !normalise(n).is_empty()) {
            let units = self.units_named(unit);
            if units.is_empty() {
                // A unit column often holds the account's name (乌鲁木齐科协 is both).
                if let Some(found) = self.by_account_name.get(&normalise(unit)) {
                    let found = self.on_platform(found, platform);
                    if !found.is_empty() {
                        return self.settle(
                            found,
                            MatchedBy::AccountName,
                            &format!("name {unit:?}{pname}"),
                        );
                    }
                }
                let mut candidates = self.closest_units(unit);
                if candidates.is_empty() {
                    candidates = self.closest_accounts(unit, platform);
                }
                return Match::Unmatched {
                    reason: format!("no unit is named {unit:?}"),
                    candidates,
                };
            }
            let Some(platform) = platform else {
                return Match::Ambiguous {
                    reason: format!(
                        "unit {unit:?} has an account on each platform; say which platform \
                         (--platform, or a 平台 column)"
                    ),
                    candidates: units.iter().map(|u| self.unit_candidate(*u)).collect(),
                };
            };
            // Among the units the name fits, those with an account on the platform.
            let mut with_accounts: Vec<(usize, Vec<usize>)> = Vec::new();
            for u in &units {
                let unit_id = &self.registry.units[*u].unit_id;
                let accounts: Vec<usize> = self
                    .registry
                    .accounts
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| &a.unit_id == unit_id && a.platform == platform)
                    .map(|(i, _)| i)
                    .collect();
                if !accounts.is_empty() {
                    with_accounts.push((*u, accounts));
                }
            }
            // 克拉玛依科协 fits the city's and the district's association; the city's account
            // is named so.
            if with_accounts.len() > 1 {
                if let Some(index) = self.named_among(unit, &with_accounts) {
                    return self.settle(
                        vec![index],
                        MatchedBy::AccountName,
                        &format!("name {unit:?}{pname}"),
                    );
                }
            }
            return match with_accounts.as_slice() {
                [] if units.len() == 1 => Match::Unmatched {
                    reason: format!(
                        "unit {} ({}) has no {platform} account in the registry",
                        self.registry.units[units[0]].name, self.registry.units[units[0]].unit_id
                    ),
                    candidates: Vec::new(),
                },
                [] => Match::Ambiguous {
                    reason: format!(
                        "unit name {unit:?} fits {} units, none with a {platform} account",
                        units.len()
                    ),
                    candidates: units.iter().map(|u| self.unit_candidate(*u)).collect(),
                },
                [(_, accounts)] => self.settle(
                    accounts.clone(),
                    MatchedBy::UnitName,
                    &format!("unit {unit:?}{pname}"),
                ),
                many => Match::Ambiguous {
                    reason: format!(
                        "unit name {unit:?} fits {} units with a {platform} account",
                        many.len()
                    ),
                    candidates: many
                        .iter()
                        .flat_map(|(_, a)| a.iter().map(|i| self.account_candidate(*i)))
                        .collect(),
                },
            };
        }
        Match::Unmatched {
            reason: "the row names no account or unit".into(),
            candidates: Vec::new(),
        }
    }

    /// The one account, among the units' accounts, whose own name is `name`.
    fn named_among(&self, name: &str, units: &[(usize, Vec<usize>)]) -> Option<usize> {
        let named = self.by_account_name.get(&normalise(name))?;
        let hits: Vec<usize> = units
            .iter()
            .flat_map(|(_, a)| a.iter().copied())
            .filter(|i| named.contains(i))
            .collect();
        match hits.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    fn units_named(&self, name: &str) -> Vec<usize> {
        self.by_unit_name
            .get(&normalise(name))
            .cloned()
            .unwrap_or_default()
    }

    /// The registry units whose names are closest to `name`.
    pub fn closest_units(&self, name: &str) -> Vec<Candidate> {
        let q = normalise(name);
        let mut scored: Vec<(f64, usize)> = self
            .unit_names
            .iter()
            .map(|(k, i)| {
                let short = k.replace(FULL, SHORT);
                (similarity(&q, k).max(similarity(&q, &short)), *i)
            })
            .filter(|(s, _)| *s >= 0.3)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored
            .into_iter()
            .take(3)
            .map(|(_, i)| self.unit_candidate(i))
            .collect()
    }

    /// The registry accounts (on `platform`, when known) whose names are closest to `name`.
    pub fn closest_accounts(&self, name: &str, platform: Option<Platform>) -> Vec<Candidate> {
        let q = normalise(name);
        let q_bare = q.strip_prefix("好奇").unwrap_or(&q).to_string();
        let mut scored: Vec<(f64, usize)> = self
            .account_names
            .iter()
            .filter(|(_, i)| platform.is_none_or(|p| self.registry.accounts[*i].platform == p))
            .map(|(k, i)| {
                let bare = k.strip_prefix("好奇").unwrap_or(k);
                (similarity(&q, k).max(similarity(&q_bare, bare)), *i)
            })
            .filter(|(s, _)| *s >= 0.3)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut seen = HashSet::new();
        scored
            .into_iter()
            .filter(|(_, i)| seen.insert(self.registry.accounts[*i].account_id.clone()))
            .take(3)
            .map(|(_, i)| self.account_candidate(i))
            .collect()
    }
}

/// Dice coefficient over character bigrams (single characters for one-character strings).
pub fn similarity(a: &str, b: &str) -> f64 {
    fn grams(s: &str) -> Vec<(char, char)> {
        let cs: Vec<char> = s.chars().collect();
        match cs.len() {
            0 => Vec::new(),
            1 => vec![(cs[0], ' ')],
            _ => cs.windows(2).map(|w| (w[0], w[1])).collect(),
        }
    }
    let ga = grams(a);
    let mut gb = grams(b);
    if ga.is_empty() || gb.is_empty() {
        return 0.0;
    }
    let total = ga.len() + gb.len();
    let mut common = 0usize;
    for g in &ga {
        if let Some(pos) = gb.iter().position(|x| x == g) {
            gb.swap_remove(pos);
            common += 1;
        }
    }
    2.0 * common as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> Registry {
        Registry::reference().expect("reference registry")
    }

    fn find(m: &Matcher<'_>, id: Identity<'_>) -> Result<String, Match> {
        match m.find(&id) {
            Match::Account { index, .. } => Ok(m.account(index).account_id.clone()),
            other => Err(other),
        }
    }

    #[test]
    fn names_normalise() {
        assert_eq!(normalise("　天山区 科协　"), "天山区科协");
        assert_eq!(normalise("ＧＨ＿８９ｄ２"), "gh89d2");
        assert_eq!(normalise("好奇·阿克苏"), "好奇阿克苏");
        assert_eq!(normalise("自治区地理学会（样例）"), "自治区地理学会");
    }

    #[test]
    fn ids_names_and_units_match() {
        let r = reference();
        let m = Matcher::new(&r);
        let gzh = Some(Platform::WechatOfficial);
        let ok = |id| find(&m, id).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            ok(Identity {
                account_id: Some("XJ-P-650100-gzh"),
                ..Default::default()
            }),
            "XJ-P-650100-gzh"
        );
        assert_eq!(
            ok(Identity {
                platform_id: Some("GH_89D2A55C95C8"),
                ..Default::default()
            }),
            "XJ-P-650100-gzh"
        );
        // A stale haoqi id does not hide a platform id that fits.
        assert_eq!(
            ok(Identity {
                account_id: Some("XJ-OLD-ID"),
                platform_id: Some("GH_89D2A55C95C8"),
                ..Default::default()
            }),
            "XJ-P-650100-gzh"
        );
        match m.find(&Identity {
            account_id: Some("XJ-OLD-ID"),
            platform_id: Some("gh_nothing"),
            ..Default::default()
        }) {
            Match::Unmatched { reason, .. } => assert_eq!(
                reason,
                r#"no account has the id "XJ-OLD-ID" or "gh_nothing""#
            ),
            other => panic!("{other:?}"),
        }
        for unit in [
            "乌鲁木齐市科学技术协会",
            "乌鲁木齐市科协",
            "乌鲁木齐科协",
            "乌鲁木齐 市科协",
            "乌鲁木齐市科协　",
        ] {
            assert_eq!(
                ok(Identity {
                    unit_name: Some(unit),
                    platform: gzh,
                    ..Default::default()
                }),
                "XJ-P-650100-gzh",
                "{unit}"
            );
        }
        // 阿克苏科协 fits the prefecture and the city of 阿克苏; only the prefecture has an
        // official account.
        assert_eq!(
            ok(Identity {
                unit_name: Some("阿克苏科协"),
                platform: gzh,
                ..Default::default()
            }),
            "XJ-P-652900-gzh"
        );
        for name in [
            "好奇阿克苏市",
            "好奇 阿克苏市",
            "好奇·阿克苏市",
            "阿克苏市",
            "ＨＱ",
        ] {
            let got = find(
                &m,
                Identity {
                    account_name: Some(name),
                    platform: Some(Platform::Douyin),
                    ..Default::default()
                },
            );
            if name == "ＨＱ" {
                assert!(got.is_err());
            } else {
                assert_eq!(got.ok().as_deref(), Some("XJ-C-652901-dy"), "{name}");
            }
        }
        assert_eq!(
            ok(Identity {
                account_name: Some("好奇的Ｘ说地理"),
                platform: Some(Platform::Bilibili),
                ..Default::default()
            }),
            "XJ-S-001-bili"
        );
    }

    #[test]
    fn unmatched_and_ambiguous_offer_candidates() {
        let r = reference();
        let m = Matcher::new(&r);
        let e = find(
            &m,
            Identity {
                unit_name: Some("乌鲁木齐市科学协会"),
                platform: Some(Platform::WechatOfficial),
                ..Default::default()
            },
        )
        .unwrap_err();
        let Match::Unmatched { candidates, .. } = e else {
            panic!("{e:?}")
        };
        assert_eq!(candidates[0].unit_id, "XJ-P-650100", "{candidates:?}");
        // Without a platform a unit has several accounts.
        let e = find(
            &m,
            Identity {
                unit_name: Some("天山区科协"),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(matches!(e, Match::Ambiguous { .. }), "{e:?}");
        // A county association has no official account in the reference registry.
        let e = find(
            &m,
            Identity {
                unit_name: Some("天山区科协"),
                platform: Some(Platform::WechatOfficial),
                ..Default::default()
            },
        )
        .unwrap_err();
        let Match::Unmatched { reason, .. } = e else {
            panic!("{e:?}")
        };
        assert!(reason.contains("no wechat_official account"), "{reason}");
    }

    #[test]
    fn similarity_is_a_dice_coefficient() {
        assert!((similarity("阿克苏", "阿克苏") - 1.0).abs() < 1e-9);
        assert!(similarity("阿克苏", "和田") < 0.01);
        assert!(similarity("乌鲁木齐市科协", "乌鲁木齐科协") > 0.6);
    }
}
