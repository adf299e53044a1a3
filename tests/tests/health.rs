//! Account health on the real embedded engine: one fixture account per state, judged at 12:00
//! UTC (20:00 in Beijing) on day 31 of the fixture's calendar with hourly collection (overdue after 2 h), flat after
//! 7 days, no_posts after 14, dropping at a 5 % and 100-follower loss from the 7-day peak.
//!
//! | account | platform | readings (daily, 19:00 Beijing)                      | expected            |
//! |---------|----------|------------------------------------------------------|---------------------|
//! | P1-dy   | douyin   | days 1–31, +1,000/day, posts +1/day                  | growing             |
//! | P1-ks   | kuaishou | days 10–31, 12,000 → 12,300 shown as 1.2万 (±500)    | flat (within 1.2万) |
//! | C1-dy   | douyin   | days 1–31, +50/day, posts stuck at 40                | no_posts            |
//! | C1-bl   | bilibili | days 1–31 growing, then a captcha at 11:30 on day 31 | collection_blocked  |
//! | C2-dy   | douyin   | days 1–31 growing                                    | growing             |
//! | S1-dy   | douyin   | days 1–31 growing                                    | growing             |
//! | S1-ks   | kuaishou | days 1–31, then not_found at 11:40 on day 31         | gone                |
//! | S2-dy   | douyin   | days 1–29 only                                       | overdue             |
//! | S2-bl   | bilibili | 10,000 days 1–28, 9,400 days 29–31 (−6 %)            | dropping            |
//! | U1-dy   | douyin   | days 1–31 growing                                    | growing             |
//! | U1-wc   | wechat   | never                                                | overdue (never read)|
//! | M1-dy   | douyin   | days 1–31 growing                                    | growing             |

use chrono::{Days, NaiveDate, Utc};
use haoqi_analytics::health::{self, HealthQuery, StalledConfig};
use haoqi_model::reading::{Reading, Source};
use haoqi_platform::Platform::{self, Bilibili, Douyin, Kuaishou};
use haoqi_tests::*;

/// Day 1 of the calendar. Collection events expire after 180 days (the table's TTL), so the
/// fixture lives in the last few weeks rather than at a fixed date.
fn start() -> NaiveDate {
    haoqi_model::time::beijing_day(Utc::now()) - Days::new(40)
}

fn day(d: u32) -> NaiveDate {
    start() + Days::new(u64::from(d) - 1)
}

/// 11:00 UTC plus `minutes` on day `d`, as ClickHouse text.
fn ts(d: u32, minutes: u32) -> String {
    clock(day(d), minutes)
}

/// 11:00 UTC plus `minutes` on `date`, as ClickHouse text.
fn clock(date: NaiveDate, minutes: u32) -> String {
    format!(
        "{} {:02}:{:02}:00.000",
        date,
        11 + minutes / 60,
        minutes % 60
    )
}

fn grow(account: &str, platform: Platform, days: std::ops::RangeInclusive<u32>) -> Vec<Reading> {
    daily(account, platform, start(), days, Source::Crawl, |d| {
        (
            (5_000 + 100 * d).to_string(),
            String::new(),
            String::new(),
            (10 + d).to_string(),
        )
    })
}

fn daily_(
    account: &str,
    platform: Platform,
    days: std::ops::RangeInclusive<u32>,
    source: Source,
    f: impl Fn(u32) -> (String, String, String, String),
) -> Vec<Reading> {
    daily(account, platform, start(), days, source, f)
}

