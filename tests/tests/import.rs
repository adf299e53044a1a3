//! Importing follower counts and registry spreadsheets, end to end on the real embedded store:
//! every bad-input case of the import issue as a file in `tests/fixtures/import/` (made by
//! `pipeline/import/src/fixtures.rs`; see that file to regenerate), each giving a correct import
//! or a clear error that names the row and column — and a failed import leaves the store as it
//! was (counted before and after).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::NaiveDate;
use clap::Parser;
use haoqi_import::readings::{self, Options, ReadingsPlan, RowStatus};
use haoqi_import::store as records;
use haoqi_import::table::Cell;
use haoqi_import::{registry_import, template, ImportError, Mapping, SourceFile};
use haoqi_model::reading::Batch;
use haoqi_platform::Platform;
use haoqi_registry::Registry;
use haoqi_store::spool::{Spool, Writer};
use haoqi_store::Store;
use haoqi_tests::*;

fn fixture(name: &str) -> PathBuf {
    fixtures().join("import").join(name)
}

fn source(name: &str) -> SourceFile {
    SourceFile::read(&fixture(name), None).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn gzh() -> Options {
    Options {
        platform: Some(Platform::WechatOfficial),
        today: NaiveDate::from_ymd_opt(2026, 1, 1),
        ..Options::default()
    }
}

fn reference() -> Registry {
    Registry::reference().unwrap_or_else(|e| panic!("{e}"))
}

struct Env {
    store: Arc<dyn Store>,
    writer: Writer,
    registry: Registry,
}

async fn env(test: &str, registry: Registry) -> Env {
    let store = fresh_store(test).await;
    haoqi_registry::dimensions::load(
        store.as_ref(),
        &registry,
        &rules(),
        at("2024-01-01T00:00:00Z"),
    )
    .await
    .expect("load registry");
    let spool_dir = engine_dir().join(format!("spool-{test}"));
    let _ = std::fs::remove_dir_all(&spool_dir);
    let writer = Writer::new(
        store.clone(),
        Spool::open(&spool_dir, "test").expect("spool"),
    );
    Env {
        store,
        writer,
        registry,
    }
}

impl Env {
    async fn plan(&self, src: &SourceFile, opts: &Options) -> Result<ReadingsPlan, ImportError> {
        let mut plan = readings::plan(src, &self.registry, opts, &haoqi_model::tick::NoTicks)?;
        readings::compare_with_store(&mut plan, self.store.as_ref()).await?;
        Ok(plan)
    }

    async fn import(
        &self,
        name: &str,
        opts: &Options,
    ) -> (ReadingsPlan, Result<usize, ImportError>) {
        let plan = self
            .plan(&source(name), opts)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let applied = readings::apply(&plan, self.store.as_ref(), &self.writer)
            .await
            .map(|a| a.readings);
        (plan, applied)
    }

    /// (readings, import records): what a failed import must leave unchanged.
    async fn counts(&self) -> (u64, u64) {
        let db = self.store.database();
        (
            scalar(
                self.store.as_ref(),
                &format!("SELECT count() FROM `{db}`.readings"),
            )
            .await,
            scalar(
                self.store.as_ref(),
                &format!("SELECT count() FROM `{db}`.imports"),
            )
            .await,
        )
    }

    /// account_id → (followers, lo, hi, observed_at, source, provenance, flags) of imports.
    async fn stored(&self) -> Vec<serde_json::Map<String, serde_json::Value>> {
        let db = self.store.database();
        self.store
            .query_rows(&format!(
                "SELECT account_id, platform, followers, followers_lo, followers_hi, \
                 toString(observed_at) AS at, source, provenance, flags \
                 FROM `{db}`.readings FINAL ORDER BY account_id, observed_at"
            ))
            .await
            .expect("query")
    }
}

fn num(v: &serde_json::Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn messages(plan: &ReadingsPlan) -> Vec<String> {
    plan.problems.iter().map(ToString::to_string).collect()
}

fn statuses(plan: &ReadingsPlan) -> Vec<(u64, &'static str)> {
    plan.rows.iter().map(|r| (r.row, r.status.key())).collect()
}

/// The reference registry plus an official account for 25 county associations, added with
/// `registry import --partial` from the fixture and written to a registry directory.
fn registry_with_county_accounts(name: &str) -> Registry {
    let current = reference();
    let plan = registry_import::plan(
        &source("registry-gzh-counties.csv"),
        &current,
        &rules(),
        true,
    )
    .expect("plan");
    assert!(plan.problems.is_empty(), "{:?}", plan.problems);
    assert_eq!(plan.diff.accounts_added.len(), 25);
    assert!(
        plan.diff.units_changed.is_empty(),
        "{:?}",
        plan.diff.units_changed
    );
    assert!(plan.diff.accounts_deactivated.is_empty());
    assert!(!plan.check.has_errors());
    let dir = engine_dir().join(format!("registry-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    let regions = Registry::reference_texts()[0].1;
    registry_import::write_registry(&plan, &dir, regions).expect("write");
    let r = Registry::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.accounts.len(), current.accounts.len() + 25);
    r
}

/// Done when: the statistics table of seed 001, filled in for 40 units and saved as GBK CSV and
/// as XLSX, imports correctly for WeChat official accounts.
#[tokio::test]
async fn seed001_table_as_gbk_csv_and_xlsx_imports_for_official_accounts() {
    let e = env("imp_seed001", registry_with_county_accounts("seed001")).await;
    let (plan, applied) = e.import("seed001-gbk.csv", &gzh()).await;
    assert_eq!(applied.expect("import"), 40, "{:?}", messages(&plan));
    assert_eq!(plan.count("ready"), 40);
    assert_eq!(plan.header_row, 4);
    assert_eq!(
        plan.default_day,
        NaiveDate::from_ymd_opt(2024, 3, 5),
        "from 填报时间"
    );
    assert_eq!(
        plan.reporter.as_deref(),
        Some("新疆科协科普部"),
        "from 填报单位"
    );
    assert!(
        plan.notes.iter().any(|n| n.contains("GBK")),
        "{:?}",
        plan.notes
    );
    assert_eq!(plan.skipped.get("total").map(Vec::len), Some(1));
    assert_eq!(plan.skipped.get("note").map(Vec::len), Some(1));
    let s = plan.summary(40);
    assert_eq!((s.rows_read, s.imported), (40, 40));

    // Every value as the expected file says, with its interval and provenance.
    let expected = std::fs::read_to_string(fixture("seed001-expected.csv")).expect("expected");
    let stored = e.stored().await;
    assert_eq!(stored.len(), 40);
    for line in expected.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let row = stored
            .iter()
            .find(|r| r["account_id"] == f[0])
            .unwrap_or_else(|| panic!("{} not stored", f[0]));
        assert_eq!(num(&row["followers"]), f[1].parse().ok(), "{line}");
        assert_eq!(num(&row["followers_lo"]), f[2].parse().ok(), "{line}");
        assert_eq!(num(&row["followers_hi"]), f[3].parse().ok(), "{line}");
        assert_eq!(row["platform"], "wechat_official");
        assert_eq!(row["source"], "import");
        assert_eq!(
            row["at"], "2024-03-05 15:59:59.000",
            "the end of the Beijing day"
        );
        let prov = row["provenance"].as_str().unwrap_or_default();
        assert!(
            prov.starts_with(&format!("sha256:{} row ", plan.sha256)),
            "{prov}"
        );
        assert!(
            row["flags"].to_string().contains("reporter=新疆科协科普部"),
            "{row:?}"
        );
    }
    // The leadership total sees them.
    let total = scalar(
        e.store.as_ref(),
        &format!(
            "SELECT sum(v) FROM (SELECT argMaxMerge(value) AS v FROM `{}`.counters_daily \
             WHERE metric = 'followers' GROUP BY account_id)",
            e.store.database()
        ),
    )
    .await;
    let sum: u64 = expected
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1)?.parse::<u64>().ok())
        .sum();
    assert_eq!(total, sum);

    // The same table saved as XLSX: the same readings, already stored; nothing new.
    let before = e.counts().await;
    let (plan, applied) = e.import("seed001.xlsx", &gzh()).await;
    assert_eq!(plan.count("already_stored"), 40, "{:?}", statuses(&plan));
    assert_eq!(applied.expect("nothing to add"), 0);
    assert_eq!(e.counts().await.0, before.0, "no reading added");

    // The GBK file again: recognised by its hash, nothing imported, and said so.
    let before = e.counts().await;
    let (plan, applied) = e.import("seed001-gbk.csv", &gzh()).await;
    let prev = plan.imported_before.as_ref().expect("known file");
    assert_eq!(prev.readings, 40);
    let err = applied.expect_err("refused");
    assert!(err.to_string().contains("already imported"), "{err}");
    assert_eq!(e.counts().await, before);
}

