//! The committee's ranking on the real embedded engine, for March 2024 (31 days; a baseline
//! reading on 29 February), on the analytics registry. Figures by hand (d = day of March,
//! 0 = 29 February):
//!
//! | account | platform | followers        | likes             | views           | posts    | expected                  |
//! |---------|----------|------------------|-------------------|-----------------|----------|---------------------------|
//! | S1-dy   | douyin   | 10,000 + 100d    | 50,000 + 1,000d   | —               | 100 + d  | horizontal #1 (1000, tie) |
//! | S2-dy   | douyin   | same as S1-dy    | same              | —               | same     | horizontal #2 (tie → id)  |
//! | U1-wc   | wechat   | 5,000 + 50d (imported) | —           | —               | —        | horizontal #3 (864.77)    |
//! | P1-dy   | douyin   | 100,000 + 1,000d | 1,000,000 + 10,000d | —             | 500 + 2d | vertical #1 (1000)        |
//! | P1-ks   | kuaishou | 20,000 + 100d    | —                 | —               | 50 + d   | vertical #2 (735.62)      |
//! | C1-dy   | douyin   | 5,000 + 50d      | 20,000 + 100d     | —               | 10 + d   | vertical #3 (669.57)      |
//! | C1-bl   | bilibili | 3,000 + 10d      | 8,000 + 50d       | 100,000 + 5,000d| 20       | vertical #4 (654.99)      |
//! | M1-dy   | douyin   | grows            |                   |                 |          | ineligible: not standardised, name |
//! | C2-dy   | douyin   | grows            |                   |                 |          | ineligible: name 沙依巴克科普 |
//! | S2-bl   | bilibili | days 0–10 only   |                   |                 |          | ineligible: coverage 10/31 |
//! | U1-dy   | douyin   | 2,000 + 20d, +5,000 from day 15 | likes flat |        |          | ineligible: jump (purchased?) |
//! | S1-ks   | kuaishou | grows, all imported |                |                 |          | ineligible: mostly imported |
//!
//! Scores (weights followers .25, growth .30, completion .10, views .15, likes .15, posts .05):
//! S1-dy and S2-dy are the best of their group in every component they have: 1000 each, and the
//! tie goes to the smaller account id. U1-wc has followers, growth and completion only:
//! 1000·(.25·ln 6551/ln 13101 + .30·ln 1551/ln 3101 + .10·ln(1+.3275)/ln(1+.655))/.65 = 864.77.

use chrono::NaiveDate;
use haoqi_analytics::rank::{self, xlsx, RankConfig, TierFilter};
use haoqi_model::reading::{Reading, Source};
use haoqi_platform::Platform::{self, Bilibili, Douyin, Kuaishou, WechatChannels};
use haoqi_tests::*;

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 2, 29).expect("date")
}
fn from() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, 1).expect("date")
}
fn to() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, 31).expect("date")
}

/// Readings for d = 0 (29 Feb) ..= 31 (31 Mar) where `days` says; the fixture's day k is d + 1.
fn series(
    account: &str,
    platform: Platform,
    days: std::ops::RangeInclusive<u32>,
    source: Source,
    f: impl Fn(u32) -> (String, String, String, String),
) -> Vec<Reading> {
    let (a, b) = (*days.start(), *days.end());
    daily(
        account,
        platform,
        start(),
        a + 1..=b + 1,
        source,
        move |k| f(k - 1),
    )
}

fn s(v: u32) -> String {
    v.to_string()
}
fn none() -> String {
    String::new()
}

