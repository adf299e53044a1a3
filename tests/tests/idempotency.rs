//! Readings are counted once however often they arrive, and nothing is lost when the store is
//! away: migrations, repeated batches, replay after a crash between write and acknowledgement,
//! and a store outage bridged by the spool — all on the real embedded engine.

use chrono::Utc;
use haoqi_model::reading::Batch;
use haoqi_platform::Platform::Bilibili;
use haoqi_store::location::{Secret, StoreLocation};
use haoqi_store::spool::{Spool, WriteOutcome, Writer};
use haoqi_store::sql::{self, Params};
use haoqi_store::{self as store, migrate, EmbeddedStore, Store};
use haoqi_tests::*;

fn batch_of(n: usize, day: &str) -> Batch {
    let readings: Vec<_> = (0..n)
        .map(|i| {
            followers(
                &format!("acc{i}"),
                Bilibili,
                &format!("{day}T0{}:00:00Z", i % 10),
                &format!("{}", 1000 + i),
            )
        })
        .collect();
    Batch::new(&readings, Utc::now())
}

async fn counts(store: &dyn Store) -> (u64, u64) {
    let db = store.database();
    (
        scalar(store, &format!("SELECT count() FROM `{db}`.readings")).await,
        scalar(
            store,
            &format!("SELECT sum(n) FROM (SELECT uniqExactMerge(observations) AS n FROM `{db}`.counters_daily GROUP BY metric, account_id, day)"),
        )
        .await,
    )
}

#[tokio::test]
async fn migrations_apply_once_and_report_the_version() {
    let db = "t_migrations";
    let store = EmbeddedStore::open(engine_dir(), db).expect("open");
    store
        .execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .await
        .expect("drop");
    let store = EmbeddedStore::open(engine_dir(), db).expect("open");
    assert_eq!(
        migrate::current_version(&store).await.expect("version"),
        None
    );
    let err = migrate::require_current(&store)
        .await
        .expect_err("not initialised");
    assert!(err.to_string().contains("haoqi init"), "{err}");
    let first = migrate::migrate(&store).await.expect("migrate");
    assert_eq!(first.applied.len(), sql::MIGRATIONS.len());
    assert_eq!(first.views, vec!["account_health".to_string()]);
    let second = migrate::migrate(&store).await.expect("migrate again");
    assert!(second.applied.is_empty());
    assert!(second.views.is_empty(), "{:?}", second.views);
    assert_eq!(second.already, sql::MIGRATIONS.len());
    // A view whose query file changed since it was published is published again: the store
    // holds an older text (a stand-in here) under an older checksum.
    store
        .execute(&format!(
            "CREATE OR REPLACE VIEW {db}.account_health AS SELECT 'older text' AS stand_in"
        ))
        .await
        .expect("older view");
    store
        .execute(&format!(
            "INSERT INTO {db}.schema_views VALUES ('account_health', 'older text', now64(3) + 1)"
        ))
        .await
        .expect("older checksum");
    let third = migrate::migrate(&store)
        .await
        .expect("migrate a third time");
    assert_eq!(third.views, vec!["account_health".to_string()]);
    let published: Vec<serde_json::Map<String, serde_json::Value>> = store
        .query_rows(&format!(
            "SELECT create_table_query FROM system.tables WHERE database = '{db}' AND name = 'account_health'"
        ))
        .await
        .expect("view");
    let text = published[0]["create_table_query"]
        .as_str()
        .unwrap_or_default();
    assert!(!text.contains("stand_in"), "{text}");
    assert!(text.contains("groupArrayIf"), "{text}");
    let expected = sql::MIGRATIONS.last().map(|m| m.0);
    assert_eq!(
        migrate::current_version(&store).await.expect("version"),
        expected
    );
    migrate::require_current(&store).await.expect("current");
    // The recorded checksum guards against editing an applied migration.
    store
        .execute(&format!(
            "INSERT INTO {db}.schema_migrations VALUES (1, 'dimensions', 'edited', now64(3) + 1)"
        ))
        .await
        .expect("tamper");
    let err = migrate::migrate(&store)
        .await
        .expect_err("checksum mismatch");
    assert!(
        err.to_string().contains("changed after it was applied"),
        "{err}"
    );
}

