//! The production deployment (`deploy/`, `dashboards/provisioning/`), checked by configuration:
//! no container engine runs on the development machines or in CI, so the stack is never started
//! here. The checks use the tools that read these files for real — promtool, amtool,
//! docker-compose, systemd-analyze — and python3's YAML parser to look inside them. A missing
//! tool fails the test with the command that installs it (`deploy/install-tools.sh`); nothing
//! is skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use haoqi::config::Config;
use haoqi_registry::Registry;
use haoqi_store::{EmbeddedStore, Store};
use haoqi_tests::tool;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn deploy() -> PathBuf {
    repo().join("deploy")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs a command to completion and fails with its output unless it succeeded.
fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    assert!(
        out.status.success(),
        "{shown} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// YAML to JSON through python3's yaml module (a dependency of docker-compose), so the tests
/// need no YAML crate.
fn yaml(text: &str) -> Value {
    const SCRIPT: &str = "import sys, json, yaml\n\
        json.dump(yaml.safe_load(sys.stdin), sys.stdout, ensure_ascii=False, default=str)";
    let python = tool("python3");
    let mut child = Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write yaml");
    let out = child.wait_with_output().expect("python3 finishes");
    assert!(
        out.status.success(),
        "python3 could not parse YAML (is python3-yaml installed? run deploy/install-tools.sh):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python3 printed JSON")
}

fn yaml_file(path: &Path) -> Value {
    yaml(&read(path))
}

fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.{ext} in {}", dir.display());
    files
}

fn str_of<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what}: expected a string, got {v}"))
}

// --- Prometheus -------------------------------------------------------------------------------

#[test]
fn prometheus_config_and_rules_pass_promtool() {
    let promtool = tool("promtool");
    let prom = deploy().join("prometheus");
    // `check config` also checks the rule files the config names (rules/*.yml).
    let out = run(Command::new(&promtool)
        .arg("check")
        .arg("config")
        .arg(prom.join("prometheus.yml")));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("rule files found"), "{said}");
    run(Command::new(&promtool)
        .args(["check", "rules"])
        .args(files_with_ext(&prom.join("rules"), "yml")));
}

#[test]
fn alert_rule_unit_tests_pass() {
    let prom = deploy().join("prometheus");
    let out = run(Command::new(tool("promtool"))
        .args(["test", "rules"])
        .args(files_with_ext(&prom.join("tests"), "yml")));
    assert!(String::from_utf8_lossy(&out.stdout).contains("SUCCESS"));
}

