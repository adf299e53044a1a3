//! Upgrading a store that holds data: migration 9 rebuilds the daily rollup into month
//! partitions. Every rollup row must survive it unchanged, the materialized view must feed the
//! new table afterwards, and the answers must not move — including the latest reading of
//! accounts last read long before the day asked about (older than the recent partitions the
//! views read first).

use chrono::{NaiveDate, Utc};
use haoqi_analytics::health::{HealthQuery, StalledConfig};
use haoqi_analytics::progress::ProgressQuery;
use haoqi_platform::Platform::{Douyin, Kuaishou};
use haoqi_registry::dimensions;
use haoqi_store::migrate;
use haoqi_tests::*;

const ROLLUP: &str = "SELECT metric, account_id, day, finalizeAggregation(value) AS v, \
    finalizeAggregation(lo) AS lo, finalizeAggregation(hi) AS hi, \
    finalizeAggregation(source) AS source, last_at, finalizeAggregation(observations) AS n \
    FROM t_upgrade.counters_daily FINAL ORDER BY metric, account_id, day";

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

#[tokio::test]
async fn the_rollup_moves_into_month_partitions_with_every_row_and_answer_kept() {
    let store = fresh_store_at("upgrade", 8).await;
    assert_eq!(
        migrate::current_version(store.as_ref())
            .await
            .expect("version"),
        Some(8)
    );
    dimensions::load(store.as_ref(), &small_registry(), &rules(), Utc::now())
        .await
        .expect("load registry");
    // Three months, so the rows span partitions; E's counts are abbreviated (lo < value).
    let readings = vec![
        followers("A", Douyin, "2024-01-20T02:00:00Z", "900"),
        followers("A", Douyin, "2024-02-10T02:00:00Z", "1000"),
        followers("A", Douyin, "2024-03-01T12:00:00Z", "1100"),
        followers("B", Douyin, "2024-03-02T15:30:00Z", "520"),
        followers("D", Douyin, "2024-03-05T05:00:00Z", "21000"),
        followers("E", Kuaishou, "2024-01-31T06:00:00Z", "1.9万"),
        followers("E", Kuaishou, "2024-03-05T06:00:00Z", "2.1万"),
    ];
    write_unjournalled(store.as_ref(), &readings).await;

    let progress = |as_of: &str| ProgressQuery {
        as_of: day(as_of),
        stale_after_hours: 48,
    };
    let before_rows = store.query_rows(ROLLUP).await.expect("rollup");
    assert_eq!(before_rows.len(), 7);
    let before_march = progress("2024-03-05")
        .summary(store.as_ref(), 20_000_000, day("2024-12-31"))
        .await
        .expect("progress");

    let report = migrate::migrate(store.as_ref())
        .await
        .expect("migrate from 8");
    assert_eq!(
        report.applied,
        vec![
            (9, "month_partitions".to_string()),
            (10, "queries_not_views".to_string()),
            (11, "last_attempts".to_string()),
            (12, "batch_journal".to_string())
        ]
    );
    assert_eq!(report.views, vec!["account_health".to_string()]);

    assert_eq!(store.query_rows(ROLLUP).await.expect("rollup"), before_rows);
    let partitioned = store
        .query_rows(
            "SELECT partition_key FROM system.tables \
             WHERE database = 't_upgrade' AND name LIKE 'counters_daily%' AND engine != 'MaterializedView'",
        )
        .await
        .expect("tables");
    assert_eq!(partitioned.len(), 1, "the copy is gone: {partitioned:?}");
    assert_eq!(partitioned[0]["partition_key"], "toYYYYMM(day)");
    assert_eq!(
        scalar(
            store.as_ref(),
            "SELECT uniqExact(partition) FROM system.parts \
             WHERE database = 't_upgrade' AND table = 'counters_daily' AND active"
        )
        .await,
        3
    );
    let after_march = progress("2024-03-05")
        .summary(store.as_ref(), 20_000_000, day("2024-12-31"))
        .await
        .expect("progress");
    assert_eq!(after_march.matrix, before_march.matrix);
    // 1,100 + 520 + 21,000 + 21,000 (lo 20,500).
    assert_eq!(after_march.matrix.followers, 43_620);
    assert_eq!(after_march.matrix.followers_lo, 43_120);

    // Months later every last reading is older than the recent days the view reads first:
    // the totals still carry them forward.
    let june = progress("2024-06-30")
        .summary(store.as_ref(), 20_000_000, day("2024-12-31"))
        .await
        .expect("progress");
    assert_eq!(june.matrix.followers, 43_620);
    assert_eq!(june.matrix.reporting, 4);
    let health = HealthQuery {
        now: at("2024-07-01T04:00:00Z"),
        config: StalledConfig::default(),
        interval_mins: 60,
        crawled: vec!["douyin".into(), "kuaishou".into()],
    }
    .run(store.as_ref())
    .await
    .expect("health");
    let a = health.iter().find(|h| h.account_id == "A").expect("A");
    assert_eq!(a.state, "overdue");
    assert_eq!(a.followers, Some(1_100));
    assert_eq!(a.since, Some(day("2024-03-01")));
    let e = health.iter().find(|h| h.account_id == "E").expect("E");
    assert_eq!((e.followers, e.followers_lo), (Some(21_000), Some(20_500)));
    let c = health.iter().find(|h| h.account_id == "C").expect("C");
    assert_eq!((c.state.as_str(), c.followers), ("overdue", None));

    // The materialized view now writes into the partitioned table.
    let april = [followers("D", Douyin, "2024-04-02T05:00:00Z", "21500")];
    write_stored(&store, "upgrade", &april).await;
    assert_eq!(
        scalar(
            store.as_ref(),
            "SELECT count() FROM t_upgrade.counters_daily FINAL WHERE day = '2024-04-02'"
        )
        .await,
        1
    );
    assert_eq!(
        progress("2024-04-02")
            .summary(store.as_ref(), 20_000_000, day("2024-12-31"))
            .await
            .expect("progress")
            .matrix
            .followers,
        44_120
    );
}

