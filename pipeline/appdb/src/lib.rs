//! haoqi-appdb: the application's own state — users and their roles ([`users`]), sessions and
//! login throttling ([`sessions`]), kiosk links for wall screens ([`kiosk`]) and the append-only
//! audit log ([`audit`]) — in an embedded SQLite database (WAL) beside the store. These need
//! unique constraints and transactions, which ClickHouse does not give; readings and everything
//! analytical stay in the store.
//!
//! Calls are synchronous (SQLite is in-process); an async caller runs them on a blocking thread.
//! Every write that changes what someone may do is audited in the same transaction.
//!
//! Depends on: haoqi-model (for [`haoqi_model::scope::Scope`]).

pub mod acks;
pub mod audit;
mod error;
pub mod kiosk;
mod migrate;
mod password;
pub mod reports;
pub mod role;
pub mod sessions;
pub mod users;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

pub use audit::{Actor, AuditEntry};
pub use error::AppDbError;
pub use role::Role;
pub use sessions::{LoginError, Policy, SessionUser};
pub use users::{NewUser, User};

/// The application database. One connection behind a lock: about a thousand people use one
/// web process, and SQLite serialises writers anyway.
pub struct AppDb {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
    policy: Policy,
}

impl std::fmt::Debug for AppDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppDb").field("path", &self.path).finish()
    }
}

impl AppDb {
    /// Opens (creating it and its directory if needed) the database at `path` and brings its
    /// schema up to date.
    pub fn open(path: &Path) -> Result<Self, AppDbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|cause| AppDbError::Io {
                path: dir.to_path_buf(),
                cause,
            })?;
        }
        let conn = Connection::open(path).map_err(|e| AppDbError::open(path, e))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| AppDbError::open(path, e))?;
        Self::setup(conn, Some(path.to_path_buf()))
    }

    /// A database in memory, for tests.
    pub fn in_memory() -> Result<Self, AppDbError> {
        let conn = Connection::open_in_memory().map_err(AppDbError::Sqlite)?;
        Self::setup(conn, None)
    }

    fn setup(mut conn: Connection, path: Option<PathBuf>) -> Result<Self, AppDbError> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate::run(&mut conn)?;
        Ok(AppDb {
            conn: Mutex::new(conn),
            path,
            policy: Policy::default(),
        })
    }

    /// The same database with other session and throttling limits.
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (every write is a
        // transaction), so the connection is still good.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Copies the database to `dest` with SQLite's online backup, safe while others write.
    pub fn backup(&self, dest: &Path) -> Result<(), AppDbError> {
        let conn = self.conn();
        let mut target = Connection::open(dest).map_err(|e| AppDbError::open(dest, e))?;
        let backup = rusqlite::backup::Backup::new(&conn, &mut target)?;
        backup.run_to_completion(256, std::time::Duration::from_millis(5), None)?;
        Ok(())
    }
}

/// A fresh random token (64 hex characters), e.g. for a form's CSRF field.
pub fn new_token() -> Result<String, AppDbError> {
    password::token()
}

/// Seconds since the Unix epoch for `at`.
fn secs(at: chrono::DateTime<chrono::Utc>) -> i64 {
    at.timestamp()
}

fn from_secs(s: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(s, 0).unwrap_or_default()
}
