//! Load on the HTTP endpoint (issue 15, case 3): 200 concurrent clients for a window
//! (`WINDOW_SECS`, default 60) against `haoqi serve`'s router over the benchmark store (3,000
//! accounts read hourly for a year, 26.3 M readings), each client asking `/api/progress` and
//! `/healthz` in turn, as a wall and a liveness probe do. Goals: `/healthz` p99 <= 50 ms,
//! `/api/progress` p95 <= 50 ms, no timeouts. A rate over a window, measured once, so not
//! criterion: `cargo bench -p haoqi --bench http_load`.

mod common;

use std::time::{Duration, Instant};

use common::{matrix, runtime};

const CLIENTS: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    // `cargo bench` passes --bench; a filter that names another benchmark skips this one.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"http_load".contains(&a))
    {
        return;
    }
    let window = Duration::from_secs(
        std::env::var("WINDOW_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(60),
    );
    let rt = runtime();
    rt.block_on(async {
        let built = Instant::now();
        let store = matrix("bench_http", 3_000, 24).await;
        eprintln!("benchmark store built in {:.0} s", built.elapsed().as_secs_f64());
        let settings = haoqi::config::Config::default().analytics();
        let app = haoqi::service::serve::app(
            store,
            settings,
            haoqi_web::Metrics::new().expect("metrics"),
            None,
            haoqi::service::serve::REFRESH_SECS,
            None,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(CLIENTS)
            .build()
            .expect("client");
        // Wait for the first refresh, as a deployment's first minute does.
        let first = Instant::now();
        loop {
            let r = client
                .get(format!("http://{addr}/api/progress"))
                .send()
                .await
                .expect("progress");
            if r.headers().get("x-haoqi-computed-by").is_some_and(|v| v == "refresh") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        eprintln!("first refresh after {:.1} s", first.elapsed().as_secs_f64());
        let until = Instant::now() + window;
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let c = client.clone();
                tokio::spawn(async move {
                    let (mut progress, mut health, mut failed) = (Vec::new(), Vec::new(), 0usize);
                    let mut n = i;
                    while Instant::now() < until {
                        let path = if n % 2 == 0 { "/api/progress" } else { "/healthz" };
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
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        for (name, v) in [("/api/progress", &progress), ("/healthz", &health)] {
            println!(
                "{name}: {} requests in {} s ({:.0}/s), p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                v.len(),
                window.as_secs(),
                v.len() as f64 / window.as_secs_f64(),
                ms(percentile(v, 0.50)),
                ms(percentile(v, 0.95)),
                ms(percentile(v, 0.99)),
                ms(v.last().copied().unwrap_or_default()),
            );
        }
        println!("failed or timed out: {failed}");
    });
}
