//! Operations' acknowledgements: "this stalled account is being handled, by whom, and how".
//! Each is kept (the latest per account is the current one), and audited.

use std::collections::HashMap;

use rusqlite::params;
use serde_json::json;

use crate::audit::{record, Actor};
use crate::{from_secs, secs, AppDb, AppDbError};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Acknowledgement {
    pub account_id: String,
    /// The health state it acknowledges (a new state is not acknowledged by an old one).
    pub state: String,
    pub assignee: String,
    pub note: String,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl AppDb {
    pub fn acknowledge(
        &self,
        account_id: &str,
        state: &str,
        assignee: &str,
        note: &str,
        actor: &Actor,
    ) -> Result<(), AppDbError> {
        let (assignee, note) = (assignee.trim(), note.trim());
        if account_id.is_empty() || state.is_empty() {
            return Err(AppDbError::Invalid("which account, in which state?".into()));
        }
        if assignee.chars().count() > 100 || note.chars().count() > 2000 {
            return Err(AppDbError::Invalid(
                "too long: the assignee at most 100 characters, the note at most 2000".into(),
            ));
        }
        if assignee.is_empty() && note.is_empty() {
            return Err(AppDbError::Invalid("say who handles it or how".into()));
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO acknowledgements (account_id, state, assignee, note, created_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![account_id, state, assignee, note, actor.name, secs(chrono::Utc::now())],
        )?;
        let after = json!({"state": state, "assignee": assignee, "note": note});
        record(
            &tx,
            actor,
            "health.acknowledge",
            account_id,
            None,
            Some(&after),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The latest acknowledgement of every account that has one.
    pub fn acknowledgements(&self) -> Result<HashMap<String, Acknowledgement>, AppDbError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT account_id, state, assignee, note, created_by, created_at FROM acknowledgements
             WHERE id IN (SELECT max(id) FROM acknowledgements GROUP BY account_id)",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Acknowledgement {
                account_id: r.get(0)?,
                state: r.get(1)?,
                assignee: r.get(2)?,
                note: r.get(3)?,
                created_by: r.get(4)?,
                created_at: from_secs(r.get(5)?),
            })
        })?;
        let mut out = HashMap::new();
        for a in rows {
            let a = a?;
            out.insert(a.account_id.clone(), a);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_acknowledgement_counts() {
        let db = AppDb::in_memory().expect("db");
        let ops = Actor::new("ops", "127.0.0.1");
        db.acknowledge("a1", "flat", "王工", "已联系", &ops)
            .expect("1");
        db.acknowledge("a1", "gone", "李工", "账号已注销？", &ops)
            .expect("2");
        db.acknowledge("a2", "overdue", "", "采集器重启中", &ops)
            .expect("3");
        assert!(db.acknowledge("a3", "flat", " ", " ", &ops).is_err());
        let acks = db.acknowledgements().expect("acks");
        assert_eq!(acks.len(), 2);
        assert_eq!(acks["a1"].assignee, "李工");
        assert_eq!(acks["a1"].state, "gone");
        assert_eq!(db.audit_log(10, Some("health.")).expect("log").len(), 3);
    }
}
