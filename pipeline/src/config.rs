//! `haoqi.toml`: configuration from a file, then the environment, then the command line (each
//! overriding the one before). Secrets are never in the file: the ClickHouse password comes from
//! `HAOQI_CLICKHOUSE_PASSWORD` or from the file `store.password_file` names.
//!
//! ```toml
//! [store]
//! location = "embedded:./data/haoqi"      # or "http://haoqi@clickhouse:8123/haoqi"
//! password_file = "/etc/haoqi/clickhouse.password"
//! [registry]
//! dir = "/etc/haoqi/registry"              # absent: the built-in reference registry
//! [goal]
//! followers = 20000000
//! deadline = "2024-12-31"
//! [targets]
//! population_percent = 25
//! horizontal = 20000
//! region_assoc = 1000000
//! [progress]
//! stale_after_hours = 48
//! [spool]
//! dir = "./data/spool"
//! [collect]
//! interval_mins = 60                       # and per platform: [collect.bilibili] …
//! [stalled]
//! flat_days = 7                            # see analytics::health::StalledConfig
//! [forecast]
//! window_days = 30                         # see analytics::forecast
//! [rank]
//! min_coverage = 0.8                       # see analytics::rank (weights, anomaly thresholds)
//! ```

use std::path::{Path, PathBuf};

use haoqi_analytics::forecast::ForecastConfig;
use haoqi_analytics::health::StalledConfig;
use haoqi_analytics::rank::RankConfig;
use haoqi_analytics::Settings;
pub use haoqi_analytics::{GoalConfig, ProgressConfig};
use haoqi_platform::{Crawl, Platform};
use serde::Deserialize;

use haoqi_registry::TargetRules;
use haoqi_store::location::{Secret, StoreLocation, PASSWORD_ENV};
use haoqi_store::spool::{Spool, SpoolError};
use haoqi_store::StoreError;

pub const DEFAULT_CONFIG_FILE: &str = "haoqi.toml";
pub const STORE_ENV: &str = "HAOQI_STORE";
pub const REGISTRY_ENV: &str = "HAOQI_REGISTRY";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The cause is in the message and not a `source`: the binary prints the whole chain, which
    // would say it twice.
    #[error("cannot read config {}: {cause}", .path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot read the store password file {} (store.password_file): {cause}", .path.display())]
    PasswordFile {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("config {}: {message}", .path.display())]
    Invalid { path: PathBuf, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub store: StoreConfig,
    pub registry: RegistryConfig,
    pub goal: GoalConfig,
    pub targets: TargetRules,
    pub progress: ProgressConfig,
    pub spool: SpoolConfig,
    pub collect: CollectConfig,
    pub stalled: StalledConfig,
    pub forecast: ForecastConfig,
    pub rank: RankConfig,
    pub web: WebSection,
    pub backup: BackupSection,
}

/// `[backup]`: scheduled backups made by `haoqi serve` (none unless `dir` is set).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupSection {
    /// Where each backup goes, in a new `haoqi-YYYYMMDD-HHMMSS` directory (Beijing time).
    pub dir: Option<PathBuf>,
    pub every_hours: u64,
    /// Scheduled backups kept; older ones (only directories with a haoqi manifest) are removed.
    pub keep: usize,
}

impl Default for BackupSection {
    fn default() -> Self {
        BackupSection {
            dir: None,
            every_hours: 24,
            keep: 7,
        }
    }
}

