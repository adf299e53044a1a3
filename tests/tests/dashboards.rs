//! The Grafana dashboards (`dashboards/*.json`) against the product they show.
//!
//! 1. `every_panel_query_runs_on_simulated_data_and_has_the_columns_it_uses`: an embedded store
//!    is filled as `haoqi demo` fills it — the schema, the built-in reference registry (~2,800
//!    accounts), 60 days of simulated readings through the backfill — plus a follower jump and its
//!    fall the next day on one account (so the committee has findings), collection attempts of
//!    every outcome, one resolved finding and a frozen ranking `test-freeze`. Then, for every
//!    dashboard, the template variables are resolved the way Grafana does (constants as written,
//!    query variables to the first value their query returns), each ClickHouse panel query has
//!    the plugin's macros and the variables expanded and `haoqi.` pointed at the test database,
//!    and it must run, return rows, and return every column the panel names (field overrides,
//!    reduce fields, bar-chart x field, `organize` transformation …; `time` for time series).
//!    Prometheus expressions must read only metrics pipeline/web/src/metrics.rs defines (or `up`)
//!    and parse (promtool). Some panels are also held to the product's own
//!    answers: the goal arithmetic to `analytics::goal::report`, the stalled-by-department counts
//!    to `analytics::health`, the committee tables to the frozen `Ranking`, and the score
//!    composition adds up to the score.
//! 2. `dashboards_are_well_formed`: uid and title, schema version, titles in Chinese with
//!    English, an English description on every panel, unique panel ids, every datasource a
//!    provisioned one (uid and type, dashboards/provisioning/datasources/*.yaml), panels inside
//!    the 24-column grid and never overlapping.
//! 3. `the_checks_catch_broken_dashboards`: the checks above on deliberately broken input.
//!
//! `cargo test -p haoqi-tests --test dashboards`

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use haoqi::config::Config;
use haoqi_analytics::goal;
use haoqi_analytics::rank::{self, freeze, RankConfig, TierFilter};
use haoqi_model::count::Count;
use haoqi_model::reading::{Batch, Reading, Source};
use haoqi_platform::Platform;
use haoqi_registry::{Registry, TargetRules};
use haoqi_store::spool::{Spool, WriteOutcome, Writer};
use haoqi_store::sql::{self, Params};
use haoqi_store::{Row, Store};
use haoqi_tests::*;
use serde_json::Value;

const CLICKHOUSE_TYPE: &str = "grafana-clickhouse-datasource";
const FREEZE: &str = "test-freeze";
const CRAWLED: [&str; 3] = ["bilibili", "douyin", "kuaishou"];

// --- files ---------------------------------------------------------------------------------------

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every dashboard in dashboards/, by file name.
fn dashboards() -> Vec<(String, Value)> {
    let dir = repo().join("dashboards");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let v: Value = serde_json::from_str(&read(&p))
                .unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
            (name, v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["committee.json", "leadership.json", "operations.json"],
        "the dashboards"
    );
    out
}

/// Every panel, rows' nested panels included.
fn panels(dash: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for p in dash["panels"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        out.push(p);
        if let Some(nested) = p["panels"].as_array() {
            out.extend(nested.iter());
        }
    }
    out
}

fn is_row(p: &Value) -> bool {
    p["type"] == "row"
}

fn title(p: &Value) -> String {
    format!("panel {} {:?}", p["id"], p["title"].as_str().unwrap_or(""))
}

/// YAML to JSON through python3's yaml module, as tests/tests/deploy.rs does (python3-yaml is
/// installed by deploy/install-tools.sh).
fn yaml(path: &Path) -> Value {
    const SCRIPT: &str = "import sys, json, yaml\n\
        json.dump(yaml.safe_load(sys.stdin), sys.stdout, ensure_ascii=False, default=str)";
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts (run deploy/install-tools.sh)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(read(path).as_bytes())
        .expect("write yaml");
    let out = child.wait_with_output().expect("python3 finishes");
    assert!(
        out.status.success(),
        "{}: python3 could not parse it (is python3-yaml installed? deploy/install-tools.sh):\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python3 printed JSON")
}

/// uid → type of every datasource the provisioning files define.
fn provisioned_datasources() -> BTreeMap<String, String> {
    let dir = repo().join("dashboards/provisioning/datasources");
    let mut out = BTreeMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    for f in files {
        let doc = yaml(&f);
        for ds in doc["datasources"].as_array().into_iter().flatten() {
            let uid = ds["uid"]
                .as_str()
                .unwrap_or_else(|| panic!("{}: a datasource without uid", f.display()));
            let kind = ds["type"]
                .as_str()
                .unwrap_or_else(|| panic!("{}: {uid} has no type", f.display()));
            assert!(
                out.insert(uid.to_string(), kind.to_string()).is_none(),
                "datasource uid {uid} defined twice"
            );
        }
    }
    out
}

/// The datasource a target runs on: its own, else its panel's.
fn datasource_of<'a>(panel: &'a Value, target: &'a Value) -> &'a Value {
    if target["datasource"].is_object() {
        &target["datasource"]
    } else {
        &panel["datasource"]
    }
}

// --- expansion -----------------------------------------------------------------------------------

/// The time range and interval the macros expand to.
#[derive(Clone, Copy)]
struct Range {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    interval_s: u64,
}

/// The argument of a macro whose `(` ends just before `start`, up to its matching `)`; and the
/// position after that `)`.
fn macro_arg(sql: &str, start: usize) -> Result<(String, usize), String> {
    let mut depth = 1;
    for (i, c) in sql[start..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok((sql[start..start + i].trim().to_string(), start + i + 1));
                }
            }
            _ => {}
        }
    }
    Err(format!("unclosed macro argument in {sql}"))
}

/// A macro with an argument: the argument to its expansion.
type Expand<'a> = dyn Fn(&str) -> String + 'a;

