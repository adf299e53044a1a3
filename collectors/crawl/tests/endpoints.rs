//! Bilibili's endpoints (card every poll; relation/stat, navnum and upstat on full polls; the
//! anonymous buvid3) and Douyin's external signer, through the real adapters and fetch driver
//! against the simulator and small in-test servers. Every request counts against the platform's
//! budget, and nothing goes to a host other than the configured platform's.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use haoqi_crawl::adapter::{Adapter, PlatformSettings};
use haoqi_crawl::fetch::{FetchConfig, Fetcher};
use haoqi_crawl::platforms::{bilibili::Bilibili, douyin::Douyin};
use haoqi_crawl::sweep::{Budget, Outcome, Sweeper, Target};
use haoqi_platform::{Platform, RawCount};
use haoqi_simulator::growth::{day_of, Curve};
use haoqi_simulator::{SimAccount, SimConfig, Simulator};
use tokio::sync::mpsc;
use url::Url;

const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

async fn serve(router: Router) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    Url::parse(&format!("http://{addr}")).expect("url")
}

fn accounts(platform: Platform, n: usize) -> Vec<SimAccount> {
    (0..n)
        .map(|i| {
            let id = match platform {
                Platform::Bilibili => format!("{}", 3_493_100_000u64 + i as u64),
                _ => format!("MS4wLjABAAAAsign{i:05}"),
            };
            SimAccount::new(platform, &id, &format!("好奇{i}"))
        })
        .collect()
}

fn sim(accs: &[SimAccount], config: SimConfig) -> Simulator {
    Simulator::new(
        accs.to_vec(),
        SimConfig {
            fixed_time: Some(NOW),
            ..config
        },
    )
}

fn sweeper(adapter: Arc<dyn Adapter>, per_second: f64) -> Sweeper {
    let budgets: HashMap<Platform, Budget> = [(
        adapter.platform(),
        Budget {
            per_second,
            burst: 1,
        },
    )]
    .into_iter()
    .collect();
    let fetcher = Fetcher::new(FetchConfig {
        timeout: Duration::from_secs(3),
        ..FetchConfig::default()
    })
    .expect("client");
    Sweeper::new(vec![adapter], &budgets, fetcher, 8)
}

fn targets(accs: &[SimAccount]) -> Vec<Target> {
    accs.iter()
        .map(|a| Target {
            account_id: format!("acc-{}", a.platform_id),
            platform: a.platform,
            platform_id: a.platform_id.clone(),
        })
        .collect()
}

async fn sweep(sweeper: &Sweeper, targets: Vec<Target>) -> Vec<Outcome> {
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

fn path_count(sim: &Simulator, path: &str) -> u64 {
    sim.stats().paths.get(path).copied().unwrap_or(0)
}

fn account<'a>(accs: &'a [SimAccount], o: &Outcome) -> &'a SimAccount {
    accs.iter()
        .find(|a| a.platform_id == o.target.platform_id)
        .expect("account")
}

#[tokio::test]
async fn a_full_bilibili_poll_reads_stat_card_navnum_and_upstat_with_an_obtained_buvid3() {
    let accs: Vec<SimAccount> = accounts(Platform::Bilibili, 40)
        .into_iter()
        .filter(|a| !a.deleted())
        .take(24)
        .collect();
    let n = accs.len() as u64;
    let sim = sim(
        &accs,
        SimConfig {
            limit_per_sec: 60.0,
            // Like the real platform: no buvid3 cookie, risk control.
            require_buvid3: true,
            ..SimConfig::default()
        },
    );
    let base = serve(sim.router()).await;
    let adapter = Arc::new(Bilibili::new(PlatformSettings {
        cookie: Some("SESSDATA=sim-login".into()),
        ..PlatformSettings::new(base)
    }));
    let waits: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let w = waits.clone();
    let sweeper = sweeper(adapter.clone(), 50.0)
        .with_full_polls(true)
        .with_wait_hook(Arc::new(move |p, d| {
            assert_eq!(p, Platform::Bilibili);
            w.lock().expect("lock").push(d);
        }));
    let outcomes = sweep(&sweeper, targets(&accs)).await;
    assert_eq!(outcomes.len(), accs.len());
    let day = day_of(NOW);
    for o in &outcomes {
        let a = account(&accs, o);
        let c = Curve::new(a.seed);
        let d = o.result.as_ref().unwrap_or_else(|e| panic!("{e}"));
        assert!(o.partial.is_empty(), "{:?}", o.partial);
        let int = |n: u64| Some(RawCount::Int(n));
        assert_eq!(d.counters.followers, int(c.followers(day)));
        assert_eq!(d.counters.following, int(c.following()));
        assert_eq!(d.counters.likes, int(c.likes(day)));
        assert_eq!(d.counters.posts, int(c.posts(day)));
        assert_eq!(
            d.counters.views,
            int(c.views(day)),
            "upstat with a login cookie"
        );
        assert_eq!(d.name.as_deref(), Some(a.name.as_str()), "from the card");
        assert!(d.extra.contains_key("article"), "navnum's content counts");
        assert!(o.url.contains("/x/web-interface/card"), "{}", o.url);
    }
    assert!(adapter.buvid3().is_some_and(|b| b.ends_with("infoc")));
    // One finger/spi for the whole sweep, then four requests per account, every one counted
    // against the platform's limit and none of them a violation.
    assert_eq!(path_count(&sim, "/x/frontend/finger/spi"), 1);
    for path in [
        "/x/relation/stat",
        "/x/web-interface/card",
        "/x/space/navnum",
        "/x/space/upstat",
    ] {
        assert_eq!(path_count(&sim, path), n, "{path}");
    }
    let stats = sim.stats();
    assert_eq!(stats.requests.get("bilibili").copied(), Some(1 + 4 * n));
    assert_eq!(stats.violations.values().sum::<u64>(), 0, "{stats:?}");
    // The limiter reported a wait for every request; at 50/s, 97 requests wait about 2 s in all.
    let waits = waits.lock().expect("lock");
    assert_eq!(waits.len() as u64, 1 + 4 * n);
    let total: f64 = waits.iter().map(Duration::as_secs_f64).sum();
    assert!(total > 1.0, "{total}");
}

