//! Crash safety on the real embedded engine (issue 15): what a process killed between a
//! table's parts and its view's parts leaves behind is completed; `haoqi check` finds each
//! planted defect with its place and repairs it, and a second run finds nothing; damaged and
//! foreign spool files are quarantined, never a reason to stop. The kill -9 harness over the
//! binary is in pipeline/tests/crash.rs.

use chrono::Utc;
use haoqi_model::reading::{batch_id, Batch, Reading, Source};
use haoqi_platform::Platform::{Bilibili, Douyin};
use haoqi_store::check::{check, CheckOptions, CheckReport};
use haoqi_store::spool::{Spool, Writer};
use haoqi_store::sql::{self, Params};
use haoqi_store::{journal, Store};
use haoqi_tests::*;

fn readings(n: usize, day: &str) -> Vec<Reading> {
    (0..n)
        .map(|i| {
            let mut r = followers(
                &format!("acc{}", i % 7),
                if i % 2 == 0 { Bilibili } else { Douyin },
                &format!("{day}T{:02}:{:02}:00Z", i % 24, i % 60),
                &format!("{}", 1000 + i),
            );
            r.likes = Some(count(&format!("{}", 50 + i)));
            r
        })
        .collect()
}

async fn rolled_up(store: &dyn Store) -> u64 {
    let db = store.database();
    scalar(
        store,
        &format!("SELECT sum(n) FROM (SELECT uniqExactMerge(observations) AS n FROM `{db}`.counters_daily GROUP BY metric, account_id, day)"),
    )
    .await
}

/// The finalized rollup, row by row, for comparing two rollups.
async fn rollup_text(store: &dyn Store) -> String {
    let db = store.database();
    let rows = store
        .query_rows(&format!(
            "SELECT metric, account_id, day, argMaxMerge(value) AS v, argMaxMerge(lo) AS lo, argMaxMerge(hi) AS hi, \
             argMaxMerge(source) AS s, max(last_at) AS last, uniqExactMerge(observations) AS n \
             FROM `{db}`.counters_daily GROUP BY metric, account_id, day ORDER BY metric, account_id, day"
        ))
        .await
        .expect("rollup");
    serde_json::to_string(&rows).expect("json")
}

fn full(repair: bool) -> CheckOptions {
    CheckOptions {
        full: true,
        repair,
        limit: 1000,
    }
}

fn kinds(r: &CheckReport) -> Vec<&str> {
    r.findings.iter().map(|f| f.kind).collect()
}

