//! The web application under load (issue 16): on the benchmark store (3,000 accounts read
//! hourly for a year, 26.3 M readings), 50 logged-in sessions ask for the wall for a window
//! (`WINDOW_SECS`, default 60), then 50 unit sessions ask for their unit's page, then the
//! committee page for a quarter is asked for five times; the login's cost (argon2id) and the
//! process's memory are measured too. Goals: the wall p95 <= 100 ms and >= 300 pages/s, a unit
//! page p95 <= 50 ms, the committee page for a quarter <= 1 s. A rate over a window, measured
//! once, so not criterion: `cargo bench -p haoqi --bench web_load`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{latency_line, matrix, ms, named_elsewhere, runtime, wait_for_refresh, window};
use haoqi_appdb::role::Grant;
use haoqi_appdb::{Actor, AppDb, NewUser, Role};

const SESSIONS: usize = 50;
const PW: &str = "benchmark password";

/// Resident memory now and at its peak (kB), from /proc.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Logs `name` in through the form; the session cookie.
async fn login(client: &reqwest::Client, base: &str, name: &str) -> String {
    let page = client
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login page");
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("haoqi_login_csrf="))
        .and_then(|v| v.split(';').next())
        .expect("csrf cookie")
        .to_string();
    let token = cookie.split('=').nth(1).expect("token").to_string();
    let res = client
        .post(format!("{base}/login"))
        .header("cookie", &cookie)
        .form(&[
            ("name", name),
            ("password", PW),
            ("csrf", &token),
            ("next", "/"),
        ])
        .send()
        .await
        .expect("login");
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("haoqi_session="))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("{name}: no session ({})", res.status()))
        .to_string()
}

/// `SESSIONS` clients asking for `path` with their cookies for `window`: sorted latencies and
/// the failures.
async fn hammer(
    client: &reqwest::Client,
    base: &str,
    paths: Vec<(String, String)>,
    window: Duration,
) -> (Vec<Duration>, usize) {
    let until = Instant::now() + window;
    let tasks: Vec<_> = paths
        .into_iter()
        .map(|(path, cookie)| {
            let c = client.clone();
            let url = format!("{base}{path}");
            tokio::spawn(async move {
                let (mut took, mut failed) = (Vec::new(), 0usize);
                while Instant::now() < until {
                    let t = Instant::now();
                    let ok = match c.get(&url).header("cookie", &cookie).send().await {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    took.push(t.elapsed());
                    failed += usize::from(!ok);
                }
                (took, failed)
            })
        })
        .collect();
    let (mut all, mut failed) = (Vec::new(), 0);
    for t in tasks {
        let (d, f) = t.await.expect("client");
        all.extend(d);
        failed += f;
    }
    all.sort();
    (all, failed)
}

fn report(name: &str, v: &[Duration], window: Duration, failed: usize) {
    println!("{}, failed {failed}", latency_line(name, v, window));
}

fn main() {
    if named_elsewhere("web_load") {
        return;
    }
    let window = window();
    let rt = runtime();
    rt.block_on(async {
        let built = Instant::now();
        let store = matrix("bench_web", 3_000, 24).await;
        eprintln!(
            "benchmark store built in {:.0} s",
            built.elapsed().as_secs_f64()
        );
        let units: Vec<String> = {
            let rows = store
                .query_rows(
                    "SELECT DISTINCT unit_id FROM bench_web.accounts ORDER BY unit_id LIMIT 50",
                )
                .await
                .expect("units");
            rows.iter()
                .filter_map(|r| r["unit_id"].as_str().map(str::to_string))
                .collect()
        };
        assert_eq!(units.len(), SESSIONS, "units for the unit sessions");

        let dir = tempfile::tempdir().expect("tempdir");
        let db = Arc::new(AppDb::open(&dir.path().join("app.sqlite")).expect("app db"));
        let add = |name: &str, grant: Grant| {
            db.add_user(
                &NewUser {
                    name: name.into(),
                    grant,
                },
                PW,
                &Actor::new("bench", "local"),
            )
            .expect("user");
        };
        add(
            "leader",
            Grant::new(Role::Leader, None, None).expect("grant"),
        );
        add(
            "committee",
            Grant::new(Role::Committee, None, None).expect("grant"),
        );
        for (i, u) in units.iter().enumerate() {
            add(
                &format!("unit{i}"),
                Grant::new(Role::Unit, Some(u.clone()), None).expect("grant"),
            );
        }
        // The login's cost: argon2id with the crate's default parameters, in this build.
        let t = Instant::now();
        for _ in 0..10 {
            db.login("leader", PW, "bench", chrono::Utc::now())
                .expect("login");
        }
        println!(
            "login (argon2id verify + session): {:.1} ms each",
            ms(t.elapsed()) / 10.0
        );

        let settings = haoqi::config::Config::default().analytics();
        let app = haoqi::service::serve::app(
            store,
            settings,
            haoqi_web::Metrics::new().expect("metrics"),
            None,
            haoqi::service::serve::REFRESH_SECS,
            Some(haoqi::service::serve::Web {
                db: db.clone(),
                config: haoqi_web::app::WebConfig::default(),
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(haoqi::service::serve::serve_until(
            listener,
            app,
            std::future::pending(),
        ));
        let base = format!("http://{addr}");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(SESSIONS * 2)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");

        let mut leaders = Vec::new();
        for _ in 0..SESSIONS {
            leaders.push(("/wall".to_string(), login(&client, &base, "leader").await));
        }
        // The wall is served from the refresh, as in a deployment.
        wait_for_refresh(&client, &base).await;

        let (wall, failed) = hammer(&client, &base, leaders, window).await;
        report("/wall, 50 sessions", &wall, window, failed);
        let (rss, peak) = memory();
        println!(
            "memory after the wall: RSS {} MB, peak {} MB",
            rss / 1024,
            peak / 1024
        );

        let mut unit_paths = Vec::new();
        for (i, u) in units.iter().enumerate() {
            unit_paths.push((
                format!("/unit/{u}"),
                login(&client, &base, &format!("unit{i}")).await,
            ));
        }
        let (unit, failed) = hammer(&client, &base, unit_paths, window).await;
        report("/unit/<own>, 50 sessions", &unit, window, failed);

        let committee = login(&client, &base, "committee").await;
        let mut quarter = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let r = client
                .get(format!("{base}/committee?from=2024-10-01&to=2024-12-31"))
                .header("cookie", &committee)
                .send()
                .await
                .expect("committee");
            let ok = r.status().is_success();
            let body = r.bytes().await.expect("body");
            assert!(ok, "committee page failed");
            quarter.push((t.elapsed(), body.len()));
        }
        let mut times: Vec<Duration> = quarter.iter().map(|(d, _)| *d).collect();
        times.sort();
        println!(
            "/committee for 2024-10-01..12-31: median {:.0} ms, max {:.0} ms, {} kB of HTML",
            ms(times[2]),
            ms(times[4]),
            quarter[0].1 / 1024
        );
        let (rss, peak) = memory();
        println!(
            "memory at the end: RSS {} MB, peak {} MB",
            rss / 1024,
            peak / 1024
        );
    });
}