fn fixture() -> Vec<Reading> {
    let mut r = Vec::new();
    r.extend(daily_("P1-dy", Douyin, 1..=31, Source::Crawl, |d| {
        (
            (1_000 * d).to_string(),
            String::new(),
            String::new(),
            d.to_string(),
        )
    }));
    // The true count creeps from 12,000 to 12,300, but the platform shows 1.2万 throughout.
    r.extend(daily_("P1-ks", Kuaishou, 10..=31, Source::Crawl, |_| {
        ("1.2万".into(), String::new(), String::new(), String::new())
    }));
    r.extend(daily_("C1-dy", Douyin, 1..=31, Source::Crawl, |d| {
        (
            (2_000 + 50 * d).to_string(),
            String::new(),
            String::new(),
            "40".into(),
        )
    }));
    r.extend(grow("C1-bl", Bilibili, 1..=31));
    r.extend(grow("C2-dy", Douyin, 1..=31));
    r.extend(grow("S1-dy", Douyin, 1..=31));
    r.extend(grow("S1-ks", Kuaishou, 1..=31));
    r.extend(grow("S2-dy", Douyin, 1..=29));
    r.extend(daily_("S2-bl", Bilibili, 1..=31, Source::Crawl, |d| {
        let f = if d <= 28 { "10000" } else { "9400" };
        (f.into(), String::new(), String::new(), (10 + d).to_string())
    }));
    r.extend(grow("U1-dy", Douyin, 1..=31));
    r.extend(grow("M1-dy", Douyin, 1..=31));
    r
}

async fn events(store: &dyn haoqi_store::Store) {
    let rows = [
        (ts(31, 0), "C1-bl", "bilibili", "reading", ""),
        (
            ts(31, 30),
            "C1-bl",
            "bilibili",
            "blocked",
            "blocked by the platform (code -352)",
        ),
        (ts(31, 0), "S1-ks", "kuaishou", "reading", ""),
        (
            ts(31, 40),
            "S1-ks",
            "kuaishou",
            "not_found",
            "account not found",
        ),
        // A success after a failure: the account is fine again.
        (ts(30, 30), "P1-dy", "douyin", "rate_limited", "HTTP 429"),
        (ts(31, 0), "P1-dy", "douyin", "reading", ""),
    ];
    record_attempts(store, "health-fixture", &rows).await;
}

fn query() -> HealthQuery {
    HealthQuery {
        now: at(&format!("{}T12:00:00Z", day(31))),
        config: StalledConfig::default(),
        interval_mins: 60,
        crawled: vec!["bilibili".into(), "douyin".into(), "kuaishou".into()],
    }
}

#[tokio::test]
async fn every_account_gets_exactly_one_state_with_its_reason() {
    let store = analytics_store("health", &fixture()).await;
    events(store.as_ref()).await;
    let rows = query().run(store.as_ref()).await.expect("health");
    // Every active account comes out, read or not.
    assert_eq!(rows.len(), 12);
    let state = |id: &str| {
        rows.iter()
            .find(|r| r.account_id == id)
            .unwrap_or_else(|| panic!("{id} missing"))
    };
    let expected = [
        ("P1-dy", "growing"),
        ("P1-ks", "flat"),
        ("C1-dy", "no_posts"),
        ("C1-bl", "collection_blocked"),
        ("C2-dy", "growing"),
        ("S1-dy", "growing"),
        ("S1-ks", "gone"),
        ("S2-dy", "overdue"),
        ("S2-bl", "dropping"),
        ("U1-dy", "growing"),
        ("U1-wc", "overdue"),
        ("M1-dy", "growing"),
    ];
    for (id, s) in expected {
        assert_eq!(state(id).state, s, "{id}: {:?}", state(id));
    }

    // The numbers behind each state.
    let flat = state("P1-ks");
    assert_eq!(flat.followers_lo, Some(11_500));
    assert_eq!(flat.reference_day, Some(day(24)));
    assert_eq!(flat.reference_followers_hi, Some(12_499));
    // Never grew beyond resolution: flat since its first reading in the window.
    assert_eq!(flat.since, Some(day(10)));
    assert!(
        flat.reason
            .contains("no growth beyond resolution in 7 days"),
        "{}",
        flat.reason
    );
    assert_eq!(flat.owner, "内容团队 content team");

    let no_posts = state("C1-dy");
    assert_eq!(
        (no_posts.posts, no_posts.reference_posts_hi),
        (Some(40), Some(40))
    );
    assert_eq!(no_posts.since, Some(day(1)));

    let blocked = state("C1-bl");
    assert_eq!(blocked.last_outcome.as_deref(), Some("blocked"));
    assert_eq!(blocked.since, Some(day(31)));
    assert!(blocked.reason.contains("-352"), "{}", blocked.reason);
    assert_eq!(blocked.owner, "平台运维 platform operations");

    let gone = state("S1-ks");
    assert_eq!(gone.owner, "名录维护 registry owner");

    let overdue = state("S2-dy");
    // Last reading at 11:00 UTC on day 29, 49 hours before now.
    assert_eq!(overdue.hours_since_reading, Some(49.0));
    assert_eq!(overdue.overdue_after_hours, 2);
    assert_eq!(overdue.since, Some(day(29)));
    let never = state("U1-wc");
    assert_eq!(never.followers, None);
    assert_eq!(never.reason, "never read");
    // WeChat arrives by import: two monthly intervals before it would be overdue.
    assert_eq!(never.overdue_after_hours, 2 * 24 * 31);

    let dropping = state("S2-bl");
    assert_eq!(dropping.peak_followers_lo, Some(10_000));
    assert_eq!(dropping.followers_hi, Some(9_400));
    assert_eq!(dropping.since, Some(day(24)));

    // A failure followed by a success does not block.
    assert_eq!(state("P1-dy").last_outcome.as_deref(), Some("reading"));

    let counts = health::counts(&rows);
    assert_eq!(
        counts,
        vec![
            ("gone", 1),
            ("collection_blocked", 1),
            ("overdue", 2),
            ("dropping", 1),
            ("flat", 1),
            ("no_posts", 1),
            ("growing", 5)
        ]
    );
}