fn fixture() -> Vec<Reading> {
    let mut r = Vec::new();
    for id in ["S1-dy", "S2-dy"] {
        r.extend(series(id, Douyin, 0..=31, Source::Crawl, |d| {
            (
                s(10_000 + 100 * d),
                s(50_000 + 1_000 * d),
                none(),
                s(100 + d),
            )
        }));
    }
    r.extend(series(
        "U1-wc",
        WechatChannels,
        0..=31,
        Source::Import,
        |d| (s(5_000 + 50 * d), none(), none(), none()),
    ));
    r.extend(series("P1-dy", Douyin, 0..=31, Source::Crawl, |d| {
        (
            s(100_000 + 1_000 * d),
            s(1_000_000 + 10_000 * d),
            none(),
            s(500 + 2 * d),
        )
    }));
    r.extend(series("P1-ks", Kuaishou, 0..=31, Source::Crawl, |d| {
        (s(20_000 + 100 * d), none(), none(), s(50 + d))
    }));
    r.extend(series("C1-dy", Douyin, 0..=31, Source::Crawl, |d| {
        (s(5_000 + 50 * d), s(20_000 + 100 * d), none(), s(10 + d))
    }));
    r.extend(series("C1-bl", Bilibili, 0..=31, Source::Crawl, |d| {
        (
            s(3_000 + 10 * d),
            s(8_000 + 50 * d),
            s(100_000 + 5_000 * d),
            s(20),
        )
    }));
    for id in ["M1-dy", "C2-dy"] {
        r.extend(series(id, Douyin, 0..=31, Source::Crawl, |d| {
            (s(1_000 + 10 * d), none(), none(), none())
        }));
    }
    r.extend(series("S2-bl", Bilibili, 0..=10, Source::Crawl, |d| {
        (s(4_000 + 10 * d), none(), none(), none())
    }));
    r.extend(series("U1-dy", Douyin, 0..=31, Source::Crawl, |d| {
        let bought = if d >= 15 { 5_000 } else { 0 };
        (s(2_000 + 20 * d + bought), s(9_000), none(), none())
    }));
    r.extend(series("S1-ks", Kuaishou, 0..=31, Source::Import, |d| {
        (s(7_000 + 30 * d), none(), none(), none())
    }));
    r
}

fn crawled() -> Vec<String> {
    vec!["bilibili".into(), "douyin".into(), "kuaishou".into()]
}

async fn ranking(test: &str) -> (rank::Ranking, rank::RankData) {
    let store = analytics_store(test, &fixture()).await;
    let config = RankConfig::default();
    let data = rank::load(store.as_ref(), from(), to(), &config, &crawled())
        .await
        .expect("load");
    let r = rank::rank(&data, from(), to(), &TierFilter::Both, &config, &[]);
    (r, data)
}

fn ln_norm(x: f64, max: f64) -> f64 {
    (1.0 + x).ln() / (1.0 + max).ln()
}

