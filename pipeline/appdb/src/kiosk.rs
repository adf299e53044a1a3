//! Kiosk links: a wall screen opens the read-only wall with a token in its URL instead of a
//! login. An admin creates and revokes them; a revoked link stops working at the next refresh.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde_json::json;

use crate::audit::{record, Actor};
use crate::{from_secs, password, secs, AppDb, AppDbError};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KioskLink {
    pub id: i64,
    pub label: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl AppDb {
    /// A new link labelled `label`; returns it and its token (shown once, not kept).
    pub fn create_kiosk(
        &self,
        label: &str,
        actor: &Actor,
    ) -> Result<(KioskLink, String), AppDbError> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 100 {
            return Err(AppDbError::Invalid(
                "a kiosk link needs a label of 1 to 100 characters (e.g. 三楼大屏)".into(),
            ));
        }
        let token = password::token()?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO kiosk_links (token_hash, label, created_by, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![password::token_hash(&token), label, actor.name, secs(Utc::now())],
        )?;
        let id = tx.last_insert_rowid();
        record(
            &tx,
            actor,
            "kiosk.create",
            &id.to_string(),
            None,
            Some(&json!({"label": label})),
        )?;
        let link = tx.query_row(
            &format!("SELECT {KIOSK_COLUMNS} FROM kiosk_links WHERE id = ?1"),
            [id],
            kiosk_from_row,
        )?;
        tx.commit()?;
        Ok((link, token))
    }

    pub fn revoke_kiosk(&self, id: i64, actor: &Actor) -> Result<(), AppDbError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE kiosk_links SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, secs(Utc::now())],
        )?;
        if n == 0 {
            return Err(AppDbError::Invalid(format!("no open kiosk link {id}")));
        }
        record(&tx, actor, "kiosk.revoke", &id.to_string(), None, None)?;
        tx.commit()?;
        Ok(())
    }

    /// The open link of `token`, if any.
    pub fn kiosk(&self, token: &str) -> Result<Option<KioskLink>, AppDbError> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {KIOSK_COLUMNS} FROM kiosk_links WHERE token_hash = ?1 AND revoked_at IS NULL"
                ),
                [password::token_hash(token)],
                kiosk_from_row,
            )
            .optional()?)
    }

    pub fn kiosks(&self) -> Result<Vec<KioskLink>, AppDbError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {KIOSK_COLUMNS} FROM kiosk_links ORDER BY id"
        ))?;
        let rows = stmt.query_map([], kiosk_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

const KIOSK_COLUMNS: &str = "id, label, created_by, created_at, revoked_at";

fn kiosk_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KioskLink> {
    Ok(KioskLink {
        id: r.get(0)?,
        label: r.get(1)?,
        created_by: r.get(2)?,
        created_at: from_secs(r.get(3)?),
        revoked_at: r.get::<_, Option<i64>>(4)?.map(from_secs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_link_opens_nothing() {
        let db = AppDb::in_memory().expect("db");
        let admin = Actor::new("admin", "127.0.0.1");
        let (link, token) = db.create_kiosk("三楼大屏", &admin).expect("create");
        assert_eq!(db.kiosk(&token).expect("q").map(|l| l.id), Some(link.id));
        assert!(db.kiosk("guess").expect("q").is_none());
        db.revoke_kiosk(link.id, &admin).expect("revoke");
        assert!(db.kiosk(&token).expect("q").is_none());
        assert!(db.revoke_kiosk(link.id, &admin).is_err());
        assert!(db.create_kiosk("  ", &admin).is_err());
        assert_eq!(db.kiosks().expect("list").len(), 1);
    }
}
