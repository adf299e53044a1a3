//! Simulator → adapters → normalisation → store, end to end on the real embedded engine:
//! a sweep stores exactly what the simulator serves (Kuaishou's rounded counts with their
//! interval), records every attempt, and a faulted answer never becomes a reading.

use std::sync::Arc;

use chrono::Utc;
use haoqi_collectors::simulator::growth::{day_of, Curve};
use haoqi_collectors::simulator::{Faults, SimAccount, SimConfig, Simulator};
use haoqi_pipeline::collect::{self, CollectOptions};
use haoqi_pipeline::config::CollectConfig;
use haoqi_pipeline::dimensions;
use haoqi_pipeline::progress::ProgressQuery;
use haoqi_pipeline::reading::Source;
use haoqi_pipeline::spool::{Spool, Writer};
use haoqi_pipeline::store::Store;
use haoqi_tests::*;

async fn simulator(faults: Faults) -> (url::Url, Simulator) {
    let registry = small_registry();
    let accounts: Vec<SimAccount> = registry
        .accounts
        .iter()
        .map(|a| SimAccount::new(a.platform, &a.platform_id, &a.display_name))
        .collect();
    let sim = Simulator::new(
        accounts,
        SimConfig {
            limit_per_sec: 50.0,
            faults,
            fixed_time: None,
            ..SimConfig::default()
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url =
        url::Url::parse(&format!("http://{}", listener.local_addr().expect("addr"))).expect("url");
    tokio::spawn(sim.clone().serve(listener));
    (url, sim)
}

async fn sweep(test: &str, faults: Faults) -> (Arc<dyn Store>, collect::CollectReport, Simulator) {
    let store = fresh_store(test).await;
    let registry = small_registry();
    dimensions::load(store.as_ref(), &registry, &rules(), Utc::now())
        .await
        .expect("registry");
    let (url, sim) = simulator(faults).await;
    let opts = CollectOptions {
        simulator: Some(url),
        per_second: Some(20.0),
        ..CollectOptions::default()
    };
    let config = CollectConfig {
        timeout_ms: 500,
        ..CollectConfig::default()
    };
    let sweeper = collect::sweeper(&config, &opts).expect("sweeper");
    let targets = collect::targets(&registry, &sweeper.platforms());
    assert_eq!(targets.len(), 5);
    let writer = Writer::new(
        store.clone(),
        Spool::open(&engine_dir().join(format!("spool-{test}"))).expect("spool"),
    );
    let sink = collect::Sink {
        store: store.clone(),
        writer: &writer,
        batch_max_rows: 2,
        source: Source::Simulated,
        metrics: None,
        progress: false,
    };
    let report = collect::collect_once(&sweeper, targets, &sink)
        .await
        .expect("sweep");
    (store, report, sim)
}

#[tokio::test]
async fn a_sweep_stores_what_the_platforms_say() {
    let (store, report, sim) = sweep("collect_clean", Faults::default()).await;
    assert_eq!(report.polled, 5);
    assert_eq!(report.readings, 5, "{report:?}");
    assert_eq!(report.events_written, 5);
    assert_eq!(sim.stats().violations.values().sum::<u64>(), 0);
    let today = haoqi_pipeline::time::today();
    let accounts = ProgressQuery {
        as_of: today,
        stale_after_hours: 48,
    }
    .accounts(store.as_ref())
    .await
    .expect("accounts");
    let registry = small_registry();
    for a in &accounts {
        let reg = registry
            .accounts
            .iter()
            .find(|r| r.account_id == a.account_id)
            .expect("registered");
        let curve = Curve::new(SimAccount::new(reg.platform, &reg.platform_id, "").seed);
        let now = day_of(Utc::now().timestamp());
        // The curve moves a little between the poll and now; an hour's growth is the tolerance.
        let (lo_day, hi_day) = (now - 1.0 / 24.0, now);
        let followers = a.followers.expect("read");
        if reg.platform == haoqi_collectors::Platform::Kuaishou && curve.followers(now) >= 10_000 {
            // "1.2万"-style answers: the stored interval contains the true value.
            let lo = a.followers_lo.expect("lo");
            let hi = a.followers_hi.expect("hi");
            assert!(hi > lo, "an abbreviated count is an interval");
            assert!(lo <= curve.followers(hi_day) && curve.followers(lo_day) <= hi);
        } else {
            assert!(followers >= curve.followers(lo_day) && followers <= curve.followers(hi_day));
        }
        assert_eq!(a.source.as_deref(), Some("simulated"));
    }
    let n = scalar(
        store.as_ref(),
        &format!(
            "SELECT count() FROM `{}`.collection_events WHERE outcome = 'reading'",
            store.database()
        ),
    )
    .await;
    assert_eq!(n, 5);
}

#[tokio::test]
async fn faulted_answers_are_events_not_readings() {
    let mut faults = Faults::uniform(0.99);
    faults.slow_ms = 1_000;
    let (store, report, _) = sweep("collect_faults", faults).await;
    let db = store.database().to_string();
    let readings = scalar(
        store.as_ref(),
        &format!("SELECT count() FROM `{db}`.readings"),
    )
    .await;
    let ok_events = scalar(
        store.as_ref(),
        &format!("SELECT count() FROM `{db}`.collection_events WHERE outcome = 'reading'"),
    )
    .await;
    let failed = scalar(
        store.as_ref(),
        &format!("SELECT count() FROM `{db}`.collection_events WHERE outcome != 'reading'"),
    )
    .await;
    assert_eq!(
        readings, ok_events,
        "a reading exactly for each successful attempt"
    );
    assert_eq!(readings as usize, report.readings);
    assert_eq!(ok_events + failed, 5);
    assert!(failed >= 4, "99% faults: {report:?}");
    // No zero was stored for a failed attempt.
    let zeros = scalar(
        store.as_ref(),
        &format!("SELECT count() FROM `{db}`.readings WHERE followers = 0"),
    )
    .await;
    assert_eq!(zeros, 0);
}
