//! Daily series, growth, forecast and what-if on the real embedded engine, against figures
//! computed by hand. Fixture (analytics registry), one reading a day at 19:00 Beijing, 1–31 March
//! 2024:
//!
//! | account | tier       | followers on day d           |
//! |---------|------------|------------------------------|
//! | P1-dy   | vertical   | 1,000 + 100·d                |
//! | P1-ks   | vertical   | 1.2万 every day (11,500–12,499) |
//! | C1-dy   | vertical   | 500 + 50·d                   |
//! | S1-dy   | horizontal | 2,000 + 10·d                 |
//!
//! Matrix total on day d: 15,500 + 160·d (lower bound 15,000 + 160·d); on 31 March 20,460.
//! Goal 30,000 by 30 April 2024: 9,540 to go in 30 days = 318 a day; at the linear pace of 160 a
//! day, 9,540 / 160 = 59.6 → 60 days → 30 May 2024.

use chrono::NaiveDate;
use haoqi::config::GoalConfig;
use haoqi_analytics::forecast::ForecastConfig;
use haoqi_analytics::{goal, series, Settings};
use haoqi_model::reading::{Reading, Source};
use haoqi_platform::Platform::{Douyin, Kuaishou};
use haoqi_tests::*;

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, 1).expect("date")
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, d).expect("date")
}

fn line(account: &str, base: u32, step: u32) -> Vec<Reading> {
    followers_daily(account, Douyin, start(), 1..=31, |d| {
        (base + step * d).to_string()
    })
}

fn fixture() -> Vec<Reading> {
    let mut r = line("P1-dy", 1_000, 100);
    r.extend(line("C1-dy", 500, 50));
    r.extend(line("S1-dy", 2_000, 10));
    r.extend(daily(
        "P1-ks",
        Kuaishou,
        start(),
        1..=31,
        Source::Crawl,
        |_| ("1.2万".into(), String::new(), String::new(), String::new()),
    ));
    r
}

fn settings() -> Settings {
    let mut s = haoqi::config::Config::default().analytics();
    s.goal = GoalConfig {
        followers: 30_000,
        deadline: NaiveDate::from_ymd_opt(2024, 4, 30).expect("date"),
    };
    s.forecast = ForecastConfig::default();
    s
}

#[tokio::test]
async fn series_carry_forward_with_deltas_and_rates() {
    let store = analytics_store("series", &fixture()).await;
    let points = series::daily(store.as_ref(), day(1), day(31), &["matrix", "tier"], 48)
        .await
        .expect("series");
    let matrix: Vec<_> = points.iter().filter(|p| p.dimension == "matrix").collect();
    assert_eq!(matrix.len(), 31);
    for p in &matrix {
        let d = u64::from(chrono::Datelike::day(&p.day));
        assert_eq!(p.followers, 15_500 + 160 * d, "{p:?}");
        assert_eq!(p.followers_lo, 15_000 + 160 * d, "{p:?}");
        // Four reporting; the fifth registered account with readings... none: U1-wc etc. never read.
        assert_eq!(p.reporting, 4);
        assert_eq!(p.delta_1d, (d > 1).then_some(160));
        assert_eq!(p.delta_7d, (d > 7).then_some(1_120));
        assert_eq!(p.delta_30d, (d > 30).then_some(4_800));
    }
    let last = matrix.last().expect("day 31");
    let rate = last.rate_7d.expect("rate");
    assert!((rate - 1_120.0 / 19_340.0).abs() < 1e-12, "{rate}");
    let vertical = points
        .iter()
        .find(|p| p.key == "vertical" && p.day == day(31))
        .expect("vertical");
    assert_eq!(vertical.followers, 4_100 + 12_000 + 2_050);
    assert_eq!(vertical.delta_7d, Some(1_050));
}

