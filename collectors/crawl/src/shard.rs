//! `--shard K/N`: each of N collector instances polls a stable, disjoint share of the accounts.
//! Rendezvous hashing (highest random weight): an account belongs to the instance whose
//! hash(account, instance) is largest, so every account has exactly one owner, and adding an
//! instance moves only the accounts it now wins — about 1/N of them.

use std::fmt;
use std::str::FromStr;

use haoqi_platform::hash::{mix, seed_of};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based instance number.
    pub k: u32,
    pub n: u32,
}

impl Shard {
    pub const ALL: Shard = Shard { k: 1, n: 1 };

    /// The instance (1-based) that owns `account_id` among `n`.
    pub fn owner(account_id: &str, n: u32) -> u32 {
        let h = seed_of(account_id);
        (1..=n.max(1))
            .max_by_key(|i| mix(h ^ mix(u64::from(*i))))
            .unwrap_or(1)
    }

    pub fn owns(&self, account_id: &str) -> bool {
        self.n <= 1 || Shard::owner(account_id, self.n) == self.k
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?}: expected K/N, e.g. 2/4"))?;
        let k: u32 = k
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: K is not a number"))?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: N is not a number"))?;
        if n == 0 || k == 0 || k > n {
            return Err(format!("{s:?}: need 1 <= K <= N"));
        }
        Ok(Shard { k, n })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        (0..20_000).map(|i| format!("XJ-E-{i:05}-dy")).collect()
    }

    #[test]
    fn every_account_has_exactly_one_owner_and_shares_are_even() {
        let n = 4;
        let mut counts = [0usize; 4];
        for id in ids() {
            let owners: Vec<u32> = (1..=n).filter(|k| Shard { k: *k, n }.owns(&id)).collect();
            assert_eq!(owners.len(), 1, "{id}");
            counts[(owners[0] - 1) as usize] += 1;
        }
        for c in counts {
            assert!((4_500..5_500).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn adding_an_instance_moves_about_one_in_n() {
        let moved = ids()
            .iter()
            .filter(|id| Shard::owner(id, 4) != Shard::owner(id, 5))
            .count();
        let share = moved as f64 / 20_000.0;
        assert!((0.17..0.23).contains(&share), "{share}");
    }

    #[test]
    fn parsing() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { k: 2, n: 4 }));
        assert!("0/4".parse::<Shard>().is_err());
        assert!("5/4".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }
}