fn writer(store: &std::sync::Arc<dyn Store>, test: &str) -> (Writer, Spool) {
    let dir = engine_dir().join(format!("spool-crash-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    let spool = Spool::open(&dir, "this-store").expect("spool");
    (Writer::new(store.clone(), spool.clone()), spool)
}

async fn forget_rollup_of(store: &dyn Store, days: &[String]) {
    store
        .execute(
            &sql::render(
                sql::queries::ROLLUP_FORGET,
                &Params::new(store.database()).set("days", days),
            )
            .expect("render"),
        )
        .await
        .expect("forget");
}

#[tokio::test]
async fn the_rebuild_query_derives_exactly_the_rollup_the_view_writes() {
    let store = fresh_store("crash_equiv").await;
    let (w, _) = writer(&store, "equiv");
    let mut rs = readings(300, "2024-05-01");
    rs.extend(readings(200, "2024-05-02"));
    // An abbreviated value and an open one, so lo and hi differ from the value.
    rs[3].followers = Some(count("1.3万"));
    rs[5].followers = Some(count("10万+"));
    w.write(&Batch::new(&rs, Utc::now())).await.expect("write");
    let by_view = rollup_text(store.as_ref()).await;
    let db = store.database();
    store
        .execute(&format!("TRUNCATE TABLE `{db}`.counters_daily"))
        .await
        .expect("truncate");
    assert_eq!(rolled_up(store.as_ref()).await, 0);
    let batch = Batch::new(&rs, Utc::now());
    let q = sql::render(
        sql::queries::ROLLUP_REBUILD,
        &Params::new(db)
            .set("batches", &[batch_id(&batch.token)][..])
            .set("days", &[] as &[String]),
    )
    .expect("render");
    store.execute(&q).await.expect("rebuild");
    assert_eq!(rollup_text(store.as_ref()).await, by_view);
    // Twice is the same as once: every column merges idempotently.
    store.execute(&q).await.expect("rebuild again");
    assert_eq!(rollup_text(store.as_ref()).await, by_view);
    let report = check(store.as_ref(), None, full(false))
        .await
        .expect("check");
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}

#[tokio::test]
async fn a_batch_begun_and_never_done_is_completed_by_the_next_writer() {
    let store = fresh_store("crash_begun").await;
    let rs = readings(120, "2024-06-03");
    let batch = Batch::new(&rs, Utc::now());
    // What a kill between the readings' parts and the view's parts leaves: the journal says
    // begun, the readings are there, their rollup is not.
    let (w, _) = writer(&store, "begun");
    w.write(&batch).await.expect("write");
    let db = store.database().to_string();
    store
        .execute(&format!(
            "ALTER TABLE `{db}`.batch_journal DELETE WHERE state = 'done' SETTINGS mutations_sync = 2"
        ))
        .await
        .expect("undo done");
    store
        .execute(&format!("TRUNCATE TABLE `{db}`.counters_daily"))
        .await
        .expect("drop rollup");
    let before = check(store.as_ref(), None, full(false))
        .await
        .expect("check");
    assert!(
        kinds(&before).contains(&"interrupted_batch"),
        "{:?}",
        before.findings
    );
    assert!(
        before.findings.iter().any(|f| f.kind == "rollup"),
        "the missing rollup is seen"
    );
    // The retry of the same batch is deduplicated at the source and so writes no rollup: only
    // the journal can bring it back. A new writer completes it before its first write.
    let (w, _) = writer(&store, "begun2");
    let report = w.replay().await.expect("replay");
    assert_eq!(report.recovered, 1);
    w.write(&batch).await.expect("retry");
    assert_eq!(
        rolled_up(store.as_ref()).await,
        240,
        "120 followers + 120 likes"
    );
    let after = check(store.as_ref(), None, full(false))
        .await
        .expect("check");
    assert!(after.findings.is_empty(), "{:?}", after.findings);
    assert!(journal::pending(store.as_ref())
        .await
        .expect("pending")
        .is_empty());
}

#[tokio::test]
async fn check_finds_a_reading_missing_from_its_rollup_and_rebuilds_the_day() {
    let store = fresh_store("crash_rollup").await;
    let (w, _) = writer(&store, "rollup");
    w.write(&Batch::new(&readings(140, "2024-07-01"), Utc::now()))
        .await
        .expect("write");
    w.write(&Batch::new(&readings(140, "2024-07-02"), Utc::now()))
        .await
        .expect("write");
    let total = rolled_up(store.as_ref()).await;
    let good = rollup_text(store.as_ref()).await;
    // Plant: one account-day's rollup gone, another's counting a reading that does not exist.
    forget_rollup_of(store.as_ref(), &["acc3|2024-07-02".to_string()]).await;
    let db = store.database().to_string();
    store
        .execute(&format!(
            "INSERT INTO `{db}`.counters_daily SELECT 'followers', 'acc4', toDate('2024-07-01'), \
             argMaxState(toUInt64(999999), toUInt128(1)), argMaxState(toUInt64(999999), toUInt128(1)), \
             argMaxState(toUInt64(999999), toUInt128(1)), argMaxState('crawl', toUInt128(1)), \
             toDateTime64('2024-06-30 17:00:00', 3, 'UTC'), uniqExactState(toDateTime64('2024-06-30 17:00:00', 3, 'UTC'))"
        ))
        .await
        .expect("plant");
    let found = check(store.as_ref(), None, full(false))
        .await
        .expect("check");
    let places: Vec<&str> = found.findings.iter().map(|f| f.place.as_str()).collect();
    assert!(places.contains(&"acc3 2024-07-02 followers"), "{places:?}");
    assert!(places.contains(&"acc3 2024-07-02 likes"), "{places:?}");
    assert!(places.contains(&"acc4 2024-07-01 followers"), "{places:?}");
    assert_eq!(found.open(), found.findings.len());
    let repaired = check(store.as_ref(), None, full(true))
        .await
        .expect("repair");
    assert_eq!(repaired.open(), 0);
    assert_eq!(rolled_up(store.as_ref()).await, total);
    assert_eq!(rollup_text(store.as_ref()).await, good);
    let again = check(store.as_ref(), None, full(true))
        .await
        .expect("again");
    assert!(again.findings.is_empty(), "{:?}", again.findings);
}

#[tokio::test]
async fn an_unrecorded_import_is_reported_and_rolled_back() {
    let store = fresh_store("crash_import").await;
    let (w, _) = writer(&store, "import");
    // Readings an interrupted import left: source import, provenance of a file never recorded.
    let sha = "ab".repeat(32);
    let rs: Vec<Reading> = readings(30, "2024-08-01")
        .into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            r.source = Source::Import;
            r.provenance = format!("sha256:{sha} row {}", i + 2);
            r
        })
        .collect();
    w.write(&Batch::new(&rs, Utc::now())).await.expect("write");
    w.write(&Batch::new(&readings(20, "2024-08-01"), Utc::now()))
        .await
        .expect("crawled readings of the same days stay");
    let found = check(store.as_ref(), None, full(false))
        .await
        .expect("check");
    assert_eq!(kinds(&found), ["unrecorded_import"], "{:?}", found.findings);
    assert_eq!(found.findings[0].place, format!("file sha256:{sha}"));
    assert!(found.findings[0].detail.contains("30 readings"));
    let repaired = check(store.as_ref(), None, full(true))
        .await
        .expect("repair");
    assert_eq!(repaired.open(), 0);
    let db = store.database().to_string();
    assert_eq!(
        scalar(
            store.as_ref(),
            &format!("SELECT count() FROM `{db}`.readings")
        )
        .await,
        20
    );
    assert_eq!(
        rolled_up(store.as_ref()).await,
        40,
        "the rollup holds what remains"
    );
    let again = check(store.as_ref(), None, full(false))
        .await
        .expect("again");
    assert!(again.findings.is_empty(), "{:?}", again.findings);
}