#[tokio::test]
async fn attempts_recorded_before_migration_11_are_the_latest_attempts_after_it() {
    let store = fresh_store_at("upgrade_attempts", 10).await;
    let db = store.database().to_string();
    let base = Utc::now();
    let hours_ago = |h: i64| {
        (base - chrono::Duration::hours(h))
            .format("%Y-%m-%d %H:%M:%S%.3f")
            .to_string()
    };
    record_attempts(
        store.as_ref(),
        "before-11",
        &[
            (hours_ago(30), "A", "douyin", "reading", ""),
            (hours_ago(20), "A", "douyin", "rate_limited", "HTTP 429"),
            (hours_ago(10), "A", "douyin", "blocked", "captcha"),
            (hours_ago(5), "B", "douyin", "reading", ""),
        ],
    )
    .await;
    let report = migrate::migrate(store.as_ref()).await.expect("migrate");
    assert_eq!(
        report.applied,
        vec![
            (11, "last_attempts".to_string()),
            (12, "batch_journal".to_string())
        ]
    );
    let latest = format!(
        "SELECT account_id, argMaxMerge(last_outcome) AS outcome, argMaxMerge(last_error) AS error, \
                toString(max(last_ok_at)) AS last_ok_at \
         FROM `{db}`.last_attempts GROUP BY account_id ORDER BY account_id"
    );
    let rows = store.query_rows(&latest).await.expect("last attempts");
    let summary: Vec<[&str; 4]> = rows
        .iter()
        .map(|r| {
            ["account_id", "outcome", "error", "last_ok_at"]
                .map(|c| r[c].as_str().unwrap_or_default())
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ["A", "blocked", "captcha", hours_ago(30).as_str()],
            ["B", "reading", "", hours_ago(5).as_str()],
        ]
    );
    // Attempts recorded afterwards reach the table through its materialized view.
    record_attempts(
        store.as_ref(),
        "after-11",
        &[(hours_ago(1), "A", "douyin", "reading", "")],
    )
    .await;
    let rows = store.query_rows(&latest).await.expect("last attempts");
    assert_eq!(rows[0]["outcome"], "reading");
    assert_eq!(rows[0]["last_ok_at"], hours_ago(1).as_str());
}
