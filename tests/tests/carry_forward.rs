//! Carry-forward totals, progress by tier/region/platform and target completion, on the real
//! embedded engine, against figures computed by hand from the fixture below.
//!
//! Accounts (tests/fixtures/small-registry): A prefecture 乌鲁木齐 (target 1,013,593),
//! B county 天山区 (target 163,198), C county 沙依巴克区 (population missing: no target),
//! D and E society (20,000), E on Kuaishou with abbreviated counts. Beijing days 1–5 March 2024:
//!
//! | day | A     | B          | C  | D      | E (lo)         | total  | lo     |
//! |-----|-------|------------|----|--------|----------------|--------|--------|
//! | 1   | 1,100 | 500        | -  | -      | 19,000 (18,500)| 20,600 | 20,100 |
//! | 2   | 1,100*| 520        | -  | 20,000 | 19,000*        | 40,620 | 40,120 |
//! | 3   | 1,300 | 520*       | -  | 20,000*| 20,000 (19,500)| 41,820 | 41,320 |
//! | 4   | 1,300*| 520*       | 50 | 20,000*| 20,000*        | 41,870 | 41,370 |
//! | 5   | 1,300*| 520* (stops)| 50*| 21,000 | 21,000 (20,500)| 43,870 | 43,370 |
//! (* carried forward)

use chrono::{NaiveDate, Utc};
use haoqi_analytics::progress::ProgressQuery;
use haoqi_model::reading::{Batch, Source};
use haoqi_platform::Platform::{Douyin, Kuaishou};
use haoqi_registry::dimensions;
use haoqi_store::spool::{Spool, WriteOutcome, Writer};
use haoqi_store::sql::{self, Params};
use haoqi_store::Store;
use haoqi_tests::*;

async fn fixture(test: &str) -> std::sync::Arc<dyn Store> {
    let store = fresh_store(test).await;
    dimensions::load(store.as_ref(), &small_registry(), &rules(), Utc::now())
        .await
        .expect("load registry");
    let readings = vec![
        followers("A", Douyin, "2024-03-01T02:00:00Z", "1000"),
        // Later the same Beijing day: the day's value is the last one.
        followers("A", Douyin, "2024-03-01T12:00:00Z", "1100"),
        followers("A", Douyin, "2024-03-03T04:00:00Z", "1300"),
        followers("B", Douyin, "2024-03-01T03:00:00Z", "500"),
        // 23:30 in Beijing on day 2 (UTC says day 2 too).
        followers("B", Douyin, "2024-03-02T15:30:00Z", "520"),
        // 00:30 in Beijing on day 4 while UTC still says day 3.
        followers("C", Douyin, "2024-03-03T16:30:00Z", "50"),
        followers("D", Douyin, "2024-03-02T05:00:00Z", "20000"),
        followers("D", Douyin, "2024-03-05T05:00:00Z", "21000"),
        followers("E", Kuaishou, "2024-03-01T06:00:00Z", "1.9万"),
        followers("E", Kuaishou, "2024-03-03T06:00:00Z", "2.0万"),
        followers("E", Kuaishou, "2024-03-05T06:00:00Z", "2.1万"),
    ];
    let dir = engine_dir().join(format!("spool-{test}"));
    let writer = Writer::new(store.clone(), Spool::open(&dir, "test").expect("spool"));
    // Two batches, out of time order: order of arrival must not matter.
    let (late, early) = readings.split_at(6);
    for part in [early, late] {
        let outcome = writer
            .write(&Batch::new(part, Utc::now()))
            .await
            .expect("write");
        assert_eq!(outcome, WriteOutcome::Stored);
    }
    store
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, d).expect("date")
}

#[derive(Debug, PartialEq)]
struct DayTotal {
    day: String,
    followers: u64,
    followers_lo: u64,
    reporting: u64,
    missing: u64,
    max_age_days: u64,
}

