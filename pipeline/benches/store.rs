//! Store benchmarks on the real embedded engine (libchdb must be installed):
//! - inserting readings in batches of 10,000 (goal: >= 300,000 readings/s), including building
//!   the batch (serialisation and token) and the daily rollup the materialized view maintains;
//! - the goal-progress query (by tier and by prefecture, one pass) over 26 million readings —
//!   3,000 accounts read hourly for a year (goal: <= 200 ms median) — and over 30,000 accounts
//!   for a year (10x accounts; read daily, which gives the rollup the same shape as hourly: the
//!   query reads only the rollup).

use std::cell::OnceCell;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use haoqi_analytics::progress::ProgressQuery;
use haoqi_model::count::Count;
use haoqi_model::reading::{Batch, Reading, Source};
use haoqi_platform::Platform;
use haoqi_store::spool::{Spool, WriteOutcome, Writer};
use haoqi_store::{migrate, EmbeddedStore, Store};

fn engine_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-store")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

async fn fresh(db: &str) -> Arc<dyn Store> {
    let s = EmbeddedStore::open(&engine_dir(), db).expect("open the embedded store");
    s.execute(&format!("DROP DATABASE IF EXISTS `{db}` SYNC"))
        .await
        .expect("drop");
    let s = EmbeddedStore::open(&engine_dir(), db).expect("open");
    migrate::migrate(&s).await.expect("migrate");
    Arc::new(s)
}

fn batch(seq: u64, n: u64) -> Batch {
    let base = DateTime::<Utc>::from_timestamp(1_704_067_200, 0).expect("time");
    let readings: Vec<Reading> = (0..n)
        .map(|i| {
            let mut r = Reading::followers(
                &format!("acc{}", i % 3000),
                Platform::Bilibili,
                base + chrono::Duration::seconds((seq * n + i) as i64),
                Count::exact(10_000 + i),
                Source::Simulated,
            );
            r.likes = Some(Count::exact(50_000 + i));
            r.posts = Some(Count::exact(100 + i % 50));
            r
        })
        .collect();
    Batch::new(&readings, Utc::now())
}

fn insert(c: &mut Criterion) {
    let rt = runtime();
    let store = rt.block_on(fresh("bench_insert"));
    let spool = Spool::open(&engine_dir().join("spool"), "test").expect("spool");
    let writer = Writer::new(store, spool);
    let mut seq = 0u64;
    let mut g = c.benchmark_group("store");
    g.throughput(Throughput::Elements(10_000));
    g.sample_size(20);
    g.bench_function("build_batch/10000", |b| b.iter(|| batch(0, 10_000)));
    g.bench_function("insert_readings/batch_10000", |b| {
        b.iter(|| {
            seq += 1;
            let batch = batch(seq, 10_000);
            let outcome = rt.block_on(writer.write(&batch)).expect("write");
            assert_eq!(outcome, WriteOutcome::Stored);
        })
    });
    g.finish();
}

/// Fills a database with `accounts` accounts (a unit each, kinds and prefectures spread) and
/// `per_day` readings per account per day for 2024 (followers, likes and posts, as the crawled
/// platforms expose them; a new post every three days), generated inside ClickHouse.
async fn matrix(db: &str, accounts: u64, per_day: u64) -> Arc<dyn Store> {
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

fn progress(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("store");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(10));
    let q = ProgressQuery {
        as_of: NaiveDate::from_ymd_opt(2024, 12, 31).expect("date"),
        stale_after_hours: 48,
    };
    let deadline = NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
    for (name, accounts, per_day) in [
        ("progress/3000_accounts_hourly_year", 3_000u64, 24u64),
        ("progress/30000_accounts_daily_year", 30_000, 1),
    ] {
        // Built when a benchmark that needs it runs, so a filter that leaves the data set's
        // benchmarks out does not wait for it.
        let built = OnceCell::new();
        let data = || -> Arc<dyn Store> {
            built
                .get_or_init(|| {
                    let store =
                        rt.block_on(matrix(&format!("bench_{accounts}"), accounts, per_day));
                    let p = rt
                        .block_on(q.summary(store.as_ref(), 20_000_000, deadline))
                        .expect("progress");
                    assert_eq!(p.matrix.accounts, accounts);
                    assert_eq!(p.matrix.reporting, accounts);
                    store
                })
                .clone()
        };
        g.bench_function(name, |b| {
            let store = data();
            b.iter(|| {
                rt.block_on(q.summary(store.as_ref(), 20_000_000, deadline))
                    .expect("progress")
            })
        });
        if accounts == 3_000 {
            analytics(&mut g, &rt, &data);
        }
    }
    g.finish();
}