/// The batch token alone (without the file-hash check) makes a repeated import count once.
#[tokio::test]
async fn a_repeated_batch_is_counted_once() {
    let e = env("imp_dedup", reference()).await;
    let mut opts = gzh();
    opts.as_of = NaiveDate::from_ymd_opt(2024, 3, 5);
    let (plan, applied) = e.import("counts.csv", &opts).await;
    assert_eq!(applied.expect("import"), 3);
    let observations = |db: String| {
        format!(
            "SELECT sum(n) FROM (SELECT uniqExactMerge(observations) AS n FROM `{db}`.counters_daily \
             GROUP BY metric, account_id, day)"
        )
    };
    let db = e.store.database().to_string();
    let rollup = scalar(e.store.as_ref(), &observations(db.clone())).await;
    let before = e.counts().await;
    // The same readings again, straight through the writer.
    let batch = Batch::new(&plan.readings(), chrono::Utc::now());
    e.writer.write(&batch).await.expect("write");
    assert_eq!(e.counts().await.0, before.0);
    assert_eq!(scalar(e.store.as_ref(), &observations(db)).await, rollup);
}

/// An import killed after its readings were in but before their rollup and its record: the
/// retry finds every row already stored and writes nothing, and must still complete the batch
/// the kill left (found by the crash harness, pipeline/tests/crash.rs).
#[tokio::test]
async fn a_retried_import_with_every_row_stored_completes_the_interrupted_batch() {
    let e = env("imp_interrupted", reference()).await;
    let mut opts = gzh();
    opts.as_of = NaiveDate::from_ymd_opt(2024, 3, 5);
    let plan = e.plan(&source("counts.csv"), &opts).await.expect("plan");
    let batch = Batch::new(&plan.readings(), chrono::Utc::now());
    e.writer.write(&batch).await.expect("write");
    let db = e.store.database().to_string();
    // What the kill left: the journal says begun, the rollup has nothing, no import record.
    for sql in [
        format!("ALTER TABLE `{db}`.batch_journal DELETE WHERE state = 'done' SETTINGS mutations_sync = 2"),
        format!("TRUNCATE TABLE `{db}`.counters_daily"),
    ] {
        e.store.execute(&sql).await.expect("plant");
    }
    assert_eq!(e.counts().await, (3, 0));
    // The retry, by a new process (a new writer).
    let writer = Writer::new(
        e.store.clone(),
        Spool::open(&engine_dir().join("spool-imp_interrupted-2"), "test").expect("spool"),
    );
    let retry = e.plan(&source("counts.csv"), &opts).await.expect("plan");
    let applied = readings::apply(&retry, e.store.as_ref(), &writer)
        .await
        .expect("apply");
    assert_eq!(applied.readings, 0, "every row was already stored");
    assert_eq!(e.counts().await, (3, 1));
    let rolled = scalar(
        e.store.as_ref(),
        &format!("SELECT sum(n) FROM (SELECT uniqExactMerge(observations) AS n FROM `{db}`.counters_daily GROUP BY metric, account_id, day)"),
    )
    .await;
    assert_eq!(rolled, 3, "the interrupted batch's rollup is back");
}

