use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum AppDbError {
    #[error("application database {}: {cause}", .path.display())]
    Open {
        path: PathBuf,
        cause: rusqlite::Error,
    },
    #[error("{}: {cause}", .path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("application database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("application database migration {name}: {cause}")]
    Migration {
        name: &'static str,
        cause: rusqlite::Error,
    },
    #[error("the application database is at schema version {found}, newer than this haoqi knows ({known}): use a newer haoqi")]
    TooNew { found: i64, known: i64 },
    #[error("{0}")]
    Invalid(String),
    #[error("no user named {0:?}")]
    NoSuchUser(String),
    #[error("a user named {0:?} already exists")]
    UserExists(String),
    #[error("hashing the password: {0}")]
    Hash(String),
    #[error("the system's random source failed: {0}")]
    Random(String),
}

impl AppDbError {
    pub(crate) fn open(path: &Path, cause: rusqlite::Error) -> Self {
        AppDbError::Open {
            path: path.to_path_buf(),
            cause,
        }
    }
}
