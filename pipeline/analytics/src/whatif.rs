//! What-if: "if these accounts reached their targets, where would the goal stand?" A selection
//! is `key=value[,key=value…]` over the registry (all must match); several selections add up.
//! Keys: `kind`, `tier`, `prefecture` (code or name), `county`, `platform`, `unit`, `account`.
//! An assumed account counts at `max(last reading, target)`; one without a computable target
//! cannot be assumed and is counted as such.

use std::str::FromStr;

use serde::Serialize;

use crate::progress::AccountProgress;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SelectionError {
    #[error("--assume {input:?}: {why} (expected key=value[,key=value], keys: kind, tier, prefecture, county, platform, unit, account)")]
    Invalid { input: String, why: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub text: String,
    terms: Vec<(Key, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Key {
    Kind,
    Tier,
    Prefecture,
    County,
    Platform,
    Unit,
    Account,
}

impl FromStr for Selection {
    type Err = SelectionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: String| SelectionError::Invalid {
            input: s.to_string(),
            why,
        };
        let mut terms = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| bad(format!("{part:?} has no '='")))?;
            let key = match k.trim() {
                "kind" => Key::Kind,
                "tier" => Key::Tier,
                "prefecture" => Key::Prefecture,
                "county" => Key::County,
                "platform" => Key::Platform,
                "unit" => Key::Unit,
                "account" => Key::Account,
                other => return Err(bad(format!("unknown key {other:?}"))),
            };
            let v = v.trim();
            if v.is_empty() {
                return Err(bad(format!("{k} has no value")));
            }
            terms.push((key, v.to_string()));
        }
        if terms.is_empty() {
            return Err(bad("empty selection".into()));
        }
        Ok(Selection {
            text: s.to_string(),
            terms,
        })
    }
}

impl Selection {
    pub fn matches(&self, a: &AccountProgress) -> bool {
        let code_or_name = |code: Option<u32>, name: &Option<String>, v: &str| {
            code.is_some_and(|c| c.to_string() == v) || name.as_deref() == Some(v)
        };
        self.terms.iter().all(|(k, v)| match k {
            Key::Kind => a.kind == *v,
            Key::Tier => a.tier == *v,
            Key::Prefecture => code_or_name(a.prefecture_code, &a.prefecture_name, v),
            Key::County => code_or_name(a.county_code, &a.county_name, v),
            Key::Platform => a.platform == *v,
            Key::Unit => a.unit_id == *v || a.unit_name == *v,
            Key::Account => a.account_id == *v,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIf {
    pub assumptions: Vec<String>,
    pub goal: u64,
    /// Accounts matched by any selection.
    pub accounts: usize,
    /// Of those, already at target (by the lower bound) / lifted to their target / without a
    /// computable target (left as they are).
    pub already_at_target: usize,
    pub lifted: usize,
    pub target_unknown: usize,
    pub followers_now: u64,
    pub followers_added: u64,
    pub followers_then: u64,
    pub share_of_goal_now: f64,
    pub share_of_goal_then: f64,
    pub goal_reached_then: bool,
}

/// Applies the selections to the accounts as they stand (their carried-forward last readings).
pub fn what_if(accounts: &[AccountProgress], selections: &[Selection], goal: u64) -> WhatIf {
    let now: u64 = accounts.iter().filter_map(|a| a.followers).sum();
    let mut w = WhatIf {
        assumptions: selections.iter().map(|s| s.text.clone()).collect(),
        goal,
        accounts: 0,
        already_at_target: 0,
        lifted: 0,
        target_unknown: 0,
        followers_now: now,
        followers_added: 0,
        followers_then: now,
        share_of_goal_now: now as f64 / goal.max(1) as f64,
        share_of_goal_then: 0.0,
        goal_reached_then: false,
    };
    for a in accounts
        .iter()
        .filter(|a| selections.iter().any(|s| s.matches(a)))
    {
        w.accounts += 1;
        match a.target {
            None => w.target_unknown += 1,
            Some(_) if a.at_target == Some(true) => w.already_at_target += 1,
            Some(t) => {
                w.lifted += 1;
                w.followers_added += t.saturating_sub(a.followers.unwrap_or(0));
            }
        }
    }
    w.followers_then = now + w.followers_added;
    w.share_of_goal_then = w.followers_then as f64 / goal.max(1) as f64;
    w.goal_reached_then = w.followers_then >= goal;
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(
        id: &str,
        kind: &str,
        pref: u32,
        followers: Option<u64>,
        lo: Option<u64>,
        target: Option<u64>,
    ) -> AccountProgress {
        AccountProgress {
            account_id: id.into(),
            unit_id: format!("u-{id}"),
            unit_name: format!("unit {id}"),
            kind: kind.into(),
            tier: "vertical".into(),
            prefecture_code: Some(pref),
            prefecture_name: Some(format!("pref {pref}")),
            county_code: None,
            county_name: None,
            department: "d".into(),
            platform: "douyin".into(),
            platform_id: "p".into(),
            display_name: "n".into(),
            role: "official".into(),
            standardised: true,
            naming_ok: true,
            target,
            target_basis: String::new(),
            target_verified: true,
            followers,
            followers_lo: lo,
            followers_hi: followers,
            observed_at: None,
            source: None,
            age_hours: None,
            stale: None,
            at_target: match (lo, target) {
                (Some(l), Some(t)) => Some(l >= t),
                _ => None,
            },
            completion: None,
        }
    }

    #[test]
    fn selections_parse_and_refuse_nonsense() {
        assert!("kind=county_assoc,prefecture=652900"
            .parse::<Selection>()
            .is_ok());
        for bad in ["", "kind", "colour=red", "kind="] {
            assert!(bad.parse::<Selection>().is_err(), "{bad}");
        }
    }

    #[test]
    fn assumed_accounts_count_at_their_target() {
        let accounts = vec![
            acct(
                "a",
                "county_assoc",
                652900,
                Some(1_000),
                Some(1_000),
                Some(5_000),
            ),
            // Shown as 2.0万 (lower bound 19,500): not yet certain at 20,000, lifted by 0.
            acct(
                "b",
                "county_assoc",
                652900,
                Some(20_000),
                Some(19_500),
                Some(20_000),
            ),
            acct("c", "county_assoc", 652900, None, None, None),
            acct(
                "d",
                "county_assoc",
                650100,
                Some(100),
                Some(100),
                Some(9_000),
            ),
            acct(
                "e",
                "prefecture_assoc",
                652900,
                Some(9_000),
                Some(9_000),
                Some(8_000),
            ),
        ];
        let sel: Selection = "kind=county_assoc,prefecture=652900".parse().unwrap();
        let w = what_if(&accounts, &[sel], 100_000);
        assert_eq!(
            (w.accounts, w.lifted, w.target_unknown, w.already_at_target),
            (3, 2, 1, 0)
        );
        assert_eq!(w.followers_now, 30_100);
        assert_eq!(w.followers_added, 4_000);
        assert_eq!(w.followers_then, 34_100);
        // Two selections add up; an account at target adds nothing.
        let s2: Selection = "prefecture=pref 652900,kind=prefecture_assoc"
            .parse()
            .unwrap();
        let s1: Selection = "account=d".parse().unwrap();
        let w = what_if(&accounts, &[s1, s2], 100_000);
        assert_eq!(
            (w.accounts, w.already_at_target, w.followers_added),
            (2, 1, 8_900)
        );
    }
}