/// Expands the ClickHouse plugin's macros as grafana-clickhouse-datasource's pkg/macros does
/// (DateTime from UTC seconds, DateTime64 from milliseconds, dates in UTC).
fn expand_macros(sql: &str, r: Range) -> Result<String, String> {
    let (from, to) = (r.from.timestamp(), r.to.timestamp());
    let (from_ms, to_ms) = (r.from.timestamp_millis(), r.to.timestamp_millis());
    let (from_date, to_date) = (
        format!("toDate('{}')", r.from.date_naive()),
        format!("toDate('{}')", r.to.date_naive()),
    );
    let interval = r.interval_s;
    let with_arg: [(&str, &Expand); 5] = [
        ("$__timeFilter_ms(", &|c| {
            format!(
                "{c} >= fromUnixTimestamp64Milli({from_ms}) AND {c} <= fromUnixTimestamp64Milli({to_ms})"
            )
        }),
        ("$__timeFilter(", &|c| {
            format!("{c} >= toDateTime({from}) AND {c} <= toDateTime({to})")
        }),
        ("$__dateFilter(", &|c| {
            format!("{c} >= {from_date} AND {c} <= {to_date}")
        }),
        ("$__timeInterval_ms(", &|c| {
            format!(
                "toStartOfInterval(toDateTime64({c}, 3), INTERVAL {} millisecond)",
                interval * 1000
            )
        }),
        ("$__timeInterval(", &|c| {
            format!("toStartOfInterval(toDateTime({c}), INTERVAL {interval} second)")
        }),
    ];
    let mut out = sql.to_string();
    for (name, f) in with_arg {
        while let Some(at) = out.find(name) {
            let (arg, end) = macro_arg(&out, at + name.len())?;
            out = format!("{}{}{}", &out[..at], f(&arg), &out[end..]);
        }
    }
    for (name, value) in [
        (
            "$__fromTime_ms",
            format!("fromUnixTimestamp64Milli({from_ms})"),
        ),
        ("$__toTime_ms", format!("fromUnixTimestamp64Milli({to_ms})")),
        ("$__fromTime", format!("toDateTime({from})")),
        ("$__toTime", format!("toDateTime({to})")),
        ("$__interval_s", interval.to_string()),
    ] {
        out = out.replace(name, &value);
    }
    if let Some(at) = out.find("$__") {
        return Err(format!(
            "macro {} is not one the plugin has",
            out[at..].chars().take(20).collect::<String>()
        ));
    }
    Ok(out)
}

/// Grafana's variable syntaxes: `${name:sqlstring}` (quoted, `'` doubled), `${name:raw}`,
/// `${name}`, `[[name]]` and `$name`. Anything left that looks like a variable is an error.
fn expand_variables(text: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = text.to_string();
    // Longest names first, so `$grp` cannot eat the start of `$grp_x`.
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    for name in names {
        let v = &vars[name];
        out = out
            .replace(
                &format!("${{{name}:sqlstring}}"),
                &format!("'{}'", v.replace('\'', "''")),
            )
            .replace(&format!("${{{name}:raw}}"), v)
            .replace(&format!("${{{name}}}"), v)
            .replace(&format!("[[{name}]]"), v);
        let pat = format!("${name}");
        let mut s = String::new();
        let mut rest = out.as_str();
        while let Some(at) = rest.find(&pat) {
            let after = &rest[at + pat.len()..];
            let boundary = after
                .chars()
                .next()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            s.push_str(&rest[..at]);
            s.push_str(if boundary { v } else { &pat });
            rest = after;
        }
        s.push_str(rest);
        out = s;
    }
    let bytes = out.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        let next = bytes.get(i + 1).copied().unwrap_or(b' ');
        if *b == b'$' && (next == b'{' || next.is_ascii_alphabetic() || next == b'_') {
            return Err(format!(
                "unexpanded variable {} (not defined in the dashboard's templating)",
                out[i..].chars().take(24).collect::<String>()
            ));
        }
    }
    Ok(out)
}

/// Points every `haoqi.` (the production database) at the test's database.
fn to_database(sql: &str, db: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = sql;
    let mut found = false;
    while let Some(at) = rest.find("haoqi.") {
        out.push_str(&rest[..at]);
        let qualified = out
            .chars()
            .last()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
        if qualified {
            out.push_str(db);
            out.push('.');
            found = true;
        } else {
            out.push_str("haoqi.");
        }
        rest = &rest[at + "haoqi.".len()..];
    }
    out.push_str(rest);
    if !found {
        return Err("reads no table or view of the database `haoqi`".into());
    }
    Ok(out)
}