#[tokio::test]
async fn order_scores_ties_and_ineligibility() {
    let (r, _) = ranking("rank_order").await;
    let order = |g: &str| -> Vec<(String, f64)> {
        r.accounts
            .iter()
            .filter(|a| a.group == g)
            .map(|a| (a.input.account_id.clone(), a.score))
            .collect()
    };
    let h = order("horizontal");
    let ids: Vec<&str> = h.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(ids, ["S1-dy", "S2-dy", "U1-wc"]);
    assert_eq!((h[0].1, h[1].1), (1000.0, 1000.0));
    let u1 = 1000.0
        * (0.25 * ln_norm(6_550.0, 13_100.0)
            + 0.30 * ln_norm(1_550.0, 3_100.0)
            + 0.10 * ln_norm(6_550.0 / 20_000.0, 13_100.0 / 20_000.0))
        / 0.65;
    assert!((h[2].1 - u1).abs() < 0.01, "{} vs {u1}", h[2].1);
    assert!((h[2].1 - 864.77).abs() < 0.01);

    let v = order("vertical");
    let ids: Vec<&str> = v.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(ids, ["P1-dy", "P1-ks", "C1-dy", "C1-bl"]);
    let (tp, tc) = (1_013_593.0, 163_198.0);
    let cmax = 131_000.0 / tp;
    let c1_dy = 1000.0
        * (0.25 * ln_norm(6_550.0, 131_000.0)
            + 0.30 * ln_norm(1_550.0, 31_000.0)
            + 0.10 * ln_norm(6_550.0 / tc, cmax)
            + 0.15 * ln_norm(3_100.0, 310_000.0)
            + 0.05 * ln_norm(31.0, 62.0))
        / 0.85;
    // Kuaishou exposes no likes or views: its posts are compared with Kuaishou's only (1.0).
    let p1_ks = 1000.0
        * (0.25 * ln_norm(23_100.0, 131_000.0)
            + 0.30 * ln_norm(3_100.0, 31_000.0)
            + 0.10 * ln_norm(23_100.0 / tp, cmax)
            + 0.05)
        / 0.70;
    // Bilibili's views and likes are the best on Bilibili (1.0); posts did not move (0).
    let c1_bl = 1000.0
        * (0.25 * ln_norm(3_310.0, 131_000.0)
            + 0.30 * ln_norm(310.0, 31_000.0)
            + 0.10 * ln_norm(3_310.0 / tc, cmax)
            + 0.15
            + 0.15)
        / 1.0;
    for ((id, got), want) in v.iter().zip([1000.0, p1_ks, c1_dy, c1_bl]) {
        assert!((got - want).abs() < 0.01, "{id}: {got} vs {want}");
    }
    let c1 = r
        .accounts
        .iter()
        .find(|a| a.input.account_id == "C1-bl")
        .expect("C1-bl");
    assert_eq!(c1.input.views_gained, Some(155_000));
    assert_eq!(c1.components.views, Some(1.0));
    let ks = r
        .accounts
        .iter()
        .find(|a| a.input.account_id == "P1-ks")
        .expect("P1-ks");
    assert_eq!((ks.components.likes, ks.components.views), (None, None));

    // Units sum their eligible accounts.
    let units: Vec<&str> = r
        .units
        .iter()
        .filter(|u| u.group == "vertical")
        .map(|u| u.unit_id.as_str())
        .collect();
    assert_eq!(units, ["T-P-650100", "T-C-650102"]);
    let p1 = &r.units[r
        .units
        .iter()
        .position(|u| u.unit_id == "T-P-650100")
        .expect("unit")];
    assert_eq!(
        (p1.accounts, p1.followers_end, p1.followers_gained),
        (2, 154_100, 34_100)
    );

    let why = |id: &str| -> String {
        r.ineligible
            .iter()
            .find(|i| i.input.account_id == id)
            .unwrap_or_else(|| panic!("{id} not ineligible"))
            .reasons
            .join(" | ")
    };
    assert_eq!(r.ineligible.len(), 5);
    assert!(
        why("M1-dy").contains("not the unit's standardised account"),
        "{}",
        why("M1-dy")
    );
    assert!(why("M1-dy").contains("breaks the naming rule"));
    assert!(why("C2-dy").contains("沙依巴克科普"), "{}", why("C2-dy"));
    assert!(
        why("S2-bl").contains("coverage 10/31 days = 32% < 80%"),
        "{}",
        why("S2-bl")
    );
    assert!(why("U1-dy").contains("jump 2024-03-15"), "{}", why("U1-dy"));
    assert!(why("S1-ks").contains("mostly_imported"), "{}", why("S1-ks"));
}

#[tokio::test]
async fn anomalies_carry_their_numbers_and_can_be_resolved() {
    let (r, data) = ranking("rank_anomalies").await;
    let find = |kind: &str| {
        r.anomalies
            .iter()
            .find(|a| a.account_id == "U1-dy" && a.kind == kind)
            .unwrap_or_else(|| panic!("no {kind}: {:?}", r.anomalies))
    };
    let jump = find("jump");
    assert_eq!(
        jump.day,
        NaiveDate::from_ymd_opt(2024, 3, 15).expect("date")
    );
    assert_eq!(
        (jump.previous, jump.value, jump.gain),
        (2_280, 7_300, 5_020)
    );
    assert_eq!(jump.trend, 20.0);
    assert_eq!(jump.threshold, 1_000.0);
    assert!(jump.reason().contains("2280 → 7300"), "{}", jump.reason());
    // Likes did not move on the day of the jump.
    let quiet = find("jump_without_engagement");
    assert_eq!(quiet.engagement_gain, Some(0));
    // Steady growers raise nothing.
    assert!(r
        .anomalies
        .iter()
        .all(|a| a.account_id == "U1-dy" || a.account_id == "S1-ks"));
    let imported = r
        .anomalies
        .iter()
        .find(|a| a.kind == "mostly_imported")
        .expect("imported");
    assert_eq!(
        (
            imported.account_id.as_str(),
            imported.value,
            imported.previous
        ),
        ("S1-ks", 31, 31)
    );

    // Once a reviewer resolves both findings, U1-dy competes (and its jump is still listed).
    let resolved: Vec<(String, NaiveDate, String)> = r
        .anomalies
        .iter()
        .filter(|a| a.account_id == "U1-dy")
        .map(|a| (a.account_id.clone(), a.day, a.kind.clone()))
        .collect();
    let again = rank::rank(
        &data,
        from(),
        to(),
        &TierFilter::Both,
        &RankConfig::default(),
        &resolved,
    );
    assert!(again.accounts.iter().any(|a| a.input.account_id == "U1-dy"));
    assert_eq!(again.resolved.len(), 2);
}