#[tokio::test]
async fn account_growth_ignores_changes_within_rounding() {
    let store = analytics_store("growth", &fixture()).await;
    let rows = series::account_growth(store.as_ref(), day(31), 48)
        .await
        .expect("growth");
    assert_eq!(rows.len(), 12, "every active account has a row");
    let get = |id: &str| rows.iter().find(|r| r.account_id == id).expect(id);
    let p1 = get("P1-dy");
    assert_eq!(
        (p1.followers, p1.followers_7d_ago),
        (Some(4_100), Some(3_400))
    );
    assert_eq!(
        (p1.delta_1d, p1.delta_7d, p1.delta_30d),
        (Some(100), Some(700), Some(3_000))
    );
    assert_eq!(p1.certain_growth_7d, Some(700));
    let ks = get("P1-ks");
    assert_eq!(ks.delta_7d, Some(0));
    assert_eq!(ks.certain_growth_7d, Some(0));
    let never = get("U1-wc");
    assert_eq!((never.followers, never.delta_7d), (None, None));
}

#[tokio::test]
async fn forecast_contributions_and_what_if() {
    let store = analytics_store("forecast", &fixture()).await;
    let assume = vec!["kind=county_assoc".parse().expect("selection")];
    let r = goal::report(store.as_ref(), &settings(), day(31), &assume)
        .await
        .expect("report");
    let f = &r.forecast;
    assert_eq!(f.current, 20_460);
    assert_eq!(f.remaining, 9_540);
    assert_eq!(f.days_to_deadline, 30);
    assert!((f.required_daily_growth.expect("required") - 318.0).abs() < 1e-9);
    assert_eq!(f.pace_7d, Some(160.0));
    assert_eq!(f.window_days, 30);
    let lin = f
        .methods
        .iter()
        .find(|m| m.method == "linear")
        .expect("linear");
    assert!((lin.daily_growth - 160.0).abs() < 1e-9);
    assert_eq!(lin.reach_date, NaiveDate::from_ymd_opt(2024, 5, 30));
    assert_eq!(lin.at_deadline, Some(20_460 + 30 * 160));
    assert_eq!(f.methods.len(), 3);

    let c = |key: &str| r.contributions.iter().find(|c| c.key == key).expect(key);
    assert_eq!(c("vertical").followers, 18_150);
    assert!((c("vertical").share_of_goal - 18_150.0 / 30_000.0).abs() < 1e-12);
    assert_eq!(c("vertical").delta_7d, Some(1_050));
    assert_eq!(c("horizontal").followers, 2_310);

    // County accounts: C1-dy (2,050; target 25 % of 652,792 = 163,198) and C1-bl (never read,
    // same target) lift to their target; C2-dy's county has no population, so no target.
    let w = r.what_if.expect("what-if");
    assert_eq!((w.accounts, w.lifted, w.target_unknown), (3, 2, 1));
    assert_eq!(w.followers_added, (163_198 - 2_050) + 163_198);
    assert!(w.goal_reached_then);
}