#[tokio::test]
async fn thresholds_come_from_the_configuration() {
    let store = analytics_store("health_thresholds", &fixture()).await;
    let mut q = query();
    // A 10 % loss is needed now: S2-bl's 6 % is no longer dropping (it is flat: 9,400 ≤ 10,000).
    q.config.drop_share = 0.10;
    // With a day of collection interval, S2-dy (49 h) is not overdue yet.
    q.interval_mins = 24 * 60 + 60;
    let rows = q.run(store.as_ref()).await.expect("health");
    let state = |id: &str| {
        rows.iter()
            .find(|r| r.account_id == id)
            .map(|r| r.state.clone())
    };
    assert_eq!(state("S2-bl").as_deref(), Some("flat"));
    assert_eq!(state("S2-dy").as_deref(), Some("growing"));
}

#[tokio::test]
async fn health_counts_are_gauges_with_zeros_for_every_state() {
    use haoqi::service::refresh;
    use haoqi_analytics::snapshot::Latest;
    let store = analytics_store("health_gauges", &fixture()).await;
    events(store.as_ref()).await;
    let metrics = haoqi_web::metrics::Metrics::new().expect("metrics");
    let settings = haoqi::config::Config::default().analytics();
    let latest = Latest::every(std::time::Duration::from_secs(60));
    refresh::refresh(store.as_ref(), &settings, &metrics, &latest)
        .await
        .expect("refresh");
    let snapshot = latest.fresh(Utc::now()).expect("the states are kept");
    let text = metrics.render();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("haoqi_account_health{"))
        .collect();
    // Every state for every (platform, kind, prefecture, department) the registry has.
    // Twelve accounts, ten distinct (platform, kind, prefecture, department): C1-dy/C2-dy and
    // S1-dy/S2-dy share theirs.
    let combos = 10;
    assert_eq!(lines.len(), combos * health::STATES.len(), "{text}");
    let total: f64 = lines
        .iter()
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(total, 12.0, "each active account counted once");
    // Judged now (the fixture's last day was nine days ago), S1-ks is still gone.
    assert!(
        text.contains("haoqi_account_health{department=\"学会学术部\",kind=\"society\",platform=\"kuaishou\",prefecture=\"\",state=\"gone\"} 1"),
        "{text}"
    );
    assert!(text.contains("state=\"growing\"} 0"));
    // The states behind the gauges are what /api/stalled serves until the next refresh.
    assert_eq!(snapshot.rows.len(), 12);
    let gone: Vec<&str> = snapshot
        .rows
        .iter()
        .filter(|r| r.state == "gone")
        .map(|r| r.account_id.as_str())
        .collect();
    assert_eq!(gone, ["S1-ks"]);
    assert!(text.contains("haoqi_goal_target_followers 20000000"));
    assert!(text.contains("haoqi_analytics_last_refresh_timestamp_seconds"));
}

