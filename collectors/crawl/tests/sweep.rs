//! Sweeps through the real adapters and fetch driver against the simulator: healthy accounts
//! read exactly, every injected fault becomes a typed error and never a reading, and the
//! collectors stay within the simulator's request budget.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use haoqi_crawl::adapter::{Adapter, PlatformSettings};
use haoqi_crawl::fetch::{FetchConfig, Fetcher};
use haoqi_crawl::platforms::{bilibili::Bilibili, douyin::Douyin, kuaishou::Kuaishou};
use haoqi_crawl::sweep::{Budget, Outcome, Sweeper, Target};
use haoqi_platform::{Platform, RawCount};
use haoqi_simulator::growth::{day_of, Curve};
use haoqi_simulator::{Faults, SimAccount, SimConfig, Simulator};
use tokio::sync::mpsc;
use url::Url;

const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn accounts(n: usize) -> Vec<SimAccount> {
    let mut v = Vec::new();
    for i in 0..n {
        v.push(SimAccount::new(
            Platform::Bilibili,
            &format!("{}", 3_493_000_000u64 + i as u64),
            &format!("好奇b{i}"),
        ));
        v.push(SimAccount::new(
            Platform::Douyin,
            &format!("MS4wLjABAAAAsim{i:05}"),
            &format!("好奇d{i}"),
        ));
        v.push(SimAccount::new(
            Platform::Kuaishou,
            &format!("3xsim{i:09}"),
            &format!("好奇k{i}"),
        ));
    }
    v
}

async fn start(sim: Simulator) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(sim.serve(listener));
    Url::parse(&format!("http://{addr}")).expect("url")
}

fn sweeper(base: &Url, per_second: f64, timeout: Duration, douyin_pages: bool) -> Sweeper {
    let s = |page_mode| PlatformSettings {
        page_mode,
        ..PlatformSettings::new(base.clone())
    };
    let adapters: Vec<Arc<dyn Adapter>> = vec![
        Arc::new(Bilibili::new(s(false))),
        Arc::new(Douyin(s(douyin_pages))),
        Arc::new(Kuaishou(s(false))),
    ];
    let budgets: HashMap<Platform, Budget> =
        [Platform::Bilibili, Platform::Douyin, Platform::Kuaishou]
            .into_iter()
            .map(|p| {
                (
                    p,
                    Budget {
                        per_second,
                        burst: 1,
                    },
                )
            })
            .collect();
    let fetcher = Fetcher::new(FetchConfig {
        timeout,
        ..FetchConfig::default()
    })
    .expect("client");
    Sweeper::new(adapters, &budgets, fetcher, 16)
}

async fn run(sweeper: &Sweeper, accounts: &[SimAccount]) -> Vec<Outcome> {
    let targets: Vec<Target> = accounts
        .iter()
        .map(|a| Target {
            account_id: format!("acc-{}", a.platform_id),
            platform: a.platform,
            platform_id: a.platform_id.clone(),
        })
        .collect();
    let (tx, mut rx) = mpsc::channel(8);
    let collect = tokio::spawn(async move {
        let mut v = Vec::new();
        while let Some(o) = rx.recv().await {
            v.push(o);
        }
        v
    });
    sweeper.sweep(targets, tx).await;
    collect.await.expect("collector")
}

#[tokio::test]
async fn a_clean_sweep_reads_every_account_exactly() {
    let accs = accounts(20);
    let sim = Simulator::new(
        accs.clone(),
        SimConfig {
            limit_per_sec: 200.0,
            faults: Faults::default(),
            fixed_time: Some(NOW),
            ..SimConfig::default()
        },
    );
    let base = start(sim.clone()).await;
    for pages in [false, true] {
        let outcomes = run(&sweeper(&base, 100.0, Duration::from_secs(5), pages), &accs).await;
        assert_eq!(outcomes.len(), accs.len());
        for o in &outcomes {
            let a = accs
                .iter()
                .find(|a| a.platform_id == o.target.platform_id)
                .expect("account");
            let curve = Curve::new(a.seed);
            let want = curve.followers(day_of(NOW));
            match &o.result {
                Ok(d) => match (&d.counters.followers, a.platform) {
                    (Some(RawCount::Int(n)), _) => assert_eq!(*n, want, "{}", a.platform_id),
                    (Some(RawCount::Text(t)), Platform::Kuaishou) => {
                        assert!(t.ends_with('万'), "{t}")
                    }
                    other => panic!("{other:?}"),
                },
                Err(e) => assert!(
                    a.deleted() && e.kind() == "not_found",
                    "{}: {e}",
                    a.platform_id
                ),
            }
        }
    }
    assert_eq!(sim.stats().violations.values().sum::<u64>(), 0);
}

