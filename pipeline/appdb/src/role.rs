//! The six roles and what each may reach. The web application asks these questions on every
//! request; nothing is granted by hiding a link.

use haoqi_model::scope::Scope;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The province office: everything, users, the registry, the audit log.
    Admin,
    /// Leadership: the wall and all totals.
    Leader,
    /// The subsidy committee: rankings, anomalies and their evidence.
    Committee,
    /// Operations: the health of all accounts and the collectors.
    Ops,
    /// A prefecture's liaison: that prefecture's units and accounts.
    Liaison,
    /// One unit: its own accounts.
    Unit,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Leader,
        Role::Committee,
        Role::Ops,
        Role::Liaison,
        Role::Unit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Leader => "leader",
            Role::Committee => "committee",
            Role::Ops => "ops",
            Role::Liaison => "liaison",
            Role::Unit => "unit",
        }
    }

    pub fn chinese_name(self) -> &'static str {
        match self {
            Role::Admin => "管理员（省办公室）",
            Role::Leader => "领导",
            Role::Committee => "评审委员会",
            Role::Ops => "运维",
            Role::Liaison => "地州联络员",
            Role::Unit => "单位",
        }
    }

    /// Whether the role sees the whole matrix's totals (the wall).
    pub fn sees_totals(self) -> bool {
        matches!(
            self,
            Role::Admin | Role::Leader | Role::Committee | Role::Ops
        )
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a role (one of {})",
                    Role::ALL.map(Role::as_str).join(", ")
                )
            })
    }
}

/// A role with what it is bound to: a unit login's unit, a liaison's prefecture.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Grant {
    pub role: Role,
    pub unit_id: Option<String>,
    pub prefecture: Option<u32>,
}

impl Grant {
    /// Checks that the role has exactly the binding it needs.
    pub fn new(
        role: Role,
        unit_id: Option<String>,
        prefecture: Option<u32>,
    ) -> Result<Self, String> {
        match (role, &unit_id, prefecture) {
            (Role::Unit, Some(u), None) if !u.trim().is_empty() => {}
            (Role::Unit, _, _) => {
                return Err("a unit login needs --unit UNIT_ID (and no --prefecture)".into())
            }
            (Role::Liaison, None, Some(_)) => {}
            (Role::Liaison, _, _) => {
                return Err(
                    "a liaison login needs --prefecture CODE (and no --unit)".into(),
                )
            }
            (_, None, None) => {}
            (r, _, _) => {
                return Err(format!(
                    "a {r} login sees the whole matrix: --unit and --prefecture are for unit and liaison logins"
                ))
            }
        }
        Ok(Grant {
            role,
            unit_id,
            prefecture,
        })
    }

    /// Whose accounts this grant sees.
    pub fn scope(&self) -> Scope {
        match (self.role, &self.unit_id, self.prefecture) {
            (Role::Unit, Some(u), _) => Scope::Unit(u.clone()),
            (Role::Liaison, _, Some(p)) => Scope::Prefecture(p),
            (Role::Unit | Role::Liaison, _, _) => Scope::Unit(String::new()),
            _ => Scope::All,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_are_checked() {
        assert!(Grant::new(Role::Unit, Some("u1".into()), None).is_ok());
        assert!(Grant::new(Role::Unit, None, None).is_err());
        assert!(Grant::new(Role::Unit, Some(" ".into()), None).is_err());
        assert!(Grant::new(Role::Liaison, None, Some(653100)).is_ok());
        assert!(Grant::new(Role::Liaison, Some("u1".into()), Some(1)).is_err());
        assert!(Grant::new(Role::Admin, None, Some(1)).is_err());
        assert!(Grant::new(Role::Leader, None, None).is_ok());
    }

    #[test]
    fn scopes_follow_the_grant() {
        let unit = Grant::new(Role::Unit, Some("u1".into()), None).expect("unit");
        assert_eq!(unit.scope(), Scope::Unit("u1".into()));
        let liaison = Grant::new(Role::Liaison, None, Some(7)).expect("liaison");
        assert_eq!(liaison.scope(), Scope::Prefecture(7));
        assert_eq!(
            Grant::new(Role::Ops, None, None).expect("ops").scope(),
            Scope::All
        );
    }

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