/// Every alert: severity and team labels, an English and a Chinese summary, a description, a
/// runbook section that exists, and unit tests that make it fire and keep it quiet.
#[test]
fn every_alert_is_bilingual_documented_and_tested_both_ways() {
    let prom = deploy().join("prometheus");
    let runbook_anchors: BTreeSet<String> = read(&deploy().join("README.md"))
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(|h| {
            h.trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '-' || *c == ' ')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect();

    let mut alerts = BTreeSet::new();
    for file in files_with_ext(&prom.join("rules"), "yml") {
        let doc = yaml_file(&file);
        for group in doc["groups"].as_array().expect("groups") {
            for rule in group["rules"].as_array().expect("rules") {
                let Some(name) = rule["alert"].as_str() else {
                    continue;
                };
                alerts.insert(name.to_string());
                let labels = &rule["labels"];
                let a = &rule["annotations"];
                let severity = labels["severity"].as_str().unwrap_or("");
                assert!(
                    ["critical", "warning", "info"].contains(&severity),
                    "{name}: severity {severity:?}"
                );
                let team = labels["team"].as_str().unwrap_or("");
                assert!(
                    ["ops", "leadership", "department"].contains(&team),
                    "{name}: team {team:?}"
                );
                let summary = a["summary"].as_str().unwrap_or("");
                assert!(
                    summary.chars().filter(char::is_ascii_alphabetic).count() >= 10,
                    "{name}: needs an English summary, got {summary:?}"
                );
                let zh = a["summary_zh"].as_str().unwrap_or("");
                assert!(
                    zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                    "{name}: needs a Chinese summary_zh, got {zh:?}"
                );
                assert!(
                    a["description"].as_str().is_some_and(|d| d.len() > 20),
                    "{name}: needs a description"
                );
                let runbook = a["runbook"].as_str().unwrap_or("");
                let anchor = runbook
                    .strip_prefix("deploy/README.md#")
                    .unwrap_or_else(|| {
                        panic!("{name}: runbook must be deploy/README.md#section, got {runbook:?}")
                    });
                assert!(
                    runbook_anchors.contains(anchor),
                    "{name}: deploy/README.md has no section '### …' for #{anchor}"
                );
            }
        }
    }
    assert!(
        alerts.len() >= 7,
        "only {} alerts: {alerts:?}",
        alerts.len()
    );

    // alertname -> (has a case where it fires, has a case where it is quiet)
    let mut cases: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    for file in files_with_ext(&prom.join("tests"), "yml") {
        let doc = yaml_file(&file);
        for test in doc["tests"].as_array().expect("tests") {
            for case in test["alert_rule_test"].as_array().into_iter().flatten() {
                let name = str_of(&case["alertname"], "alertname").to_string();
                let fires = case["exp_alerts"].as_array().is_some_and(|a| !a.is_empty());
                let entry = cases.entry(name).or_default();
                if fires {
                    entry.0 = true;
                } else {
                    entry.1 = true;
                }
            }
        }
    }
    for name in &alerts {
        let (fires, quiet) = cases.get(name).copied().unwrap_or_default();
        assert!(fires, "{name}: no promtool case in which it fires");
        assert!(quiet, "{name}: no promtool case in which it stays quiet");
    }
}

// --- Alertmanager -----------------------------------------------------------------------------

#[test]
fn alertmanager_config_passes_amtool_and_routes_each_department() {
    let amtool = tool("amtool");
    let config = deploy().join("alertmanager").join("alertmanager.yml");
    run(Command::new(&amtool).arg("check-config").arg(&config));

    let route = |labels: &[String], expect: &str| {
        run(Command::new(&amtool)
            .args(["config", "routes", "test"])
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--verify.receivers={expect}"))
            .args(labels));
    };
    // Every department of the reference registry has its own receiver, not the ops fallback.
    let registry = Registry::reference().expect("reference registry");
    let departments: BTreeSet<&str> = registry
        .units
        .iter()
        .map(|u| u.department.as_str())
        .filter(|d| !d.is_empty())
        .collect();
    assert!(departments.len() >= 3, "{departments:?}");
    let doc = yaml_file(&config);
    for dept in departments {
        let receiver = doc["route"]["routes"]
            .as_array()
            .expect("routes")
            .iter()
            .find(|r| {
                r["matchers"]
                    .as_array()
                    .is_some_and(|m| m.iter().any(|m| m == &format!("department=\"{dept}\"")))
            })
            .map(|r| str_of(&r["receiver"], "receiver").to_string())
            .unwrap_or_else(|| panic!("no route for department {dept}"));
        assert_ne!(receiver, "ops", "{dept}");
        route(
            &[
                "alertname=HaoqiAccountsStalled".into(),
                "team=department".into(),
                format!("department={dept}"),
            ],
            &receiver,
        );
    }
    route(
        &[
            "alertname=HaoqiGoalPaceBehind".into(),
            "team=leadership".into(),
        ],
        "wecom-leadership",
    );
    route(&["alertname=HaoqiDown".into(), "team=ops".into()], "ops");
    route(
        &[
            "alertname=HaoqiAccountsStalled".into(),
            "department=未登记的部门".into(),
        ],
        "ops",
    );
}

// --- Compose ----------------------------------------------------------------------------------

/// `docker-compose config` with the defaults (no HAOQI_REGISTRY_DIR, GRAFANA_BIND) and a
/// stand-in secrets directory: the resolved file as JSON.
fn compose_config() -> Value {
    // Tests run in parallel: one directory per call.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let secrets = std::env::temp_dir().join(format!(
        "haoqi-deploy-secrets-{}-{}",
        std::process::id(),
        CALLS.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&secrets).expect("temp secrets dir");
    std::fs::write(secrets.join("cookies.env"), "").expect("cookies.env");
    let out = run(Command::new(tool("docker-compose"))
        .arg("-f")
        .arg(deploy().join("compose.yaml"))
        .arg("config")
        .env("HAOQI_SECRETS_DIR", &secrets)
        .env_remove("HAOQI_REGISTRY_DIR")
        .env_remove("GRAFANA_BIND")
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROJECT_NAME"));
    let _ = std::fs::remove_dir_all(&secrets);
    yaml(&String::from_utf8_lossy(&out.stdout))
}

fn services(config: &Value) -> &serde_json::Map<String, Value> {
    config["services"].as_object().expect("services")
}

/// (host source, container target) of a service's bind mounts, in the short ("src:dst:ro") or
/// the long ({type: bind, source, target}) form; named volumes are left out.
fn binds(service: &Value) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for v in service["volumes"].as_array().into_iter().flatten() {
        match v {
            Value::String(s) => {
                let mut parts = s.splitn(3, ':');
                let src = parts.next().unwrap_or("");
                let dst = parts.next().unwrap_or("");
                if src.starts_with('/') || src.starts_with('.') {
                    out.push((PathBuf::from(src), dst.to_string()));
                }
            }
            Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("bind") => {
                out.push((
                    PathBuf::from(str_of(&o["source"], "source")),
                    str_of(&o["target"], "target").to_string(),
                ));
            }
            _ => {}
        }
    }
    out
}

