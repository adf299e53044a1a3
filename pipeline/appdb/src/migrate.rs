//! The schema, versioned by SQLite's `user_version`: each migration runs once, in a transaction
//! with the version bump, so a crash leaves the previous version whole.

use rusqlite::Connection;

use crate::AppDbError;

const MIGRATIONS: &[(&str, &str)] =
    &[("0001_people", include_str!("../migrations/0001_people.sql"))];

pub(crate) fn run(conn: &mut Connection) -> Result<(), AppDbError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if found > known {
        return Err(AppDbError::TooNew { found, known });
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let fail = |cause| AppDbError::Migration { name, cause };
        let tx = conn.transaction().map_err(fail)?;
        tx.execute_batch(sql).map_err(fail)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::AppDb;

    #[test]
    fn reopening_applies_nothing_twice() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.sqlite");
        drop(AppDb::open(&path).expect("first open"));
        let db = AppDb::open(&path).expect("second open");
        let v: i64 = db
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(v, super::MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.sqlite");
        {
            let c = rusqlite::Connection::open(&path).expect("open");
            c.pragma_update(None, "user_version", 99).expect("bump");
        }
        let e = AppDb::open(&path).expect_err("too new");
        assert!(e.to_string().contains("schema version 99"), "{e}");
    }
}
