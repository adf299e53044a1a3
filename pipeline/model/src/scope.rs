//! Whose accounts a question is about. A login's role gives its scope (a unit sees its own
//! accounts, a prefecture's liaison that prefecture's); the queries take it as a filter, so
//! what a person may not see is never read for them.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "scope", content = "of", rename_all = "snake_case")]
pub enum Scope {
    /// The whole matrix.
    All,
    /// One prefecture's accounts (its division code, e.g. 653100 for 喀什地区).
    Prefecture(u32),
    /// One unit's accounts (its `unit_id`).
    Unit(String),
}

impl Scope {
    /// The query parameters `unit_id` and `prefecture` (empty and 0 mean "any").
    pub fn unit_param(&self) -> &str {
        match self {
            Scope::Unit(u) => u,
            _ => "",
        }
    }

    pub fn prefecture_param(&self) -> u32 {
        match self {
            Scope::Prefecture(p) => *p,
            _ => 0,
        }
    }

    /// Whether an account of `unit_id` in `prefecture` is inside.
    pub fn admits(&self, unit_id: &str, prefecture: Option<u32>) -> bool {
        match self {
            Scope::All => true,
            Scope::Prefecture(p) => prefecture == Some(*p),
            Scope::Unit(u) => u == unit_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_admit_only_their_own() {
        assert!(Scope::All.admits("u1", None));
        assert!(Scope::Prefecture(653100).admits("u1", Some(653100)));
        assert!(!Scope::Prefecture(653100).admits("u1", Some(650100)));
        assert!(!Scope::Prefecture(653100).admits("u1", None));
        assert!(Scope::Unit("u1".into()).admits("u1", Some(1)));
        assert!(!Scope::Unit("u1".into()).admits("u10", Some(1)));
        assert_eq!(Scope::Unit("u1".into()).unit_param(), "u1");
        assert_eq!(Scope::Prefecture(7).prefecture_param(), 7);
        assert_eq!(Scope::All.prefecture_param(), 0);
    }
}