/// The columns a panel refers to by name.
fn used_columns(panel: &Value) -> BTreeSet<String> {
    let mut cols = BTreeSet::new();
    for o in panel["fieldConfig"]["overrides"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if o["matcher"]["id"] == "byName" {
            if let Some(n) = o["matcher"]["options"].as_str() {
                cols.insert(n.to_string());
            }
        }
    }
    // reduceOptions.fields: a field name or a regex of alternatives, /^(a|b)$/ or /^a$/.
    if let Some(f) = panel["options"]["reduceOptions"]["fields"].as_str() {
        let f = f.trim();
        if let Some(re) = f.strip_prefix('/').and_then(|s| s.strip_suffix('/')) {
            let inner = re.trim_start_matches('^').trim_end_matches('$');
            let inner = inner
                .strip_prefix('(')
                .and_then(|s| s.strip_suffix(')'))
                .unwrap_or(inner);
            for alt in inner.split('|') {
                assert!(
                    alt.chars().all(|c| c.is_alphanumeric() || c == '_'),
                    "{}: reduceOptions.fields {f:?} must be /^name$/ or /^(a|b)$/ so the test can check it",
                    title(panel)
                );
                cols.insert(alt.to_string());
            }
        } else if !f.is_empty() {
            cols.insert(f.to_string());
        }
    }
    for key in ["xField", "colorByField"] {
        if let Some(n) = panel["options"][key].as_str() {
            cols.insert(n.to_string());
        }
    }
    for t in panel["transformations"].as_array().into_iter().flatten() {
        let o = &t["options"];
        match t["id"].as_str() {
            Some("organize") => {
                for key in [
                    "excludeByName",
                    "indexByName",
                    "renameByName",
                    "includeByName",
                ] {
                    for n in o[key].as_object().into_iter().flatten().map(|(k, _)| k) {
                        cols.insert(n.clone());
                    }
                }
            }
            Some("filterFieldsByName") => {
                for n in o["include"]["names"].as_array().into_iter().flatten() {
                    cols.extend(n.as_str().map(String::from));
                }
            }
            Some("sortBy") => {
                for s in o["sort"].as_array().into_iter().flatten() {
                    cols.extend(s["field"].as_str().map(String::from));
                }
            }
            Some("convertFieldType") => {
                for c in o["conversions"].as_array().into_iter().flatten() {
                    cols.extend(c["targetField"].as_str().map(String::from));
                }
            }
            _ => {}
        }
    }
    cols
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

// --- the simulated store -------------------------------------------------------------------------

struct Fixture {
    store: std::sync::Arc<dyn Store>,
    range: Range,
    today: NaiveDate,
    ranking: rank::Ranking,
    /// The account given a jump (and a fall the next day), and the day of the jump.
    jumper: (String, NaiveDate),
}

fn beijing(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    tz.from_local_datetime(&day.and_hms_opt(hour, 0, 0).expect("time"))
        .single()
        .expect("Beijing has no DST")
        .with_timezone(&Utc)
}

async fn write(writer: &Writer, readings: &[Reading]) {
    let outcome = writer
        .write(&Batch::new(readings, Utc::now()))
        .await
        .expect("write");
    assert_eq!(outcome, WriteOutcome::Stored);
}

/// Collection attempts of every outcome on the first 30 accounts of each crawled platform, hourly
/// over the last 20 hours; each account's last attempt has its own outcome, so some accounts
/// end collection_blocked or gone.
async fn events(store: &dyn Store, registry: &Registry, now: DateTime<Utc>) {
    const OUTCOMES: [(&str, &str); 7] = [
        ("reading", ""),
        ("rate_limited", "rate limited (HTTP 429), retry after 30 s"),
        ("blocked", "blocked by the platform (code -352)"),
        ("login_required", "login required"),
        ("not_found", "account not found"),
        ("layout_changed", "layout changed: missing field follower"),
        ("transport", "transport: HTTP 502"),
    ];
    let mut rows = Vec::new();
    for platform in CRAWLED {
        let accounts: Vec<_> = registry
            .accounts
            .iter()
            .filter(|a| a.active && a.platform.as_str() == platform)
            .take(30)
            .collect();
        assert!(
            !accounts.is_empty(),
            "no {platform} account in the registry"
        );
        for (i, a) in accounts.iter().enumerate() {
            for hour in 0..20u32 {
                let (outcome, error) = if hour == 0 {
                    OUTCOMES[i % OUTCOMES.len()]
                } else if (i as u32 + hour).is_multiple_of(9) {
                    OUTCOMES[1 + (hour as usize % 6)]
                } else {
                    OUTCOMES[0]
                };
                let at = now - chrono::Duration::minutes(i64::from(hour) * 60 + i as i64 + 1);
                rows.push(
                    serde_json::json!({
                        "at": haoqi_model::time::to_clickhouse(at),
                        "account_id": a.account_id, "platform": platform, "outcome": outcome,
                        "http_status": if outcome == "transport" { Value::Null } else { Value::from(200) },
                        "latency_ms": 100 + i, "url": "https://example.invalid/",
                        "error": error,
                        "body_excerpt": if outcome == "layout_changed" { "<html>" } else { "" },
                        "parser_version": "test",
                    })
                    .to_string(),
                );
            }
        }
    }
    let insert = sql::render(
        sql::queries::EVENTS_INSERT,
        &Params::new(store.database()).set("token", "dashboards-fixture"),
    )
    .expect("render");
    store
        .insert_json_each_row(&insert, rows.join("\n").as_bytes())
        .await
        .expect("events");
}

async fn fixture() -> Fixture {
    let now = Utc
        .timestamp_opt(Utc::now().timestamp(), 0)
        .single()
        .expect("whole second");
    let today = haoqi_model::time::beijing_day(now);
    let store = fresh_store("dashboards").await;
    let registry = Registry::load(None).unwrap_or_else(|e| panic!("{e}"));
    haoqi_registry::dimensions::load(store.as_ref(), &registry, &TargetRules::default(), now)
        .await
        .expect("load registry");
    let writer = Writer::new(
        store.clone(),
        Spool::open(&engine_dir().join("spool-dashboards"), "test").expect("spool"),
    );
    let written = haoqi::service::backfill::backfill(
        &registry,
        &writer,
        today,
        60,
        &haoqi_model::tick::NoTicks,
    )
    .await
    .expect("backfill");
    assert!(written > 100_000, "only {written} simulated readings");

    // A purchase-like jump: +50,000 followers on one horizontal Douyin account in the evening of
    // a day inside the ranking period (likes unchanged), back on its curve the next day.
    let units: BTreeMap<&str, _> = registry
        .units
        .iter()
        .map(|u| (u.unit_id.as_str(), u))
        .collect();
    let jumper = registry
        .accounts
        .iter()
        .find(|a| {
            a.active
                && !a.platform_id.is_empty()
                && a.platform == Platform::Douyin
                && units
                    .get(a.unit_id.as_str())
                    .is_some_and(|u| u.kind.tier().as_str() == "horizontal")
        })
        .expect("a horizontal Douyin account");
    let jump_day = today - Days::new(10);
    let before = scalar(
        store.as_ref(),
        &format!(
            "SELECT argMaxMerge(value) FROM {}.counters_daily WHERE metric = 'followers' \
             AND account_id = '{}' AND day = '{jump_day}'",
            store.database(),
            jumper.account_id
        ),
    )
    .await;
    write(
        &writer,
        &[Reading::followers(
            &jumper.account_id,
            Platform::Douyin,
            beijing(jump_day, 20),
            Count::exact(before + 50_000),
            Source::Simulated,
        )],
    )
    .await;

    events(store.as_ref(), &registry, now).await;

    // The committee's ranking of the last 30 complete days, with the drop finding resolved.
    let (from, to) = (today - Days::new(30), today - Days::new(1));
    let crawled: Vec<String> = CRAWLED.iter().map(|s| s.to_string()).collect();
    let config = RankConfig::default();
    let data = rank::load(store.as_ref(), from, to, &config, &crawled)
        .await
        .expect("rank inputs");
    let mine: Vec<&rank::Anomaly> = data
        .anomalies
        .iter()
        .filter(|a| a.account_id == jumper.account_id)
        .collect();
    let kinds: BTreeSet<&str> = mine.iter().map(|a| a.kind.as_str()).collect();
    assert!(
        kinds.contains("jump") && kinds.contains("drop"),
        "the fixture's jump should be found as a jump and a drop: {mine:?}"
    );
    let drop = mine
        .iter()
        .find(|a| a.kind == "drop")
        .map(|a| (a.account_id.clone(), a.day, a.kind.clone()))
        .expect("drop");
    freeze::resolve(
        store.as_ref(),
        &drop,
        "fall back after the jump",
        "test reviewer",
    )
    .await
    .expect("resolve");
    let resolved = freeze::resolutions(store.as_ref())
        .await
        .expect("resolutions");
    let ranking = rank::rank(&data, from, to, &TierFilter::Both, &config, &resolved);
    assert!(!ranking.accounts.is_empty() && !ranking.ineligible.is_empty());
    freeze::freeze(store.as_ref(), FREEZE, &ranking, &data)
        .await
        .expect("freeze");

    Fixture {
        store,
        range: Range {
            from: now - chrono::Duration::days(30),
            to: now,
            interval_s: 60,
        },
        today,
        ranking,
        jumper: (jumper.account_id.clone(), jump_day),
    }
}

// --- running panels ------------------------------------------------------------------------------

/// Resolves the dashboard's template variables as Grafana does on load: a constant is its
/// query, a custom variable its first option, a query variable the first value its query
/// returns (which must return some).
async fn resolve_variables(
    store: &dyn Store,
    name: &str,
    dash: &Value,
    range: Range,
) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for v in dash["templating"]["list"].as_array().into_iter().flatten() {
        let var = v["name"].as_str().expect("variable name").to_string();
        let value = match v["type"].as_str() {
            Some("constant") | Some("textbox") => text(&v["query"]),
            Some("custom") => text(&v["query"])
                .split(',')
                .next()
                .unwrap_or("")
                .trim()
                .to_string(),
            Some("query") => {
                assert_eq!(
                    v["datasource"]["type"], CLICKHOUSE_TYPE,
                    "{name}: variable {var}: only ClickHouse query variables are tested"
                );
                let q = v["query"]
                    .as_str()
                    .map(String::from)
                    .or_else(|| v["query"]["rawSql"].as_str().map(String::from))
                    .unwrap_or_else(|| panic!("{name}: variable {var} has no query"));
                let sql = expand_macros(&q, range)
                    .and_then(|s| expand_variables(&s, &vars))
                    .and_then(|s| to_database(&s, store.database()))
                    .unwrap_or_else(|e| panic!("{name}: variable {var}: {e}"));
                let rows = store
                    .query_rows(&sql)
                    .await
                    .unwrap_or_else(|e| panic!("{name}: variable {var}: {e}\n{sql}"));
                let first = rows
                    .first()
                    .and_then(|r| r.values().next())
                    .unwrap_or_else(|| panic!("{name}: variable {var}: no values\n{sql}"));
                text(first)
            }
            other => {
                panic!("{name}: variable {var} of type {other:?} is not handled by this test")
            }
        };
        vars.insert(var, value);
    }
    vars
}