#[tokio::test]
async fn bom_csv_with_english_headers() {
    let e = env("imp_bom", reference()).await;
    let (plan, applied) = e.import("bom.csv", &gzh()).await;
    assert_eq!(applied.expect("import"), 2, "{:?}", messages(&plan));
    assert!(
        plan.notes.iter().any(|n| n.contains("BOM")),
        "{:?}",
        plan.notes
    );
    let stored = e.stored().await;
    assert_eq!(stored[0]["account_id"], "XJ-P-650100-gzh");
    assert_eq!(num(&stored[0]["followers"]), Some(15_000));
}

#[tokio::test]
async fn xlsx_with_a_title_row_and_a_merged_header() {
    let e = env("imp_merged", reference()).await;
    let (plan, applied) = e.import("title-merged-header.xlsx", &gzh()).await;
    assert_eq!(applied.expect("import"), 3, "{:?}", messages(&plan));
    assert_eq!(plan.header_row, 3, "the lower header row");
    let fields: Vec<String> = plan
        .columns
        .iter()
        .map(|c| format!("{}={}", c.0, c.2))
        .collect();
    assert_eq!(fields, ["A=seq", "B=unit", "C=followers", "D=date"]);
    assert_eq!(plan.skipped.get("total").map(Vec::len), Some(1));
    let stored = e.stored().await;
    let at: Vec<(&str, &str, Option<u64>)> = stored
        .iter()
        .map(|r| {
            (
                r["account_id"].as_str().unwrap_or_default(),
                r["at"].as_str().unwrap_or_default(),
                num(&r["followers"]),
            )
        })
        .collect();
    assert_eq!(
        at,
        [
            ("XJ-P-650100-gzh", "2024-03-05 15:59:59.000", Some(15_000)),
            ("XJ-P-650400-gzh", "2024-03-05 15:59:59.000", Some(9_876)),
            ("XJ-P-653100-gzh", "2024-03-06 15:59:59.000", Some(23_000)),
        ]
    );
}

