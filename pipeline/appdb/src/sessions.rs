//! Logging in and out. A session is a random token in the browser's cookie and its SHA-256
//! here, with a CSRF token of its own; it ends after `idle` without use or `absolute` after the
//! login, whichever comes first. Failed logins are counted per name and per address: too many
//! lock that name (or address) for a while, and say until when.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, OptionalExtension};
use serde_json::json;

use crate::audit::{record, Actor};
use crate::users::{user_from_row, User, USER_COLUMNS};
use crate::{from_secs, password, secs, AppDb, AppDbError};

/// Session lifetimes and login throttling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub idle: Duration,
    pub absolute: Duration,
    /// Failed logins of one name within `lock_for` that lock it.
    pub lock_after: u32,
    pub lock_for: Duration,
    /// Failed logins from one address within `lock_for` that block it (higher: the units of
    /// one government network share an address).
    pub address_limit: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            idle: Duration::hours(2),
            absolute: Duration::hours(12),
            lock_after: 10,
            lock_for: Duration::minutes(15),
            address_limit: 100,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("wrong name or password")]
    Wrong,
    #[error("too many failed logins for this name: locked until {until}")]
    Locked { until: DateTime<Utc> },
    #[error("too many failed logins from this address: blocked until {until}")]
    AddressBlocked { until: DateTime<Utc> },
    #[error("this login is disabled")]
    Disabled,
    #[error(transparent)]
    Db(#[from] AppDbError),
}

impl From<rusqlite::Error> for LoginError {
    fn from(e: rusqlite::Error) -> Self {
        LoginError::Db(AppDbError::Sqlite(e))
    }
}

/// A logged-in session: the user as it is now, and the session's CSRF token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub user: User,
    pub csrf: String,
}

/// A new session: `token` goes into the cookie and is not kept here.
#[derive(Debug, Clone)]
pub struct Login {
    pub token: String,
    pub session: SessionUser,
}