#[tokio::test]
async fn daily_totals_carry_each_account_forward() {
    let store = fixture("daily").await;
    let params = Params::new(store.database())
        .set("from_day", "2024-03-01")
        .set("to_day", "2024-03-05")
        .set("stale_after_hours", 48u64);
    let rows = store
        .query_rows(&sql::render(sql::queries::FOLLOWERS_DAILY, &params).expect("render"))
        .await
        .expect("query");
    let got: Vec<DayTotal> = rows
        .iter()
        .map(|r| DayTotal {
            day: r["day"].as_str().unwrap_or_default().to_string(),
            followers: r["followers"].as_u64().unwrap_or(u64::MAX),
            followers_lo: r["followers_lo"].as_u64().unwrap_or(u64::MAX),
            reporting: r["reporting"].as_u64().unwrap_or(u64::MAX),
            missing: r["missing"].as_u64().unwrap_or(u64::MAX),
            max_age_days: r["max_age_days"].as_u64().unwrap_or(u64::MAX),
        })
        .collect();
    let want = |d: &str, f, lo, rep, miss, age| DayTotal {
        day: d.into(),
        followers: f,
        followers_lo: lo,
        reporting: rep,
        missing: miss,
        max_age_days: age,
    };
    assert_eq!(
        got,
        vec![
            want("2024-03-01", 20_600, 20_100, 3, 2, 0),
            want("2024-03-02", 40_620, 40_120, 4, 1, 1),
            want("2024-03-03", 41_820, 41_320, 4, 1, 1),
            want("2024-03-04", 41_870, 41_370, 5, 0, 2),
            want("2024-03-05", 43_870, 43_370, 5, 0, 3),
        ]
    );
}

#[tokio::test]
async fn progress_by_tier_region_platform_as_of_a_day() {
    let store = fixture("progress").await;
    let q = ProgressQuery {
        as_of: day(5),
        stale_after_hours: 48,
    };
    let p = q
        .summary(store.as_ref(), 100_000, day(31))
        .await
        .expect("summary");
    let g = |dim: &str, key: &str| {
        p.groups
            .iter()
            .find(|g| g.dimension == dim && g.key == key)
            .unwrap_or_else(|| panic!("no group {dim}/{key} in {:#?}", p.groups))
            .clone()
    };
    assert_eq!(p.matrix.followers, 43_870);
    assert_eq!(p.matrix.followers_lo, 43_370);
    assert_eq!(p.matrix.accounts, 5);
    assert_eq!(p.matrix.reporting, 5);
    // A (60 h) and B (72.5 h) are older than 48 h at the end of day 5; C is 47.5 h old.
    assert_eq!(p.matrix.stale, 2);
    assert!((p.share_of_goal - 0.4387).abs() < 1e-9);
    assert!(!p.goal_reached);
    assert_eq!(g("tier", "vertical").followers, 1_870);
    assert_eq!(g("tier", "horizontal").followers, 42_000);
    assert_eq!(g("region", "650100").followers, 1_870);
    assert_eq!(g("region", "650100").label, "乌鲁木齐市");
    assert_eq!(g("region", "region-wide").followers, 42_000);
    assert_eq!(g("platform", "douyin").followers, 22_870);
    assert_eq!(g("platform", "kuaishou").followers, 21_000);
    assert_eq!(g("kind", "county_assoc").accounts, 2);

    // Day 2: C has not appeared yet; it is missing, not zero.
    let q2 = ProgressQuery {
        as_of: day(2),
        stale_after_hours: 48,
    };
    let p2 = q2
        .summary(store.as_ref(), 100_000, day(31))
        .await
        .expect("summary");
    assert_eq!(p2.matrix.followers, 40_620);
    assert_eq!(p2.matrix.never_reported, 1);
    assert_eq!(p2.matrix.reporting, 4);
}

#[tokio::test]
async fn target_completion_respects_lower_bounds_and_missing_population() {
    let store = fixture("targets").await;
    let at_day = |d| ProgressQuery {
        as_of: day(d),
        stale_after_hours: 48,
    };
    let accounts = at_day(5).accounts(store.as_ref()).await.expect("accounts");
    let acc = |id: &str| {
        accounts
            .iter()
            .find(|a| a.account_id == id)
            .unwrap_or_else(|| panic!("no account {id}"))
            .clone()
    };
    // 25 % of 4,054,369 and of 652,792, rounded up.
    assert_eq!(acc("A").target, Some(1_013_593));
    assert_eq!(acc("B").target, Some(163_198));
    // 沙依巴克区 has no 2020 figure: the target is unknown, not 0, and says why.
    assert_eq!(acc("C").target, None);
    assert!(
        acc("C").target_basis.contains("missing"),
        "{}",
        acc("C").target_basis
    );
    assert_eq!(acc("C").at_target, None);
    assert_eq!(acc("C").followers, Some(50));
    assert_eq!(acc("D").at_target, Some(true));
    // 2.1万 is 20,500..=21,499: at target for sure.
    assert_eq!(acc("E").followers_lo, Some(20_500));
    assert_eq!(acc("E").at_target, Some(true));
    assert_eq!(acc("A").at_target, Some(false));
    let completion = acc("B").completion.unwrap_or_default();
    assert!((completion - 520.0 / 163_198.0).abs() < 1e-12);

    // Day 3: E shows 2.0万, i.e. 19,500..=20,499 — not surely at 20,000.
    let day3 = at_day(3).accounts(store.as_ref()).await.expect("accounts");
    let e = day3.iter().find(|a| a.account_id == "E").expect("E");
    assert_eq!((e.followers, e.at_target), (Some(20_000), Some(false)));

    let p = at_day(5)
        .summary(store.as_ref(), 100_000, day(31))
        .await
        .expect("summary");
    assert_eq!(p.matrix.with_target, 4);
    assert_eq!(p.matrix.target_unknown, 1);
    assert_eq!(p.matrix.at_target, 2);
}

