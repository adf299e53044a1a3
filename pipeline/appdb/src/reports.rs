//! A unit's reports about its accounts (this one is wrong, this one is missing), queued for
//! the office, which resolves each with a note. Both steps are audited.

use rusqlite::params;
use serde_json::json;

use crate::audit::{record, Actor};
use crate::{from_secs, secs, AppDb, AppDbError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    WrongAccount,
    MissingAccount,
    Other,
}

impl ReportKind {
    pub const ALL: [ReportKind; 3] = [
        ReportKind::WrongAccount,
        ReportKind::MissingAccount,
        ReportKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::WrongAccount => "wrong_account",
            ReportKind::MissingAccount => "missing_account",
            ReportKind::Other => "other",
        }
    }

    pub fn chinese_name(self) -> &'static str {
        match self {
            ReportKind::WrongAccount => "账号有误",
            ReportKind::MissingAccount => "认领缺失账号",
            ReportKind::Other => "其他数据问题",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ReportKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnitReport {
    pub id: i64,
    pub unit_id: String,
    pub kind: ReportKind,
    pub account: String,
    pub text: String,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub resolution: Option<String>,
}

/// Longest free text accepted in a report or a resolution.
pub const MAX_TEXT: usize = 2000;

fn check_text(what: &str, text: &str, max: usize) -> Result<(), AppDbError> {
    if text.chars().count() > max {
        return Err(AppDbError::Invalid(format!(
            "{what} is too long: at most {max} characters"
        )));
    }
    Ok(())
}

impl AppDb {
    pub fn add_report(
        &self,
        unit_id: &str,
        kind: ReportKind,
        account: &str,
        text: &str,
        actor: &Actor,
    ) -> Result<UnitReport, AppDbError> {
        let (account, text) = (account.trim(), text.trim());
        check_text("the account", account, 200)?;
        check_text("the description", text, MAX_TEXT)?;
        if text.is_empty() {
            return Err(AppDbError::Invalid("the description is empty".into()));
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO unit_reports (unit_id, kind, account, text, created_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                unit_id,
                kind.as_str(),
                account,
                text,
                actor.name,
                secs(chrono::Utc::now())
            ],
        )?;
        let id = tx.last_insert_rowid();
        let after = json!({"unit_id": unit_id, "kind": kind, "account": account, "text": text});
        record(
            &tx,
            actor,
            "report.add",
            &id.to_string(),
            None,
            Some(&after),
        )?;
        let report = tx.query_row(
            &format!("SELECT {REPORT_COLUMNS} FROM unit_reports WHERE id = ?1"),
            [id],
            report_from_row,
        )?;
        tx.commit()?;
        Ok(report)
    }

    /// Reports of `unit_id` (all units when None), newest first; only open ones if `open`.
    pub fn reports(
        &self,
        unit_id: Option<&str>,
        open: bool,
    ) -> Result<Vec<UnitReport>, AppDbError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {REPORT_COLUMNS} FROM unit_reports WHERE (?1 IS NULL OR unit_id = ?1)
             AND (?2 = 0 OR resolved_at IS NULL) ORDER BY id DESC LIMIT 500"
        ))?;
        let rows = stmt.query_map(params![unit_id, open], report_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn resolve_report(
        &self,
        id: i64,
        resolution: &str,
        actor: &Actor,
    ) -> Result<(), AppDbError> {
        let resolution = resolution.trim();
        check_text("the resolution", resolution, MAX_TEXT)?;
        if resolution.is_empty() {
            return Err(AppDbError::Invalid(
                "say how the report was resolved".into(),
            ));
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE unit_reports SET resolved_by = ?2, resolved_at = ?3, resolution = ?4
             WHERE id = ?1 AND resolved_at IS NULL",
            params![id, actor.name, secs(chrono::Utc::now()), resolution],
        )?;
        if n == 0 {
            return Err(AppDbError::Invalid(format!("no open report {id}")));
        }
        record(
            &tx,
            actor,
            "report.resolve",
            &id.to_string(),
            None,
            Some(&json!({"resolution": resolution})),
        )?;
        tx.commit()?;
        Ok(())
    }
}

const REPORT_COLUMNS: &str = "id, unit_id, kind, account, text, created_by, created_at, \
     resolved_by, resolved_at, resolution";

fn report_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UnitReport> {
    let kind: String = r.get(2)?;
    // The schema allows only the known kinds: another is a damaged row, said so.
    let kind = ReportKind::parse(&kind).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            2,
            rusqlite::types::Type::Text,
            format!("unknown report kind {kind:?}").into(),
        )
    })?;
    Ok(UnitReport {
        id: r.get(0)?,
        unit_id: r.get(1)?,
        kind,
        account: r.get(3)?,
        text: r.get(4)?,
        created_by: r.get(5)?,
        created_at: from_secs(r.get(6)?),
        resolved_by: r.get(7)?,
        resolved_at: r.get::<_, Option<i64>>(8)?.map(from_secs),
        resolution: r.get(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_queued_and_resolved_once() {
        let db = AppDb::in_memory().expect("db");
        let unit = Actor::new("kashi01", "10.0.0.1");
        let r = db
            .add_report(
                "u1",
                ReportKind::MissingAccount,
                "抖音 12345",
                "我们的抖音号没有列入",
                &unit,
            )
            .expect("add");
        assert!(db
            .add_report("u1", ReportKind::Other, "", "  ", &unit)
            .is_err());
        assert_eq!(db.reports(None, true).expect("open").len(), 1);
        assert!(db.reports(Some("u2"), false).expect("u2").is_empty());
        let admin = Actor::new("admin", "127.0.0.1");
        db.resolve_report(r.id, "已加入名录", &admin)
            .expect("resolve");
        assert!(db.resolve_report(r.id, "again", &admin).is_err());
        assert!(db.reports(None, true).expect("open").is_empty());
        let all = db.reports(Some("u1"), false).expect("all");
        assert_eq!(all[0].resolution.as_deref(), Some("已加入名录"));
        let actions: Vec<_> = db
            .audit_log(5, Some("report"))
            .expect("log")
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(actions, ["report.resolve", "report.add"]);
    }
}
