//! haoqi-store: ClickHouse, reached either in-process (chDB, [`embedded`]) or over HTTP
//! ([`server`]). Both backends run the same SQL text from `pipeline/store/sql/`, rendered by
//! [`sql`]; nothing above this crate knows which one it talks to. Migrations ([`migrate`]), the
//! cluster DDL ([`cluster`]) and the on-disk spool that keeps batches while the store is away
//! ([`spool`]) live here too.
//!
//! Depends on: haoqi-model. Used by every crate above it.
//!
//! ```text
//! --store embedded:./data/haoqi          (default)
//! --store http://haoqi@ch.example:8123/haoqi   (password from HAOQI_CLICKHOUSE_PASSWORD)
//! ```

pub mod backup;
pub mod check;
pub mod cluster;
mod embedded;
pub mod journal;
pub mod location;
pub mod migrate;
mod server;
pub mod spool;
pub mod sql;

use std::path::PathBuf;

use async_trait::async_trait;
use serde::de::DeserializeOwned;

pub use embedded::EmbeddedStore;
pub use location::StoreLocation;
pub use server::ServerStore;

/// One result row, as ClickHouse's `JSONEachRow` writes it.
pub type Row = serde_json::Map<String, serde_json::Value>;
pub type Rows = Vec<Row>;

/// Errors of the store layer. [`StoreError::is_retryable`] says whether a batch that failed with
/// it should be spooled and tried again (the store is away) or rejected (the data is wrong).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "libchdb.so (the embedded ClickHouse engine) was not found; install it with `{hint}` \
         or point {env} at the file. Looked in: {}",
        .searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        hint = embedded::INSTALL_HINT,
        env = embedded::LIBCHDB_ENV
    )]
    LibraryMissing { searched: Vec<PathBuf> },
    #[error(
        "the data directory {} is in use by another haoqi process ({holder}); stop it, or use \
         another --store path",
        .path.display()
    )]
    Locked { path: PathBuf, holder: String },
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("ClickHouse error {code}: {message}")]
    Query { code: u32, message: String },
    #[error("cannot read the store's answer: {0}")]
    Decode(String),
    #[error("store configuration: {0}")]
    Config(String),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    /// Whether the failure is the store being away (retry later, spool meanwhile) rather than
    /// the statement or the data being wrong (retrying would fail the same way).
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) | StoreError::Io { .. } => true,
            // Codes from ClickHouse's ErrorCodes.cpp that mean "not now": TIMEOUT_EXCEEDED (159),
            // TOO_MANY_SIMULTANEOUS_QUERIES (202), SOCKET_TIMEOUT (209), NETWORK_ERROR (210),
            // TOO_MANY_PARTS (252), ALL_CONNECTION_TRIES_FAILED (279), MEMORY_LIMIT_EXCEEDED (241),
            // TABLE_IS_READ_ONLY (242), KEEPER_EXCEPTION (999).
            StoreError::Query { code, .. } => {
                matches!(code, 159 | 202 | 209 | 210 | 241 | 242 | 252 | 279 | 999)
            }
            _ => false,
        }
    }

    /// A bounded label for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            StoreError::LibraryMissing { .. } => "library_missing",
            StoreError::Locked { .. } => "locked",
            StoreError::Unavailable(_) => "unavailable",
            StoreError::Query { .. } => "query",
            StoreError::Decode(_) => "decode",
            StoreError::Config(_) => "config",
            StoreError::Io { .. } => "io",
        }
    }

    /// Turns ClickHouse's `Code: N. DB::Exception: …` text into a typed error.
    pub(crate) fn from_clickhouse_message(msg: String) -> Self {
        let code = msg
            .split_once("Code: ")
            .and_then(|(_, rest)| {
                rest.split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|d| d.parse().ok())
            })
            .unwrap_or(0);
        StoreError::Query {
            code,
            message: msg.trim().to_string(),
        }
    }
}