#[tokio::test]
async fn a_rename_does_not_rewrite_history() {
    let store = fixture("rename").await;
    let mut registry = small_registry();
    if let Some(u) = registry
        .units
        .iter_mut()
        .find(|u| u.unit_id == "T-C-650102")
    {
        u.name = "天山区科协（新名）".into();
    }
    let changes = dimensions::load(
        store.as_ref(),
        &registry,
        &rules(),
        at("2024-03-03T00:00:00Z"),
    )
    .await
    .expect("reload");
    assert_eq!(changes.units.changed, 1);
    assert_eq!(changes.units.unchanged, 3);
    let name_on = |d| {
        let store = store.clone();
        async move {
            ProgressQuery {
                as_of: day(d),
                stale_after_hours: 48,
            }
            .accounts(store.as_ref())
            .await
            .expect("accounts")
            .into_iter()
            .find(|a| a.account_id == "B")
            .map(|a| a.unit_name)
        }
    };
    assert_eq!(name_on(1).await.as_deref(), Some("天山区科学技术协会"));
    assert_eq!(name_on(4).await.as_deref(), Some("天山区科协（新名）"));
    // Loading the same registry again changes nothing.
    let again = dimensions::load(store.as_ref(), &registry, &rules(), Utc::now())
        .await
        .expect("reload");
    assert_eq!((again.units.changed, again.units.added), (0, 0));
}

#[tokio::test]
async fn open_bounds_and_same_time_readings() {
    let store = fresh_store("bounds").await;
    dimensions::load(store.as_ref(), &small_registry(), &rules(), Utc::now())
        .await
        .expect("load registry");
    let writer = Writer::new(
        store.clone(),
        Spool::open(&engine_dir().join("spool-bounds"), "test").expect("spool"),
    );
    // E: an exact count, then "10万+" (at least 100,000, no upper bound).
    // D: a crawl and an import at the same millisecond; the larger value wins whatever the
    // order of arrival, and both readings stay in the table.
    let mut crawled = followers("D", Douyin, "2024-03-02T06:00:00Z", "20001");
    crawled.source = Source::Crawl;
    let mut imported = followers("D", Douyin, "2024-03-02T06:00:00Z", "20000");
    imported.source = Source::Import;
    let batches = [
        vec![followers("E", Kuaishou, "2024-03-01T06:00:00Z", "99000")],
        vec![followers("E", Kuaishou, "2024-03-02T06:00:00Z", "10万+")],
        vec![crawled],
        vec![imported],
    ];
    for b in &batches {
        writer
            .write(&Batch::new(b, Utc::now()))
            .await
            .expect("write");
    }
    let accounts = ProgressQuery {
        as_of: day(2),
        stale_after_hours: 48,
    }
    .accounts(store.as_ref())
    .await
    .expect("accounts");
    let e = accounts.iter().find(|a| a.account_id == "E").expect("E");
    assert_eq!(
        (e.followers, e.followers_lo, e.followers_hi),
        (Some(100_000), Some(100_000), None)
    );
    let d = accounts.iter().find(|a| a.account_id == "D").expect("D");
    assert_eq!(d.followers, Some(20_001));
    assert_eq!(d.source.as_deref(), Some("crawl"));
    let e1 = ProgressQuery {
        as_of: day(1),
        stale_after_hours: 48,
    }
    .accounts(store.as_ref())
    .await
    .expect("accounts");
    let e1 = e1.iter().find(|a| a.account_id == "E").expect("E");
    assert_eq!(
        (e1.followers, e1.followers_hi),
        (Some(99_000), Some(99_000))
    );
}