#[tokio::test]
async fn the_same_period_gives_the_same_bytes_and_a_workbook_a_committee_can_print() {
    let (r1, _) = ranking("rank_bytes").await;
    let (r2, _) = ranking("rank_bytes").await;
    let csv1 = rank::table::accounts(&r1, None).to_csv();
    assert_eq!(csv1, rank::table::accounts(&r2, None).to_csv());
    assert_eq!(
        serde_json::to_string(&r1).expect("json"),
        serde_json::to_string(&r2).expect("json")
    );
    assert!(csv1
        .lines()
        .nth(1)
        .expect("row")
        .starts_with("horizontal,1,S1-dy,"));

    let dir = engine_dir().join("xlsx");
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("march.xlsx");
    xlsx::write(&path, &r1, 20_000_000, 250_000).expect("xlsx");

    use calamine::{open_workbook, Data, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(&path).expect("open");
    let names = wb.sheet_names();
    assert_eq!(
        names,
        [
            xlsx::SUMMARY,
            "横向 horizontal",
            "纵向 vertical",
            xlsx::UNITS,
            xlsx::INELIGIBLE,
            xlsx::ANOMALIES,
            xlsx::METHOD
        ]
    );
    let v = wb.worksheet_range("纵向 vertical").expect("vertical");
    assert_eq!(v.get_value((0, 7)), Some(&Data::String("期末粉丝".into())));
    assert_eq!(
        v.get_value((1, 7)),
        Some(&Data::String("Followers at end".into()))
    );
    assert_eq!(v.get_value((2, 1)), Some(&Data::String("P1-dy".into())));
    // Numbers are numbers.
    assert_eq!(v.get_value((2, 7)), Some(&Data::Float(131_000.0)));
    assert_eq!(v.get_value((2, 21)), Some(&Data::Float(1000.0)));
    // A component the platform does not expose says so.
    let ks_views = v.get_value((3, 18));
    assert_eq!(ks_views, Some(&Data::String("n/a".into())));
    let s = wb.worksheet_range(xlsx::SUMMARY).expect("summary");
    // Dates are dates.
    assert!(
        matches!(s.get_value((2, 1)), Some(Data::DateTime(_))),
        "{:?}",
        s.get_value((2, 1))
    );
    // An Excel date is a day count from 1899-12-30.
    let day_of = |d: Option<&Data>| match d {
        Some(Data::DateTime(t)) => NaiveDate::from_ymd_opt(1899, 12, 30)
            .and_then(|e| e.checked_add_days(chrono::Days::new(t.as_f64() as u64))),
        _ => None,
    };
    // The period's first day, and U1-dy's jump on 15 March (day 15).
    assert_eq!(day_of(s.get_value((2, 1))), Some(from()));
    let a = wb.worksheet_range(xlsx::ANOMALIES).expect("anomalies");
    assert!(matches!(a.get_value((2, 1)), Some(Data::DateTime(_))));
    let jump_days: Vec<_> = a.rows().skip(2).filter_map(|r| day_of(r.get(1))).collect();
    assert!(
        jump_days.contains(&NaiveDate::from_ymd_opt(2024, 3, 15).expect("date")),
        "{jump_days:?}"
    );
    let inel = wb.worksheet_range(xlsx::INELIGIBLE).expect("ineligible");
    assert_eq!(inel.height(), 2 + 5);
    let m = wb.worksheet_range(xlsx::METHOD).expect("method");
    let text: Vec<String> = m
        .rows()
        .filter_map(|r| r.first().map(|c| c.to_string()))
        .collect();
    assert!(text
        .iter()
        .any(|l| l.contains("ln(1 + x)") && l.contains("对数")));
    // Native charts: the summary's growth by prefecture and each group's top 10.
    let bytes = std::fs::read(&path).expect("read");
    let has = |name: &str| bytes.windows(name.len()).any(|w| w == name.as_bytes());
    assert!(has("xl/charts/chart1.xml") && has("xl/charts/chart3.xml"));

    // The ranking sheets print: A4 landscape, one page wide, the header rows on every page, a
    // filter, the table alone as the print area (issue 18: 309 pages, headers on the first).
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).expect("open")).expect("zip");
    let mut xml = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).expect(name), &mut text)
            .expect("read");
        text
    };
    let workbook = xml("xl/workbook.xml");
    for sheet in [2, 3, 4] {
        let ws = xml(&format!("xl/worksheets/sheet{sheet}.xml"));
        assert!(ws.contains("paperSize=\"9\""), "sheet{sheet}: A4");
        assert!(ws.contains("orientation=\"landscape\""), "sheet{sheet}");
        assert!(
            ws.contains("fitToHeight=\"0\"") && ws.contains("<pageSetUpPr fitToPage=\"1\""),
            "sheet{sheet}: one page wide"
        );
        assert!(
            ws.contains("<autoFilter ref=\"A2:"),
            "sheet{sheet}: a filter"
        );
    }
    assert!(workbook.contains("_xlnm.Print_Titles"), "{workbook}");
    assert!(workbook.contains("_xlnm.Print_Area"), "{workbook}");
}