#[tokio::test]
async fn the_http_api_serves_the_same_report() {
    let store = analytics_store("api", &fixture()).await;
    let settings = std::sync::Arc::new(settings());
    let app = haoqi_web::api::router(haoqi_web::api::AppState {
        metrics: haoqi_web::metrics::Metrics::new().expect("metrics"),
        store: store.clone(),
        settings: settings.clone(),
        health: Default::default(),
        cache: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::new();
    let got: serde_json::Value = client
        .get(format!("http://{addr}/api/progress?as_of=2024-03-31"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .map(|t| serde_json::from_str(&t).expect("json"))
        .expect("body");
    let want = serde_json::to_value(
        goal::report(store.as_ref(), &settings, day(31), &[])
            .await
            .expect("report"),
    )
    .expect("json");
    // Field by field: a float may differ in its last bit after a JSON round trip.
    for path in [
        "/progress/matrix",
        "/forecast/current",
        "/forecast/required_daily_growth",
        "/forecast/methods/0/reach_date",
        "/forecast/methods/2/at_deadline",
        "/contributions/1",
        "/matrix_series/30/delta_30d",
    ] {
        assert_eq!(got.pointer(path), want.pointer(path), "{path}");
        assert!(got.pointer(path).is_some(), "{path}");
    }
    assert_eq!(got["forecast"]["current"], 20_460);

    let bad = client
        .get(format!("http://{addr}/api/progress?assume=colour=red"))
        .send()
        .await
        .expect("request");
    assert_eq!(bad.status(), 400);

    let stalled: serde_json::Value = client
        .get(format!("http://{addr}/api/stalled"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .map(|t| serde_json::from_str(&t).expect("json"))
        .expect("body");
    assert_eq!(stalled["accounts"].as_array().map(Vec::len), Some(12));
}

/// Issue 15, case 3: many slow requests at once do not queue the rest behind them. The
/// refresh's check answers `/healthz` and its report the default `/api/progress` without the
/// engine; other days go through a bounded gate that turns the excess away with 503 and
/// `Retry-After` instead of piling up. (How fast is measured in BENCHMARKS.md, not here.)
#[tokio::test]
async fn a_crowd_of_slow_requests_is_turned_away_and_health_still_answers() {
    let store = analytics_store("api_crowd", &fixture()).await;
    let app = haoqi::service::serve::app(
        store.clone(),
        settings(),
        haoqi_web::metrics::Metrics::new().expect("metrics"),
        None,
        5,
        None,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::new();
    let today = haoqi_model::time::last_complete_day();
    // The first refresh: the default report comes from it.
    let mut from_refresh = false;
    for _ in 0..100 {
        let r = client
            .get(format!("http://{addr}/api/progress"))
            .send()
            .await
            .expect("request");
        if r.headers()
            .get("x-haoqi-computed-by")
            .is_some_and(|v| v == "refresh")
        {
            let body: serde_json::Value =
                serde_json::from_str(&r.text().await.expect("body")).expect("json");
            assert_eq!(body["progress"]["as_of"], today.to_string());
            from_refresh = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(from_refresh, "the refresh never served /api/progress");

    // Forty requests for other days at once: at most STORE_SLOTS wait on the store.
    let crowd: Vec<_> = (0..40)
        .map(|i| {
            let c = client.clone();
            let url = format!("http://{addr}/api/progress?as_of=2024-03-{:02}", 1 + i % 28);
            tokio::spawn(async move { c.get(url).send().await })
        })
        .collect();
    let health = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let h: serde_json::Value =
        serde_json::from_str(&health.text().await.expect("body")).expect("json");
    assert!(
        h["store_checked_at"].is_string(),
        "answered from the refresh's check: {h}"
    );
    let (mut ok, mut busy) = (0, 0);
    for r in crowd {
        let r = r.await.expect("task").expect("response");
        match r.status().as_u16() {
            200 => {
                assert_eq!(r.headers()["x-haoqi-computed-by"], "request");
                ok += 1;
            }
            503 => {
                assert_eq!(r.headers()["retry-after"], "5");
                let b: serde_json::Value =
                    serde_json::from_str(&r.text().await.expect("body")).expect("json");
                assert_eq!(b["kind"], "busy");
                busy += 1;
            }
            s => panic!("status {s}"),
        }
    }
    assert_eq!(ok + busy, 40);
    assert!(ok >= haoqi_web::cache::STORE_SLOTS, "{ok} answered");
    assert!(
        busy > 0,
        "the excess is turned away, not queued ({ok} answered)"
    );
}

/// Issue 19, item 4: when the total is past the goal all through the forecast's window, the day
/// it got there is found in the whole series, and the forecast table says "reached" rather
/// than a date.
#[tokio::test]
async fn the_day_the_goal_was_reached_is_found_before_the_window() {
    // One account, 1,000 + 100·d followers for 200 days from 1 January 2024: 5,000 is crossed
    // on day 40 (9 February), long before the window of the last 61 days.
    let readings = daily(
        "P1-dy",
        Douyin,
        NaiveDate::from_ymd_opt(2024, 1, 1).expect("date"),
        1..=200,
        Source::Crawl,
        |d| {
            (
                (1_000 + 100 * d).to_string(),
                String::new(),
                String::new(),
                String::new(),
            )
        },
    );
    let store = analytics_store("goal_reached", &readings).await;
    let as_of = NaiveDate::from_ymd_opt(2024, 7, 18).expect("date"); // day 200
    let mut s = settings();
    s.goal.followers = 5_000;
    let r = goal::report(store.as_ref(), &s, as_of, &[])
        .await
        .expect("report");
    assert_eq!(r.forecast.reached_on, NaiveDate::from_ymd_opt(2024, 2, 9));
    assert_eq!(r.forecast.reached_before, None);
    assert!(r.forecast.methods.iter().all(|m| m.reach_date.is_none()));
    let text = goal::text(&r);
    assert!(
        text.contains("The goal was reached on 2024-02-09."),
        "{text}"
    );
    assert!(text.contains("reached 已达成"), "{text}");

    // At the goal from the first day of data: said so, with that day.
    s.goal.followers = 500;
    let r = goal::report(store.as_ref(), &s, as_of, &[])
        .await
        .expect("report");
    assert_eq!(r.forecast.reached_on, None);
    assert_eq!(
        r.forecast.reached_before,
        NaiveDate::from_ymd_opt(2024, 1, 1)
    );
    assert!(
        goal::text(&r).contains("first day of data, 2024-01-01"),
        "{}",
        goal::text(&r)
    );
}

/// Issue 19, item 3: "as of" means a finished day unless today is asked for; today is "so far",
/// and paces and forecasts are fitted to complete days only.
#[tokio::test]
async fn as_of_is_a_finished_day_and_today_is_so_far() {
    let today = haoqi_model::time::today();
    let yesterday = haoqi_model::time::last_complete_day();
    assert_eq!(yesterday.succ_opt(), Some(today));
    let first = today - chrono::Days::new(40);
    // 1,000 + 100·d at 19:00 Beijing on each finished day; today one early reading (00:00:01
    // Beijing, so always in the past) that gained only 10: a partial day.
    let mut readings = daily("P1-dy", Douyin, first, 1..=40, Source::Crawl, |d| {
        (
            (1_000 + 100 * d).to_string(),
            String::new(),
            String::new(),
            String::new(),
        )
    });
    let early_today = format!("{}T16:00:01Z", yesterday);
    readings.push(followers(
        "P1-dy",
        Douyin,
        &early_today,
        &(1_000 + 100 * 40 + 10).to_string(),
    ));
    let store = analytics_store("goal_so_far", &readings).await;
    let mut s = settings();
    s.goal.followers = 1_000_000;
    s.goal.deadline = today + chrono::Days::new(365);

    let finished = goal::report(store.as_ref(), &s, yesterday, &[])
        .await
        .expect("report");
    assert!(goal::text(&finished).contains("(end of day, Beijing)"));
    assert_eq!(finished.forecast.pace_7d, Some(100.0));

    let so_far = goal::report(store.as_ref(), &s, today, &[])
        .await
        .expect("report");
    let text = goal::text(&so_far);
    assert!(text.contains("so far today"), "{text}");
    assert_eq!(
        so_far.progress.matrix.followers, 5_010,
        "today's total so far"
    );
    // The forecast ends with yesterday: the partial day does not drag the pace down to
    // (10 + 600) / 7.
    assert_eq!(so_far.forecast.as_of, yesterday);
    assert_eq!(so_far.forecast.pace_7d, Some(100.0));
    assert_eq!(so_far.forecast.methods[0].daily_growth.round(), 100.0);
}