#[test]
fn compose_config_is_valid_and_every_mounted_file_is_in_the_repository() {
    let config = compose_config();
    let repo = repo().canonicalize().expect("repo path");
    let mut checked = 0;
    for (name, svc) in services(&config) {
        for (src, dst) in binds(svc) {
            let src = if src.is_relative() {
                deploy().join(src)
            } else {
                src
            };
            assert!(
                src.starts_with(&repo),
                "{name}: {} -> {dst} is mounted from outside the repository; secrets belong in \
                 `secrets:`, data in named volumes",
                src.display()
            );
            assert!(
                src.exists(),
                "{name}: {} (mounted at {dst}) does not exist in the repository",
                src.display()
            );
            checked += 1;
        }
        if let Some(build) = svc.get("build") {
            let context = PathBuf::from(str_of(&build["context"], "build.context"));
            let dockerfile = str_of(&build["dockerfile"], "build.dockerfile");
            assert!(
                context.join(dockerfile).is_file(),
                "{name}: {dockerfile} not in {}",
                context.display()
            );
        }
    }
    assert!(checked >= 8, "only {checked} bind mounts checked");
    // The provider's path is where compose mounts dashboards/.
    let provider = yaml_file(&repo.join("dashboards/provisioning/dashboards/haoqi.yaml"));
    let path = str_of(
        &provider["providers"][0]["options"]["path"],
        "provider path",
    );
    let grafana = &services(&config)["grafana"];
    assert!(
        binds(grafana)
            .iter()
            .any(|(src, dst)| dst == path && src.ends_with("dashboards")),
        "grafana must mount dashboards/ at {path}"
    );
}

#[test]
fn compose_images_are_pinned_and_nothing_is_published_beyond_loopback() {
    let config = compose_config();
    for (name, svc) in services(&config) {
        let image = str_of(&svc["image"], "image");
        if svc.get("build").is_none() {
            let tag = image.rsplit_once(':').map_or("", |(_, t)| t);
            assert!(
                tag != "latest" && tag.chars().any(|c| c.is_ascii_digit()),
                "{name}: image {image} must be pinned to a version"
            );
        }
        for port in svc["ports"].as_array().into_iter().flatten() {
            let shown = port.to_string();
            let host_ip = match port {
                Value::String(s) => s.split(':').next().unwrap_or("").to_string(),
                Value::Object(o) => o
                    .get("host_ip")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                _ => String::new(),
            };
            assert_eq!(
                host_ip, "127.0.0.1",
                "{name}: port {shown} is published beyond loopback"
            );
        }
    }
    let svcs = services(&config);
    for internal in ["clickhouse", "haoqi", "haoqi-init"] {
        assert!(
            svcs[internal]["ports"].as_array().is_none_or(Vec::is_empty),
            "{internal} must not publish a port"
        );
    }
    let command: Vec<&str> = svcs["haoqi"]["command"]
        .as_array()
        .expect("haoqi command")
        .iter()
        .map(|v| str_of(v, "arg"))
        .collect();
    assert_eq!(command, ["run", "--listen", "0.0.0.0:9464"]);
    // Prometheus scrapes the address haoqi listens on.
    let prom = yaml_file(&deploy().join("prometheus/prometheus.yml"));
    let haoqi_job = prom["scrape_configs"]
        .as_array()
        .expect("scrape_configs")
        .iter()
        .find(|j| j["job_name"] == "haoqi")
        .expect("job haoqi");
    assert_eq!(haoqi_job["static_configs"][0]["targets"][0], "haoqi:9464");
}