#[tokio::test]
async fn a_frozen_ranking_survives_late_imports_and_shows_what_changed() {
    use haoqi_analytics::rank::freeze;
    use haoqi_model::reading::Batch;
    use haoqi_store::spool::{Spool, Writer};
    let store = analytics_store("rank_freeze", &fixture()).await;
    let config = RankConfig::default();
    let data = rank::load(store.as_ref(), from(), to(), &config, &crawled())
        .await
        .expect("load");
    let r = rank::rank(&data, from(), to(), &TierFilter::Both, &config, &[]);
    freeze::freeze(store.as_ref(), "2024-03", &r, &data)
        .await
        .expect("freeze");
    let again = freeze::freeze(store.as_ref(), "2024-03", &r, &data).await;
    assert!(
        matches!(again, Err(freeze::FreezeError::Exists(_))),
        "{again:?}"
    );
    assert!(matches!(
        freeze::load(store.as_ref(), "nope").await,
        Err(freeze::FreezeError::Missing(_))
    ));

    // A late import: C1-bl's unit reports 40,000 followers on 31 March — a jump.
    let late = vec![followers(
        "C1-bl",
        Bilibili,
        "2024-03-31T13:00:00Z",
        "40000",
    )];
    let writer = Writer::new(
        store.clone(),
        Spool::open(&engine_dir().join("spool-late"), "test").expect("spool"),
    );
    writer
        .write(&Batch::new(&late, chrono::Utc::now()))
        .await
        .expect("write");

    let (frozen, frozen_data) = freeze::load(store.as_ref(), "2024-03").await.expect("load");
    assert_eq!(frozen, r, "the frozen ranking comes back as it was");
    assert_eq!(
        freeze::reproduce(&frozen, &frozen_data),
        r,
        "and recomputes from its inputs"
    );

    let fresh_data = rank::load(store.as_ref(), from(), to(), &config, &crawled())
        .await
        .expect("load");
    let fresh = rank::rank(&fresh_data, from(), to(), &TierFilter::Both, &config, &[]);
    let d = freeze::diff(&frozen, &fresh);
    let row = d
        .rows
        .iter()
        .find(|r| r[0] == "C1-bl")
        .unwrap_or_else(|| panic!("{d:?}"));
    assert_eq!(d.rows.len(), 1, "{d:?}");
    assert_eq!((row[2].as_str(), row[3].as_str()), ("4", ""), "{row:?}");
    assert_eq!((row[6].as_str(), row[7].as_str()), ("3310", "40000"));
    assert_eq!(row[10], "now ineligible");

    // The flat rows Grafana reads.
    let n = scalar(
        store.as_ref(),
        &format!(
            "SELECT count() FROM {}.rank_entries WHERE name = '2024-03'",
            store.database()
        ),
    )
    .await;
    assert_eq!(n, 12);
    let n = scalar(
        store.as_ref(),
        &format!(
            "SELECT count() FROM {}.rank_entries WHERE name = '2024-03' AND eligible AND rank = 1",
            store.database()
        ),
    )
    .await;
    assert_eq!(n, 2);

    // A reviewer explains U1-dy's jump; the next ranking lets it compete.
    for a in r.anomalies.iter().filter(|a| a.account_id == "U1-dy") {
        freeze::resolve(
            store.as_ref(),
            &(a.account_id.clone(), a.day, a.kind.clone()),
            "viral video",
            "reviewer",
        )
        .await
        .expect("resolve");
    }
    let resolved = freeze::resolutions(store.as_ref())
        .await
        .expect("resolutions");
    assert_eq!(resolved.len(), 2);
    let next = rank::rank(
        &fresh_data,
        from(),
        to(),
        &TierFilter::Both,
        &config,
        &resolved,
    );
    assert!(next.accounts.iter().any(|a| a.input.account_id == "U1-dy"));
}