/// Runs one ClickHouse target; it must answer with rows and the columns the panel uses.
async fn run_panel(
    store: &dyn Store,
    panel: &Value,
    target: &Value,
    vars: &BTreeMap<String, String>,
    range: Range,
) -> Result<Vec<Row>, String> {
    let raw = target["rawSql"]
        .as_str()
        .filter(|s| !s.trim().is_empty())
        .ok_or("no rawSql")?;
    let sql = expand_macros(raw, range)
        .and_then(|s| expand_variables(&s, vars))
        .and_then(|s| to_database(&s, store.database()))?;
    let rows = store
        .query_rows(&sql)
        .await
        .map_err(|e| format!("{e}\n--- query:\n{sql}"))?;
    let first = rows
        .first()
        .ok_or_else(|| format!("no rows on the simulated data\n--- query:\n{sql}"))?;
    let mut wanted = used_columns(panel);
    if panel["type"] == "timeseries" || target["format"] == 0 {
        wanted.insert("time".into());
    }
    let missing: Vec<&String> = wanted.iter().filter(|c| !first.contains_key(*c)).collect();
    if !missing.is_empty() {
        return Err(format!(
            "columns {missing:?} used by the panel are not in the answer ({:?})\n--- query:\n{sql}",
            first.keys().collect::<Vec<_>>()
        ));
    }
    Ok(rows)
}

