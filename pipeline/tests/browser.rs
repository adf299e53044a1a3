//! The web application in a real headless browser (Debian's chromium through chromedriver), as
//! its people use it: a demo store, one login per role made with `haoqi user add`, `haoqi
//! serve`; each role logs in through the form, the wall's total read from the DOM equals `haoqi
//! progress --format json`'s, the committee resolves an anomaly, a unit cannot open another
//! unit's page. A screenshot of every page goes to `target/browser-screenshots/` (kept by CI).
//!
//! Without chromium and chromedriver this fails, naming `deploy/install-tools.sh`: a browser
//! test that skips itself proves nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::scratch;
use fantoccini::{Client, ClientBuilder, Locator};

const PW: &str = "browser test password";
/// 乌鲁木齐市科协 and its prefecture, in the reference registry; 喀什地区科协 is another unit.
const UNIT: &str = "XJ-P-650100";
const OTHER_UNIT: &str = "XJ-P-653100";
const PREFECTURE: &str = "650100";

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wait_for_port(port: u16, what: &str) {
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not listen on port {port} within 20 s");
}

fn require(tool: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("{tool} is not installed: run deploy/install-tools.sh (Debian packages chromium, chromium-driver, fonts-noto-cjk, chromium-l10n)")
    })
}

fn screenshots() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser-screenshots");
    std::fs::create_dir_all(&d).expect("screenshot dir");
    d
}

/// A browser session with its own empty profile, offline flags, Chinese UI, a 1920×1080 window.
async fn browser(driver_port: u16, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": require("chromium"),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--lang=zh-CN", "--window-size=1920,1080",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .unwrap_or_else(|e| panic!("chromedriver session: {e}"))
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).expect("write screenshot");
}

async fn log_in(c: &Client, base: &str, name: &str) {
    // A fresh start for each person: the previous one's session cookie goes.
    c.goto(&format!("{base}/login")).await.expect("login page");
    c.delete_all_cookies().await.expect("cookies");
    c.goto(&format!("{base}/")).await.expect("home");
    // Not logged in: the home page sends the browser to the login form.
    assert!(
        c.current_url()
            .await
            .expect("url")
            .path()
            .starts_with("/login"),
        "{name}: not sent to the login form"
    );
    c.find(Locator::Css("input[name=name]"))
        .await
        .expect("name field")
        .send_keys(name)
        .await
        .expect("type name");
    c.find(Locator::Css("input[name=password]"))
        .await
        .expect("password field")
        .send_keys(PW)
        .await
        .expect("type password");
    c.find(Locator::Css("form button[type=submit]"))
        .await
        .expect("login button")
        .click()
        .await
        .expect("log in");
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("form.logout"))
        .await
        .unwrap_or_else(|e| panic!("{name}: not logged in: {e}"));
}

async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .expect("text")
}