/// Every `/run/secrets/NAME` that a service's configuration reads is granted to that service,
/// and every granted secret is a file outside the repository.
#[test]
fn each_service_is_granted_the_secrets_its_configuration_reads() {
    let config = compose_config();
    let repo = repo();
    for (name, svc) in services(&config) {
        let granted: BTreeSet<String> = svc["secrets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| match s {
                Value::String(s) => s.clone(),
                o => str_of(&o["source"], "secret source").to_string(),
            })
            .collect();
        let mut texts = Vec::new();
        for (src, _) in binds(svc) {
            let files = if src.is_dir() { walk(&src) } else { vec![src] };
            texts.extend(files.iter().filter_map(|f| std::fs::read_to_string(f).ok()));
        }
        if svc.get("build").is_some() {
            // The image carries deploy/haoqi.toml (deploy/Dockerfile).
            texts.push(read(&deploy().join("haoqi.toml")));
        }
        texts.push(svc["environment"].to_string());
        for text in &texts {
            for needed in secret_refs(text) {
                assert!(
                    granted.contains(&needed),
                    "{name} reads /run/secrets/{needed} but compose does not grant it"
                );
            }
        }
        for secret in &granted {
            let file = str_of(&config["secrets"][secret]["file"], "secret file");
            assert!(
                !Path::new(file).starts_with(&repo),
                "secret {secret} must live outside the repository, not {file}"
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn secret_refs(text: &str) -> Vec<String> {
    text.split("/run/secrets/")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

// --- Secrets are never committed ---------------------------------------------------------------

/// Walks a YAML document: a key that names a password, secret, token or key holds no literal —
/// only a `*_file` setting, Grafana's `$__file{…}`, or a nested mapping.
fn assert_no_inline_secret(path: &Path, v: &Value, at: &str) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let key = k.to_lowercase();
                let sensitive = ["password", "secret", "token", "api_key", "apikey"]
                    .iter()
                    .any(|s| key.contains(s));
                let by_file = key.ends_with("_file") || key.ends_with("__file");
                if sensitive && !by_file && key != "secrets" {
                    if let Value::String(s) = child {
                        assert!(
                            s.starts_with("$__file{") || s.starts_with("/run/secrets/"),
                            "{}: {at}.{k} holds a literal secret; use a *_file setting",
                            path.display()
                        );
                    }
                }
                assert_no_inline_secret(path, child, &format!("{at}.{k}"));
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                assert_no_inline_secret(path, child, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

#[test]
fn no_secret_is_written_into_a_committed_file() {
    let repo = repo();
    let yamls = [
        "deploy/compose.yaml",
        "deploy/prometheus/prometheus.yml",
        "deploy/alertmanager/alertmanager.yml",
        "dashboards/provisioning/datasources/clickhouse.yaml",
        "dashboards/provisioning/dashboards/haoqi.yaml",
    ];
    for rel in yamls {
        let path = repo.join(rel);
        assert_no_inline_secret(&path, &yaml_file(&path), "");
    }
    let am = read(&repo.join("deploy/alertmanager/alertmanager.yml"));
    assert!(
        !am.lines()
            .any(|l| l.trim_start().starts_with("api_secret:")),
        "alertmanager.yml: wechat api_secret can only be inline; use the relay"
    );

    // ClickHouse users: every password is `<password from_env="…"/>`, no hash or literal.
    for xml in walk(&deploy().join("clickhouse"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
    {
        let text = read(&xml);
        for (i, piece) in text.split("<password").enumerate().skip(1) {
            let element = piece.split('>').next().unwrap_or("");
            assert!(
                element.contains("from_env=") && element.ends_with('/'),
                "{} password #{i}: must be <password from_env=\"…\"/>, got <password{element}>",
                xml.display()
            );
        }
    }

    // haoqi.toml: the password comes from a file; the store URL carries no password.
    let path = deploy().join("haoqi.toml");
    let config = Config::parse(&path, &read(&path)).unwrap_or_else(|e| panic!("{e}"));
    let location = config.store.location.as_deref().expect("store.location");
    let userinfo = location
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .map_or("", |(u, _)| u);
    assert!(!userinfo.contains(':'), "store.location carries a password");

    // The systemd unit takes secrets from root-only files, never from Environment= lines.
    let unit = read(&deploy().join("systemd/haoqi.service"));
    for line in unit.lines().filter(|l| l.starts_with("Environment=")) {
        let upper = line.to_uppercase();
        assert!(
            !["PASSWORD", "COOKIE", "TOKEN", "SECRET"]
                .iter()
                .any(|s| upper.contains(s)),
            "haoqi.service: {line} — put secrets in an EnvironmentFile"
        );
    }
}

// --- haoqi, ClickHouse, Grafana, systemd --------------------------------------------------------

#[test]
fn production_haoqi_toml_parses_with_haoqis_own_parser() {
    let path = deploy().join("haoqi.toml");
    let config = Config::parse(&path, &read(&path)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        config.store.location.as_deref(),
        Some("http://haoqi_writer@clickhouse:8123/haoqi")
    );
    assert_eq!(
        config.store.password_file.as_deref(),
        Some(Path::new("/run/secrets/clickhouse_writer_password"))
    );
    assert_eq!(
        config.spool.dir.as_deref(),
        Some(Path::new("/var/lib/haoqi/spool"))
    );
    assert_eq!(
        config.web.database.as_deref(),
        Some(Path::new("/var/lib/haoqi/app.sqlite")),
        "the application database on the persistent volume"
    );
    assert!(
        config.collect.contact.starts_with("mailto:"),
        "collect.contact identifies the operator in the User-Agent"
    );
}

#[test]
fn clickhouse_files_parse_and_users_have_least_privilege() {
    const SCRIPT: &str = "import sys, xml.etree.ElementTree as E\n\
        for f in sys.argv[1:]: E.parse(f)";
    let dir = deploy().join("clickhouse");
    let xmls: Vec<PathBuf> = walk(&dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    assert!(xmls.len() >= 2, "{xmls:?}");
    run(Command::new(tool("python3"))
        .args(["-c", SCRIPT])
        .args(&xmls));

    let users = read(&dir.join("users.d/haoqi.xml"));
    let section = |user: &str| -> String {
        let open = format!("<{user}>");
        let close = format!("</{user}>");
        let start = users
            .find(&open)
            .unwrap_or_else(|| panic!("no user {user}"));
        let end = users[start..].find(&close).expect("closing tag") + start;
        users[start..end].to_string()
    };
    let grafana = section("grafana");
    assert!(
        grafana.contains("<profile>haoqi_readonly</profile>"),
        "{grafana}"
    );
    assert!(
        grafana.contains("GRANT SELECT, SHOW ON haoqi.*"),
        "grafana reads the haoqi database only: {grafana}"
    );
    assert!(users.contains("<readonly>1</readonly>"));
    let writer = section("haoqi_writer");
    assert!(writer.contains("ON haoqi.*"), "{writer}");
    for forbidden in ["ON *.*", "DROP DATABASE", "ACCESS MANAGEMENT", "GRANT ALL"] {
        assert!(
            !writer.contains(forbidden) && !grafana.contains(forbidden),
            "a haoqi user has {forbidden}"
        );
    }
    // The secrets wrapper refuses to start without passwords, for both users.
    let wrapper = read(&dir.join("load-secrets.sh"));
    for var in [
        "CLICKHOUSE_HAOQI_WRITER_PASSWORD",
        "CLICKHOUSE_GRAFANA_PASSWORD",
    ] {
        assert!(users.contains(var), "users.d does not read {var}");
        assert!(wrapper.contains(var), "load-secrets.sh does not set {var}");
    }
    run(Command::new("sh")
        .arg("-n")
        .arg(dir.join("load-secrets.sh")));
}

/// The users' GRANT statements parse on ClickHouse 26.7 (the embedded engine, the same release
/// as the server image), so a misspelt privilege is caught here rather than at server start.
#[tokio::test]
async fn clickhouse_grants_parse_on_the_engine_release_compose_runs() {
    let users = read(&deploy().join("clickhouse/users.d/haoqi.xml"));
    let grants: Vec<&str> = users
        .split("<query>")
        .skip(1)
        .map(|q| q.split("</query>").next().unwrap_or("").trim())
        .collect();
    assert!(grants.len() >= 2, "{grants:?}");
    let store = EmbeddedStore::open(haoqi_tests::engine_dir(), "deploy_grants")
        .unwrap_or_else(|e| panic!("{e}"));
    for grant in grants {
        let rows = store
            .query_rows(&format!("EXPLAIN AST {grant} TO haoqi_user"))
            .await
            .unwrap_or_else(|e| panic!("{grant}: {e}"));
        assert!(!rows.is_empty(), "{grant}: no AST");
    }
}

#[test]
fn grafana_provisioning_matches_the_compose_plugin_and_read_only_user() {
    let ds = yaml_file(&repo().join("dashboards/provisioning/datasources/clickhouse.yaml"));
    let source = &ds["datasources"][0];
    assert_eq!(source["uid"], "haoqi-clickhouse");
    assert_eq!(source["type"], "grafana-clickhouse-datasource");
    assert_eq!(source["jsonData"]["username"], "grafana");
    assert_eq!(source["jsonData"]["defaultDatabase"], "haoqi");
    assert_eq!(source["jsonData"]["host"], "clickhouse");
    let config = compose_config();
    let grafana = &services(&config)["grafana"];
    let plugins = str_of(
        &grafana["environment"]["GF_PLUGINS_PREINSTALL_SYNC"],
        "GF_PLUGINS_PREINSTALL_SYNC",
    );
    let (plugin, version) = plugins.split_once('@').expect("plugin@version");
    assert_eq!(plugin, "grafana-clickhouse-datasource");
    assert!(version.chars().next().is_some_and(|c| c.is_ascii_digit()));
}

#[test]
fn dockerfile_is_multi_stage_and_runs_as_non_root() {
    let text = read(&deploy().join("Dockerfile"));
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert!(froms.len() >= 2, "multi-stage: {froms:?}");
    for from in &froms {
        let image = from.split_whitespace().nth(1).unwrap_or("");
        let tag = image.rsplit_once(':').map_or("", |(_, t)| t);
        assert!(
            !tag.is_empty() && tag != "latest",
            "{from}: pin the base image"
        );
    }
    let user = text
        .lines()
        .filter_map(|l| l.strip_prefix("USER "))
        .next_back()
        .expect("a USER line");
    assert!(
        !["root", "0", "0:0"].contains(&user.trim()),
        "runs as {user}"
    );
    for copied in text.lines().filter_map(|l| l.strip_prefix("COPY ")) {
        if copied.starts_with("--from") {
            continue;
        }
        let mut parts: Vec<&str> = copied.split_whitespace().collect();
        parts.pop(); // destination
        for src in parts {
            assert!(
                repo().join(src).exists(),
                "COPY {src}: not in the repository"
            );
        }
    }
    let ignore = read(&deploy().join("Dockerfile.dockerignore"));
    assert!(
        ignore.lines().any(|l| l.trim() == "target"),
        "target/ must stay out of the context"
    );
}

#[test]
fn systemd_unit_verifies_and_is_hardened() {
    let unit_path = deploy().join("systemd/haoqi.service");
    let unit = read(&unit_path);
    for key in [
        "DynamicUser=yes",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=",
        "StateDirectory=haoqi",
    ] {
        assert!(unit.lines().any(|l| l == key), "haoqi.service lacks {key}");
    }
    assert!(
        unit.contains("run --listen 127.0.0.1:9464"),
        "/metrics stays on loopback"
    );
    // haoqi is not installed here: verify a copy whose commands point at /bin/true, so the
    // check is about the unit's keys and values.
    let dir = std::env::temp_dir().join(format!("haoqi-deploy-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let copy = dir.join("haoqi.service");
    std::fs::write(&copy, unit.replace("/usr/local/bin/haoqi", "/bin/true")).expect("unit copy");
    let out = run(Command::new(tool("systemd-analyze"))
        .arg("verify")
        .arg(&copy));
    let _ = std::fs::remove_dir_all(&dir);
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(
        warnings.trim().is_empty(),
        "systemd-analyze verify warns:\n{warnings}"
    );
}
