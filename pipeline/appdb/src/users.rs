//! Logins: a name, a role with its binding, an argon2id hash. Disabling a user or changing its
//! password ends all of its sessions in the same transaction.

use rusqlite::{params, OptionalExtension, Row};
use serde_json::json;

use crate::audit::{record, Actor};
use crate::role::{Grant, Role};
use crate::{from_secs, password, secs, AppDb, AppDbError};

#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub grant: Grant,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    #[serde(flatten)]
    pub grant: Grant,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub password_changed_at: chrono::DateTime<chrono::Utc>,
    pub disabled_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A user's columns, in the order [`user_from_row`] reads them from the start of a row; `u` is
/// the `users` table (other tables joined to it share column names such as `created_at`).
pub(crate) const USER_COLUMNS: &str = "u.id, u.name, u.role, u.unit_id, u.prefecture, \
     u.created_at, u.password_changed_at, u.disabled_at";

pub(crate) fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(2)?;
    let role = role.parse::<Role>().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into())
    })?;
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        grant: Grant {
            role,
            unit_id: r.get(3)?,
            prefecture: r.get(4)?,
        },
        created_at: from_secs(r.get(5)?),
        password_changed_at: from_secs(r.get(6)?),
        disabled_at: r.get::<_, Option<i64>>(7)?.map(from_secs),
    })
}

/// A login name: 2 to 64 characters, no white space or control characters (Chinese is fine).
fn check_name(name: &str) -> Result<(), AppDbError> {
    let n = name.chars().count();
    if !(2..=64).contains(&n) || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppDbError::Invalid(format!(
            "{name:?} is not a login name: 2 to 64 characters without spaces"
        )));
    }
    Ok(())
}

fn summary(u: &User) -> serde_json::Value {
    json!({
        "role": u.grant.role,
        "unit_id": u.grant.unit_id,
        "prefecture": u.grant.prefecture,
        "disabled": u.disabled_at.is_some(),
    })
}

impl AppDb {
    pub fn add_user(
        &self,
        new: &NewUser,
        password: &str,
        actor: &Actor,
    ) -> Result<User, AppDbError> {
        check_name(&new.name)?;
        password::check_strength(password)?;
        let hash = password::hash(password)?;
        let now = secs(chrono::Utc::now());
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let inserted = tx.execute(
            "INSERT INTO users (name, role, unit_id, prefecture, password_hash, created_at,
                                password_changed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            params![
                new.name,
                new.grant.role.as_str(),
                new.grant.unit_id,
                new.grant.prefecture,
                hash,
                now
            ],
        );
        match inserted {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(AppDbError::UserExists(new.name.clone()))
            }
            other => other?,
        };
        let user = tx.query_row(
            &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = last_insert_rowid()"),
            [],
            user_from_row,
        )?;
        record(
            &tx,
            actor,
            "user.add",
            &user.name,
            None,
            Some(&summary(&user)),
        )?;
        tx.commit()?;
        Ok(user)
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>, AppDbError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {USER_COLUMNS} FROM users u ORDER BY u.name COLLATE NOCASE"
        ))?;
        let rows = stmt.query_map([], user_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn user(&self, name: &str) -> Result<Option<User>, AppDbError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.name = ?1"),
                [name],
                user_from_row,
            )
            .optional()?)
    }

    /// Disables `name` (or enables it again) and ends its sessions.
    pub fn set_disabled(
        &self,
        name: &str,
        disabled: bool,
        actor: &Actor,
    ) -> Result<User, AppDbError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let before = tx
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.name = ?1"),
                [name],
                user_from_row,
            )
            .optional()?
            .ok_or_else(|| AppDbError::NoSuchUser(name.to_string()))?;
        let at = disabled.then(|| secs(chrono::Utc::now()));
        tx.execute(
            "UPDATE users SET disabled_at = ?2 WHERE id = ?1",
            params![before.id, at],
        )?;
        tx.execute("DELETE FROM sessions WHERE user_id = ?1", [before.id])?;
        let after = tx.query_row(
            &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1"),
            [before.id],
            user_from_row,
        )?;
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        record(
            &tx,
            actor,
            action,
            name,
            Some(&summary(&before)),
            Some(&summary(&after)),
        )?;
        tx.commit()?;
        Ok(after)
    }

    /// Sets a new password for `name` and ends all of its sessions.
    pub fn reset_password(
        &self,
        name: &str,
        password: &str,
        actor: &Actor,
    ) -> Result<(), AppDbError> {
        password::check_strength(password)?;
        let hash = password::hash(password)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let id: i64 = tx
            .query_row("SELECT id FROM users u WHERE u.name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| AppDbError::NoSuchUser(name.to_string()))?;
        tx.execute(
            "UPDATE users SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1",
            params![id, hash, secs(chrono::Utc::now())],
        )?;
        let ended = tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
        // The password itself, or its hash, never goes into the log.
        record(
            &tx,
            actor,
            "user.reset_password",
            name,
            None,
            Some(&json!({ "sessions_ended": ended })),
        )?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn unit_user(db: &AppDb, name: &str, unit: &str) -> User {
        db.add_user(
            &NewUser {
                name: name.into(),
                grant: Grant::new(Role::Unit, Some(unit.into()), None).expect("grant"),
            },
            "a long enough password",
            &Actor::command_line(),
        )
        .expect("add")
    }

    #[test]
    fn names_are_unique_regardless_of_case() {
        let db = AppDb::in_memory().expect("db");
        unit_user(&db, "Kashi01", "u1");
        let again = db.add_user(
            &NewUser {
                name: "kashi01".into(),
                grant: Grant::new(Role::Leader, None, None).expect("grant"),
            },
            "a long enough password",
            &Actor::command_line(),
        );
        assert!(matches!(again, Err(AppDbError::UserExists(_))), "{again:?}");
        assert_eq!(db.users().expect("users").len(), 1);
    }

    #[test]
    fn the_schema_refuses_a_unit_login_without_its_unit() {
        let db = AppDb::in_memory().expect("db");
        let bad = db.conn().execute(
            "INSERT INTO users (name, role, password_hash, created_at, password_changed_at)
             VALUES ('x', 'unit', 'h', 0, 0)",
            [],
        );
        assert!(bad.is_err());
    }

    #[test]
    fn writes_are_audited_without_the_password() {
        let db = AppDb::in_memory().expect("db");
        unit_user(&db, "kashi01", "u1");
        db.reset_password("kashi01", "another long password", &Actor::command_line())
            .expect("reset");
        db.set_disabled("kashi01", true, &Actor::new("admin", "10.0.0.1"))
            .expect("disable");
        let log = db.audit_log(10, None).expect("log");
        let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["user.disable", "user.reset_password", "user.add"]);
        assert!(log[0]
            .before
            .as_deref()
            .is_some_and(|b| b.contains("\"disabled\":false")));
        assert!(log[0]
            .after
            .as_deref()
            .is_some_and(|a| a.contains("\"disabled\":true")));
        for e in &log {
            let text = format!("{e:?}");
            assert!(!text.contains("another long password") && !text.contains("argon2"));
        }
        assert!(matches!(
            db.reset_password("nobody", "another long password", &Actor::command_line()),
            Err(AppDbError::NoSuchUser(_))
        ));
    }
}