#[test]
fn every_role_through_a_real_browser() {
    require("chromium");
    let chromedriver = require("chromedriver");
    let d = scratch("browser");
    let ok = |line: &str| common::ok(&d, line);
    ok("demo --days 40 --rate 300 --no-serve");
    // A unit reports a value 78 times its last reading for yesterday: an anomaly to review.
    let yesterday = haoqi_model::time::last_complete_day();
    std::fs::write(
        d.join("jump.csv"),
        format!("单位名称,关注人数,日期\n乌鲁木齐市科学技术协会,900000,{yesterday}\n"),
    )
    .expect("jump.csv");
    ok("import readings jump.csv --platform douyin");
    std::fs::write(d.join("pw"), format!("{PW}\n")).expect("pw");
    for (name, role) in [
        ("b-admin", "admin".to_string()),
        ("b-leader", "leader".into()),
        ("b-committee", "committee".into()),
        ("b-ops", "ops".into()),
        ("b-liaison", format!("liaison --prefecture {PREFECTURE}")),
        ("b-unit", format!("unit --unit {UNIT}")),
    ] {
        ok(&format!("user add {name} --password-file pw --role {role}"));
    }
    let progress: serde_json::Value =
        serde_json::from_str(&ok("progress --format json")).expect("progress json");
    let total = progress["matrix"]["followers"].as_u64().expect("followers");
    assert!(total > 0);

    let port = free_port();
    let _server = Killed(
        Command::new(env!("CARGO_BIN_EXE_haoqi"))
            .current_dir(&d)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()
            .expect("haoqi serve"),
    );
    wait_for_port(port, "haoqi serve");
    let driver_port = free_port();
    let _driver = Killed(
        Command::new(chromedriver)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver"),
    );
    wait_for_port(driver_port, "chromedriver");
    let base = format!("http://127.0.0.1:{port}");
    let profile = d.join("chromium-profile");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let c = browser(driver_port, &profile).await;

        // The leader's wall shows exactly the CLI's total.
        log_in(&c, &base, "b-leader").await;
        assert_eq!(c.current_url().await.expect("url").path(), "/wall");
        let shown = text_of(&c, "#total-full").await;
        assert_eq!(
            shown,
            haoqi_model::table::group_thousands(total),
            "the wall's total against haoqi progress --format json"
        );
        assert_eq!(
            text_of(&c, "#total-wan").await,
            haoqi_model::table::wan(total)
        );
        // The daily series is drawn by the vendored ECharts, under the page's CSP.
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#series-chart canvas"))
            .await
            .expect("the ECharts canvas");
        shot(&c, "wall-leader").await;

        // The committee resolves the first open anomaly with a note.
        log_in(&c, &base, "b-committee").await;
        c.goto(&format!("{base}/committee"))
            .await
            .expect("committee");
        shot(&c, "committee").await;
        // The ranking as the committee prints it (the print stylesheet: A4 landscape, headers
        // repeated, no forms), kept beside the screenshots.
        let pdf = c
            .print(fantoccini::wd::PrintConfiguration::default())
            .await
            .expect("print to PDF");
        assert!(pdf.starts_with(b"%PDF"), "a PDF");
        std::fs::write(screenshots().join("committee.pdf"), &pdf).expect("write pdf");
        let open = c
            .find_all(Locator::Css(".anomaly form input[name=note]"))
            .await
            .expect("anomaly forms");
        assert!(!open.is_empty(), "the demo has open anomalies to review");
        let before = open.len();
        open[0]
            .send_keys("已核实：线下活动带来的增长")
            .await
            .expect("note");
        c.find(Locator::Css(".anomaly form button"))
            .await
            .expect("resolve button")
            .click()
            .await
            .expect("resolve");
        c.wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::XPath("//h2[starts-with(., '已核实的异常')]"))
            .await
            .expect("the resolved list");
        let after = c
            .find_all(Locator::Css(".anomaly form input[name=note]"))
            .await
            .expect("anomaly forms")
            .len();
        assert_eq!(after, before - 1, "one anomaly fewer to review");

        // Operations, the liaison, admin: their pages open and show their figures.
        log_in(&c, &base, "b-ops").await;
        assert_eq!(c.current_url().await.expect("url").path(), "/ops");
        shot(&c, "ops").await;
        log_in(&c, &base, "b-liaison").await;
        assert_eq!(
            c.current_url().await.expect("url").path(),
            format!("/prefecture/{PREFECTURE}")
        );
        assert!(text_of(&c, "h1").await.contains("乌鲁木齐"));
        shot(&c, "prefecture").await;
        log_in(&c, &base, "b-admin").await;
        assert_eq!(c.current_url().await.expect("url").path(), "/admin");
        shot(&c, "admin").await;

        // A unit sees its own page and not another's.
        log_in(&c, &base, "b-unit").await;
        assert_eq!(
            c.current_url().await.expect("url").path(),
            format!("/unit/{UNIT}")
        );
        assert!(text_of(&c, "h1").await.contains("乌鲁木齐"));
        shot(&c, "unit").await;
        c.goto(&format!("{base}/unit/{OTHER_UNIT}"))
            .await
            .expect("other unit");
        assert_eq!(text_of(&c, "h1").await, "未找到");
        assert!(!c.source().await.expect("source").contains("喀什"));
        shot(&c, "unit-other-404").await;

        // On a phone-sized window the wall still shows its total.
        log_in(&c, &base, "b-leader").await;
        c.set_window_size(390, 844).await.expect("phone size");
        c.goto(&format!("{base}/wall")).await.expect("wall");
        assert_eq!(
            text_of(&c, "#total-full").await,
            haoqi_model::table::group_thousands(total)
        );
        shot(&c, "wall-phone").await;
        c.close().await.expect("close");
    });
}