/// On the same year of hourly readings for 3,000 accounts: ranking a quarter end to end
/// (inputs, findings, scores, the XLSX workbook) and the stalled-account query.
fn analytics(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &tokio::runtime::Runtime,
    data: &dyn Fn() -> Arc<dyn Store>,
) {
    use haoqi_analytics::health::{HealthQuery, StalledConfig};
    use haoqi_analytics::rank::{self, RankConfig, TierFilter};
    let from = NaiveDate::from_ymd_opt(2024, 10, 1).expect("date");
    let to = NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
    let crawled = vec!["douyin".to_string()];
    let config = RankConfig::default();
    let out = engine_dir().join("bench-rank.xlsx");
    let once = |store: &dyn Store| {
        let data = rt
            .block_on(rank::load(store, from, to, &config, &crawled))
            .expect("rank inputs");
        let r = rank::rank(&data, from, to, &TierFilter::Both, &config, &[]);
        rank::xlsx::write(&out, &r, 20_000_000, 0).expect("xlsx");
        r
    };
    // Criterion calls each routine once per sample: the answers are checked on the first call.
    let checked = std::cell::Cell::new(false);
    g.bench_function("rank/quarter_3000_accounts_with_xlsx", |b| {
        let store = data();
        if !checked.replace(true) {
            let r = once(store.as_ref());
            assert_eq!(r.accounts.len() + r.ineligible.len(), 3_000);
        }
        b.iter(|| once(store.as_ref()))
    });
    let health = HealthQuery {
        now: "2024-12-31T12:00:00Z".parse().expect("time"),
        config: StalledConfig::default(),
        interval_mins: 60,
        crawled,
    };
    let checked = std::cell::Cell::new(false);
    g.bench_function("stalled/3000_accounts", |b| {
        let store = data();
        if !checked.replace(true) {
            let rows = rt.block_on(health.run(store.as_ref())).expect("health");
            assert_eq!(rows.len(), 3_000);
            let blocked: Vec<_> = rows
                .iter()
                .filter(|r| r.state == "collection_blocked")
                .collect();
            // The six captcha accounts, and those whose latest attempt was rate limited.
            assert!(blocked.len() > 6, "{} blocked", blocked.len());
            let captcha = rows.iter().find(|r| r.account_id == "a7").expect("a7");
            assert_eq!(captcha.state, "collection_blocked");
            assert_eq!(captcha.since, NaiveDate::from_ymd_opt(2024, 12, 11));
        }
        b.iter(|| rt.block_on(health.run(store.as_ref())).expect("health"))
    });
    // What `/api/stalled` does between two refreshes: the refresh's states as the JSON answer.
    g.bench_function("stalled/3000_accounts_api_from_refresh", |b| {
        use haoqi_analytics::snapshot::Snapshot;
        let store = data();
        let snapshot = Snapshot {
            now: health.now,
            rows: Arc::new(rt.block_on(health.run(store.as_ref())).expect("health")),
        };
        b.iter(|| serde_json::to_vec(&snapshot.report("refresh")).expect("json"))
    });
}

criterion_group!(benches, insert, progress);
criterion_main!(benches);