/// `[web]`: the web application.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSection {
    /// The application database (users, sessions, the audit log). Default: `app-<store>.sqlite`
    /// beside the spool's directory (for the embedded store, beside its data directory).
    pub database: Option<PathBuf>,
    /// Mark session cookies `Secure`: set when haoqi is reached over HTTPS (a reverse proxy).
    pub secure_cookies: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    pub location: Option<String>,
    pub password_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistryConfig {
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpoolConfig {
    /// Default: `spool/` beside the embedded data directory, else `./data/spool`.
    pub dir: Option<PathBuf>,
}

/// `[collect]`: how the collectors poll. Cookies come from the environment variable each
/// platform names (never from this file), because they are credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "CollectSection")]
pub struct CollectConfig {
    /// Put in the User-Agent so a platform's operators can reach us (e.g. `mailto:ops@…`).
    pub contact: String,
    pub timeout_ms: u64,
    /// Requests in flight across all platforms.
    pub concurrency: usize,
    /// Readings per store batch.
    pub batch_max_rows: usize,
    /// Minutes between two polls of one account (`haoqi run --interval-mins` overrides).
    pub interval_mins: u64,
    /// One section per polled platform, in the table's order (`[collect.<id>]`); a section
    /// sets only what it names, the rest keeps that platform's default (its base URL, rate and
    /// cookie variable, from the table of platforms).
    platforms: Vec<(Platform, PlatformCollectConfig)>,
}

/// `[collect]` as written: the scalar keys, and every sub-table, which must be a polled
/// platform's section.
#[derive(Debug, Deserialize)]
#[serde(default)]
struct CollectSection {
    contact: String,
    timeout_ms: u64,
    concurrency: usize,
    batch_max_rows: usize,
    interval_mins: u64,
    #[serde(flatten)]
    rest: std::collections::BTreeMap<String, toml::Value>,
}

impl Default for CollectSection {
    fn default() -> Self {
        let d = CollectConfig::default();
        CollectSection {
            contact: d.contact,
            timeout_ms: d.timeout_ms,
            concurrency: d.concurrency,
            batch_max_rows: d.batch_max_rows,
            interval_mins: d.interval_mins,
            rest: Default::default(),
        }
    }
}

impl TryFrom<CollectSection> for CollectConfig {
    type Error = String;

    fn try_from(raw: CollectSection) -> Result<Self, String> {
        let mut c = CollectConfig {
            contact: raw.contact,
            timeout_ms: raw.timeout_ms,
            concurrency: raw.concurrency,
            batch_max_rows: raw.batch_max_rows,
            interval_mins: raw.interval_mins,
            ..CollectConfig::default()
        };
        for (key, value) in raw.rest {
            let Some(slot) = c.platforms.iter_mut().find(|(p, _)| p.as_str() == key) else {
                let polled: Vec<&str> = Platform::crawled().map(Platform::as_str).collect();
                return Err(format!(
                    "unknown field `{key}` in [collect]: expected contact, timeout_ms, concurrency, batch_max_rows, interval_mins or a section [collect.<platform>] for one of {}",
                    polled.join(", ")
                ));
            };
            let section: PlatformSection = value
                .try_into()
                .map_err(|e| format!("[collect.{key}]: {e}"))?;
            slot.1 = section.over(slot.1.clone());
        }
        Ok(c)
    }
}

/// A `[collect.<platform>]` section as written: what it leaves out is the platform's default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlatformSection {
    enabled: Option<bool>,
    base_url: Option<String>,
    per_second: Option<f64>,
    burst: Option<u32>,
    cookie_env: Option<String>,
    page_mode: Option<bool>,
    signer_url: Option<String>,
    detail_every: Option<u32>,
    fetch_buvid3: Option<bool>,
}