#[tokio::test]
async fn the_same_batch_twice_counts_once() {
    let store = fresh_store("twice").await;
    let writer = Writer::new(
        store.clone(),
        Spool::open(&engine_dir().join("spool-twice"), "test").expect("spool"),
    );
    let batch = batch_of(50, "2024-05-01");
    assert_eq!(
        writer.write(&batch).await.expect("write"),
        WriteOutcome::Stored
    );
    assert_eq!(counts(store.as_ref()).await, (50, 50));
    assert_eq!(
        writer.write(&batch).await.expect("write"),
        WriteOutcome::Stored
    );
    assert_eq!(
        counts(store.as_ref()).await,
        (50, 50),
        "a repeated batch is a no-op, in the table and the rollup"
    );
    // The same readings batched again later (new ingest time, same token) are still one.
    let rebatched = batch_of(50, "2024-05-01");
    assert_eq!(rebatched.token, batch.token);
    writer.write(&rebatched).await.expect("write");
    assert_eq!(counts(store.as_ref()).await, (50, 50));
    // A different batch is new data.
    writer
        .write(&batch_of(50, "2024-05-02"))
        .await
        .expect("write");
    assert_eq!(counts(store.as_ref()).await, (100, 100));
}

#[tokio::test]
async fn replay_after_a_crash_between_write_and_acknowledgement_counts_once() {
    let store = fresh_store("crash").await;
    let spool = Spool::open(&engine_dir().join("spool-crash"), "test").expect("spool");
    let batch = batch_of(20, "2024-06-01");
    // The batch was spooled, then written, then the process died before removing the file.
    let file = spool.push(&batch).expect("push");
    let params = Params::new(store.database()).set("token", batch.token.clone());
    store
        .insert_json_each_row(
            &sql::render(sql::queries::READINGS_INSERT, &params).expect("render"),
            batch.data.as_bytes(),
        )
        .await
        .expect("insert");
    assert!(file.exists());
    // Next start: replay sends it again.
    let report = Writer::new(store.clone(), spool.clone())
        .replay()
        .await
        .expect("replay");
    assert_eq!((report.replayed, report.rows, report.remaining), (1, 20, 0));
    assert!(spool.pending().expect("pending").is_empty());
    assert_eq!(counts(store.as_ref()).await, (20, 20));
}

#[tokio::test]
async fn an_outage_is_bridged_by_the_spool_in_order() {
    let store = fresh_store("outage").await;
    let spool = Spool::open(&engine_dir().join("spool-outage"), "test").expect("spool");
    // A ClickHouse server that is not there: port 1 on loopback refuses connections.
    let down = StoreLocation::parse("http://haoqi@127.0.0.1:1/haoqi", Some(Secret::new("pw")))
        .expect("url");
    let down: std::sync::Arc<dyn Store> =
        std::sync::Arc::from(store::open(&down).await.expect("client"));
    let offline = Writer::new(down, spool.clone());
    let batches: Vec<Batch> = (1..=3)
        .map(|d| batch_of(10, &format!("2024-07-0{d}")))
        .collect();
    for b in &batches {
        match offline.write(b).await.expect("write") {
            WriteOutcome::Spooled { reason, .. } => assert!(!reason.contains("pw")),
            WriteOutcome::Stored => panic!("nothing listens on port 1"),
        }
    }
    assert_eq!(spool.pending().expect("pending").len(), 3);
    // The store is back (here: the embedded engine). The next write replays the spool first.
    let online = Writer::new(store.clone(), spool.clone());
    let fourth = batch_of(10, "2024-07-04");
    assert_eq!(
        online.write(&fourth).await.expect("write"),
        WriteOutcome::Stored
    );
    assert!(spool.pending().expect("pending").is_empty());
    assert_eq!(counts(store.as_ref()).await, (40, 40));
    // Replayed in order: each insert makes a part whose block number says when it arrived.
    let order = store
        .query_rows(&format!(
            "SELECT batch_id FROM `{}`.readings GROUP BY batch_id \
             ORDER BY min(toUInt64(splitByChar('_', _part)[2]))",
            store.database()
        ))
        .await
        .expect("order");
    let tokens: Vec<&str> = order
        .iter()
        .filter_map(|r| r["batch_id"].as_str())
        .collect();
    let want: Vec<&str> = batches
        .iter()
        .chain([&fourth])
        .map(|b| haoqi_model::reading::batch_id(&b.token))
        .collect();
    assert_eq!(tokens, want);
}

#[tokio::test]
async fn a_batch_the_store_refuses_is_an_error_not_a_silent_loss() {
    let store = fresh_store("refused").await;
    let spool = Spool::open(&engine_dir().join("spool-refused"), "test").expect("spool");
    let writer = Writer::new(store.clone(), spool.clone());
    let mut bad = batch_of(1, "2024-08-01");
    bad.data = bad
        .data
        .replace("\"followers\":1000", "\"followers\":\"many\"");
    let err = writer.write(&bad).await.expect_err("bad data");
    assert!(err.to_string().contains("refused"), "{err}");
    assert!(
        spool.pending().expect("pending").is_empty(),
        "bad data is not spooled for ever"
    );
    assert_eq!(counts(store.as_ref()).await.0, 0);
}