#[tokio::test]
async fn quick_polls_read_the_card_and_each_account_has_one_full_poll_per_detail_cycle() {
    let accs: Vec<SimAccount> = accounts(Platform::Bilibili, 20)
        .into_iter()
        .filter(|a| !a.deleted())
        .collect();
    let n = accs.len() as u64;
    let sim = sim(
        &accs,
        SimConfig {
            limit_per_sec: 300.0,
            ..SimConfig::default()
        },
    );
    let base = serve(sim.router()).await;
    // No login cookie: upstat is never asked.
    let adapter = Arc::new(Bilibili::new(PlatformSettings {
        detail_every: 4,
        ..PlatformSettings::new(base)
    }));
    let sweeper = sweeper(adapter, 250.0);
    let mut views = 0;
    for slot in 1_000..1_004u64 {
        for t in targets(&accs) {
            let o = sweeper.poll(t, slot).await;
            let d = o.result.expect("reading");
            assert!(d.counters.followers.is_some() && d.counters.posts.is_some());
            views += usize::from(d.counters.views.is_some());
        }
    }
    assert_eq!(path_count(&sim, "/x/web-interface/card"), 4 * n);
    assert_eq!(
        path_count(&sim, "/x/relation/stat"),
        n,
        "once per account in 4 intervals"
    );
    assert_eq!(path_count(&sim, "/x/space/navnum"), n);
    assert_eq!(path_count(&sim, "/x/space/upstat"), 0);
    assert_eq!(views, 0, "no views without a login cookie: unknown, not 0");
    assert_eq!(path_count(&sim, "/x/frontend/finger/spi"), 1);
}

#[tokio::test]
async fn a_buvid3_from_the_cookie_is_used_and_without_any_bilibili_refuses() {
    let accs: Vec<SimAccount> = accounts(Platform::Bilibili, 6)
        .into_iter()
        .filter(|a| !a.deleted())
        .collect();
    let demanding = SimConfig {
        limit_per_sec: 100.0,
        require_buvid3: true,
        ..SimConfig::default()
    };
    // The operator's own buvid3: finger/spi is not asked.
    let s1 = sim(&accs, demanding.clone());
    let base = serve(s1.router()).await;
    let own = Arc::new(Bilibili::new(PlatformSettings {
        cookie: Some("buvid3=OPERATOR-OWN-infoc".into()),
        ..PlatformSettings::new(base)
    }));
    let outcomes = sweep(&sweeper(own, 80.0), targets(&accs)).await;
    assert!(outcomes.iter().all(|o| o.result.is_ok()));
    assert_eq!(path_count(&s1, "/x/frontend/finger/spi"), 0);

    // Fetching turned off and no cookie: the platform blocks, and that is what is reported.
    let s2 = sim(&accs, demanding);
    let base = serve(s2.router()).await;
    let none = Arc::new(Bilibili::new(PlatformSettings {
        fetch_buvid3: false,
        ..PlatformSettings::new(base)
    }));
    let outcomes = sweep(&sweeper(none, 80.0), targets(&accs)).await;
    assert!(outcomes
        .iter()
        .all(|o| o.result.as_ref().is_err_and(|e| e.kind() == "blocked")));
}