/// The one seam between the pipeline and ClickHouse. Both backends execute the same SQL.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Runs a statement that returns nothing (DDL, `INSERT … SELECT`).
    async fn execute(&self, sql: &str) -> Result<(), StoreError>;

    /// Runs a query and returns its rows as ClickHouse writes them: `JSONEachRow` text.
    async fn query_json_each_row(&self, sql: &str) -> Result<Vec<u8>, StoreError>;

    /// Runs a query and returns its rows.
    async fn query_rows(&self, sql: &str) -> Result<Rows, StoreError> {
        parse_json_each_row(&self.query_json_each_row(sql).await?)
    }

    /// Runs `insert_sql` (an `INSERT … FORMAT JSONEachRow` statement, settings included) with
    /// `data` (one JSON object per line) as its input.
    async fn insert_json_each_row(&self, insert_sql: &str, data: &[u8]) -> Result<(), StoreError>;

    /// Whether this process is the only writer (the embedded store holds its data directory's
    /// lock): then a batch begun and not done cannot be another process's insert in flight.
    fn exclusive(&self) -> bool {
        false
    }

    /// The database the store's tables live in.
    fn database(&self) -> &str;

    /// Where the store is, for messages. Never contains a password.
    fn describe(&self) -> String;
}

/// Runs a query and deserialises each row into `T`, straight from the JSON text (going through
/// a map of values first took a tenth of the stalled query's time for 3,000 rows).
pub async fn query_as<T: DeserializeOwned>(
    store: &dyn Store,
    sql: &str,
) -> Result<Vec<T>, StoreError> {
    parse_json_each_row(&store.query_json_each_row(sql).await?)
}

/// Opens the store a location names.
pub async fn open(location: &StoreLocation) -> Result<Box<dyn Store>, StoreError> {
    match location {
        StoreLocation::Embedded { path, database } => {
            let path = path.clone();
            let database = database.clone();
            let store = tokio::task::spawn_blocking(move || EmbeddedStore::open(&path, &database))
                .await
                .map_err(|e| StoreError::Unavailable(format!("open task failed: {e}")))??;
            Ok(Box::new(store))
        }
        StoreLocation::Server(server) => Ok(Box::new(ServerStore::new(server)?)),
    }
}

/// `JSONEachRow` text as rows of `T` (a [`Row`] map, or a struct).
pub(crate) fn parse_json_each_row<T: DeserializeOwned>(bytes: &[u8]) -> Result<Vec<T>, StoreError> {
    let text = std::str::from_utf8(bytes).map_err(|e| StoreError::Decode(e.to_string()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            serde_json::from_str::<T>(line)
                .map_err(|e| StoreError::Decode(format!("{e} in {line:.200}")))
        })
        .collect()
}

/// Database and table names are spliced into SQL, so they are restricted to a safe alphabet.
pub(crate) fn check_identifier(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(())
    } else {
        Err(StoreError::Config(format!(
            "database name {name:?} must be letters, digits and _ (not starting with a digit)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clickhouse_messages_become_typed_errors() {
        let e = StoreError::from_clickhouse_message(
            "Code: 62. DB::Exception: Syntax error: failed at position 1".into(),
        );
        assert!(matches!(e, StoreError::Query { code: 62, .. }));
        assert!(!e.is_retryable());
        let e =
            StoreError::from_clickhouse_message("Code: 252. DB::Exception: Too many parts".into());
        assert!(e.is_retryable());
    }

    #[test]
    fn identifiers_are_checked() {
        assert!(check_identifier("haoqi").is_ok());
        assert!(check_identifier("haoqi_test_1").is_ok());
        for bad in ["", "1db", "a-b", "a`b", "a b", "a;DROP"] {
            assert!(check_identifier(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn json_each_row_parses_lines() {
        let rows: Rows = parse_json_each_row(b"{\"a\":1}\n{\"a\":2}\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert!(parse_json_each_row::<Row>(b"{\"a\":").is_err());
    }
}
