//! Where the store is: `embedded:PATH` or `http(s)://user@host:port/database`. The password of a
//! server never comes from the command line in clear: it is read from `HAOQI_CLICKHOUSE_PASSWORD`
//! or a file, kept in a [`Secret`], and left out of every message.

use std::fmt;
use std::path::PathBuf;

use super::StoreError;

/// The environment variable holding the ClickHouse server password.
pub const PASSWORD_ENV: &str = "HAOQI_CLICKHOUSE_PASSWORD";
pub const DEFAULT_DATABASE: &str = "haoqi";
pub const DEFAULT_EMBEDDED_PATH: &str = "./data/haoqi";

/// A string that must not be printed: `Debug` and `Display` show `***`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLocation {
    /// `http(s)://host:port`, no credentials, no path.
    pub url: String,
    pub user: String,
    pub password: Secret,
    pub database: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Embedded { path: PathBuf, database: String },
    Server(ServerLocation),
}

impl Default for StoreLocation {
    fn default() -> Self {
        StoreLocation::Embedded {
            path: PathBuf::from(DEFAULT_EMBEDDED_PATH),
            database: DEFAULT_DATABASE.to_string(),
        }
    }
}

impl StoreLocation {
    /// A name for this store that is safe as a directory name and differs between any two
    /// stores (data directory or server, and database): each store has its own spool under it,
    /// so a batch can only ever be replayed into the store it was written for.
    pub fn spool_key(&self) -> String {
        let raw = match self {
            StoreLocation::Embedded { path, database } => format!(
                "embedded-{}-{database}",
                path.file_name()
                    .map_or_else(|| "root".into(), |n| n.to_string_lossy())
            ),
            StoreLocation::Server(s) => format!(
                "server-{}-{}",
                s.url.split("://").nth(1).unwrap_or(&s.url),
                s.database
            ),
        };
        raw.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }

    /// The database the store works in.
    pub fn database(&self) -> &str {
        match self {
            StoreLocation::Embedded { database, .. } => database,
            StoreLocation::Server(s) => &s.database,
        }
    }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Embedded { path, database } => {
                write!(f, "embedded:{} (database {database})", path.display())
            }
            StoreLocation::Server(s) => write!(
                f,
                "{}://{}@{}/{}",
                s.url.split("://").next().unwrap_or("http"),
                s.user,
                s.url.split("://").nth(1).unwrap_or(&s.url),
                s.database
            ),
        }
    }
}

impl StoreLocation {
    /// Parses `--store`. `password` is the one found in the environment or a password file; a
    /// password written into the URL is accepted but the environment is the recommended place.
    pub fn parse(spec: &str, password: Option<Secret>) -> Result<Self, StoreError> {
        let spec = spec.trim();
        if let Some(rest) = spec.strip_prefix("embedded:") {
            let (path, database) = match rest.rsplit_once('#') {
                Some((p, db)) => (p, db.to_string()),
                None => (rest, DEFAULT_DATABASE.to_string()),
            };
            if path.is_empty() {
                return Err(StoreError::Config(
                    "embedded: needs a directory, e.g. embedded:./data/haoqi".into(),
                ));
            }
            super::check_identifier(&database)?;
            return Ok(StoreLocation::Embedded {
                path: PathBuf::from(path),
                database,
            });
        }
        let (scheme, rest) = spec.split_once("://").ok_or_else(|| {
            StoreError::Config(format!(
                "--store must be embedded:PATH or http://user@host:8123/database, not {:?}",
                redact(spec)
            ))
        })?;
        if scheme != "http" && scheme != "https" {
            return Err(StoreError::Config(format!(
                "unsupported store scheme {scheme:?} (use embedded:, http:// or https://)"
            )));
        }
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        if host.is_empty() {
            return Err(StoreError::Config("the store URL has no host".into()));
        }
        let (user, url_password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((user, pw)) => (user.to_string(), Some(Secret::new(pw))),
                None => (u.to_string(), None),
            },
            None => ("default".to_string(), None),
        };
        let database = path.trim_end_matches('/');
        let database = if database.is_empty() {
            DEFAULT_DATABASE.to_string()
        } else {
            database.to_string()
        };
        super::check_identifier(&database)?;
        Ok(StoreLocation::Server(ServerLocation {
            url: format!("{scheme}://{host}"),
            user,
            password: password.or(url_password).unwrap_or_default(),
            database,
        }))
    }
}

/// A store spec with any `user:password@` reduced to `user:***@`, for error messages.
pub fn redact(spec: &str) -> String {
    let (scheme, rest) = match spec.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), spec),
    };
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, format!("/{p}")),
        None => (rest, String::new()),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            let shown = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            format!("{scheme}{shown}@{host}{path}")
        }
        None => spec.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_paths() {
        assert_eq!(
            StoreLocation::parse("embedded:/tmp/x", None).unwrap(),
            StoreLocation::Embedded {
                path: "/tmp/x".into(),
                database: "haoqi".into()
            }
        );
        assert!(StoreLocation::parse("embedded:", None).is_err());
    }

    #[test]
    fn server_urls_and_passwords() {
        let loc = StoreLocation::parse(
            "http://writer@ch.local:8123/matrix",
            Some(Secret::new("s3cret")),
        )
        .unwrap();
        let StoreLocation::Server(s) = &loc else {
            panic!("not a server: {loc:?}")
        };
        assert_eq!(s.url, "http://ch.local:8123");
        assert_eq!(s.user, "writer");
        assert_eq!(s.database, "matrix");
        assert_eq!(s.password.expose(), "s3cret");
        let shown = format!("{loc} {loc:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn a_password_in_the_url_never_shows() {
        let loc = StoreLocation::parse("https://u:hunter2@h:8443/db", None).unwrap();
        assert!(!format!("{loc} {loc:?}").contains("hunter2"));
        assert!(!redact("https://u:hunter2@h:8443/db").contains("hunter2"));
        let err = StoreLocation::parse("ftp://u:hunter2@h/db", None).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
        let err = StoreLocation::parse("u:hunter2@h/db", None).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