/// Metric names pipeline/web/src/metrics.rs registers.
fn known_metrics() -> BTreeSet<String> {
    let src = read(&repo().join("pipeline/web/src/metrics.rs"));
    let mut out = BTreeSet::new();
    for piece in src.split('"').skip(1).step_by(2) {
        if piece.starts_with("haoqi_")
            && piece
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            out.insert(piece.to_string());
        }
    }
    assert!(out.len() > 5, "metrics.rs: only {out:?}");
    out
}

/// The metric names an expression reads: identifiers outside strings, braces and ranges that
/// are neither functions, keywords, aggregations nor the label lists of by/without/on/ignoring.
fn metrics_in(expr: &str) -> Vec<String> {
    const WORDS: [&str; 25] = [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "offset",
        "bool",
        "time",
        "vector",
        "scalar",
        "sum",
        "min",
        "max",
        "avg",
        "count",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
    ];
    const LABEL_LISTS: [&str; 6] = [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    let mut out = Vec::new();
    let chars: Vec<char> = expr.chars().collect();
    let (mut i, mut braces, mut in_label_list) = (0, 0, false);
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += 1;
            }
        } else if c == '{' {
            braces += 1;
        } else if c == '}' {
            braces -= 1;
        } else if c == '[' {
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
        } else if c == ')' {
            in_label_list = false;
        } else if (c.is_ascii_alphabetic() || c == '_') && braces == 0 {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace()).copied();
            if LABEL_LISTS.contains(&word.as_str()) {
                in_label_list = true;
            } else if !WORDS.contains(&word.as_str()) && next != Some('(') && !in_label_list {
                out.push(word);
            }
            continue;
        }
        i += 1;
    }
    out
}

/// Checks a Prometheus target's metric names; returns the expression as promtool can read it.
fn check_promql(
    dash: &str,
    panel: &Value,
    target: &Value,
    known: &BTreeSet<String>,
) -> Result<String, String> {
    let who = format!("{dash} {}", title(panel));
    let expr = target["expr"]
        .as_str()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| format!("{who}: Prometheus target without expr"))?;
    let names = metrics_in(expr);
    if names.is_empty() {
        return Err(format!("{who}: {expr} reads no metric"));
    }
    for n in &names {
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| n.strip_suffix(s).filter(|b| known.contains(*b)))
            .unwrap_or(n);
        if !(base == "up" || known.contains(base)) {
            return Err(format!(
                "{who}: metric {n} is not defined in pipeline/web/src/metrics.rs (nor `up`)"
            ));
        }
    }
    // Grafana's own interval variables, which promtool does not know.
    Ok(expr
        .replace("$__rate_interval", "2m")
        .replace("$__interval", "1m")
        .replace("$__range", "1h"))
}