#[tokio::test]
async fn the_latest_attempt_in_the_lookback_decides_whatever_order_it_was_recorded_in() {
    let store = analytics_store("health_attempts", &fixture()).await;
    let ago = |days: u64, minutes: u32| clock(day(31) - Days::new(days), minutes);
    // U1-dy: its last success 120 days ago, then a captcha on every daily attempt since 100 days
    // ago: failing for longer than the 90-day lookback, and its latest attempt within it.
    let mut rows = vec![(ago(120, 0), "U1-dy", "douyin", "reading", "")];
    for d in 0..=100 {
        rows.push((ago(d, 30), "U1-dy", "douyin", "blocked", "captcha"));
    }
    // M1-dy: a success at 11:00 today, then a rate limit from yesterday recorded late (a spool
    // replayed after the store came back).
    rows.push((ago(0, 0), "M1-dy", "douyin", "reading", ""));
    // U1-wc never succeeded: a login wall every day for the last ten days.
    for d in 0..=10 {
        rows.push((
            ago(d, 45),
            "U1-wc",
            "wechat_channels",
            "login_required",
            "login wall",
        ));
    }
    // S2-dy's last attempt, 100 days ago, is older than the lookback: it no longer decides.
    rows.push((
        ago(100, 0),
        "S2-dy",
        "douyin",
        "not_found",
        "account not found",
    ));
    // C2-dy's only attempt is after the moment asked about.
    rows.push((ago(0, 90), "C2-dy", "douyin", "blocked", "captcha"));
    record_attempts(store.as_ref(), "health-attempts", &rows).await;
    record_attempts(
        store.as_ref(),
        "health-attempts-late",
        &[(ago(1, 0), "M1-dy", "douyin", "rate_limited", "HTTP 429")],
    )
    .await;

    let rows = query().run(store.as_ref()).await.expect("health");
    let state = |id: &str| {
        rows.iter()
            .find(|r| r.account_id == id)
            .unwrap_or_else(|| panic!("{id} missing"))
    };
    let u1 = state("U1-dy");
    assert_eq!(u1.state, "collection_blocked");
    // Failing since the first captcha after its last success, not since the window's start.
    assert_eq!(u1.since, Some(day(31) - Days::new(100)));
    assert_eq!(u1.last_error.as_deref(), Some("captcha"));
    let u1wc = state("U1-wc");
    assert_eq!(u1wc.state, "collection_blocked");
    assert_eq!(
        u1wc.since,
        Some(day(31) - Days::new(10)),
        "since its first attempt"
    );
    assert_eq!(state("S2-dy").state, "overdue");
    assert_eq!(state("C2-dy").state, "growing");
    assert_eq!(state("C2-dy").last_outcome, None);
    let m1 = state("M1-dy");
    assert_eq!(m1.state, "growing", "{m1:?}");
    assert_eq!(m1.last_outcome.as_deref(), Some("reading"));
    // One row per account once merged, whatever order the attempts came in.
    store
        .execute(&format!(
            "OPTIMIZE TABLE `{}`.last_attempts FINAL",
            store.database()
        ))
        .await
        .expect("optimize");
    assert_eq!(
        scalar(
            store.as_ref(),
            &format!("SELECT count() FROM `{}`.last_attempts", store.database())
        )
        .await,
        5
    );
    // And the answer is the same as before the merge.
    assert_eq!(query().run(store.as_ref()).await.expect("health"), rows);
}