/// A Bilibili stand-in answering each endpoint with a saved fixture.
async fn fixture_server(navnum: &'static str) -> Url {
    let file = |name: &str| {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/bilibili")
            .join(name);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    let card = file("card.json");
    let stat = file("relation_stat.json");
    let nav = file(navnum);
    let spi = file("finger_spi.json");
    let status = if navnum.contains("412") {
        StatusCode::PRECONDITION_FAILED
    } else {
        StatusCode::OK
    };
    serve(
        Router::new()
            .route("/x/web-interface/card", get(move || async move { card }))
            .route("/x/relation/stat", get(move || async move { stat }))
            .route("/x/space/navnum", get(move || async move { (status, nav) }))
            .route("/x/frontend/finger/spi", get(move || async move { spi })),
    )
    .await
}

#[tokio::test]
async fn an_extra_endpoint_failing_alone_keeps_the_reading_but_a_ban_on_it_does_not() {
    let target = Target {
        account_id: "acc".into(),
        platform: Platform::Bilibili,
        platform_id: "1234567890".into(),
    };
    // navnum changed its format: the reading stands on stat and card, the failure is noted.
    let base = fixture_server("unknown_code.json").await;
    let s =
        sweeper(Arc::new(Bilibili::new(PlatformSettings::new(base))), 50.0).with_full_polls(true);
    let o = s.poll(target.clone(), 0).await;
    let d = o.result.expect("reading");
    assert_eq!(d.counters.followers, Some(RawCount::Int(283_417)));
    assert_eq!(d.counters.likes, Some(RawCount::Int(1_904_552)));
    assert_eq!(o.partial.len(), 1);
    assert_eq!(o.partial[0].0, "/x/space/navnum");
    assert_eq!(o.partial[0].1.kind(), "layout_changed");

    // navnum says "request intercepted": the platform wants us gone; no reading, the circuit
    // opens on this poll's error.
    let base = fixture_server("intercepted_412.json").await;
    let s =
        sweeper(Arc::new(Bilibili::new(PlatformSettings::new(base))), 50.0).with_full_polls(true);
    let o = s.poll(target.clone(), 0).await;
    let e = o.result.expect_err("rate limited");
    assert!(e.opens_circuit(), "{e:?}");
    assert!(o.url.contains("/x/space/navnum"), "{}", o.url);

    // An answer about another account is never this account's reading.
    let base = fixture_server("navnum.json").await;
    let s =
        sweeper(Arc::new(Bilibili::new(PlatformSettings::new(base))), 50.0).with_full_polls(true);
    let other = Target {
        platform_id: "42".into(),
        ..target
    };
    assert_eq!(
        s.poll(other, 0).await.result.expect_err("other").kind(),
        "layout_changed"
    );
}

// ---- Douyin's signer ----------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Appends msToken and a_bogus.
    Sign,
    ServerError,
    Garbage,
    /// Moves the request to another host.
    OtherHost,
    /// Changes the account.
    OtherAccount,
}

#[derive(Clone)]
struct SignerState {
    mode: Mode,
    other_host: Url,
    asked: Arc<Mutex<Vec<serde_json::Value>>>,
}

async fn sign(
    State(s): State<SignerState>,
    Json(ask): Json<serde_json::Value>,
) -> axum::response::Response {
    s.asked.lock().expect("lock").push(ask.clone());
    let url = ask["url"].as_str().unwrap_or_default().to_string();
    match s.mode {
        Mode::Sign => Json(serde_json::json!({
            "url": format!("{url}&msToken=sim-token&a_bogus=sim-sig-{}", url.len())
        }))
        .into_response(),
        Mode::ServerError => {
            (StatusCode::SERVICE_UNAVAILABLE, "browser restarting").into_response()
        }
        Mode::Garbage => (StatusCode::OK, "<html>signer login page</html>").into_response(),
        Mode::OtherHost => {
            let mut u = Url::parse(&url).expect("url");
            let _ = u.set_port(s.other_host.port());
            u.query_pairs_mut().append_pair("a_bogus", "x");
            Json(serde_json::json!({ "url": u.as_str() })).into_response()
        }
        Mode::OtherAccount => {
            let mut u = Url::parse(&url).expect("url");
            let pairs: Vec<(String, String)> = u
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k == "sec_user_id" {
                        "MS4wOTHER".into()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            u.query_pairs_mut()
                .clear()
                .extend_pairs(pairs)
                .append_pair("a_bogus", "x");
            Json(serde_json::json!({ "url": u.as_str() })).into_response()
        }
    }
}

async fn signer(mode: Mode, other_host: Url) -> (Url, Arc<Mutex<Vec<serde_json::Value>>>) {
    let asked: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let state = SignerState {
        mode,
        other_host,
        asked: asked.clone(),
    };
    let base = serve(Router::new().route("/sign", post(sign)).with_state(state)).await;
    (base.join("/sign").expect("url"), asked)
}

/// A host that must never be asked anything: counts what it gets.
async fn decoy() -> (Url, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let base = serve(Router::new().fallback(move |_: HeaderMap| {
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            (
                StatusCode::OK,
                r#"{"status_code":0,"user":{"sec_uid":"x","follower_count":1}}"#,
            )
        }
    }))
    .await;
    (base, hits)
}

