//! The audit log: who did what, when, from where, with the state before and after. Append-only:
//! triggers refuse every UPDATE and DELETE, so not even the application can rewrite it.

use rusqlite::{params, Connection};

use crate::{from_secs, secs, AppDb, AppDbError};

/// Who is acting: a login's name or `cli:<user>`, and the address it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub address: String,
}

impl Actor {
    pub fn new(name: impl Into<String>, address: impl Into<String>) -> Self {
        Actor {
            name: name.into(),
            address: address.into(),
        }
    }

    /// Someone at this machine's command line (`$USER`, or `cli`).
    pub fn command_line() -> Self {
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        Actor::new(format!("cli:{user}"), "local")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub address: String,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Appends one entry inside the caller's transaction, so the write and its record commit or
/// fail together.
pub(crate) fn record(
    conn: &Connection,
    actor: &Actor,
    action: &str,
    target: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Result<(), AppDbError> {
    conn.execute(
        "INSERT INTO audit (at, actor, address, action, target, before, after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            secs(chrono::Utc::now()),
            actor.name,
            actor.address,
            action,
            target,
            before.map(|v| v.to_string()),
            after.map(|v| v.to_string()),
        ],
    )?;
    Ok(())
}

impl AppDb {
    /// Records an action that has no other write of its own here (a login, an export).
    pub fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        after: Option<&serde_json::Value>,
    ) -> Result<(), AppDbError> {
        record(&self.conn(), actor, action, target, None, after)
    }

    /// How many entries the log holds.
    pub fn audit_count(&self) -> Result<i64, AppDbError> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))?)
    }

    /// The newest `limit` entries, newest first, optionally only those whose action starts
    /// with `action_prefix`.
    pub fn audit_log(
        &self,
        limit: usize,
        action_prefix: Option<&str>,
    ) -> Result<Vec<AuditEntry>, AppDbError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, at, actor, address, action, target, before, after FROM audit
             WHERE (?1 IS NULL OR substr(action, 1, length(?1)) = ?1)
             ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![action_prefix, limit as i64], |r| {
            Ok(AuditEntry {
                id: r.get(0)?,
                at: from_secs(r.get(1)?),
                actor: r.get(2)?,
                address: r.get(3)?,
                action: r.get(4)?,
                target: r.get(5)?,
                before: r.get(6)?,
                after: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_cannot_be_rewritten() {
        let db = AppDb::in_memory().expect("db");
        let me = Actor::new("admin", "127.0.0.1");
        db.audit(&me, "export", "audit", None).expect("append");
        let conn = db.conn();
        let upd = conn.execute("UPDATE audit SET actor = 'someone else'", []);
        assert!(upd.expect_err("update").to_string().contains("append-only"));
        let del = conn.execute("DELETE FROM audit", []);
        assert!(del.expect_err("delete").to_string().contains("append-only"));
        drop(conn);
        let log = db.audit_log(10, None).expect("log");
        assert_eq!(log.len(), 1);
        assert_eq!(db.audit_count().expect("count"), 1);
        assert_eq!(log[0].actor, "admin");
        assert_eq!(log[0].address, "127.0.0.1");
    }

    #[test]
    fn the_log_filters_by_action() {
        let db = AppDb::in_memory().expect("db");
        let me = Actor::command_line();
        db.audit(&me, "login", "a", None).expect("1");
        db.audit(&me, "login.failed", "b", None).expect("2");
        db.audit(&me, "user.add", "c", None).expect("3");
        let logins = db.audit_log(10, Some("login")).expect("log");
        assert_eq!(
            logins.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(),
            ["b", "a"]
        );
    }
}
