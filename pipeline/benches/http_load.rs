//! Load on the HTTP endpoint (issue 15, case 3): 200 concurrent clients for a window
//! (`WINDOW_SECS`, default 60) against `haoqi serve`'s router over the benchmark store (3,000
//! accounts read hourly for a year, 26.3 M readings), each client asking `/api/progress` and
//! `/healthz` in turn, as a wall and a liveness probe do. Goals: `/healthz` p99 <= 50 ms,
//! `/api/progress` p95 <= 50 ms, no timeouts. A rate over a window, measured once, so not
//! criterion: `cargo bench -p haoqi --bench http_load`.

mod common;

use std::time::{Duration, Instant};

use common::{latency_line, matrix, named_elsewhere, runtime, wait_for_refresh, window};

const CLIENTS: usize = 200;

fn main() {
    // `cargo bench` passes --bench; a filter that names another benchmark skips this one.
    if named_elsewhere("http_load") {
        return;
    }
    let window = window();
    let rt = runtime();
    rt.block_on(async {
        let built = Instant::now();
        let store = matrix("bench_http", 3_000, 24).await;
        eprintln!(
            "benchmark store built in {:.0} s",
            built.elapsed().as_secs_f64()
        );
        let settings = haoqi::config::Config::default().analytics();
        let app = haoqi::service::serve::app(
            store,
            settings,
            haoqi_web::Metrics::new().expect("metrics"),
            None,
            haoqi::service::serve::REFRESH_SECS,
            None,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(CLIENTS)
            .build()
            .expect("client");
        wait_for_refresh(&client, &format!("http://{addr}")).await;
        let until = Instant::now() + window;
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let c = client.clone();
                tokio::spawn(async move {
                    let (mut progress, mut health, mut failed) = (Vec::new(), Vec::new(), 0usize);
                    let mut n = i;
                    while Instant::now() < until {
                        let path = if n % 2 == 0 {
                            "/api/progress"
                        } else {
                            "/healthz"
                        };
                        n += 1;
                        let t = Instant::now();
                        let ok = match c.get(format!("http://{addr}{path}")).send().await {
                            Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                            Err(_) => false,
                        };
                        let took = t.elapsed();
                        if !ok {
                            failed += 1;
                        }
                        if path == "/healthz" {
                            health.push(took);
                        } else {
                            progress.push(took);
                        }
                    }
                    (progress, health, failed)
                })
            })
            .collect();
        let (mut progress, mut health, mut failed) = (Vec::new(), Vec::new(), 0);
        for t in tasks {
            let (p, h, f) = t.await.expect("client");
            progress.extend(p);
            health.extend(h);
            failed += f;
        }
        progress.sort();
        health.sort();
        for (name, v) in [("/api/progress", &progress), ("/healthz", &health)] {
            println!("{}", latency_line(name, v, window));
        }
        println!("failed or timed out: {failed}");
    });
}