impl AppDb {
    /// Checks `name` and `password` from `address` and opens a session. Every outcome is
    /// audited (`login`, `login.failed`, `login.locked`, `login.disabled`).
    pub fn login(
        &self,
        name: &str,
        password: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<Login, LoginError> {
        let actor = Actor::new(name, address);
        let since = secs(now - self.policy.lock_for);
        let lock_for = self.policy.lock_for;
        let candidate = {
            let conn = self.conn();
            let blocked = |column: &str,
                           value: &str,
                           limit: u32|
             -> rusqlite::Result<Option<i64>> {
                let (n, last): (u32, Option<i64>) = conn.query_row(
                    &format!(
                        "SELECT count(*), max(at) FROM login_failures WHERE {column} = ?1 AND at > ?2"
                    ),
                    params![value, since],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                Ok(last.filter(|_| n >= limit))
            };
            if let Some(last) = blocked("name", name, self.policy.lock_after)? {
                let until = from_secs(last) + lock_for;
                record(&conn, &actor, "login.locked", name, None, None)?;
                return Err(LoginError::Locked { until });
            }
            if let Some(last) = blocked("address", address, self.policy.address_limit)? {
                let until = from_secs(last) + lock_for;
                record(&conn, &actor, "login.blocked", name, None, None)?;
                return Err(LoginError::AddressBlocked { until });
            }
            conn.query_row(
                "SELECT id, password_hash, disabled_at FROM users WHERE name = ?1",
                [name],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                    ))
                },
            )
            .optional()?
        };
        // Verified without the lock: a hash takes tens of milliseconds.
        let matches = match &candidate {
            Some((_, hash, _)) => password::verify(password, hash),
            None => {
                password::verify(password, password::decoy());
                false
            }
        };
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let Some((user_id, _, disabled)) = candidate.filter(|_| matches) else {
            tx.execute(
                "INSERT INTO login_failures (name, address, at) VALUES (?1, ?2, ?3)",
                params![name, address, secs(now)],
            )?;
            record(&tx, &actor, "login.failed", name, None, None)?;
            tx.commit()?;
            return Err(LoginError::Wrong);
        };
        if disabled.is_some() {
            record(&tx, &actor, "login.disabled", name, None, None)?;
            tx.commit()?;
            return Err(LoginError::Disabled);
        }
        let token = password::token()?;
        let csrf = password::token()?;
        tx.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf, address, created_at, last_seen_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![
                password::token_hash(&token),
                user_id,
                csrf,
                address,
                secs(now)
            ],
        )?;
        tx.execute("DELETE FROM login_failures WHERE name = ?1", [name])?;
        // Sessions past their absolute lifetime are swept here rather than by a timer.
        tx.execute(
            "DELETE FROM sessions WHERE created_at <= ?1",
            [secs(now - self.policy.absolute)],
        )?;
        let user = tx.query_row(
            &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1"),
            [user_id],
            user_from_row,
        )?;
        record(
            &tx,
            &actor,
            "login",
            name,
            None,
            Some(&json!({"role": user.grant.role})),
        )?;
        tx.commit()?;
        Ok(Login {
            token,
            session: SessionUser { user, csrf },
        })
    }

    /// The session of cookie `token` if it is still open at `now` (and marks it used).
    pub fn session(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionUser>, AppDbError> {
        let hash = password::token_hash(token);
        let conn = self.conn();
        let found = conn
            .query_row(
                &format!(
                    "SELECT {USER_COLUMNS}, s.csrf, s.created_at, s.last_seen_at FROM sessions s
                     JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1"
                ),
                [&hash],
                |r| {
                    let user = user_from_row(r)?;
                    let csrf: String = r.get(8)?;
                    let created: i64 = r.get(9)?;
                    let seen: i64 = r.get(10)?;
                    Ok((csrf, created, seen, user))
                },
            )
            .optional()?;
        let Some((csrf, created, seen, user)) = found else {
            return Ok(None);
        };
        let now_s = secs(now);
        let expired = now_s >= created + self.policy.absolute.num_seconds()
            || now_s >= seen + self.policy.idle.num_seconds()
            || user.disabled_at.is_some();
        if expired {
            conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [&hash])?;
            return Ok(None);
        }
        // Written at most once a minute: reading a page should not be a write each time.
        if now_s - seen >= 60 {
            conn.execute(
                "UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1",
                params![hash, now_s],
            )?;
        }
        Ok(Some(SessionUser { user, csrf }))
    }

    /// Ends the session of `token` (nothing if it is not open).
    pub fn logout(&self, token: &str, actor: &Actor) -> Result<(), AppDbError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let ended = tx.execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            [password::token_hash(token)],
        )?;
        if ended > 0 {
            record(&tx, actor, "logout", &actor.name, None, None)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Open sessions of `name` (for tests and the admin page).
    pub fn session_count(&self, name: &str) -> Result<i64, AppDbError> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.name = ?1",
            [name],
            |r| r.get(0),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::{Grant, Role};
    use crate::users::NewUser;

    const PW: &str = "a long enough password";

    fn db_with(name: &str) -> AppDb {
        let db = AppDb::in_memory().expect("db");
        db.add_user(
            &NewUser {
                name: name.into(),
                grant: Grant::new(Role::Leader, None, None).expect("grant"),
            },
            PW,
            &Actor::command_line(),
        )
        .expect("add");
        db
    }

    #[test]
    fn a_session_opens_and_ends() {
        let db = db_with("leader");
        let now = Utc::now();
        let login = db.login("leader", PW, "127.0.0.1", now).expect("login");
        let s = db
            .session(&login.token, now)
            .expect("lookup")
            .expect("open");
        assert_eq!(s.user.name, "leader");
        assert_eq!(s.csrf, login.session.csrf);
        assert!(db.session("not the token", now).expect("lookup").is_none());
        db.logout(&login.token, &Actor::new("leader", "127.0.0.1"))
            .expect("logout");
        assert!(db.session(&login.token, now).expect("lookup").is_none());
        let actions: Vec<_> = db
            .audit_log(10, None)
            .expect("log")
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(actions, ["logout", "login", "user.add"]);
    }

    #[test]
    fn sessions_time_out_idle_and_absolutely() {
        let db = db_with("leader");
        let t0 = Utc::now();
        let login = db.login("leader", PW, "a", t0).expect("login");
        let p = db.policy().clone();
        assert!(db.session(&login.token, t0 + p.idle).expect("q").is_none());

        let login = db.login("leader", PW, "a", t0).expect("login");
        // Used every hour, it still ends at the absolute limit.
        let mut t = t0;
        while t + Duration::hours(1) < t0 + p.absolute {
            t += Duration::hours(1);
            assert!(db.session(&login.token, t).expect("q").is_some(), "at {t}");
        }
        assert!(db
            .session(&login.token, t0 + p.absolute)
            .expect("q")
            .is_none());
    }

    #[test]
    fn a_password_change_or_disable_ends_every_session() {
        let db = db_with("leader");
        let now = Utc::now();
        let a = db.login("leader", PW, "a", now).expect("a");
        let b = db.login("leader", PW, "b", now).expect("b");
        assert_eq!(db.session_count("leader").expect("n"), 2);
        db.reset_password("leader", "a new long password", &Actor::command_line())
            .expect("reset");
        assert!(db.session(&a.token, now).expect("q").is_none());
        assert!(db.session(&b.token, now).expect("q").is_none());
        assert!(matches!(
            db.login("leader", PW, "a", now),
            Err(LoginError::Wrong)
        ));
        let c = db
            .login("leader", "a new long password", "a", now)
            .expect("c");
        db.set_disabled("leader", true, &Actor::command_line())
            .expect("disable");
        assert!(db.session(&c.token, now).expect("q").is_none());
        assert!(matches!(
            db.login("leader", "a new long password", "a", now),
            Err(LoginError::Disabled)
        ));
    }

    #[test]
    fn ten_wrong_passwords_lock_the_name_for_a_while() {
        let db = db_with("leader");
        let now = Utc::now();
        for _ in 0..10 {
            assert!(matches!(
                db.login("leader", "wrong password!", "a", now),
                Err(LoginError::Wrong)
            ));
        }
        // Now even the right password is refused, with the time it unlocks.
        match db.login("leader", PW, "b", now) {
            Err(LoginError::Locked { until }) => {
                assert_eq!(until, from_secs(secs(now)) + Duration::minutes(15))
            }
            other => panic!("expected a lock, got {other:?}"),
        }
        let later = now + Duration::minutes(16);
        assert!(db.login("leader", PW, "b", later).is_ok());
        // A success clears the count.
        assert!(matches!(
            db.login("leader", "wrong password!", "a", later),
            Err(LoginError::Wrong)
        ));
        assert!(db.login("leader", PW, "a", later).is_ok());
    }

    #[test]
    fn an_unknown_name_fails_like_a_wrong_password_and_counts_per_address() {
        let db = db_with("leader").with_policy(Policy {
            address_limit: 3,
            ..Policy::default()
        });
        let now = Utc::now();
        for i in 0..3 {
            assert!(matches!(
                db.login(&format!("nobody{i}"), PW, "10.1.1.1", now),
                Err(LoginError::Wrong)
            ));
        }
        assert!(matches!(
            db.login("leader", PW, "10.1.1.1", now),
            Err(LoginError::AddressBlocked { .. })
        ));
        assert!(db.login("leader", PW, "10.1.1.2", now).is_ok());
    }
}