fn douyin(base: Url, signer: Option<Url>) -> Arc<dyn Adapter> {
    Arc::new(Douyin(PlatformSettings {
        signer,
        ..PlatformSettings::new(base)
    }))
}

#[tokio::test]
async fn douyin_requests_signed_by_the_signer_are_read_and_unsigned_ones_refused() {
    let accs: Vec<SimAccount> = accounts(Platform::Douyin, 12)
        .into_iter()
        .filter(|a| !a.deleted())
        .collect();
    let n = accs.len();
    let sim = sim(
        &accs,
        SimConfig {
            limit_per_sec: 100.0,
            douyin_require_signature: true,
            ..SimConfig::default()
        },
    );
    let base = serve(sim.router()).await;
    let (decoy_url, decoy_hits) = decoy().await;

    // Unsigned: Douyin's empty 200, a block, never a reading.
    let outcomes = sweep(&sweeper(douyin(base.clone(), None), 80.0), targets(&accs)).await;
    assert!(outcomes
        .iter()
        .all(|o| o.result.as_ref().is_err_and(|e| e.kind() == "blocked")));

    let (signer_url, asked) = signer(Mode::Sign, decoy_url).await;
    let s = sweeper(douyin(base.clone(), Some(signer_url)), 80.0);
    let outcomes = sweep(&s, targets(&accs)).await;
    let day = day_of(NOW);
    for o in &outcomes {
        let d = o.result.as_ref().unwrap_or_else(|e| panic!("{e}"));
        let c = Curve::new(account(&accs, o).seed);
        assert_eq!(d.counters.followers, Some(RawCount::Int(c.followers(day))));
        // The reading's provenance is the platform URL; the signature's tokens are not kept.
        assert!(o.url.starts_with(base.as_str()), "{}", o.url);
        assert!(!o.url.contains("a_bogus"), "{}", o.url);
    }
    assert_eq!(
        path_count(&sim, "/aweme/v1/web/user/profile/other/"),
        2 * n as u64
    );
    let asked = asked.lock().expect("lock");
    assert_eq!(asked.len(), n, "one signing call per request");
    for a in asked.iter() {
        assert_eq!(a["method"], "GET");
        assert!(a["user_agent"]
            .as_str()
            .is_some_and(|ua| ua.starts_with("haoqi/")));
        let u = Url::parse(a["url"].as_str().expect("url")).expect("url");
        assert_eq!(
            u.origin(),
            base.origin(),
            "the platform URL is what gets signed"
        );
        assert!(
            a.get("cookie").is_none(),
            "the cookie stays with the collector"
        );
    }
    assert_eq!(sim.stats().violations.values().sum::<u64>(), 0);
    assert_eq!(decoy_hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn signer_failures_are_typed_errors_and_nothing_goes_elsewhere() {
    let accs: Vec<SimAccount> = accounts(Platform::Douyin, 4)
        .into_iter()
        .filter(|a| !a.deleted())
        .collect();
    let sim = sim(
        &accs,
        SimConfig {
            limit_per_sec: 100.0,
            douyin_require_signature: true,
            ..SimConfig::default()
        },
    );
    let base = serve(sim.router()).await;
    let (decoy_url, decoy_hits) = decoy().await;
    // A port nobody listens on: bind, note it, close.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let a = l.local_addr().expect("addr");
        Url::parse(&format!("http://{a}/sign")).expect("url")
    };
    let mut cases = vec![(closed, "transport")];
    for (mode, kind) in [
        (Mode::ServerError, "transport"),
        (Mode::Garbage, "layout_changed"),
        (Mode::OtherHost, "layout_changed"),
        (Mode::OtherAccount, "layout_changed"),
    ] {
        cases.push((signer(mode, decoy_url.clone()).await.0, kind));
    }
    for (signer_url, kind) in cases {
        let s = sweeper(douyin(base.clone(), Some(signer_url.clone())), 80.0);
        for o in sweep(&s, targets(&accs)).await {
            let e = o.result.expect_err("no reading from a failed signature");
            assert_eq!(e.kind(), kind, "{signer_url}: {e}");
            assert!(e.to_string().contains("signer"), "{e}");
            assert!(
                !e.opens_circuit(),
                "the signer's trouble is not the platform's"
            );
        }
    }
    assert_eq!(
        path_count(&sim, "/aweme/v1/web/user/profile/other/"),
        0,
        "no request without a good signature"
    );
    assert_eq!(
        decoy_hits.load(Ordering::SeqCst),
        0,
        "nothing went to another host"
    );
}