impl PlatformSection {
    fn over(self, d: PlatformCollectConfig) -> PlatformCollectConfig {
        PlatformCollectConfig {
            enabled: self.enabled.unwrap_or(d.enabled),
            base_url: self.base_url.unwrap_or(d.base_url),
            per_second: self.per_second.unwrap_or(d.per_second),
            burst: self.burst.unwrap_or(d.burst),
            cookie_env: self.cookie_env.unwrap_or(d.cookie_env),
            page_mode: self.page_mode.unwrap_or(d.page_mode),
            signer_url: self.signer_url.unwrap_or(d.signer_url),
            detail_every: self.detail_every.unwrap_or(d.detail_every),
            fetch_buvid3: self.fetch_buvid3.unwrap_or(d.fetch_buvid3),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlatformCollectConfig {
    pub enabled: bool,
    pub base_url: String,
    pub per_second: f64,
    pub burst: u32,
    /// The environment variable holding this platform's cookie, if any.
    pub cookie_env: String,
    /// Douyin: read profile pages instead of the JSON API.
    pub page_mode: bool,
    /// Douyin: an external service that signs each profile API URL (README, "Operating the
    /// collectors"); empty: none.
    pub signer_url: String,
    /// Bilibili: a full poll (relation/stat, card, navnum, and upstat with a login cookie) every
    /// this many intervals of an account, staggered over the accounts; the card only otherwise.
    /// 24 with a 60-minute interval is daily; 1 every poll; 0 never.
    pub detail_every: u32,
    /// Bilibili: when the cookie has no `buvid3`, ask `x/frontend/finger/spi` for an anonymous
    /// one once and keep it.
    pub fetch_buvid3: bool,
}

impl PlatformCollectConfig {
    /// The defaults for `platform` from the table of platforms (reference §1.5, §8: Bilibili
    /// 0.5/s, the signed platforms less).
    fn of(platform: Platform, crawl: Crawl) -> Self {
        PlatformCollectConfig {
            enabled: true,
            base_url: crawl.base_url.to_string(),
            per_second: crawl.per_second,
            burst: crawl.burst,
            cookie_env: platform.cookie_env(),
            page_mode: false,
            signer_url: String::new(),
            detail_every: 24,
            fetch_buvid3: true,
        }
    }
}

impl CollectConfig {
    /// The polled platforms, each with its section, in the table's order.
    pub fn platforms(&self) -> impl Iterator<Item = (Platform, &PlatformCollectConfig)> {
        self.platforms.iter().map(|(p, c)| (*p, c))
    }

    /// The section of a polled platform (`None` for a platform that is only imported).
    pub fn platform(&self, platform: Platform) -> Option<&PlatformCollectConfig> {
        self.platforms()
            .find(|(p, _)| *p == platform)
            .map(|(_, c)| c)
    }
}

impl Default for CollectConfig {
    fn default() -> Self {
        CollectConfig {
            contact: String::new(),
            timeout_ms: 10_000,
            concurrency: 8,
            batch_max_rows: 1_000,
            interval_mins: 60,
            platforms: Platform::ALL
                .into_iter()
                .filter_map(|p| Some((p, PlatformCollectConfig::of(p, p.crawl()?))))
                .collect(),
        }
    }
}

impl Config {
    /// What the analytics need, gathered once so the CLI and the HTTP API answer the same
    /// question the same way.
    pub fn analytics(&self) -> Settings {
        let crawled = self
            .collect
            .platforms()
            .filter(|(_, p)| p.enabled)
            .map(|(platform, _)| platform.as_str().to_string())
            .collect();
        Settings {
            goal: self.goal.clone(),
            stale_after_hours: self.progress.stale_after_hours,
            stalled: self.stalled.clone(),
            forecast: self.forecast.clone(),
            rank: self.rank.clone(),
            interval_mins: self.collect.interval_mins.max(1),
            crawled,
        }
    }

    /// Values that parse but cannot mean anything (issue 18's probe: a weight of -1, damping
    /// 5.0, `min_coverage = 7` were taken as they were).
    fn range_problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        let share = |name: &str, v: f64, p: &mut Vec<String>| {
            if !(0.0..=1.0).contains(&v) {
                p.push(format!("{name} = {v} must be a share from 0 to 1"));
            }
        };
        let r = &self.rank;
        share("rank.min_coverage", r.min_coverage, &mut p);
        share("rank.max_imported_share", r.max_imported_share, &mut p);
        let w = &r.weights;
        let weights = [
            ("followers", w.followers),
            ("growth", w.growth),
            ("completion", w.completion),
            ("views", w.views),
            ("likes", w.likes),
            ("posts", w.posts),
        ];
        for (name, v) in weights {
            if !(v.is_finite() && v >= 0.0) {
                p.push(format!("rank.weights.{name} = {v} must be 0 or more"));
            }
        }
        if weights.iter().map(|(_, v)| v.max(0.0)).sum::<f64>() <= 0.0 {
            p.push("rank.weights must not all be 0".into());
        }
        let d = self.forecast.damping;
        if !(d > 0.0 && d < 1.0) {
            p.push(format!(
                "forecast.damping = {d} must be between 0 and 1 (exclusive)"
            ));
        }
        if self.forecast.window_days < 3 {
            p.push("forecast.window_days must be 3 or more".into());
        }
        if self.collect.interval_mins == 0 || self.collect.interval_mins > 1440 {
            p.push(format!(
                "collect.interval_mins = {} must be 1..=1440",
                self.collect.interval_mins
            ));
        }
        if !(1..=720).contains(&self.backup.every_hours) {
            p.push(format!(
                "backup.every_hours = {} must be 1..=720",
                self.backup.every_hours
            ));
        }
        if self.backup.keep == 0 {
            p.push("backup.keep must be 1 or more".into());
        }
        for (platform, c) in self.collect.platforms() {
            if !(c.per_second.is_finite() && c.per_second > 0.0 && c.per_second <= 1000.0) {
                p.push(format!(
                    "collect.{platform}.per_second = {} must be above 0 and at most 1000",
                    c.per_second
                ));
            }
        }
        p
    }

    /// Reads `path`, or `./haoqi.toml` when it exists, or the defaults.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Config::default())
            }
            Err(cause) => return Err(ConfigError::Read { path, cause }),
        };
        Self::parse(&path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut problems = Vec::new();
        if config.goal.followers == 0 {
            problems.push("goal.followers must be above 0".to_string());
        }
        if config.targets.population_percent == 0 || config.targets.population_percent > 100 {
            problems.push("targets.population_percent must be 1..=100".to_string());
        }
        if config.progress.stale_after_hours == 0 {
            problems.push("progress.stale_after_hours must be above 0".to_string());
        }
        problems.extend(config.range_problems());
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                message: problems.join("; "),
            })
        }
    }

    /// The store: `--store`, else `HAOQI_STORE`, else the file, else the embedded default.
    pub fn store_location(&self, flag: Option<&str>) -> Result<StoreLocation, ConfigError> {
        let env = std::env::var(STORE_ENV).ok();
        let spec = flag
            .map(str::to_string)
            .or(env)
            .or_else(|| self.store.location.clone());
        let Some(spec) = spec else {
            return Ok(StoreLocation::default());
        };
        let password = self.password()?;
        Ok(StoreLocation::parse(&spec, password)?)
    }

    fn password(&self) -> Result<Option<Secret>, ConfigError> {
        if let Ok(p) = std::env::var(PASSWORD_ENV) {
            return Ok(Some(Secret::new(p)));
        }
        match &self.store.password_file {
            Some(path) => std::fs::read_to_string(path)
                .map(|s| Some(Secret::new(s.trim_end_matches(['\n', '\r']))))
                .map_err(|cause| ConfigError::PasswordFile {
                    path: path.clone(),
                    cause,
                }),
            None => Ok(None),
        }
    }

    /// The registry directory: `--registry`, else `HAOQI_REGISTRY`, else the file; `None` means
    /// the built-in reference registry.
    pub fn registry_dir(&self, flag: Option<&Path>) -> Option<PathBuf> {
        flag.map(Path::to_path_buf)
            .or_else(|| std::env::var_os(REGISTRY_ENV).map(PathBuf::from))
            .or_else(|| self.registry.dir.clone())
    }

    /// The spool directory for a store location: one per store (`<spool dir>/<store key>`), so
    /// two stores never replay each other's batches.
    pub fn spool_dir(&self, location: &StoreLocation) -> PathBuf {
        let base = match (&self.spool.dir, location) {
            (Some(d), _) => d.clone(),
            (None, StoreLocation::Embedded { path, .. }) => path
                .parent()
                .map_or_else(|| PathBuf::from("spool"), |p| p.join("spool")),
            (None, StoreLocation::Server(_)) => PathBuf::from("./data/spool"),
        };
        base.join(location.spool_key())
    }

    /// The application database of the store at `location` (each store has its own, as it has
    /// its own spool: a unit's login is bound to that store's registry).
    pub fn app_db_path(&self, location: &StoreLocation) -> PathBuf {
        if let Some(p) = &self.web.database {
            return p.clone();
        }
        let base = match location {
            StoreLocation::Embedded { path, .. } => {
                path.parent().map_or_else(PathBuf::new, Path::to_path_buf)
            }
            StoreLocation::Server(_) => PathBuf::from("./data"),
        };
        base.join(format!("app-{}.sqlite", location.spool_key()))
    }

    /// The spool of the store at `location`.
    pub fn spool(&self, location: &StoreLocation) -> Result<Spool, SpoolError> {
        Spool::open(&self.spool_dir(location), &location.spool_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_plan() {
        let c = Config::default();
        assert_eq!(c.goal.followers, 20_000_000);
        assert_eq!(c.goal.deadline.to_string(), "2024-12-31");
        assert_eq!(c.targets.population_percent, 25);
        assert_eq!(c.targets.horizontal, 20_000);
        assert_eq!(c.targets.region_assoc, None);
    }

    #[test]
    fn collect_sections_take_the_signer_the_detail_cycle_and_buvid3() {
        let c = Config::default();
        assert_eq!(
            c.collect.platform(Platform::Bilibili).unwrap().detail_every,
            24
        );
        assert!(c.collect.platform(Platform::Bilibili).unwrap().fetch_buvid3);
        assert_eq!(c.collect.platform(Platform::Douyin).unwrap().signer_url, "");
        let c = Config::parse(
            Path::new("h.toml"),
            "[collect.douyin]\nsigner_url = \"http://127.0.0.1:7700/sign\"\n[collect.bilibili]\ndetail_every = 6\nfetch_buvid3 = false\n",
        )
        .unwrap();
        assert_eq!(
            c.collect.platform(Platform::Douyin).unwrap().signer_url,
            "http://127.0.0.1:7700/sign"
        );
        assert_eq!(
            c.collect.platform(Platform::Bilibili).unwrap().detail_every,
            6
        );
        assert!(!c.collect.platform(Platform::Bilibili).unwrap().fetch_buvid3);
        // What a section leaves out is that platform's default, not a generic one.
        assert_eq!(
            c.collect.platform(Platform::Bilibili).unwrap().per_second,
            0.5
        );
        assert_eq!(
            c.collect.platform(Platform::Bilibili).unwrap().base_url,
            "https://api.bilibili.com"
        );
        assert_eq!(
            c.collect.platform(Platform::Douyin).unwrap().cookie_env,
            "HAOQI_DOUYIN_COOKIE"
        );
        assert_eq!(
            c.collect.platform(Platform::Kuaishou).unwrap().base_url,
            "https://www.kuaishou.com"
        );
        let e =
            Config::parse(Path::new("h.toml"), "[collect.douyin]\nsigner = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("signer"), "{e}");
        // A section for a platform that is not polled, or a misspelt key, is refused by name.
        for (text, named) in [
            (
                "[collect.wechat_channels]\nper_second = 1\n",
                "wechat_channels",
            ),
            ("[collect]\ncontcat = \"x\"\n", "contcat"),
            ("[collect.weibo]\nenabled = true\n", "weibo"),
        ] {
            let e = Config::parse(Path::new("h.toml"), text)
                .unwrap_err()
                .to_string();
            assert!(e.contains(named) && e.contains("bilibili"), "{text}: {e}");
        }
        let polled: Vec<Platform> = Config::default()
            .collect
            .platforms()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(polled, Platform::crawled().collect::<Vec<_>>());
    }

    #[test]
    fn a_file_overrides_and_unknown_keys_are_refused() {
        let c = Config::parse(
            Path::new("h.toml"),
            "[goal]\nfollowers = 25000000\ndeadline = \"2025-12-31\"\n[targets]\nregion_assoc = 1000000\n",
        )
        .unwrap();
        assert_eq!(c.goal.followers, 25_000_000);
        assert_eq!(c.targets.region_assoc, Some(1_000_000));
        for (text, named) in [
            ("[rank.weights]\ngrowth = -1\n", "rank.weights.growth = -1"),
            ("[forecast]\ndamping = 5.0\n", "forecast.damping = 5"),
            ("[rank]\nmin_coverage = 7\n", "rank.min_coverage = 7"),
            (
                "[collect.bilibili]\nper_second = 0\n",
                "collect.bilibili.per_second = 0",
            ),
        ] {
            let e = Config::parse(Path::new("h.toml"), text)
                .unwrap_err()
                .to_string();
            assert!(e.contains(named), "{text}: {e}");
        }
        let e = Config::parse(Path::new("h.toml"), "[goal]\nfolowers = 1\n").unwrap_err();
        assert!(e.to_string().contains("folowers"), "{e}");
        let e =
            Config::parse(Path::new("h.toml"), "[targets]\npopulation_percent = 0\n").unwrap_err();
        assert!(e.to_string().contains("population_percent"), "{e}");
    }
}
