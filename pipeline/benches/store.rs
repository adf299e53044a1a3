//! Store benchmarks on the real embedded engine (libchdb must be installed):
//! - inserting readings in batches of 10,000 (goal: >= 300,000 readings/s), including building
//!   the batch (serialisation and token) and the daily rollup the materialized view maintains;
//! - the goal-progress query (by tier and by prefecture, one pass) over 26 million readings —
//!   3,000 accounts read hourly for a year (goal: <= 200 ms median) — and over 30,000 accounts
//!   for a year (10x accounts; read daily, which gives the rollup the same shape as hourly: the
//!   query reads only the rollup).

mod common;

use std::cell::OnceCell;
use std::sync::Arc;
use std::time::Duration;

use common::{engine_dir, fresh, matrix, runtime};

use chrono::{DateTime, NaiveDate, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use haoqi_analytics::progress::ProgressQuery;
use haoqi_model::count::Count;
use haoqi_model::reading::{Batch, Reading, Source};
use haoqi_platform::Platform;
use haoqi_store::spool::{Spool, WriteOutcome, Writer};
use haoqi_store::Store;

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