#[tokio::test]
async fn faults_are_typed_errors_never_readings_and_the_budget_holds() {
    let accs = accounts(30);
    let mut faults = Faults::uniform(0.35);
    faults.slow_ms = 1_500;
    let sim = Simulator::new(
        accs.clone(),
        SimConfig {
            limit_per_sec: 30.0,
            faults,
            fixed_time: Some(NOW),
            ..SimConfig::default()
        },
    );
    let base = start(sim.clone()).await;
    let outcomes = run(
        &sweeper(&base, 20.0, Duration::from_millis(500), false),
        &accs,
    )
    .await;
    assert_eq!(outcomes.len(), accs.len());
    let mut kinds: HashMap<&str, usize> = HashMap::new();
    for o in &outcomes {
        match &o.result {
            Ok(d) => {
                // Whatever was read is the account's true figure, never a placeholder.
                let a = accs
                    .iter()
                    .find(|a| a.platform_id == o.target.platform_id)
                    .expect("account");
                if let Some(RawCount::Int(n)) = d.counters.followers {
                    assert_eq!(n, Curve::new(a.seed).followers(day_of(NOW)));
                }
                *kinds.entry("reading").or_default() += 1;
            }
            Err(e) => *kinds.entry(e.kind()).or_default() += 1,
        }
    }
    for kind in [
        "reading",
        "rate_limited",
        "blocked",
        "transport",
        "layout_changed",
    ] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} in {kinds:?}"
        );
    }
    let stats = sim.stats();
    assert_eq!(stats.violations.values().sum::<u64>(), 0, "{stats:?}");
}

#[tokio::test]
async fn the_scheduler_spreads_polls_over_the_interval_and_retries_failures() {
    use haoqi_crawl::scheduler::{ScheduleConfig, Scheduler};
    use tokio::sync::watch;
    let accs: Vec<SimAccount> = accounts(12)
        .into_iter()
        .filter(|a| a.platform == Platform::Bilibili)
        .collect();
    let faults = Faults {
        server_error: 0.25,
        ..Faults::default()
    };
    let sim = Simulator::new(
        accs.clone(),
        SimConfig {
            limit_per_sec: 100.0,
            faults,
            fixed_time: Some(NOW),
            ..SimConfig::default()
        },
    );
    let base = start(sim.clone()).await;
    let sweeper = Arc::new(sweeper(&base, 50.0, Duration::from_secs(2), false));
    let scheduler = Scheduler::new(
        sweeper,
        ScheduleConfig {
            interval: Duration::from_secs(3),
            jitter: 0.2,
            concurrency: 4,
            ..ScheduleConfig::default()
        },
    );
    let targets: Vec<Target> = accs
        .iter()
        .map(|a| Target {
            account_id: a.platform_id.clone(),
            platform: a.platform,
            platform_id: a.platform_id.clone(),
        })
        .collect();
    let (tx, mut rx) = mpsc::channel(64);
    let (_stop_tx, stop) = watch::channel(false);
    let started = std::time::SystemTime::now();
    scheduler
        .run(Platform::Bilibili, targets.clone(), tx, stop, Some(1))
        .await;
    let mut outcomes = Vec::new();
    while let Ok(o) = rx.try_recv() {
        let at = o.started_at.duration_since(started).unwrap_or_default();
        outcomes.push((o, at));
    }
    // Spread: the first poll starts at once, the last well into the interval, not all at once.
    let first = outcomes.iter().map(|o| o.1).min().unwrap_or_default();
    let last_start = outcomes.iter().map(|o| o.1).max().unwrap_or_default();
    assert!(first < Duration::from_millis(500), "{first:?}");
    assert!(last_start > Duration::from_millis(1_500), "{last_start:?}");
    // Every healthy account read once; the ones hit by a 5xx were tried again in the interval.
    let read: std::collections::HashSet<&str> = outcomes
        .iter()
        .filter(|(o, _)| o.result.is_ok())
        .map(|(o, _)| o.target.account_id.as_str())
        .collect();
    let failed_first = outcomes.iter().filter(|(o, _)| o.result.is_err()).count();
    assert!(failed_first > 0, "25% 5xx should hit someone");
    assert!(
        outcomes.len() > accs.len(),
        "retries happened: {}",
        outcomes.len()
    );
    let healthy = accs.iter().filter(|a| !a.deleted()).count();
    assert!(
        read.len() + 1 >= healthy,
        "read {} of {healthy}",
        read.len()
    );
    assert_eq!(sim.stats().violations.values().sum::<u64>(), 0);
}