#[tokio::test]
async fn damaged_and_foreign_spool_files_are_set_aside_and_the_rest_replayed() {
    let store = fresh_store("crash_spool").await;
    let (w, spool) = writer(&store, "spool");
    let dir = spool.dir().to_path_buf();
    // A good batch, a file that is not UTF-8, and another store's batch, in arrival order.
    let good = spool
        .push(&Batch::new(&readings(10, "2024-09-01"), Utc::now()))
        .expect("push");
    std::fs::write(
        dir.join("0000000000001-000001-bad.jsonl"),
        b"\xff\xfe\x00garbage\n",
    )
    .expect("write");
    let other = Spool::open(&dir, "another-store").expect("other");
    let foreign = other
        .push(&Batch::new(&readings(5, "2024-09-02"), Utc::now()))
        .expect("push");
    let found = check(store.as_ref(), Some(&spool), CheckOptions::default())
        .await
        .expect("check");
    let mut k = kinds(&found);
    k.sort();
    assert_eq!(
        k,
        ["damaged_spool_file", "foreign_spool_file"],
        "{:?}",
        found.findings
    );
    assert!(found
        .findings
        .iter()
        .any(|f| f.detail.contains("not UTF-8")));
    // Replay does not stop at them.
    let report = w.replay().await.expect("replay");
    assert_eq!((report.replayed, report.rows, report.rejected), (1, 10, 2));
    assert!(!good.exists() && !foreign.exists());
    assert!(dir
        .join("rejected")
        .join(foreign.file_name().expect("name"))
        .exists());
    let reason = std::fs::read_to_string(
        dir.join("rejected")
            .join(foreign.file_name().expect("name"))
            .with_extension("reason.txt"),
    )
    .expect("reason");
    assert!(reason.contains("another-store"), "{reason}");
    let db = store.database().to_string();
    assert_eq!(
        scalar(
            store.as_ref(),
            &format!("SELECT count() FROM `{db}`.readings")
        )
        .await,
        10
    );
    let clean = check(store.as_ref(), Some(&spool), CheckOptions::default())
        .await
        .expect("check");
    assert!(clean.findings.is_empty(), "{:?}", clean.findings);
}

#[tokio::test]
async fn a_restarted_run_orders_its_polls_by_the_readings_the_store_remembers() {
    use haoqi::service::collect;
    use haoqi_crawl::fetch::{FetchConfig, Fetcher};
    use haoqi_crawl::scheduler::{ScheduleConfig, Scheduler};
    use haoqi_crawl::sweep::{Sweeper, Target};
    use std::collections::HashMap;
    use std::sync::Arc;

    let store = fresh_store("crash_memory").await;
    let ago = |h: i64| haoqi_model::time::to_clickhouse(Utc::now() - chrono::Duration::hours(h));
    // A read an hour ago, B two days ago, C only failed, D never tried.
    record_attempts(
        store.as_ref(),
        "memory",
        &[
            (ago(1), "A", "bilibili", "reading", ""),
            (ago(48), "B", "bilibili", "reading", ""),
            (ago(2), "B", "bilibili", "rate_limited", "HTTP 412"),
            (ago(3), "C", "bilibili", "blocked", "captcha"),
        ],
    )
    .await;
    let fetcher = Fetcher::new(FetchConfig::default()).expect("fetcher");
    let sweeper = Arc::new(Sweeper::new(Vec::new(), &HashMap::new(), fetcher, 1));
    let scheduler = Scheduler::new(sweeper, ScheduleConfig::default());
    assert_eq!(
        collect::remember_last_successes(store.as_ref(), &scheduler).await,
        Some(2)
    );
    let mut targets: Vec<Target> = ["A", "B", "C", "D"]
        .into_iter()
        .map(|id| Target {
            account_id: id.into(),
            platform: Bilibili,
            platform_id: id.into(),
        })
        .collect();
    scheduler.order(&mut targets);
    let ids: Vec<&str> = targets.iter().map(|t| t.account_id.as_str()).collect();
    assert_eq!(
        ids,
        ["C", "D", "B", "A"],
        "never read first, then the oldest reading"
    );
}
