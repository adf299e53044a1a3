//! Simulator → adapters → normalisation → store, end to end on the real embedded engine:
//! a sweep stores exactly what the simulator serves (Kuaishou's rounded counts with their
//! interval), records every attempt, and a faulted answer never becomes a reading.

use std::sync::Arc;

use chrono::Utc;
use haoqi::config::CollectConfig;
use haoqi::service::collect::{self, CollectOptions};
use haoqi_analytics::progress::ProgressQuery;
use haoqi_model::reading::Source;
use haoqi_registry::dimensions;
use haoqi_simulator::growth::{day_of, Curve};
use haoqi_simulator::{Faults, SimAccount, SimConfig, Simulator};
use haoqi_store::spool::{Spool, Writer};
use haoqi_store::Store;
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
    let mut config = CollectConfig::default();
    config.timeout_ms = 500;
    let sweeper = collect::sweeper(&config, &opts).expect("sweeper");
    let targets = collect::targets(&registry, &sweeper.platforms());
    assert_eq!(targets.len(), 5);
    let writer = Writer::new(
        store.clone(),
        Spool::open(&engine_dir().join(format!("spool-{test}")), "test").expect("spool"),
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
    let today = haoqi_model::time::today();
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
        if reg.platform == haoqi_platform::Platform::Kuaishou && curve.followers(now) >= 10_000 {
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

/// The limiter-wait histogram counts every request the simulator received, per platform, and
/// the queue between the sweep and the writer is measured. (Bilibili's extra endpoints and its
/// buvid3 request are counted the same way: collectors/crawl/tests/endpoints.rs.)
#[tokio::test]
async fn limiter_waits_and_queue_depth_reach_the_metrics() {
    let store = fresh_store("collect_metrics").await;
    let registry = small_registry();
    dimensions::load(store.as_ref(), &registry, &rules(), Utc::now())
        .await
        .expect("registry");
    let (url, sim) = simulator(Faults::default()).await;
    let metrics = haoqi_web::metrics::Metrics::new().expect("metrics");
    let opts = CollectOptions {
        simulator: Some(url),
        per_second: Some(20.0),
        ..CollectOptions::default()
    };
    let sweeper = collect::observe_limiter(
        collect::sweeper(&CollectConfig::default(), &opts).expect("sweeper"),
        &metrics,
    );
    let targets = collect::targets(&registry, &sweeper.platforms());
    let writer = Writer::new(
        store.clone(),
        Spool::open(&engine_dir().join("spool-collect_metrics"), "test").expect("spool"),
    );
    let sink = collect::Sink {
        store: store.clone(),
        writer: &writer,
        batch_max_rows: 2,
        source: Source::Simulated,
        metrics: Some(&metrics),
        progress: false,
    };
    let report = collect::collect_once(&sweeper, targets, &sink)
        .await
        .expect("sweep");
    assert_eq!(report.readings, 5, "{report:?}");
    let stats = sim.stats();
    assert!(stats.requests.len() >= 2, "{stats:?}");
    for (platform, n) in &stats.requests {
        let counted = metrics
            .limiter_wait
            .with_label_values(&[platform.as_str()])
            .get_sample_count();
        assert_eq!(
            counted, *n,
            "{platform}: every request waited its turn once"
        );
    }
    let text = metrics.render();
    assert!(text.contains("haoqi_pipeline_queue_capacity 256"), "{text}");
    assert!(text.contains("haoqi_pipeline_queue_depth "), "{text}");
    assert!(text.contains("haoqi_collector_limiter_wait_seconds_bucket{platform=\"douyin\""));
}

/// `/healthz` under `haoqi run`: store reachability plus each platform's circuit, last success
/// and overdue accounts, first after a clean interval, then while every platform rate-limits.
#[tokio::test]
async fn healthz_reports_each_platforms_collectors() {
    use haoqi_crawl::scheduler::{ScheduleConfig, Scheduler};
    use haoqi_web::{self as http, AppState, CollectorState};
    use std::collections::HashMap;
    use std::time::Duration;

    let store = fresh_store("collect_healthz").await;
    let registry = small_registry();
    let metrics = haoqi_web::metrics::Metrics::new().expect("metrics");
    let state = CollectorState::default();
    let app = http::with_collectors(
        http::router(AppState {
            metrics: metrics.clone(),
            store: store.clone(),
            settings: Arc::new(haoqi::config::Config::analytics(
                &haoqi::config::Config::default(),
            )),
            health: Default::default(),
            cache: Default::default(),
        }),
        state.clone(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let get = || async {
        let text = reqwest::get(format!("http://{addr}/healthz"))
            .await
            .expect("healthz")
            .text()
            .await
            .expect("body");
        serde_json::from_str::<serde_json::Value>(&text).expect("json")
    };

    let interval = Duration::from_secs(2);
    let run = |faults: Faults, stop_after: Option<Duration>| {
        let registry = registry.clone();
        async move {
            let (url, _sim) = simulator(faults).await;
            let opts = CollectOptions {
                simulator: Some(url),
                per_second: Some(20.0),
                ..CollectOptions::default()
            };
            let mut config = CollectConfig::default();
            config.timeout_ms = 500;
            let sweeper = Arc::new(collect::sweeper(&config, &opts).expect("sweeper"));
            let scheduler = Scheduler::new(
                sweeper.clone(),
                ScheduleConfig {
                    interval,
                    ..ScheduleConfig::default()
                },
            );
            let mut per_platform: HashMap<_, Vec<_>> = HashMap::new();
            for t in collect::targets(&registry, &sweeper.platforms()) {
                per_platform.entry(t.platform).or_default().push(t);
            }
            let (tx, mut rx) = tokio::sync::mpsc::channel(64);
            let (stop_tx, stop) = tokio::sync::watch::channel(false);
            let mut tasks = tokio::task::JoinSet::new();
            for (p, targets) in per_platform.clone() {
                tasks.spawn(
                    scheduler
                        .clone()
                        .run(p, targets, tx.clone(), stop.clone(), Some(1)),
                );
            }
            drop(tx);
            let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
            if let Some(d) = stop_after {
                tokio::time::sleep(d).await;
                let _ = stop_tx.send(true);
            }
            while tasks.join_next().await.is_some() {}
            let _ = drain.await;
            (scheduler, per_platform)
        }
    };

    let (scheduler, per_platform) = run(Faults::default(), None).await;
    collect::refresh_collector_state(&scheduler, &per_platform, interval, &metrics, &state);
    let body = get().await;
    assert_eq!(body["status"], "ok", "{body}");
    let platforms = body["collectors"]["platforms"]
        .as_object()
        .expect("platforms");
    assert_eq!(platforms.len(), per_platform.len(), "{body}");
    for (p, targets) in &per_platform {
        let h = &platforms[p.as_str()];
        assert_eq!(h["circuit"], "closed", "{body}");
        assert_eq!(h["overdue"], 0, "{body}");
        assert_eq!(h["accounts"], targets.len());
        assert!(
            h["last_success_age_secs"].as_i64().is_some_and(|a| a < 30),
            "{body}"
        );
    }

    // Every answer a rate limit: circuits open, nothing read, every account overdue.
    let faults = Faults {
        rate_limited: 1.0,
        ..Faults::default()
    };
    let (scheduler, per_platform) = run(faults, Some(Duration::from_secs(1))).await;
    collect::refresh_collector_state(&scheduler, &per_platform, interval, &metrics, &state);
    let body = get().await;
    for (p, targets) in &per_platform {
        let h = &body["collectors"]["platforms"][p.as_str()];
        assert_eq!(h["circuit"], "open", "{body}");
        assert_eq!(h["overdue"], targets.len(), "{body}");
        assert!(h["last_success_age_secs"].is_null(), "{body}");
    }
    assert!(metrics
        .render()
        .contains("haoqi_collector_circuit_state{platform=\"douyin\"} 2"));
}

/// Accounts within 5 % below (or just over, by a rounded count) their target are the ones the
/// scheduler reads first.
#[tokio::test]
async fn accounts_near_their_target_are_found() {
    use haoqi_model::reading::Batch;
    let store = fresh_store("collect_near").await;
    let registry = small_registry();
    dimensions::load(store.as_ref(), &registry, &rules(), Utc::now())
        .await
        .expect("registry");
    let query = ProgressQuery {
        as_of: haoqi_model::time::today(),
        stale_after_hours: 48,
    };
    let with_target: Vec<(String, haoqi_platform::Platform, u64)> = query
        .accounts(store.as_ref())
        .await
        .expect("accounts")
        .into_iter()
        .filter_map(|a| {
            let p = a.platform.parse().ok()?;
            Some((a.account_id, p, a.target?))
        })
        .collect();
    assert!(with_target.len() >= 3, "{with_target:?}");
    let when = (Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    let value = |t: u64, share: f64| ((t as f64) * share).round().to_string();
    let readings = vec![
        followers(
            &with_target[0].0,
            with_target[0].1,
            &when,
            &value(with_target[0].2, 0.97),
        ),
        followers(
            &with_target[1].0,
            with_target[1].1,
            &when,
            &value(with_target[1].2, 0.5),
        ),
        followers(
            &with_target[2].0,
            with_target[2].1,
            &when,
            &value(with_target[2].2, 1.2),
        ),
    ];
    let writer = Writer::new(
        store.clone(),
        Spool::open(&engine_dir().join("spool-collect_near"), "test").expect("spool"),
    );
    writer
        .write(&Batch::new(&readings, Utc::now()))
        .await
        .expect("write");
    let near = collect::near_target(store.as_ref(), 0.05)
        .await
        .expect("near");
    assert_eq!(
        near,
        vec![with_target[0].0.clone()],
        "97 % is near; 50 % and 120 % are not"
    );
}