/// Every expression as a recording rule through `promtool check rules` (deploy/install-tools.sh
/// installs promtool; CI runs it).
fn promtool_parses(exprs: &[(String, String)]) {
    let promtool = tool("promtool");
    let mut rules = String::from("groups:\n  - name: dashboards\n    rules:\n");
    for (i, (what, expr)) in exprs.iter().enumerate() {
        rules.push_str(&format!(
            "      # {what}\n      - record: dashboard:expr_{i}\n        expr: {}\n",
            serde_json::to_string(expr).expect("json string")
        ));
    }
    std::fs::create_dir_all(engine_dir()).expect("dir");
    let path = engine_dir().join("dashboard-exprs.rules.yml");
    std::fs::write(&path, &rules).expect("write rules");
    let out = Command::new(promtool)
        .args(["check", "rules"])
        .arg(&path)
        .output()
        .expect("promtool runs");
    assert!(
        out.status.success(),
        "promtool check rules on the dashboards' expressions:\n{}{}\n{rules}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn find_panel<'a>(dash: &'a Value, title_end: &str) -> &'a Value {
    panels(dash)
        .into_iter()
        .find(|p| p["title"].as_str().is_some_and(|t| t.ends_with(title_end)))
        .unwrap_or_else(|| panic!("{}: no panel titled …{title_end}", dash["uid"]))
}

#[tokio::test]
async fn every_panel_query_runs_on_simulated_data_and_has_the_columns_it_uses() {
    let f = fixture().await;
    let store = f.store.as_ref();

    // The product's own answers, for the panels held to them below: the goal report for the
    // shipped goal (reached on simulated data, deadline passed) and for one still ahead, the
    // health states, and the matrix total.
    let product = Config::default();
    let mut forecasts = Vec::new();
    for (goal_followers, deadline) in [
        (product.goal.followers, product.goal.deadline),
        (60_000_000, f.today + Days::new(400)),
    ] {
        let mut config = Config::default();
        config.goal.followers = goal_followers;
        config.goal.deadline = deadline;
        let report = goal::report(store, &config.analytics(), f.today, &[])
            .await
            .expect("goal report");
        forecasts.push((goal_followers, deadline, report.forecast));
    }
    let health = product
        .analytics()
        .health(f.range.to)
        .run(store)
        .await
        .expect("health");
    let total = scalar(
        store,
        &format!(
            "SELECT sum(ifNull(followers, 0)) FROM {}.account_progress(as_of_day = '{}', stale_after_hours = 48)",
            store.database(),
            f.today
        ),
    )
    .await;

    // From here on the session is read-only like Grafana's ClickHouse user (profile
    // haoqi_readonly in deploy/clickhouse/users.d/haoqi.xml: readonly = 1, so a panel query may
    // not change settings, e.g. a trailing SETTINGS join_use_nulls = 1).
    store.execute("SET readonly = 1").await.expect("readonly");
    assert!(
        store
            .execute(&format!(
                "CREATE TABLE {}.x (a UInt8) ENGINE = Memory",
                store.database()
            ))
            .await
            .is_err(),
        "the session should be read-only now"
    );

    let known = known_metrics();
    let provisioned = provisioned_datasources();
    let mut failures = Vec::new();
    let mut ran = 0;
    let mut exprs = Vec::new();
    let mut answers: BTreeMap<(String, String), Vec<Row>> = BTreeMap::new();
    let mut all_vars = BTreeMap::new();
    let all = dashboards();
    for (name, dash) in &all {
        let vars = resolve_variables(store, name, dash, f.range).await;
        for p in panels(dash).into_iter().filter(|p| !is_row(p)) {
            for t in p["targets"].as_array().into_iter().flatten() {
                let uid = datasource_of(p, t)["uid"].as_str().unwrap_or("");
                match provisioned.get(uid).map(String::as_str) {
                    Some(CLICKHOUSE_TYPE) => match run_panel(store, p, t, &vars, f.range).await {
                        Ok(rows) => {
                            ran += 1;
                            let key = (
                                name.clone(),
                                p["title"].as_str().unwrap_or("").to_string(),
                            );
                            answers.insert(key, rows);
                        }
                        Err(e) => failures.push(format!("{name} {}: {e}", title(p))),
                    },
                    Some("prometheus") => match check_promql(name, p, t, &known) {
                        Ok(expr) => exprs.push((format!("{name} {}", title(p)), expr)),
                        Err(e) => failures.push(e),
                    },
                    other => failures.push(format!(
                        "{name} {}: datasource {uid:?} ({other:?}) is neither a provisioned ClickHouse nor Prometheus",
                        title(p)
                    )),
                }
            }
        }
        all_vars.insert(name.clone(), vars);
    }
    assert!(
        failures.is_empty(),
        "{} panel queries failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(ran >= 20, "only {ran} ClickHouse panel queries ran");
    assert!(!exprs.is_empty(), "no Prometheus panel");
    promtool_parses(&exprs);
    eprintln!(
        "{ran} ClickHouse panel queries and {} Prometheus expressions checked",
        exprs.len()
    );

    let answer = |dash: &str, title_end: &str| -> &Vec<Row> {
        answers
            .iter()
            .find(|((d, t), _)| d == dash && t.ends_with(title_end))
            .map(|(_, rows)| rows)
            .unwrap_or_else(|| panic!("{dash}: no answer for …{title_end}"))
    };

    // --- the committee page shows the frozen ranking -------------------------------------------
    let committee = &all_vars["committee.json"];
    assert_eq!(committee["freeze"], FREEZE, "the newest freeze comes first");
    let grp = committee["grp"].clone();
    assert!(f.ranking.groups.contains(&grp), "{grp} is a group");
    let ranked: Vec<&rank::RankedAccount> = f
        .ranking
        .accounts
        .iter()
        .filter(|a| a.group == grp)
        .collect();
    let rows = answer("committee.json", "Ranking");
    assert_eq!(rows.len(), ranked.len(), "ranked accounts of {grp}");
    for (row, a) in rows.iter().zip(&ranked) {
        assert_eq!(text(&row["account_id"]), a.input.account_id);
        assert_eq!(num(&row["rank"]), Some(f64::from(a.rank)));
        assert!((num(&row["score"]).unwrap_or(-1.0) - a.score).abs() < 0.006);
    }
    let ineligible = f
        .ranking
        .ineligible
        .iter()
        .filter(|i| i.group == grp)
        .count();
    let ineligible_rows = answer("committee.json", "Ineligible accounts");
    assert_eq!(
        ineligible_rows.len(),
        ineligible,
        "ineligible accounts of {grp}"
    );
    let jumper_row = ineligible_rows
        .iter()
        .find(|r| text(&r["account_id"]) == f.jumper.0)
        .expect("the jumping account is ineligible");
    assert!(
        text(&jumper_row["reasons"]).contains("jump"),
        "{jumper_row:?}"
    );
    let mine: Vec<&Row> = answer("committee.json", "Anomalies")
        .iter()
        .filter(|r| text(&r["account_id"]) == f.jumper.0)
        .collect();
    assert!(
        mine.iter().any(|r| r["kind"] == "jump"
            && r["status"] == "open"
            && text(&r["day"]) == f.jumper.1.to_string()),
        "{mine:?}"
    );
    assert!(
        mine.iter().any(|r| r["kind"] == "drop"
            && r["status"] == "resolved"
            && r["reviewer"] == "test reviewer"),
        "{mine:?}"
    );
    // The composition's parts add up to the frozen score.
    for row in answer("committee.json", "Score composition (top 20)") {
        let parts: f64 = [
            "c_followers",
            "c_growth",
            "c_completion",
            "c_views",
            "c_likes",
            "c_posts",
        ]
        .iter()
        .map(|c| num(&row[*c]).unwrap_or(0.0))
        .sum();
        let score = num(&row["score"]).expect("score");
        assert!(
            (parts - score).abs() < 0.1,
            "{}: parts {parts} vs score {score}",
            text(&row["account"])
        );
    }

    // --- the leadership wall's goal arithmetic is the product's ---------------------------------
    let leadership = &all
        .iter()
        .find(|(n, _)| n == "leadership.json")
        .expect("leadership")
        .1;
    let lv = &all_vars["leadership.json"];
    assert_eq!(
        lv["goal"],
        product.goal.followers.to_string(),
        "goal constant"
    );
    assert_eq!(
        lv["deadline"],
        product.goal.deadline.to_string(),
        "deadline constant"
    );
    let pace_panel = find_panel(leadership, "Required daily growth");
    let target = &pace_panel["targets"][0];
    for (goal_followers, deadline, fc) in &forecasts {
        let mut vars = lv.clone();
        vars.insert("goal".into(), goal_followers.to_string());
        vars.insert("deadline".into(), deadline.to_string());
        let rows = run_panel(store, pace_panel, target, &vars, f.range)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let row = &rows[0];
        let close = |col: &str, want: Option<f64>| match (num(&row[col]), want) {
            (Some(g), Some(w)) => assert!(
                (g - w).abs() <= 1e-6 * w.abs().max(1.0),
                "{col}: panel {g} vs product {w} (goal {goal_followers} by {deadline})"
            ),
            (g, w) => assert_eq!(g, w, "{col} (goal {goal_followers} by {deadline})"),
        };
        close("followers", Some(fc.current as f64));
        close("remaining", Some(fc.remaining as f64));
        close("days_to_deadline", Some(fc.days_to_deadline as f64));
        close("required_per_day", fc.required_daily_growth);
        close("pace_7d", fc.pace_7d);
        close("pace_30d", fc.pace_30d);
        let eta = text(&row["eta_at_7d_pace"]);
        if fc.remaining == 0 {
            assert!(eta.contains("reached"), "{eta}");
        } else {
            assert!(NaiveDate::parse_from_str(&eta, "%Y-%m-%d").is_ok(), "{eta}");
        }
    }
    assert_eq!(
        num(&answer("leadership.json", "Matrix followers")[0]["followers"]),
        Some(total as f64),
        "headline total vs account_progress"
    );

    // --- operations: stalled by department is what analytics::health says -----------------------
    for row in answer("operations.json", "Stalled accounts by department") {
        let dept = text(&row["department"]);
        for state in [
            "overdue",
            "collection_blocked",
            "gone",
            "dropping",
            "flat",
            "no_posts",
        ] {
            let want = health
                .iter()
                .filter(|h| h.department == dept && h.state == state)
                .count();
            assert_eq!(
                num(&row[state]),
                Some(want as f64),
                "{dept} {state}: panel vs analytics::health"
            );
        }
    }
    let states: BTreeSet<&str> = health.iter().map(|h| h.state.as_str()).collect();
    for s in ["overdue", "collection_blocked", "gone"] {
        assert!(
            states.contains(s),
            "the fixture should have {s} accounts: {states:?}"
        );
    }
}

// --- structure -----------------------------------------------------------------------------------

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// At least one word of two or more Latin letters.
fn has_english(s: &str) -> bool {
    s.split(|c: char| !c.is_ascii_alphabetic())
        .any(|w| w.len() >= 2)
}

#[derive(Debug, Clone, Copy)]
struct Rect {
    x: i64,
    y: i64,
    w: i64,
    h: i64,
}

impl Rect {
    fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
}

fn check_datasource(
    what: &str,
    ds: &Value,
    provisioned: &BTreeMap<String, String>,
) -> Option<String> {
    match (ds["uid"].as_str(), ds["type"].as_str()) {
        (Some(uid), Some(kind)) => match provisioned.get(uid) {
            Some(k) if k == kind => None,
            Some(k) => Some(format!("{what}: datasource {uid} is a {k}, not {kind}")),
            None => Some(format!(
                "{what}: datasource uid {uid:?} is not provisioned ({:?})",
                provisioned.keys().collect::<Vec<_>>()
            )),
        },
        _ => Some(format!(
            "{what}: datasource must be {{\"type\", \"uid\"}} of a provisioned one, got {ds}"
        )),
    }
}

/// Every structural problem of one dashboard.
fn structure_problems(
    name: &str,
    dash: &Value,
    provisioned: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut bad = Vec::new();
    for key in ["uid", "title"] {
        if dash[key].as_str().is_none_or(|s| s.trim().is_empty()) {
            bad.push(format!("{name}: no {key}"));
        }
    }
    let t = dash["title"].as_str().unwrap_or("");
    if !(has_cjk(t) && has_english(t)) {
        bad.push(format!(
            "{name}: title {t:?} should be Chinese with English"
        ));
    }
    if dash["schemaVersion"].as_u64().unwrap_or(0) < 39 {
        bad.push(format!(
            "{name}: schemaVersion {} < 39",
            dash["schemaVersion"]
        ));
    }
    for v in dash["templating"]["list"].as_array().into_iter().flatten() {
        if v["type"] == "query" {
            bad.extend(check_datasource(
                &format!("{name}: variable {}", v["name"]),
                &v["datasource"],
                provisioned,
            ));
        }
    }
    let mut ids = BTreeSet::new();
    let mut rects: Vec<(String, Rect)> = Vec::new();
    let all = panels(dash);
    if all.iter().filter(|p| !is_row(p)).count() < 4 {
        bad.push(format!("{name}: fewer than 4 panels"));
    }
    for p in &all {
        let who = format!("{name} {}", title(p));
        match p["id"].as_u64() {
            Some(id) if !ids.insert(id) => bad.push(format!("{who}: id {id} used twice")),
            Some(_) => {}
            None => bad.push(format!("{who}: no id")),
        }
        let ptitle = p["title"].as_str().unwrap_or("");
        if !(has_cjk(ptitle) && has_english(ptitle)) {
            bad.push(format!("{who}: title should be Chinese with English"));
        }
        let g = &p["gridPos"];
        let r = Rect {
            x: g["x"].as_i64().unwrap_or(-1),
            y: g["y"].as_i64().unwrap_or(-1),
            w: g["w"].as_i64().unwrap_or(0),
            h: g["h"].as_i64().unwrap_or(0),
        };
        if r.x < 0 || r.y < 0 || r.w <= 0 || r.h <= 0 || r.x + r.w > 24 {
            bad.push(format!("{who}: gridPos {g} is outside the 24-column grid"));
        }
        for (other, o) in &rects {
            if r.overlaps(o) {
                bad.push(format!("{who}: gridPos {g} overlaps {other}"));
            }
        }
        rects.push((who.clone(), r));
        if is_row(p) {
            continue;
        }
        let d = p["description"].as_str().unwrap_or("");
        if d.split_whitespace().filter(|w| has_english(w)).count() < 5 {
            bad.push(format!("{who}: needs an English description"));
        }
        bad.extend(check_datasource(&who, &p["datasource"], provisioned));
        let targets = p["targets"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        if targets.is_empty() {
            bad.push(format!("{who}: no query"));
        }
        let mut refs = BTreeSet::new();
        for t in targets {
            if !refs.insert(t["refId"].as_str().unwrap_or("").to_string()) {
                bad.push(format!("{who}: refId {} used twice", t["refId"]));
            }
            let ds = datasource_of(p, t);
            bad.extend(check_datasource(
                &format!("{who} target {}", t["refId"]),
                ds,
                provisioned,
            ));
            if ds["type"] == CLICKHOUSE_TYPE && t["editorType"] != "sql" {
                bad.push(format!(
                    "{who}: ClickHouse queries are raw SQL (editorType sql)"
                ));
            }
        }
    }
    bad
}

#[test]
fn dashboards_are_well_formed() {
    let provisioned = provisioned_datasources();
    assert_eq!(
        provisioned.get("haoqi-clickhouse").map(String::as_str),
        Some(CLICKHOUSE_TYPE),
        "the ClickHouse datasource"
    );
    let all = dashboards();
    let mut uids = BTreeSet::new();
    let mut bad = Vec::new();
    for (name, dash) in &all {
        if !uids.insert(dash["uid"].as_str().unwrap_or("").to_string()) {
            bad.push(format!(
                "{name}: uid {} used by another dashboard",
                dash["uid"]
            ));
        }
        bad.extend(structure_problems(name, dash, &provisioned));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));

    // What each audience needs.
    let get = |n: &str| &all.iter().find(|(name, _)| name == n).expect(n).1;
    assert!(
        get("leadership.json")["refresh"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "the wall refreshes itself"
    );
    let vars: Vec<&str> = get("committee.json")["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(vars, ["freeze", "grp"], "committee variables");
}

/// A way to break a dashboard.
type Break = dyn Fn(&mut Value);

#[test]
fn the_checks_catch_broken_dashboards() {
    // The structure check on deliberately broken copies of a good dashboard.
    let provisioned = provisioned_datasources();
    let (name, good) = dashboards().swap_remove(1);
    assert!(structure_problems(&name, &good, &provisioned).is_empty());
    let cases: [(&str, &Break, &str); 6] = [
        (
            "duplicate id",
            &|d| d["panels"][1]["id"] = d["panels"][0]["id"].clone(),
            "used twice",
        ),
        (
            "overlap",
            &|d| d["panels"][1]["gridPos"] = d["panels"][0]["gridPos"].clone(),
            "overlaps",
        ),
        (
            "beyond the grid",
            &|d| d["panels"][0]["gridPos"]["x"] = 20.into(),
            "24-column grid",
        ),
        (
            "unknown datasource",
            &|d| d["panels"][0]["datasource"]["uid"] = "nope".into(),
            "not provisioned",
        ),
        (
            "no description",
            &|d| d["panels"][0]["description"] = "".into(),
            "English description",
        ),
        ("no uid", &|d| d["uid"] = Value::Null, "no uid"),
    ];
    for (what, f, expect) in cases {
        let mut d = good.clone();
        f(&mut d);
        let problems = structure_problems(&name, &d, &provisioned);
        assert!(
            problems.iter().any(|p| p.contains(expect)),
            "{what}: {problems:?}"
        );
    }

    // Expansion leaves nothing unexpanded, and says so when it cannot.
    let r = Range {
        from: Utc.timestamp_opt(1_700_000_000, 0).single().expect("t"),
        to: Utc.timestamp_opt(1_700_086_400, 0).single().expect("t"),
        interval_s: 60,
    };
    assert_eq!(
        expand_macros("WHERE $__timeFilter(e.at) AND d <= toDate($__toTime)", r).as_deref(),
        Ok("WHERE e.at >= toDateTime(1700000000) AND e.at <= toDateTime(1700086400) AND d <= toDate(toDateTime(1700086400))")
    );
    assert!(expand_macros("$__timeGroup(at, 1h)", r).is_err());
    let vars = BTreeMap::from([
        ("freeze".to_string(), "q4'24".to_string()),
        ("grp".to_string(), "vertical".to_string()),
    ]);
    assert_eq!(
        expand_variables(
            "name = ${freeze:sqlstring} AND grp = '$grp' AND x = '$grpx'",
            &vars
        ),
        Err("unexpanded variable $grpx' (not defined in the dashboard's templating)".into())
    );
    assert_eq!(
        expand_variables("name = ${freeze:sqlstring} AND g = '${grp}'", &vars).as_deref(),
        Ok("name = 'q4''24' AND g = 'vertical'")
    );
    assert_eq!(
        to_database("FROM haoqi.readings JOIN xhaoqi.a", "t_x").as_deref(),
        Ok("FROM t_x.readings JOIN xhaoqi.a")
    );
    assert!(to_database("SELECT 1", "t_x").is_err());

    // The columns a panel names, and the metrics an expression reads.
    let panel = serde_json::json!({
        "options": {"reduceOptions": {"fields": "/^(a|b)$/"}, "xField": "x"},
        "fieldConfig": {"overrides": [{"matcher": {"id": "byName", "options": "c"}, "properties": []}]},
        "transformations": [{"id": "organize", "options": {"excludeByName": {"d": true}}}]
    });
    assert_eq!(
        used_columns(&panel).into_iter().collect::<Vec<_>>(),
        ["a", "b", "c", "d", "x"]
    );
    assert_eq!(
        metrics_in(
            r#"sum by (platform) (rate(haoqi_x_total{outcome!="a"}[5m])) / on (job) up{job="haoqi"} - time()"#
        ),
        ["haoqi_x_total", "up"]
    );
    let known = BTreeSet::from(["haoqi_spool_batches".to_string()]);
    let target = serde_json::json!({"expr": "sum(haoqi_spool_batchez)"});
    assert!(check_promql("d", &panel, &target, &known)
        .is_err_and(|e| e.contains("haoqi_spool_batchez")));
}