/// A period whose month before holds no reading: the baseline comes from older history (the
/// inputs read only the period and the 31 days before it, then fall back for such counters).
/// June 2024 on the March fixture, plus one S1-dy reading on 15 June (followers 20,000).
#[tokio::test]
async fn a_baseline_older_than_a_month_before_the_period_is_found() {
    let mut readings = fixture();
    readings.extend(daily(
        "S1-dy",
        Douyin,
        NaiveDate::from_ymd_opt(2024, 6, 15).expect("date"),
        1..=1,
        Source::Crawl,
        |_| (s(20_000), none(), none(), none()),
    ));
    let store = analytics_store("rank_old_baseline", &readings).await;
    let june = |d| NaiveDate::from_ymd_opt(2024, 6, d).expect("date");
    let data = rank::load(
        store.as_ref(),
        june(1),
        june(30),
        &RankConfig::default(),
        &crawled(),
    )
    .await
    .expect("load");
    let input = |id: &str| {
        data.inputs
            .iter()
            .find(|i| i.account_id == id)
            .unwrap_or_else(|| panic!("{id} missing"))
    };
    // Read in June: the end is June's reading, the baseline the last one of March (13,100).
    let s1 = input("S1-dy");
    assert_eq!(s1.followers_end, Some(20_000));
    assert!(s1.has_baseline);
    assert_eq!(s1.followers_start, Some(13_100));
    assert_eq!(s1.followers_gained, Some(6_900));
    // Likes and posts not read since March: carried forward, no gain.
    assert_eq!(s1.likes_gained, Some(0));
    assert_eq!(s1.posts_end, Some(131));
    assert_eq!(s1.days_read, 1);
    // Not read since March: end and baseline are the last March reading, nothing gained.
    let p1 = input("P1-dy");
    assert_eq!(
        (p1.followers_end, p1.followers_start, p1.followers_gained),
        (Some(131_000), Some(131_000), Some(0))
    );
    assert!(p1.has_baseline);
    assert_eq!((p1.days_read, p1.coverage), (0, 0.0));
    // Last read on 10 March.
    let s2 = input("S2-bl");
    assert_eq!(s2.followers_end, Some(4_100));
    assert_eq!(s2.followers_start, Some(4_100));
}
