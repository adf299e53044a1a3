//! Sweep throughput against the simulator (issue goal: with 20,000 accounts and 100 requests/s
//! allowed per platform, a sweep reaches >= 95 % of the allowed rate with zero violations, and
//! the collector's peak memory stays under 150 MB).
//!
//! Not a criterion benchmark: the figure is a rate sustained over a window, measured once.
//! `cargo bench -p haoqi-crawl --bench sweep_rate` (WINDOW_SECS overrides the 30 s window).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use haoqi_crawl::adapter::{Adapter, PlatformSettings};
use haoqi_crawl::fetch::{FetchConfig, Fetcher};
use haoqi_crawl::platforms::{bilibili::Bilibili, douyin::Douyin, kuaishou::Kuaishou};
use haoqi_crawl::sweep::{Budget, Sweeper, Target};
use haoqi_platform::Platform;
use haoqi_simulator::{Faults, SimAccount, SimConfig, Simulator};

fn peak_rss_mb() -> f64 {
    // VmHWM: the process's peak resident set.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let window = Duration::from_secs(
        std::env::var("WINDOW_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(30),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let platforms = [Platform::Bilibili, Platform::Douyin, Platform::Kuaishou];
        let accounts: Vec<SimAccount> = (0..20_000)
            .map(|i| {
                let p = platforms[i % 3];
                let id = match p {
                    Platform::Bilibili => format!("{}", 3_000_000_000u64 + i as u64),
                    Platform::Douyin => format!("MS4wLjABAAAAbench{i:06}"),
                    _ => format!("3xbench{i:09}"),
                };
                SimAccount::new(p, &id, &format!("好奇{i}"))
            })
            .collect();
        let rss_before_sim = peak_rss_mb();
        let sim = Simulator::new(accounts.clone(), SimConfig { limit_per_sec: 100.0, faults: Faults::default(), fixed_time: None, ..SimConfig::default() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = url::Url::parse(&format!("http://{}", listener.local_addr().expect("addr"))).expect("url");
        tokio::spawn(sim.clone().serve(listener));
        let s = || PlatformSettings::new(base.clone());
        let adapters: Vec<Arc<dyn Adapter>> = vec![Arc::new(Bilibili::new(s())), Arc::new(Douyin(s())), Arc::new(Kuaishou(s()))];
        // The collector runs at the allowed rate; the simulator allows a one-second burst.
        let budgets: HashMap<Platform, Budget> = platforms.iter().map(|p| (*p, Budget { per_second: 100.0, burst: 1 })).collect();
        let sweeper = Sweeper::new(adapters, &budgets, Fetcher::new(FetchConfig::default()).expect("client"), 64);
        let targets: Vec<Target> = accounts
            .iter()
            .map(|a| Target { account_id: a.platform_id.clone(), platform: a.platform, platform_id: a.platform_id.clone() })
            .collect();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<haoqi_crawl::sweep::Outcome>(1024);
        let started = Instant::now();
        // Per platform: polls finished and when the last one finished (a platform with more
        // requests per poll — Bilibili's daily full polls — finishes later; its budget is the
        // only one still usable then).
        let consumer = tokio::spawn(async move {
            let mut last: HashMap<Platform, (u64, f64)> = HashMap::new();
            while let Some(o) = rx.recv().await {
                let e = last.entry(o.target.platform).or_default();
                e.0 += 1;
                e.1 = started.elapsed().as_secs_f64();
            }
            last
        });
        let _ = tokio::time::timeout(window, sweeper.sweep(targets, tx)).await;
        let elapsed = started.elapsed().as_secs_f64();
        let per_platform = consumer.await.unwrap_or_default();
        let done: u64 = per_platform.values().map(|v| v.0).sum();
        let stats = sim.stats();
        let requests: u64 = stats.requests.values().sum();
        let violations: u64 = stats.violations.values().sum();
        let allowed = 100.0 * 3.0 * elapsed;
        println!("window {elapsed:.1} s: {requests} requests ({done} polls finished), {:.1} % of the allowed {:.0}", 100.0 * requests as f64 / allowed, allowed);
        for p in platforms {
            let (polls, busy) = per_platform.get(&p).copied().unwrap_or_default();
            let n = stats.requests.get(p.as_str()).copied().unwrap_or(0);
            println!("  {p}: {n} requests for {polls} polls in {busy:.1} s: {:.1} % of its allowed 100/s", 100.0 * n as f64 / (100.0 * busy.max(1e-9)));
        }
        println!("violations: {violations}");
        println!("peak RSS: {:.1} MB (before the simulator started: {rss_before_sim:.1} MB; the simulator runs in this process)", peak_rss_mb());
    });
}