/// The fault test: with 20 % injected faults of every kind, one interval of the
/// scheduler reads every healthy account (retrying the failures later in the interval) and the
/// simulator counts no limit violation.
#[tokio::test]
async fn with_20_percent_faults_an_interval_reads_every_healthy_account() {
    use haoqi_crawl::scheduler::{ScheduleConfig, Scheduler};
    use tokio::sync::watch;
    let accs = accounts(10);
    let mut faults = Faults::uniform(0.2);
    faults.slow_ms = 800;
    let sim = Simulator::new(
        accs.clone(),
        SimConfig {
            limit_per_sec: 100.0,
            faults,
            fixed_time: Some(NOW),
            // The circuit honours Retry-After; a short one fits this short interval.
            retry_after_secs: 1,
            ..SimConfig::default()
        },
    );
    let base = start(sim.clone()).await;
    let sweeper = Arc::new(sweeper(&base, 40.0, Duration::from_millis(400), false));
    let scheduler = Scheduler::new(
        sweeper,
        ScheduleConfig {
            interval: Duration::from_secs(8),
            jitter: 0.2,
            concurrency: 8,
            // Short backoffs so that a tripped circuit reopens within this short interval.
            circuit_base: Duration::from_millis(200),
            circuit_max: Duration::from_millis(800),
        },
    );
    let (tx, mut rx) = mpsc::channel(256);
    let (_stop_tx, stop) = watch::channel(false);
    let mut runs = tokio::task::JoinSet::new();
    for p in [Platform::Bilibili, Platform::Douyin, Platform::Kuaishou] {
        let targets: Vec<Target> = accs
            .iter()
            .filter(|a| a.platform == p)
            .map(|a| Target {
                account_id: a.platform_id.clone(),
                platform: p,
                platform_id: a.platform_id.clone(),
            })
            .collect();
        runs.spawn(
            scheduler
                .clone()
                .run(p, targets, tx.clone(), stop.clone(), Some(1)),
        );
    }
    drop(tx);
    while runs.join_next().await.is_some() {}
    let mut read = std::collections::HashSet::new();
    let mut failures = 0;
    while let Ok(o) = rx.try_recv() {
        match o.result {
            Ok(_) => {
                read.insert(o.target.platform_id.clone());
            }
            Err(_) => failures += 1,
        }
    }
    assert!(failures > 0, "20 % faults hit nobody?");
    let healthy: Vec<&SimAccount> = accs.iter().filter(|a| !a.deleted()).collect();
    let missed: Vec<&str> = healthy
        .iter()
        .filter(|a| !read.contains(&a.platform_id))
        .map(|a| a.platform_id.as_str())
        .collect();
    assert!(
        missed.is_empty(),
        "not read within the interval: {missed:?}"
    );
    assert_eq!(sim.stats().violations.values().sum::<u64>(), 0);
}
