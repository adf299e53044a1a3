//! What the store benchmarks share: the engine directory, a runtime, a fresh database, and the
//! benchmark matrix (accounts read hourly for a year, generated inside ClickHouse).
// Each benchmark uses part of this module.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use haoqi_store::{migrate, EmbeddedStore, Store};

pub(crate) fn engine_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-store")
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

pub(crate) async fn fresh(db: &str) -> Arc<dyn Store> {
    let s = EmbeddedStore::open(&engine_dir(), db).expect("open the embedded store");
    s.execute(&format!("DROP DATABASE IF EXISTS `{db}` SYNC"))
        .await
        .expect("drop");
    let s = EmbeddedStore::open(&engine_dir(), db).expect("open");
    migrate::migrate(&s).await.expect("migrate");
    Arc::new(s)
}

/// Fills a database with `accounts` accounts (a unit each, kinds and prefectures spread) and
/// `per_day` readings per account per day for 2024 (followers, likes and posts, as the crawled
/// platforms expose them; a new post every three days), generated inside ClickHouse.
pub(crate) async fn matrix(db: &str, accounts: u64, per_day: u64) -> Arc<dyn Store> {
    let s = fresh(db).await;
    let kinds = "['region_assoc','prefecture_assoc','county_assoc','society','university','enterprise','museum']";
    s.execute(&format!(
        "INSERT INTO {db}.regions (code, name, level, parent_code, population_2020, population_verified, source, deleted, valid_from, row_hash) \
         SELECT 650000 + number * 100, concat('prefecture ', toString(number)), 'prefecture', 650000, 1000000, true, 'bench', false, toDateTime64(0, 3), '' FROM numbers(14)"
    ))
    .await
    .expect("regions");
    s.execute(&format!(
        "INSERT INTO {db}.units (unit_id, kind, tier, name, prefecture_code, department, target, target_basis, target_verified, sample, deleted, valid_from, row_hash) \
         SELECT concat('u', toString(number)), {kinds}[number % 7 + 1], if(number % 7 < 3, 'vertical', 'horizontal'), concat('unit ', toString(number)), \
                650000 + (number % 14) * 100, 'dept', 20000, 'bench', true, true, false, toDateTime64(0, 3), '' FROM numbers({accounts})"
    ))
    .await
    .expect("units");
    s.execute(&format!(
        "INSERT INTO {db}.accounts (account_id, unit_id, platform, platform_id, display_name, role, standardised, naming_ok, active, deleted, valid_from, row_hash) \
         SELECT concat('a', toString(number)), concat('u', toString(number)), ['douyin','wechat_channels','kuaishou','bilibili'][number % 4 + 1], toString(number), \
                concat('好奇', toString(number)), 'flexible', true, true, true, false, toDateTime64(0, 3), '' FROM numbers({accounts})"
    ))
    .await
    .expect("accounts");
    let readings = accounts * per_day * 366;
    let step = 86_400 / per_day;
    s.execute(&format!(
        "INSERT INTO {db}.readings (account_id, platform, observed_at, followers, followers_lo, followers_hi, likes, likes_lo, likes_hi, posts, posts_lo, posts_hi, source, parser_version, provenance, batch_id, ingested_at) \
         SELECT concat('a', toString(number % {accounts})), 'douyin', \
                toDateTime64('2024-01-01 00:00:00', 3, 'UTC') + toIntervalSecond(intDiv(number, {accounts}) * {step}), \
                1000 + intDiv(number, {accounts}), 1000 + intDiv(number, {accounts}), 1000 + intDiv(number, {accounts}), \
                5000 + number % 1000, 5000 + number % 1000, 5000 + number % 1000, \
                100 + intDiv(number, {accounts} * {per_day} * 3) AS p, p, p, \
                'simulated', 'bench', '', 'bench', now64(3) FROM numbers({readings})"
    ))
    .await
    .expect("readings");
    // Every poll is a collection attempt: the last 180 days of them (the events' TTL), one per
    // reading interval, 1 % rate limited at random, and every 500th account blocked by a captcha
    // since 11 December. The TTL counts from today, so this 2024 calendar's copy goes without.
    s.execute(&format!("ALTER TABLE {db}.collection_events REMOVE TTL"))
        .await
        .expect("ttl");
    let attempts = accounts * per_day * 180;
    s.execute(&format!(
        "INSERT INTO {db}.collection_events (at, account_id, platform, outcome, http_status, latency_ms, url, error, body_excerpt, parser_version) \
         SELECT at, concat('a', toString(a)), ['douyin','wechat_channels','kuaishou','bilibili'][a % 4 + 1], \
                multiIf(a % 500 = 7 AND at >= toDateTime64('2024-12-11 00:00:00', 3, 'UTC'), 'blocked', \
                        cityHash64(number) % 100 = 0, 'rate_limited', 'reading') AS outcome, \
                200, 300, concat('https://www.douyin.com/user/', toString(a)), \
                multiIf(outcome = 'blocked', 'captcha', outcome = 'rate_limited', 'HTTP 429', ''), '', 'bench' \
         FROM (SELECT number, number % {accounts} AS a, \
                      toDateTime64('2024-07-04 12:00:00', 3, 'UTC') + toIntervalSecond(intDiv(number, {accounts}) * {step}) AS at \
               FROM numbers({attempts}))"
    ))
    .await
    .expect("events");
    // A year of operation leaves the rollup merged; measure that state, not fresh parts.
    s.execute(&format!("OPTIMIZE TABLE {db}.counters_daily FINAL"))
        .await
        .expect("optimize");
    // Merges of the fresh parts would compete for the cores with what is measured.
    loop {
        let merging = s
            .query_rows(&format!(
                "SELECT toUInt32(count()) AS n FROM system.merges WHERE database = '{db}'"
            ))
            .await
            .expect("merges");
        if merging.first().and_then(|r| r["n"].as_u64()) == Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    s
}

/// Whether `cargo bench` named another benchmark than `this` (then this one does nothing).
pub(crate) fn named_elsewhere(this: &str) -> bool {
    std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !this.contains(&a))
}

/// The load window: `WINDOW_SECS`, 60 s by default.
pub(crate) fn window() -> Duration {
    Duration::from_secs(
        std::env::var("WINDOW_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(60),
    )
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One line: how many requests in the window, the rate, p50/p95/p99 and the slowest.
pub(crate) fn latency_line(name: &str, sorted: &[Duration], window: Duration) -> String {
    format!(
        "{name}: {} requests in {} s ({:.0}/s), p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        sorted.len(),
        window.as_secs(),
        sorted.len() as f64 / window.as_secs_f64(),
        ms(percentile(sorted, 0.50)),
        ms(percentile(sorted, 0.95)),
        ms(percentile(sorted, 0.99)),
        ms(sorted.last().copied().unwrap_or_default()),
    )
}

/// Until `/api/progress` answers from the refresh, as a deployment's first minute does.
pub(crate) async fn wait_for_refresh(client: &reqwest::Client, base: &str) {
    let first = std::time::Instant::now();
    loop {
        let r = client
            .get(format!("{base}/api/progress"))
            .send()
            .await
            .expect("progress");
        if r.headers()
            .get("x-haoqi-computed-by")
            .is_some_and(|v| v == "refresh")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("first refresh after {:.1} s", first.elapsed().as_secs_f64());
}
