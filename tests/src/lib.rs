//! Shared helpers for the end-to-end tests: a real embedded store per test (one chDB engine per
//! test binary, as chDB allows, and one database per test), the small registry fixture, and
//! readings built from short specs.
//!
//! There is no mock here: if `libchdb.so` is not installed the tests fail with the install hint.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use haoqi_model::count::{parse_count, Count};
use haoqi_model::reading::{Reading, Source};
use haoqi_platform::Platform;
use haoqi_registry::{Registry, TargetRules};
use haoqi_store::{migrate, EmbeddedStore, Store};

/// The data directory of this test binary's engine.
pub fn engine_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "tests".into());
        let dir = std::env::temp_dir().join(format!("haoqi-{exe}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    })
}

/// A fresh database in this binary's engine, with the schema applied.
pub async fn fresh_store(test: &str) -> Arc<dyn Store> {
    fresh_store_at(test, u32::MAX).await
}

/// A fresh database with the migrations up to version `last` (an earlier schema, to test an
/// upgrade).
pub async fn fresh_store_at(test: &str, last: u32) -> Arc<dyn Store> {
    let db = format!("t_{test}");
    let store = EmbeddedStore::open(engine_dir(), &db).unwrap_or_else(|e| panic!("{e}"));
    store
        .execute(&format!("DROP DATABASE IF EXISTS `{db}`"))
        .await
        .expect("drop");
    let store = EmbeddedStore::open(engine_dir(), &db).unwrap_or_else(|e| panic!("{e}"));
    migrate::migrate_to(&store, last).await.expect("migrate");
    Arc::new(store)
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

pub fn small_registry() -> Registry {
    Registry::load_dir(&fixtures().join("small-registry")).unwrap_or_else(|e| panic!("{e}"))
}

pub fn rules() -> TargetRules {
    TargetRules::default()
}

pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
        .with_timezone(&Utc)
}

pub fn count(s: &str) -> Count {
    parse_count(s)
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("{s} is unknown"))
}

/// A followers reading from a short spec.
pub fn followers(account: &str, platform: Platform, when: &str, value: &str) -> Reading {
    Reading::followers(account, platform, at(when), count(value), Source::Simulated)
}

/// Runs a query and returns the single number it yields.
pub async fn scalar(store: &dyn Store, sql: &str) -> u64 {
    let rows = store
        .query_rows(sql)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let row = rows.first().unwrap_or_else(|| panic!("no rows from {sql}"));
    let v = row
        .values()
        .next()
        .unwrap_or_else(|| panic!("no columns from {sql}"));
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("{v} is not a number"))
}

/// Records collection attempts as the collectors do: (at as ClickHouse text, account, platform,
/// outcome, error).
pub async fn record_attempts(
    store: &dyn Store,
    token: &str,
    rows: &[(String, &str, &str, &str, &str)],
) {
    use haoqi_store::sql::{self, Params};
    let data: Vec<String> = rows
        .iter()
        .map(|(at, a, p, o, e)| {
            serde_json::json!({"at": at, "account_id": a, "platform": p, "outcome": o, "error": e,
                               "latency_ms": 100, "url": "https://example.invalid/", "body_excerpt": "",
                               "parser_version": "test"})
            .to_string()
        })
        .collect();
    let insert = sql::render(
        sql::queries::EVENTS_INSERT,
        &Params::new(store.database()).set("token", token),
    )
    .expect("render");
    store
        .insert_json_each_row(&insert, data.join("\n").as_bytes())
        .await
        .expect("attempts");
}

/// The analytics fixture: seven units, twelve accounts (see its files for who is who).
pub fn analytics_registry() -> Registry {
    Registry::load_dir(&fixtures().join("analytics-registry")).unwrap_or_else(|e| panic!("{e}"))
}

/// A store with the analytics registry loaded and `readings` written as one batch.
pub async fn analytics_store(test: &str, readings: &[Reading]) -> Arc<dyn Store> {
    let store = fresh_store(test).await;
    haoqi_registry::dimensions::load(
        store.as_ref(),
        &analytics_registry(),
        &rules(),
        at("2024-01-01T00:00:00Z"),
    )
    .await
    .expect("load registry");
    write_stored(&store, test, readings).await;
    store
}

/// Writes `readings` through the writer (a spool per test), in batches of 5,000, each of which
/// must be stored.
pub async fn write_stored(store: &Arc<dyn Store>, test: &str, readings: &[Reading]) {
    use haoqi_model::reading::Batch;
    use haoqi_store::spool::{Spool, WriteOutcome, Writer};
    let writer = Writer::new(
        store.clone(),
        Spool::open(&engine_dir().join(format!("spool-{test}")), "test").expect("spool"),
    );
    for chunk in readings.chunks(5_000) {
        let outcome = writer
            .write(&Batch::new(chunk, Utc::now()))
            .await
            .expect("write");
        assert_eq!(outcome, WriteOutcome::Stored);
    }
}

/// Writes `readings` as a binary before the batch journal (migration 12) did: straight into
/// the table, for tests that start from an older schema.
pub async fn write_unjournalled(store: &dyn Store, readings: &[Reading]) {
    use haoqi_model::reading::Batch;
    use haoqi_store::sql::{self, Params};
    let batch = Batch::new(readings, Utc::now());
    let params = Params::new(store.database()).set("token", batch.token.clone());
    let insert = sql::render(sql::queries::READINGS_INSERT, &params).expect("render");
    store
        .insert_json_each_row(&insert, batch.data.as_bytes())
        .await
        .expect("insert");
}

/// One reading a day at 11:00 UTC (19:00 in Beijing) on day `d` of a fixture's calendar (day 1
/// is `start`), for each `d` in `days`; the counters are given by `f(d)` as (followers, likes,
/// views, posts) specs ("" = not exposed).
pub fn daily(
    account: &str,
    platform: Platform,
    start: chrono::NaiveDate,
    days: std::ops::RangeInclusive<u32>,
    source: Source,
    f: impl Fn(u32) -> (String, String, String, String),
) -> Vec<Reading> {
    days.map(|d| {
        let (fo, li, vi, po) = f(d);
        let c = |s: &str| (!s.is_empty()).then(|| count(s));
        let day = start + chrono::Days::new(u64::from(d) - 1);
        let mut r = Reading::followers(
            account,
            platform,
            at(&format!("{day}T11:00:00Z")),
            count(&fo),
            source,
        );
        r.likes = c(&li);
        r.views = c(&vi);
        r.posts = c(&po);
        r
    })
    .collect()
}

/// [`daily`] readings of followers only, `followers(d)` on day `d` (a count as written, e.g.
/// `1.2万`).
pub fn followers_daily(
    account: &str,
    platform: Platform,
    start: chrono::NaiveDate,
    days: std::ops::RangeInclusive<u32>,
    followers: impl Fn(u32) -> String,
) -> Vec<Reading> {
    daily(account, platform, start, days, Source::Crawl, |d| {
        (followers(d), String::new(), String::new(), String::new())
    })
}

/// The tool's path, or a failure that says how to get it.
pub fn tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "`{name}` is not installed; the deployment checks need it. \
             Run deploy/install-tools.sh (as root; it uses apt-get) and test again."
        )
    })
}