#[tokio::test]
async fn every_count_form_and_unknown_is_never_zero() {
    let e = env("imp_counts", reference()).await;
    let mut opts = gzh();
    opts.as_of = NaiveDate::from_ymd_opt(2024, 3, 5);
    let (plan, applied) = e.import("counts.csv", &opts).await;
    assert_eq!(applied.expect("import"), 3);
    let unknown: Vec<(u64, String)> = plan
        .rows
        .iter()
        .filter_map(|r| match &r.status {
            RowStatus::Unknown { text } => Some((r.row, text.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        unknown,
        [
            (5, String::new()),
            (6, "—".to_string()),
            (7, "不详".to_string())
        ]
    );
    assert_eq!(plan.summary(3).skipped.get("unknown_value"), Some(&3));
    let stored = e.stored().await;
    let got: Vec<(Option<u64>, Option<u64>, Option<u64>)> = stored
        .iter()
        .map(|r| {
            (
                num(&r["followers"]),
                num(&r["followers_lo"]),
                num(&r["followers_hi"]),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some(12_000), Some(11_500), Some(12_499)),
            (Some(3_456), Some(3_456), Some(3_456)),
            (Some(100_000), Some(100_000), None),
        ]
    );
    // Nothing for the unknown ones, not a zero.
    assert_eq!(stored.len(), 3);
}

#[tokio::test]
async fn unit_names_with_full_width_spaces_and_digits_match() {
    let e = env("imp_fullwidth", reference()).await;
    let mut opts = gzh();
    opts.as_of = NaiveDate::from_ymd_opt(2024, 3, 5);
    let (plan, applied) = e.import("fullwidth-spaces.csv", &opts).await;
    assert_eq!(applied.expect("import"), 3, "{:?}", statuses(&plan));
    let got: Vec<(String, Option<u64>)> = e
        .stored()
        .await
        .iter()
        .map(|r| {
            (
                r["account_id"].as_str().unwrap_or_default().to_string(),
                num(&r["followers"]),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("XJ-P-650100-gzh".to_string(), Some(12_345)),
            ("XJ-P-650200-gzh".to_string(), Some(2_345)),
            ("XJ-P-650500-gzh".to_string(), Some(3_456)),
        ]
    );
}

#[tokio::test]
async fn a_duplicate_row_is_imported_once_and_a_conflicting_one_is_an_error() {
    let e = env("imp_dup", reference()).await;
    let mut opts = gzh();
    opts.as_of = NaiveDate::from_ymd_opt(2024, 3, 5);
    let (plan, applied) = e.import("duplicate-row.csv", &opts).await;
    assert_eq!(applied.expect("import"), 2);
    assert_eq!(plan.rows[2].status, RowStatus::Duplicate { of_row: 2 });

    let e = env("imp_dup_conflict", reference()).await;
    let before = e.counts().await;
    let (plan, applied) = e.import("duplicate-conflict.csv", &opts).await;
    let msgs = messages(&plan);
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(
        msgs[0].starts_with("row 4, column C (关注人数): ") && msgs[0].contains("also in row 2"),
        "{msgs:?}"
    );
    assert!(
        msgs[0].contains("16000") && msgs[0].contains("15000"),
        "{msgs:?}"
    );
    assert!(applied.is_err());
    assert_eq!(e.counts().await, before, "a failed import changes nothing");
}

#[tokio::test]
async fn an_unknown_unit_is_listed_with_candidates_and_nothing_is_imported() {
    let e = env("imp_unknown", reference()).await;
    let mut opts = gzh();
    opts.as_of = NaiveDate::from_ymd_opt(2024, 3, 5);
    let before = e.counts().await;
    let (plan, applied) = e.import("unknown-unit.csv", &opts).await;
    let err = applied.expect_err("unmatched rows block the import");
    assert!(err.to_string().contains("--skip-unmatched"), "{err}");
    assert_eq!(e.counts().await, before);
    let RowStatus::Unmatched { reason, candidates } = &plan.rows[0].status else {
        panic!("{:?}", plan.rows[0].status)
    };
    assert!(reason.contains("乌鲁木齐市科学协会"), "{reason}");
    assert_eq!(candidates[0].unit_id, "XJ-P-650100", "{candidates:?}");
    assert!(matches!(plan.rows[2].status, RowStatus::Unmatched { .. }));
    // --skip-unmatched imports the others and still lists them.
    opts.skip_unmatched = true;
    let (plan, applied) = e.import("unknown-unit.csv", &opts).await;
    assert_eq!(applied.expect("import"), 1);
    assert_eq!(plan.unmatched(), 2);
}

#[tokio::test]
async fn a_negative_or_unparseable_count_names_row_and_column_and_changes_nothing() {
    let e = env("imp_negative", reference()).await;
    let mut opts = gzh();
    opts.as_of = NaiveDate::from_ymd_opt(2024, 3, 5);
    let before = e.counts().await;
    let (plan, applied) = e.import("negative.csv", &opts).await;
    assert_eq!(
        messages(&plan),
        ["row 3, column C (关注人数): negative count \"-5\""]
    );
    assert!(applied.is_err());
    assert_eq!(e.counts().await, before);
    let (plan, applied) = e.import("bad-count.csv", &opts).await;
    let msgs = messages(&plan);
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(
        msgs[0].starts_with("row 2, column C (关注人数): not a count: \"一万二\""),
        "{msgs:?}"
    );
    assert!(
        msgs[1].starts_with("row 3, column C (关注人数): ") && msgs[1].contains("\"12.5\""),
        "{msgs:?}"
    );
    assert!(applied.is_err());
    assert_eq!(e.counts().await, before);
}

#[tokio::test]
async fn four_date_forms_in_csv_and_xlsx_are_the_same_day() {
    for (name, test) in [
        ("dates.csv", "imp_dates_csv"),
        ("dates.xlsx", "imp_dates_xlsx"),
    ] {
        let e = env(test, reference()).await;
        let (plan, applied) = e.import(name, &gzh()).await;
        assert_eq!(applied.expect("import"), 4, "{name}: {:?}", messages(&plan));
        let stored = e.stored().await;
        assert!(
            stored.iter().all(|r| r["at"] == "2024-03-05 15:59:59.000"),
            "{name}: {stored:?}"
        );
    }
}

#[tokio::test]
async fn a_truncated_xlsx_is_a_clear_error() {
    let err = SourceFile::read(&fixture("truncated.xlsx"), None).expect_err("truncated");
    let msg = err.to_string();
    assert!(
        msg.contains("truncated.xlsx") && msg.contains("damaged or truncated"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_csv_that_is_a_renamed_xlsx_is_read_as_what_it_is() {
    let e = env("imp_renamed", reference()).await;
    let (plan, applied) = e.import("renamed-xlsx.csv", &gzh()).await;
    assert_eq!(applied.expect("import"), 4);
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("named .csv but is a XLSX workbook")),
        "{:?}",
        plan.notes
    );
}

#[tokio::test]
async fn an_official_accounts_user_growth_export_with_account() {
    let e = env("imp_growth", reference()).await;
    // Without --account the file names nobody.
    let err = e
        .plan(&source("gzh-user-growth.csv"), &gzh())
        .await
        .expect_err("needs --account");
    assert!(err.to_string().contains("--account"), "{err}");
    let mut opts = gzh();
    opts.platform = None;
    opts.account = Some("gh_89d2a55c95c8".into());
    let (plan, applied) = e.import("gzh-user-growth.csv", &opts).await;
    assert_eq!(applied.expect("import"), 7, "{:?}", messages(&plan));
    assert_eq!(plan.platform, Some(Platform::WechatOfficial));
    // 03-06 says 净增 109 where the counts differ by 99: shown, imported with a flag.
    let odd: Vec<(Option<NaiveDate>, &Vec<String>)> = plan
        .rows
        .iter()
        .filter(|r| !r.warnings.is_empty())
        .map(|r| (r.day, &r.warnings))
        .collect();
    assert_eq!(odd.len(), 1, "{odd:?}");
    assert_eq!(odd[0].0, NaiveDate::from_ymd_opt(2024, 3, 6));
    assert!(
        odd[0].1.iter().any(|w| w.contains("净增 says 109")),
        "{odd:?}"
    );
    let stored = e.stored().await;
    assert_eq!(stored.len(), 7);
    assert!(stored.iter().all(|r| r["account_id"] == "XJ-P-650100-gzh"));
    assert_eq!(num(&stored[6]["followers"]), Some(352_754));
    assert!(stored[5]["flags"].to_string().contains("import_suspicious"));
}

/// A legacy .xls export (made by `tests/fixtures/import/make_xls.py` with xlwt).
#[tokio::test]
async fn an_xls_user_growth_export_with_a_merged_title() {
    let e = env("imp_xls", reference()).await;
    let opts = Options {
        account: Some("gh_5a98848436f2".into()),
        today: NaiveDate::from_ymd_opt(2026, 1, 1),
        ..Options::default()
    };
    let (plan, applied) = e.import("user-growth.xls", &opts).await;
    assert_eq!(applied.expect("import"), 5, "{:?}", messages(&plan));
    assert_eq!(plan.header_row, 2);
    assert_eq!(plan.sheet.as_deref(), Some("用户增长"));
    assert_eq!(plan.skipped.get("total").map(Vec::len), Some(1));
    assert!(
        plan.rows.iter().all(|r| r.warnings.is_empty()),
        "a consistent export"
    );
    let stored = e.stored().await;
    let got: Vec<(&str, Option<u64>)> = stored
        .iter()
        .map(|r| (r["at"].as_str().unwrap_or_default(), num(&r["followers"])))
        .collect();
    assert_eq!(got.len(), 5);
    assert_eq!(got[0], ("2024-03-01 15:59:59.000", Some(45_033)));
    assert_eq!(got[4], ("2024-03-05 15:59:59.000", Some(45_213)));
    assert!(stored.iter().all(|r| r["account_id"] == "XJ-P-650200-gzh"));
}

#[tokio::test]
async fn a_channels_follower_export_matches_by_channels_id() {
    let e = env("imp_channels", reference()).await;
    let opts = Options {
        today: NaiveDate::from_ymd_opt(2026, 1, 1),
        ..Options::default()
    };
    let (plan, applied) = e.import("channels-followers.csv", &opts).await;
    assert_eq!(applied.expect("import"), 9, "{:?}", statuses(&plan));
    assert!(plan
        .rows
        .iter()
        .all(|r| r.platform == Some(Platform::WechatChannels)));
    assert!(
        plan.rows.iter().all(|r| r.warnings.is_empty()),
        "consistent export"
    );
    let stored = e.stored().await;
    assert!(stored.iter().any(|r| r["account_id"] == "XJ-P-650100-sph"));
}

#[tokio::test]
async fn an_unknown_layout_is_mapped_and_the_mapping_saved_and_reused() {
    let e = env("imp_map", reference()).await;
    let mut opts = gzh();
    opts.platform = Some(Platform::WechatChannels);
    let err = e
        .plan(&source("channels-custom.csv"), &opts)
        .await
        .expect_err("no follower column");
    assert!(
        err.to_string().contains("no follower-count column"),
        "{err}"
    );
    assert!(
        err.to_string().contains("粉丝累计"),
        "the header is listed: {err}"
    );
    let map: Mapping = "统计日=date,粉丝累计=followers".parse().expect("map");
    records::save_mapping(e.store.as_ref(), "channels-v2", &map)
        .await
        .expect("save");
    let loaded = records::load_mapping(e.store.as_ref(), "channels-v2")
        .await
        .expect("load");
    assert_eq!(loaded, map);
    let err = records::load_mapping(e.store.as_ref(), "nope")
        .await
        .expect_err("unknown");
    assert!(
        err.to_string().contains("channels-v2"),
        "lists the saved ones: {err}"
    );
    opts.mapping = loaded;
    let (plan, applied) = e.import("channels-custom.csv", &opts).await;
    assert_eq!(applied.expect("import"), 2, "{:?}", statuses(&plan));
    assert_eq!(plan.rows[0].account_id.as_deref(), Some("XJ-P-650100-sph"));
    // A --map naming a column the file lacks is refused.
    opts.mapping = "累积关注人数=followers".parse().expect("map");
    let err = e
        .plan(&source("channels-custom.csv"), &opts)
        .await
        .expect_err("typo");
    assert!(err.to_string().contains("累积关注人数"), "{err}");
}

#[tokio::test]
async fn a_dry_run_lists_values_that_look_wrong_and_changes_nothing() {
    let e = env("imp_suspicious", reference()).await;
    // The seed-001 table on the reference registry: counties have no official account there,
    // so --skip-unmatched imports the 15 that do and lists the rest.
    let mut opts = gzh();
    opts.skip_unmatched = true;
    let (plan, applied) = e.import("seed001-gbk.csv", &opts).await;
    assert_eq!(applied.expect("import"), 15);
    assert_eq!(plan.unmatched(), 25);
    let before = e.counts().await;
    let plan = e
        .plan(&source("suspicious.csv"), &gzh())
        .await
        .expect("plan");
    let odd: Vec<(String, String)> = plan
        .rows
        .iter()
        .filter(|r| !r.warnings.is_empty())
        .map(|r| {
            (
                r.account_id.clone().unwrap_or_default(),
                r.warnings.join("; "),
            )
        })
        .collect();
    assert_eq!(odd.len(), 2, "{odd:?}");
    assert_eq!(odd[0].0, "XJ-P-650100-gzh");
    assert!(
        odd[0].1.contains("dropped by more than half: 20000 → 9000"),
        "{odd:?}"
    );
    assert_eq!(odd[1].0, "XJ-P-650200-gzh");
    assert!(odd[1].1.contains("11× the last reading"), "{odd:?}");
    let previous = plan.rows[2].previous.as_ref().expect("previous");
    assert_eq!(previous.followers, 22_758);
    assert!(previous.from.starts_with("store"));
    assert!(plan.blocker().is_none());
    // The dry run wrote nothing.
    assert_eq!(e.counts().await, before);
}

#[tokio::test]
async fn a_registry_sheet_that_breaks_the_rules_changes_nothing() {
    let current = reference();
    let plan =
        registry_import::plan(&source("registry-bad.csv"), &current, &rules(), true).expect("plan");
    let msgs: Vec<String> = plan.problems.iter().map(ToString::to_string).collect();
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("row 2, column C (单位类型（kind）)") && m.contains("shop")),
        "{msgs:?}"
    );
    assert!(plan
        .check
        .findings
        .iter()
        .any(|f| f.rule == "county_wrong_prefecture"));
    let dir = engine_dir().join("registry-bad");
    let _ = std::fs::remove_dir_all(&dir);
    let err = registry_import::write_registry(&plan, &dir, Registry::reference_texts()[0].1)
        .expect_err("refused");
    assert!(err.to_string().contains("nothing was changed"), "{err}");
    assert!(!dir.exists(), "nothing written");
}

/// Done when: the template round-trips — export it, fill it, import it.
#[tokio::test]
async fn the_readings_template_round_trips() {
    let e = env("imp_template", reference()).await;
    let day = NaiveDate::from_ymd_opt(2024, 3, 5).expect("day");
    let bytes = template::readings_template(&e.registry, Some(Platform::WechatOfficial), day)
        .expect("template");
    // A unit opens it and fills three rows under the example, as Excel keeps the title rows.
    let grid = haoqi_import::table::read(Path::new("统计表.xlsx"), &bytes, None)
        .expect("read the template");
    let mut rows: Vec<Vec<Cell>> = grid.rows.iter().map(|r| r.cells.clone()).collect();
    rows[1][1] = Cell::Text("新疆科协科普部".into());
    rows[1][4] = Cell::Text("王填报".into());
    rows[1][6] = Cell::Text("2024年3月6日".into());
    let filled = [
        (
            "乌鲁木齐市科学技术协会",
            "乌鲁木齐科协",
            "公众号",
            Cell::Int(15_000),
        ),
        (
            "吐鲁番市科学技术协会",
            "",
            "公众号",
            Cell::Text("1.2万".into()),
        ),
        (
            "阿克苏地区科学技术协会",
            "阿克苏科协",
            "公众号",
            Cell::Int(8_800),
        ),
    ];
    let first = template::READINGS_HEADER_ROW as usize + 2;
    for (i, (unit, account, platform, count)) in filled.into_iter().enumerate() {
        let r = &mut rows[first + i];
        r.resize(8, Cell::Empty);
        r[1] = Cell::Text(unit.into());
        r[2] = if account.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(account.into())
        };
        r[3] = Cell::Text(platform.into());
        r[4] = count;
    }
    let sheets = [template::SheetSpec {
        name: template::READINGS_SHEET.into(),
        rows,
        merges: vec![(0, 0, 0, 7)],
    }];
    let filled = template::write_sheets(&sheets).expect("write");
    let src = SourceFile::from_bytes(Path::new("统计表-已填.xlsx"), &filled, None).expect("read");
    let opts = Options {
        today: NaiveDate::from_ymd_opt(2026, 1, 1),
        ..Options::default()
    };
    let plan = e.plan(&src, &opts).await.expect("plan");
    assert_eq!(
        plan.skipped.get("example").map(Vec::len),
        Some(1),
        "{:?}",
        plan.skipped
    );
    assert_eq!(plan.count("ready"), 3, "{:?}", statuses(&plan));
    assert_eq!(plan.default_day, NaiveDate::from_ymd_opt(2024, 3, 6));
    assert_eq!(plan.reporter.as_deref(), Some("王填报"));
    let applied = readings::apply(&plan, e.store.as_ref(), &e.writer)
        .await
        .expect("apply");
    assert_eq!(applied.readings, 3);
    let stored = e.stored().await;
    let got: Vec<(&str, Option<u64>)> = stored
        .iter()
        .map(|r| {
            (
                r["account_id"].as_str().unwrap_or_default(),
                num(&r["followers"]),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("XJ-P-650100-gzh", Some(15_000)),
            ("XJ-P-650400-gzh", Some(12_000)),
            ("XJ-P-652900-gzh", Some(8_800)),
        ]
    );
}

fn config_file(test: &str) -> PathBuf {
    let path = engine_dir().join(format!("{test}.toml"));
    let spool = engine_dir().join(format!("spool-{test}"));
    std::fs::create_dir_all(engine_dir()).expect("mkdir");
    std::fs::write(
        &path,
        format!("[spool]\ndir = {:?}\n", spool.display().to_string()),
    )
    .expect("config");
    path
}

async fn cli(args: &[&str]) -> ExitCode {
    let cli = haoqi::cli::Cli::try_parse_from(std::iter::once("haoqi").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    haoqi::cli::run(cli)
        .await
        .unwrap_or_else(|e| panic!("{args:?}: {e:#}"))
}

/// The commands as a user runs them (in this process, on this binary's engine): dry run, the
/// import, the same file again; the template and the registry export and import.
#[tokio::test]
async fn the_commands() {
    let test = "imp_cli";
    let e = env(test, reference()).await;
    let store = format!("embedded:{}#t_{test}", engine_dir().display());
    let config = config_file(test);
    let config = config.to_str().expect("utf-8 path");
    let file = fixture("unknown-unit.csv");
    let file = file.to_str().expect("utf-8 path");
    let base = ["--config", config, "--store", &store];
    let with = |extra: &[&'static str]| -> Vec<String> {
        base.iter()
            .map(|s| s.to_string())
            .chain(extra.iter().map(|s| s.to_string()))
            .collect()
    };
    let run = |v: Vec<String>| async move {
        let refs: Vec<&str> = v.iter().map(String::as_str).collect();
        cli(&refs).await
    };
    let import = |extra: &[&'static str]| {
        let mut v = with(&["import", "readings"]);
        v.push(file.to_string());
        v.extend(["--platform", "wechat_official", "--as-of", "2024/3/5"].map(String::from));
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let before = e.counts().await;
    assert_eq!(
        run(import(&["--dry-run"])).await,
        ExitCode::FAILURE,
        "unmatched rows"
    );
    assert_eq!(run(import(&[])).await, ExitCode::FAILURE);
    assert_eq!(e.counts().await, before);
    assert_eq!(
        run(import(&["--skip-unmatched", "--dry-run"])).await,
        ExitCode::SUCCESS
    );
    assert_eq!(e.counts().await, before, "a dry run changes nothing");
    assert_eq!(
        run(import(&["--skip-unmatched", "--reporter", "王填报"])).await,
        ExitCode::SUCCESS
    );
    let after = e.counts().await;
    assert_eq!(after, (before.0 + 1, before.1 + 1));
    assert_eq!(
        run(import(&["--skip-unmatched"])).await,
        ExitCode::SUCCESS,
        "already imported"
    );
    assert_eq!(e.counts().await, after);

    // Templates and the registry export, then an edited export imported into a directory.
    let out = engine_dir().join(format!("{test}-out"));
    let _ = std::fs::remove_dir_all(&out);
    let t = out.join("统计表.xlsx");
    let r = out.join("登记表.xlsx");
    let x = out.join("export.xlsx");
    for (args, path) in [
        (vec!["template", "readings", "--out"], &t),
        (vec!["template", "registry", "--out"], &r),
        (vec!["registry", "export", "--out"], &x),
    ] {
        let mut v = with(&args);
        v.push(path.display().to_string());
        assert_eq!(run(v).await, ExitCode::SUCCESS);
        assert!(path.exists());
    }
    let dir = out.join("registry");
    let mut v = with(&["registry", "import"]);
    v.extend([
        x.display().to_string(),
        "--out".into(),
        dir.display().to_string(),
    ]);
    assert_eq!(run(v.clone()).await, ExitCode::SUCCESS);
    let loaded = Registry::load_dir(&dir).expect("written registry loads");
    assert_eq!(loaded.accounts.len(), e.registry.accounts.len());
    let mut bad = with(&["registry", "import"]);
    bad.extend([
        fixture("registry-bad.csv").display().to_string(),
        "--out".into(),
        dir.display().to_string(),
    ]);
    let units_before = std::fs::read(dir.join("units.csv")).expect("units");
    assert_eq!(run(bad).await, ExitCode::FAILURE);
    assert_eq!(
        std::fs::read(dir.join("units.csv")).expect("units"),
        units_before
    );
}

#[test]
fn every_import_command_has_help_with_an_example() {
    use clap::CommandFactory;
    let mut cmd = haoqi::cli::Cli::command();
    for path in [
        vec!["import", "readings"],
        vec!["template"],
        vec!["registry", "import"],
        vec!["registry", "export"],
    ] {
        let mut c = &mut cmd;
        for p in &path {
            c = c
                .find_subcommand_mut(p)
                .unwrap_or_else(|| panic!("{path:?}"));
        }
        let help = c.render_long_help().to_string();
        assert!(help.contains("Example"), "{path:?}: {help}");
    }
}

/// A file with a header and no data rows imports nothing and records nothing (issue 18's
/// probe: it imported "0" and wrote an import record).
#[tokio::test]
async fn a_header_only_file_is_refused_and_records_nothing() {
    let e = env("imp_header_only", reference()).await;
    let dir = engine_dir().join("imp-header-only");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("empty.csv");
    std::fs::write(&path, "单位名称,关注人数,日期\n").expect("write");
    let src = readings::read_source(&path, None).expect("read");
    let plan = e.plan(&src, &gzh()).await.expect("plan");
    let blocker = plan.blocker().expect("refused");
    assert!(
        blocker.contains("no data rows below the header (row 1)"),
        "{blocker}"
    );
    let err = readings::apply(&plan, e.store.as_ref(), &e.writer)
        .await
        .expect_err("nothing to import");
    assert!(err.to_string().contains("no data rows"), "{err}");
    assert_eq!(e.counts().await, (0, 0));
}
