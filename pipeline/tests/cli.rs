//! The `haoqi` binary as users run it: exit codes, formats, messages for bad input, the lock on
//! a data directory, the missing-library hint. Runs the real binary on the real embedded engine.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{haoqi, scratch, simulator, text};

fn small_registry() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/small-registry")
}

/// A copy of the small registry with one file's text replaced.
fn registry_with(name: &str, file: &str, content: &[u8]) -> PathBuf {
    let d = scratch(name);
    for f in ["regions.csv", "units.csv", "accounts.csv"] {
        std::fs::copy(small_registry().join(f), d.join(f)).expect("copy");
    }
    std::fs::write(d.join(file), content).expect("write");
    d
}

#[test]
fn the_reference_registry_checks_clean() {
    let d = scratch("refcheck");
    let out = haoqi(&d, &["registry", "check", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["errors"], 0);
    assert_eq!(report["units"], 694);
    assert_eq!(report["accounts"], 694 * 4 + 15);
    assert_eq!(report["per_rule"]["naming_rule"], 0);
    assert_eq!(report["per_rule"]["missing_platform"], 0);
    assert_eq!(report["per_rule"]["plan_counts"], 0);
    // Every county has its census population: only the region account, which has no configured
    // target, is left without one.
    assert_eq!(report["per_rule"]["target_unknown"], 1);
    assert_eq!(report["per_rule"]["population_unverified"], 0);
    let table = haoqi(&d, &["registry", "check"]);
    assert!(table.status.success());
    assert!(
        text(&table).contains("0 error(s), 1 warning(s)"),
        "{}",
        text(&table)
    );
}

#[test]
fn every_rule_reports_what_breaks_it() {
    let accounts =
        "account_id,unit_id,platform,platform_id,display_name,role,standardised,active\n\
A,T-P-650100,douyin,X1,好奇乌鲁木齐,flexible,true,true\n\
A,T-C-650102,douyin,X2,好奇天山,flexible,true,true\n\
N,T-NOPE,douyin,X3,好奇无,flexible,true,true\n\
B2,T-C-650103,kuaishou,X1b,沙依巴克科普,flexible,true,true\n\
D,T-S-001,douyin,X1,好奇地理,flexible,true,true\n";
    let d = registry_with("rules", "accounts.csv", accounts.as_bytes());
    let units = "unit_id,kind,name,prefecture_code,county_code,department,sample,note\n\
T-P-650100,prefecture_assoc,乌鲁木齐市科协,650100,,科普部,false,\n\
T-C-650102,county_assoc,天山区科协,650200,650102,科普部,false,\n\
T-C-650103,county_assoc,沙依巴克区科协,650100,650103,科普部,false,\n\
T-S-001,society,地理学会,,,学会学术部,true,\n";
    std::fs::write(d.join("units.csv"), units).expect("write");
    let out = haoqi(
        &d,
        &["--registry", ".", "registry", "check", "--format", "json"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "errors exit non-zero: {}",
        text(&out)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let n = |rule: &str| r["per_rule"][rule].as_u64().unwrap_or(0);
    assert_eq!(n("duplicate_id"), 1, "account A twice");
    assert_eq!(n("duplicate_platform_id"), 1, "douyin X1 twice");
    assert_eq!(n("unknown_unit"), 1, "T-NOPE");
    // 天山区 is under 650100, the unit says 650200 (which regions.csv lacks: unknown_region too).
    assert_eq!(n("county_wrong_prefecture"), 1);
    assert_eq!(n("unknown_region"), 1);
    assert_eq!(n("naming_rule"), 2, "沙依巴克科普 and 好奇地理 (a society)");
    assert!(n("missing_platform") >= 4 * 3);
    let finding = r["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["rule"] == "county_wrong_prefecture"))
        .expect("finding");
    assert_eq!(finding["subject"], "T-C-650102");
    assert!(
        finding["location"]
            .as_str()
            .unwrap_or("")
            .ends_with("units.csv:3"),
        "{finding}"
    );
}

#[test]
fn warnings_only_exit_zero() {
    let d = registry_with(
        "warn",
        "regions.csv",
        &std::fs::read(small_registry().join("regions.csv")).expect("read"),
    );
    let out = haoqi(&d, &["--registry", ".", "registry", "check"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("missing_platform"));
}

#[test]
fn bad_input_names_file_line_and_field_and_loads_nothing() {
    let cases: Vec<(&str, &str, Vec<u8>, Vec<&str>)> = vec![
        (
            "header",
            "units.csv",
            b"id,kind,name\nT-1,society,x\n".to_vec(),
            vec!["units.csv:1", "wrong header", "unit_id"],
        ),
        (
            "gbk",
            "units.csv",
            encoding_rs::GBK
                .encode("unit_id,kind,name,prefecture_code,county_code,department,sample,note\nT-S-001,society,地理学会,,,学会学术部,true,\n")
                .0
                .into_owned(),
            vec!["units.csv:2", "GBK"],
        ),
        (
            "kind",
            "units.csv",
            "unit_id,kind,name,prefecture_code,county_code,department,sample,note\nT-S-001,academy,地理学会,,,学会学术部,true,\n"
                .as_bytes()
                .to_vec(),
            vec!["units.csv:2", "field kind", "\"academy\"", "unknown kind"],
        ),
        (
            "population",
            "regions.csv",
            "code,name,level,parent_code,population_2020,source\n650000,新疆维吾尔自治区,region,,25852345,x\n650100,乌鲁木齐市,prefecture,650000,四百万,x\n"
                .as_bytes()
                .to_vec(),
            vec!["regions.csv:3", "field population_2020", "四百万"],
        ),
    ];
    for (name, file, content, expect) in cases {
        let d = registry_with(name, file, &content);
        let out = haoqi(&d, &["--registry", ".", "registry", "check"]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", text(&out));
        let msg = text(&out);
        for e in expect {
            assert!(msg.contains(e), "{name}: {e:?} not in {msg}");
        }
        assert!(msg.contains("nothing was loaded"), "{msg}");
        assert!(!msg.contains("panicked"), "{msg}");
        // And `init` with this registry refuses to load it into a store.
        let init = haoqi(
            &d,
            &["--registry", ".", "--store", "embedded:./data", "init"],
        );
        assert!(!init.status.success(), "{name}: {}", text(&init));
    }
}

#[test]
fn init_twice_then_progress_in_every_format() {
    let d = scratch("init");
    let first = haoqi(&d, &["init"]);
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        text(&first).contains(&format!(
            "schema migrations applied {}",
            haoqi_store::sql::MIGRATIONS.len()
        )),
        "{}",
        text(&first)
    );
    assert!(
        text(&first).contains("accounts: 2791 added"),
        "{}",
        text(&first)
    );
    assert!(
        text(&first).contains("views published: account_health"),
        "{}",
        text(&first)
    );
    let second = haoqi(&d, &["init"]);
    assert!(second.status.success(), "{}", text(&second));
    assert!(text(&second).contains("applied 0"), "{}", text(&second));
    assert!(
        !text(&second).contains("views published"),
        "{}",
        text(&second)
    );
    assert!(
        text(&second).contains("2791 unchanged"),
        "{}",
        text(&second)
    );

    let json = haoqi(
        &d,
        &["progress", "--format", "json", "--as-of", "2024-12-31"],
    );
    assert!(json.status.success(), "{}", text(&json));
    let p: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(p["matrix"]["accounts"], 2791);
    assert_eq!(
        p["matrix"]["never_reported"], 2791,
        "no readings yet: all missing, none zero"
    );
    assert_eq!(p["goal"], 20_000_000);
    let regions = p["groups"]
        .as_array()
        .map(|g| g.iter().filter(|g| g["dimension"] == "region").count())
        .unwrap_or(0);
    assert_eq!(regions, 15, "14 prefectures and region-wide");

    let csv = haoqi(&d, &["progress", "--by", "tier", "--format", "csv"]);
    assert!(csv.status.success(), "{}", text(&csv));
    let csv = String::from_utf8_lossy(&csv.stdout).into_owned();
    assert!(csv.starts_with("group,accounts,"), "{csv}");
    assert_eq!(
        csv.lines().count(),
        4,
        "header, matrix, vertical, horizontal: {csv}"
    );

    let table = haoqi(&d, &["progress", "--by", "region"]);
    assert!(text(&table).contains("阿克苏地区"), "{}", text(&table));
    let accounts = haoqi(&d, &["progress", "--by", "account", "--format", "csv"]);
    assert_eq!(
        String::from_utf8_lossy(&accounts.stdout).lines().count(),
        2792
    );
}

#[test]
fn progress_before_init_says_what_to_run() {
    let d = scratch("noinit");
    for args in [
        vec!["progress"],
        vec!["stalled"],
        vec!["check"],
        vec!["sql", "SELECT 1"],
    ] {
        let out = haoqi(&d, &args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            text(&out).contains("haoqi init"),
            "{args:?}: {}",
            text(&out)
        );
        // A read-only command on a missing store creates nothing (issue 18's probe).
        assert!(!d.join("data").exists(), "{args:?} created data/");
    }
}

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> std::process::Stdio {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    writer.into()
}

#[test]
fn closed_pipes_keep_the_exit_status() {
    let d = scratch("pipes");
    let broken = registry_with("pipes-registry", "units.csv", b"unit_id,kind\nx,nope\n");
    // stdout closed (`haoqi registry check | true`): the errors still exit 1.
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_haoqi"))
        .current_dir(&d)
        .args([
            "--registry",
            &broken.display().to_string(),
            "registry",
            "check",
        ])
        .stdout(closed_pipe())
        .status()
        .expect("run");
    assert_eq!(status.code(), Some(1));
    // A clean registry with stdout closed: 0.
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_haoqi"))
        .current_dir(&d)
        .args([
            "--registry",
            &small_registry().display().to_string(),
            "registry",
            "check",
        ])
        .stdout(closed_pipe())
        .status()
        .expect("run");
    assert_eq!(status.code(), Some(0));
    // stderr closed: an error is still exit 1, not a panic's 101.
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_haoqi"))
        .current_dir(&d)
        .args(["progress"])
        .stderr(closed_pipe())
        .status()
        .expect("run");
    assert_eq!(status.code(), Some(1));
}

#[test]
fn logs_written_to_a_file_carry_no_colour_codes() {
    let d = scratch("ansi");
    let log = std::fs::File::create(d.join("log.txt")).expect("log");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_haoqi"))
        .current_dir(&d)
        .env("RUST_LOG", "debug")
        .args([
            "-vv",
            "--registry",
            &small_registry().display().to_string(),
            "init",
        ])
        .stderr(log)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run");
    assert!(status.success());
    let text = std::fs::read_to_string(d.join("log.txt")).expect("read log");
    assert!(
        text.contains("DEBUG") || text.contains("INFO"),
        "something was logged: {text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "ANSI escape in a log file: {text}"
    );
}

#[test]
fn a_second_process_on_the_same_data_directory_is_refused() {
    let d = scratch("lock");
    let data = d.join("data");
    // This test process holds the engine (and its lock) on `data`.
    let _store = haoqi_store::EmbeddedStore::open(&data, "haoqi").expect("open");
    let out = haoqi(
        &d,
        &["--store", &format!("embedded:{}", data.display()), "init"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("in use by another haoqi process"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains(&format!("pid {}", std::process::id())),
        "{}",
        text(&out)
    );
}

#[test]
fn a_missing_library_gives_the_install_command() {
    let d = scratch("nolib");
    let out = Command::new(env!("CARGO_BIN_EXE_haoqi"))
        .current_dir(&d)
        .env("HAOQI_LIBCHDB", d.join("nowhere/libchdb.so"))
        .args(["init"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(msg.contains("deploy/install-libchdb.sh"), "{msg}");
    assert!(msg.contains("nowhere/libchdb.so"), "{msg}");
}

#[test]
fn the_server_password_never_appears() {
    let d = scratch("secret");
    let out = Command::new(env!("CARGO_BIN_EXE_haoqi"))
        .current_dir(&d)
        .env("HAOQI_CLICKHOUSE_PASSWORD", "hunter2-secret")
        .args([
            "-vv",
            "--store",
            "http://writer@127.0.0.1:1/haoqi",
            "progress",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(msg.contains("127.0.0.1:1"), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
}

#[test]
fn every_command_has_help_with_an_example() {
    let d = scratch("help");
    for args in [
        vec!["--help"],
        vec!["init", "--help"],
        vec!["registry", "check", "--help"],
        vec!["registry", "load", "--help"],
        vec!["registry", "reference", "--help"],
        vec!["progress", "--help"],
        vec!["user", "--help"],
        vec!["user", "add", "--help"],
        vec!["user", "list", "--help"],
        vec!["user", "disable", "--help"],
        vec!["user", "reset-password", "--help"],
        vec!["serve", "--help"],
    ] {
        let out = haoqi(&d, &args);
        assert!(out.status.success(), "{args:?}");
        assert!(text(&out).contains("Example"), "{args:?}: {}", text(&out));
    }
}

#[test]
fn parse_prints_one_line_per_file_and_fails_on_any_error() {
    let d = scratch("parse");
    let fx =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../collectors/crawl/tests/fixtures/bilibili");
    let good = fx.join("card.json");
    let bad = fx.join("risk_control_352.json");
    let out = haoqi(
        &d,
        &[
            "parse",
            "--platform",
            "bilibili",
            good.to_str().unwrap_or(""),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(line["counters"]["followers"]["value"], 283_417);
    let out = haoqi(
        &d,
        &[
            "parse",
            "--platform",
            "bilibili",
            good.to_str().unwrap_or(""),
            bad.to_str().unwrap_or(""),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["error"]["kind"], "blocked");
}

#[test]
fn demo_backfills_sweeps_and_reports() {
    let d = scratch("demo");
    let out = haoqi(&d, &["demo", "--days", "3", "--rate", "300", "--no-serve"]);
    let msg = text(&out);
    assert!(out.status.success(), "{msg}");
    assert!(
        msg.contains("backfilled 3 days of simulated history: 8373 readings"),
        "{msg}"
    );
    assert!(msg.contains("2082 accounts polled"), "{msg}");
    assert!(
        msg.contains("violations of the simulated limits: 0"),
        "{msg}"
    );
    assert!(msg.contains("2791 accounts: 2791 reporting"), "{msg}");
}

#[test]
fn sigkill_mid_run_then_restart_counts_nothing_twice_and_replays_the_spool() {
    let d = scratch("sigkill");
    assert!(haoqi(&d, &["init"]).status.success());
    let (mut sim, url) = simulator(&d, "0");
    // Small batches so that the kill lands between and during writes.
    std::fs::write(d.join("haoqi.toml"), "[collect]\nbatch_max_rows = 20\n").expect("config");
    let mut run = Command::new(env!("CARGO_BIN_EXE_haoqi"))
        .current_dir(&d)
        .args([
            "run",
            "--simulator",
            &url,
            "--interval-mins",
            "1",
            "--rate",
            "200",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run");
    std::thread::sleep(std::time::Duration::from_secs(6));
    run.kill().expect("SIGKILL");
    let _ = run.wait();
    // Restart: the spool (if the kill caught a batch) is replayed, then a second sweep runs.
    let again = haoqi(
        &d,
        &["collect", "--once", "--simulator", &url, "--rate", "300"],
    );
    assert!(again.status.success(), "{}", text(&again));
    let _ = sim.kill();
    let q = |sql: &str| -> u64 {
        let out = haoqi(&d, &["sql", sql, "--format", "csv"]);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or_else(|| panic!("no number from {sql}: {}", text(&out)))
    };
    let rows = q("SELECT count() FROM {db:Identifier}.readings FINAL");
    let distinct =
        q("SELECT uniqExact(account_id, observed_at, source) FROM {db:Identifier}.readings");
    assert_eq!(rows, distinct, "no reading counted twice");
    let rolled = q("SELECT sum(n) FROM (SELECT uniqExactMerge(observations) AS n FROM {db:Identifier}.counters_daily GROUP BY metric, account_id, day) ");
    let metrics_rows = q("SELECT count() FROM {db:Identifier}.readings FINAL ARRAY JOIN [followers, likes, posts, following] AS m WHERE m IS NOT NULL");
    assert_eq!(rolled, metrics_rows, "the rollup saw each reading once");
    assert!(
        rows > 2082,
        "the killed run stored something before the restart's sweep: {rows}"
    );
    let spool_left = std::fs::read_dir(d.join("data/spool/embedded-haoqi-haoqi"))
        .map(|r| {
            r.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
            })
            .count()
        })
        .unwrap_or(0);
    assert_eq!(spool_left, 0, "everything spooled was replayed");
}

/// The store is away when collection starts: the sweep still runs and every reading, and every
/// collection event, goes to that store's own spool. Another store (here the embedded one
/// beside it) never replays those batches: each store has its own spool, and a batch file
/// copied into another store's spool is found by `haoqi check` and quarantined, not replayed
/// (issue 15, case 5). The replay into the store that comes back is tested in
/// tests/tests/idempotency.rs.
#[test]
fn store_down_at_start_spools_for_that_store_only() {
    let d = scratch("outage");
    let (mut sim, url) = simulator(&d, "0");
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let away = format!("http://haoqi@127.0.0.1:{dead}/haoqi");
    let out = haoqi(
        &d,
        &[
            "--store",
            &away,
            "collect",
            "--once",
            "--simulator",
            &url,
            "--rate",
            "300",
            "--platform",
            "bilibili",
        ],
    );
    let _ = sim.kill();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("unreachable"), "{}", text(&out));
    let jsonl = |dir: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|r| {
                r.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let server_spool = d.join(format!("data/spool/server-127.0.0.1_{dead}-haoqi"));
    let spooled = jsonl(&server_spool);
    assert!(!spooled.is_empty(), "nothing spooled: {}", text(&out));
    let header = |p: &Path| -> String {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        spooled
            .iter()
            .any(|p| header(p).contains(r#""kind":"events""#)),
        "collection events are spooled too"
    );
    assert!(spooled
        .iter()
        .any(|p| header(p).contains(r#""kind":"readings""#)));
    assert!(
        jsonl(&d.join("data/spool")).is_empty(),
        "nothing in the shared directory"
    );

    // The embedded store beside it replays nothing of the other store's.
    let init = haoqi(&d, &["init", "--no-registry"]);
    assert!(init.status.success(), "{}", text(&init));
    assert!(
        text(&init).contains("replayed 0 batch(es)"),
        "{}",
        text(&init)
    );
    let q = |sql: &str| -> u64 {
        let out = haoqi(&d, &["sql", sql, "--format", "csv"]);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or_else(|| panic!("no number from {sql}: {}", text(&out)))
    };
    assert_eq!(q("SELECT count() FROM {db:Identifier}.readings"), 0);

    // A batch file copied into the embedded store's spool is another store's: reported,
    // quarantined by --repair, never replayed.
    let own = d.join("data/spool/embedded-haoqi-haoqi");
    let copied = own.join(spooled[0].file_name().expect("name"));
    std::fs::copy(&spooled[0], &copied).expect("copy");
    let check = haoqi(&d, &["check", "--fast"]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    assert!(
        text(&check).contains("foreign_spool_file"),
        "{}",
        text(&check)
    );
    let repair = haoqi(&d, &["check", "--fast", "--repair"]);
    assert!(repair.status.success(), "{}", text(&repair));
    assert!(!copied.exists());
    assert!(own
        .join("rejected")
        .join(copied.file_name().expect("name"))
        .exists());
    assert!(haoqi(&d, &["init", "--no-registry"]).status.success());
    assert_eq!(q("SELECT count() FROM {db:Identifier}.readings"), 0);
    let clean = haoqi(&d, &["check", "--fast"]);
    assert!(clean.status.success(), "{}", text(&clean));
}

/// Values out of range are refused with the valid range before anything runs (issue 18's
/// bad-input probe): a day before any matrix, a rate that would never send or never stop, an
/// interval of 0.
#[test]
fn out_of_range_values_are_refused_with_the_range() {
    let d = scratch("ranges");
    for (args, says) in [
        (
            vec!["progress", "--as-of", "1970-01-01"],
            "2000-01-01 to today",
        ),
        (
            vec!["collect", "--once", "--rate", "0"],
            "above 0 and at most 1000",
        ),
        (
            vec!["collect", "--once", "--rate", "NaN"],
            "above 0 and at most 1000",
        ),
        (vec!["run", "--interval-mins", "0"], "1..=1440"),
        (vec!["stalled", "--days", "30000"], "1..=365"),
    ] {
        let out = haoqi(&d, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(says), "{args:?}: {}", text(&out));
    }
    assert!(!d.join("data").exists(), "nothing was created");
}

#[test]
fn users_are_added_listed_disabled_and_their_passwords_never_in_arguments() {
    let d = scratch("users");
    std::fs::write(d.join("pw"), "a long enough password\n").expect("pw");
    std::fs::write(d.join("short"), "short\n").expect("pw");
    let ok = |line: &str| common::ok(&d, line);
    let fails = |line: &str| common::fails(&d, line);
    ok("user add office01 --role admin --password-file pw");
    ok("user add urumqi --role liaison --prefecture 650100 --password-file pw");
    ok("user add unit1 --role unit --unit XJ-P-650100 --password-file pw");
    // What cannot mean anything is refused, naming what to give instead.
    for (line, says) in [
        ("user add x1 --role root --password-file pw", "not a role"),
        (
            "user add x2 --role unit --password-file pw",
            "--unit UNIT_ID",
        ),
        (
            "user add x3 --role unit --unit NO-SUCH --password-file pw",
            "no such unit",
        ),
        (
            "user add x4 --role liaison --prefecture 650102 --password-file pw",
            "not a prefecture",
        ),
        (
            "user add x5 --role leader --password-file short",
            "too short",
        ),
        (
            "user add office01 --role leader --password-file pw",
            "already exists",
        ),
        // Without a terminal and without a file there is no password: said, not guessed.
        ("user add x6 --role leader", "--password-file"),
        // There is no flag that takes a password.
        (
            "user add x7 --role leader --password hunter2hunter2",
            "unexpected argument",
        ),
    ] {
        let m = fails(line);
        assert!(m.contains(says), "{line}: {m}");
    }

    ok("user disable urumqi");
    let list: serde_json::Value =
        serde_json::from_str(&ok("user list --format json")).expect("json");
    let rows = list.as_array().expect("rows");
    assert_eq!(rows.len(), 3);
    let urumqi = rows.iter().find(|r| r["name"] == "urumqi").expect("urumqi");
    assert_eq!(urumqi["role"], "liaison");
    assert_eq!(urumqi["prefecture"], 650100);
    assert!(urumqi["disabled_at"].is_string());
    let csv = ok("user list --format csv");
    assert!(
        csv.starts_with("name,role,unit_id,prefecture,state"),
        "{csv}"
    );
    assert!(csv.contains("unit1,unit,XJ-P-650100,,active"), "{csv}");
    ok("user reset-password office01 --password-file pw");
    let m = fails("user reset-password nobody --password-file pw");
    assert!(m.contains("no user named"), "{m}");
    // The application database (and its WAL) holds hashes, never the password itself.
    let files: Vec<_> = std::fs::read_dir(d.join("data"))
        .expect("data dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("app-"))
        .map(|e| e.path())
        .collect();
    assert!(!files.is_empty(), "no application database in data/");
    let mut hashes = 0;
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).expect("read db")).into_owned();
        assert!(!text.contains("a long enough password"), "{}", f.display());
        hashes += text.matches("$argon2id$").count();
    }
    assert!(hashes >= 3, "{hashes} argon2id hashes found");
}

#[test]
fn a_backup_restores_into_a_new_store_with_the_same_figures_and_logins() {
    let d = scratch("backup");
    let ok = |line: &str| common::ok(&d, line);
    let fails = |line: &str| common::fails(&d, line);
    ok("demo --days 3 --rate 300 --no-serve");
    std::fs::write(d.join("pw"), "a long enough password\n").expect("pw");
    ok("user add office01 --role admin --password-file pw");
    let said = ok("backup --out b1");
    assert!(
        said.contains("backed up") && said.contains("1 users"),
        "{said}"
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("b1/MANIFEST.json")).expect("manifest"),
    )
    .expect("json");
    assert!(
        manifest["tables"].as_u64().expect("tables") > 10,
        "{manifest}"
    );
    // A backup never overwrites one.
    assert!(fails("backup --out b1").contains("exists"));
    assert!(fails("backup --restore pw").contains("not a haoqi backup"));

    let restored = "--store embedded:restored/haoqi";
    let said = ok(&format!("{restored} backup --restore b1"));
    assert!(said.contains("restored"), "{said}");
    let after: serde_json::Value =
        serde_json::from_str(&ok(&format!("{restored} progress --format json"))).expect("json");
    let before: serde_json::Value =
        serde_json::from_str(&ok("progress --format json")).expect("json");
    assert_eq!(after["matrix"], before["matrix"]);
    assert!(before["matrix"]["followers"].as_u64().expect("followers") > 0);
    let users = ok(&format!("{restored} user list --format csv"));
    assert!(users.contains("office01,admin"), "{users}");
    ok(&format!("{restored} check --fast"));
    // Restoring again into the now filled store is refused and changes nothing.
    let m = fails(&format!("{restored} backup --restore b1"));
    assert!(m.contains("exists") || m.contains("already holds"), "{m}");
}
