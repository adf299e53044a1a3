//! The web application through its router (no socket), on the real embedded engine: who may
//! open what (every route × role), the wall's figures against the product's report, and the
//! attacks the issue names — another unit's page, CSRF, `<script>` in a note, ten wrong
//! passwords, huge fields, a revoked kiosk link, a disabled login's cookie.
//!
//! Fixture: the analytics registry (乌鲁木齐市 650100 with two counties, two societies, a
//! university, a museum); three Douyin accounts read daily over the last ten complete days.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use chrono::{Days, NaiveDate};
use haoqi_analytics::goal;
use haoqi_appdb::role::Grant;
use haoqi_appdb::{Actor, AppDb, NewUser, Role};
use haoqi_model::reading::Reading;
use haoqi_platform::Platform::Douyin;
use haoqi_tests::*;
use tower::ServiceExt;

const PW: &str = "a long enough password";

/// Who logs in, with which role and binding.
const PEOPLE: &[(&str, Role, Option<&str>, Option<u32>)] = &[
    ("admin", Role::Admin, None, None),
    ("leader", Role::Leader, None, None),
    ("committee", Role::Committee, None, None),
    ("ops", Role::Ops, None, None),
    ("liaison", Role::Liaison, None, Some(650100)),
    ("tianshan", Role::Unit, Some("T-C-650102"), None),
    ("society", Role::Unit, Some("T-S-001"), None),
];

fn first_day() -> NaiveDate {
    haoqi_model::time::last_complete_day() - Days::new(9)
}

fn readings() -> Vec<Reading> {
    let line = |account: &str, base: u32, step: u32| {
        followers_daily(account, Douyin, first_day(), 1..=10, |d| {
            (base + step * d).to_string()
        })
    };
    let mut r = line("P1-dy", 100_000, 1_000);
    r.extend(line("C1-dy", 500, 50));
    r.extend(line("S1-dy", 2_000, 10));
    // The university's account jumps from 1,070 to 60,080 on day 8: an anomaly to review.
    r.extend(followers_daily("U1-dy", Douyin, first_day(), 1..=10, |d| {
        let base = if d >= 8 { 60_000 } else { 1_000 };
        (base + 10 * d).to_string()
    }));
    r
}

struct App {
    router: Router,
    db: Arc<AppDb>,
    store: Arc<dyn haoqi_store::Store>,
    _dir: tempfile::TempDir,
}

async fn app(test: &str) -> App {
    app_with(test, true).await
}

/// With `refresh`, as `haoqi serve` runs it (pages answer from the minute's refresh once it has
/// run: waited for here); without, every page asks the store with the viewer's scope.
async fn app_with(test: &str, refresh: bool) -> App {
    let store = analytics_store(test, &readings()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Arc::new(AppDb::open(&dir.path().join("app.sqlite")).expect("app db"));
    for (name, role, unit, pref) in PEOPLE {
        let grant = Grant::new(*role, unit.map(str::to_string), *pref).expect("grant");
        db.add_user(
            &NewUser {
                name: (*name).into(),
                grant,
            },
            PW,
            &Actor::command_line(),
        )
        .expect("add user");
    }
    let settings = haoqi::config::Config::default().analytics();
    let metrics = haoqi_web::Metrics::new().expect("metrics");
    let router = if refresh {
        let router = haoqi::service::serve::app(
            store.clone(),
            settings,
            metrics,
            None,
            3600,
            Some(haoqi::service::serve::Web {
                db: db.clone(),
                config: haoqi_web::app::WebConfig::default(),
            }),
        );
        wait_for_refresh(&router).await;
        router
    } else {
        haoqi_web::app::router(
            haoqi_web::AppState {
                metrics,
                store: store.clone(),
                settings: Arc::new(settings),
                health: haoqi_analytics::snapshot::Latest::default(),
                cache: haoqi_web::Cache::default(),
            },
            db.clone(),
            &haoqi_web::app::WebConfig::default(),
        )
    };
    App {
        router,
        db,
        store,
        _dir: dir,
    }
}

/// Until the first refresh has put the goal report and the accounts in the cache.
async fn wait_for_refresh(router: &Router) {
    for _ in 0..600 {
        let a = send(router, Method::GET, "/api/progress", None, None).await;
        if a.headers
            .get("x-haoqi-computed-by")
            .is_some_and(|v| v == "refresh")
        {
            // The refresh puts the accounts before the report.
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no refresh within a minute");
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The `name=value` of a Set-Cookie header for `name`.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .find(|kv| kv.starts_with(&format!("{name}=")))
            .map(str::to_string)
    }

    /// The value of the first hidden `csrf` input.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a csrf field")
            + 19;
        self.body[at..]
            .split('"')
            .next()
            .expect("value")
            .to_string()
    }

    /// The text of the element with id `id`.
    fn text_of(&self, id: &str) -> String {
        let at = self
            .body
            .find(&format!("id=\"{id}\">"))
            .unwrap_or_else(|| panic!("no #{id} in {}", self.body))
            + id.len()
            + 6;
        self.body[at..].split('<').next().expect("text").to_string()
    }
}

async fn send(
    app: &Router,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    form: Option<String>,
) -> Answer {
    send_with(app, method, path, cookie, form, &[]).await
}

/// `send` with more request headers.
async fn send_with(
    app: &Router,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    form: Option<String>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let body = match form {
        Some(f) => {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(f)
        }
        None => Body::empty(),
    };
    let res = app
        .clone()
        .oneshot(req.body(body).expect("request"))
        .await
        .expect("answer");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 10 << 20)
        .await
        .expect("body");
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(app: &Router, path: &str, cookie: Option<&str>) -> Answer {
    send(app, Method::GET, path, cookie, None).await
}

async fn post(app: &Router, path: &str, cookie: Option<&str>, pairs: &[(&str, &str)]) -> Answer {
    send(app, Method::POST, path, cookie, Some(form(pairs))).await
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Logs `name` in with `password`; the answer to the POST and the form's cookie.
async fn try_login(app: &Router, name: &str, password: &str) -> Answer {
    let page = send(app, Method::GET, "/login", None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let cookie = page.cookie("haoqi_login_csrf").expect("login csrf cookie");
    let body = form(&[
        ("name", name),
        ("password", password),
        ("csrf", &page.csrf()),
        ("next", "/"),
    ]);
    send(app, Method::POST, "/login", Some(&cookie), Some(body)).await
}

/// The session cookie of `name`.
async fn login(app: &Router, name: &str) -> String {
    let a = try_login(app, name, PW).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{name}: {}", a.body);
    a.cookie("haoqi_session").expect("session cookie")
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_table_says() {
    // From the refresh's accounts, filtered by scope here; and from the store, filtered there.
    for refresh in [true, false] {
        let test = if refresh {
            "web_roles"
        } else {
            "web_roles_asked"
        };
        routes_for_each_role(&app_with(test, refresh).await).await;
    }
}

async fn routes_for_each_role(app: &App) {
    let ok = StatusCode::OK;
    let no = StatusCode::FORBIDDEN;
    let nf = StatusCode::NOT_FOUND;
    // Columns in PEOPLE's order: admin, leader, committee, ops, liaison, tianshan, society.
    let table: &[(&str, [StatusCode; 7])] = &[
        ("/wall", [ok, ok, ok, ok, no, no, no]),
        ("/admin", [ok, no, no, no, no, no, no]),
        ("/admin/audit.csv", [ok, no, no, no, no, no, no]),
        ("/ops", [ok, no, no, ok, no, no, no]),
        ("/admin/registry?q=天山", [ok, no, no, no, no, no, no]),
        ("/committee", [ok, no, ok, no, no, no, no]),
        ("/committee/ranking.xlsx", [ok, no, ok, no, no, no, no]),
        (
            "/committee/frozen/nothing-frozen",
            [nf, no, nf, no, no, no, no],
        ),
        ("/unit/T-C-650102", [ok, ok, ok, ok, ok, ok, nf]),
        ("/unit/T-S-001", [ok, ok, ok, ok, nf, nf, ok]),
        ("/unit/NO-SUCH-UNIT", [nf, nf, nf, nf, nf, nf, nf]),
        ("/prefecture/650100", [ok, ok, ok, ok, ok, no, no]),
        ("/prefecture/653100", [nf, nf, nf, nf, nf, no, no]),
    ];
    let mut cookies = Vec::new();
    for (name, ..) in PEOPLE {
        cookies.push(login(&app.router, name).await);
    }
    for (path, want) in table {
        let path = &path.replace("天山", "%E5%A4%A9%E5%B1%B1");
        for (i, (name, ..)) in PEOPLE.iter().enumerate() {
            let a = get(&app.router, path, Some(&cookies[i])).await;
            assert_eq!(a.status, want[i], "{name} GET {path}: {}", a.body);
            if a.status == nf {
                // Outside one's scope reads exactly like nothing there.
                assert!(a.body.contains("没有这个页面"), "{name} {path}");
                assert!(!a.body.contains("天山区科学技术协会") && !a.body.contains("地理学会"));
            }
        }
    }
    // The registry search finds the county association's two accounts by its name.
    let found = send(
        &app.router,
        Method::GET,
        "/admin/registry?q=%E5%A4%A9%E5%B1%B1",
        Some(&cookies[0]),
        None,
    )
    .await;
    assert!(
        found
            .text_of("registry-count")
            .starts_with("共 2 个账号符合"),
        "{}",
        found.body
    );
    // The home page sends each role to its place.
    let homes = [
        "/admin",
        "/wall",
        "/committee",
        "/ops",
        "/prefecture/650100",
        "/unit/T-C-650102",
        "/unit/T-S-001",
    ];
    for (i, want) in homes.iter().enumerate() {
        let a = send(&app.router, Method::GET, "/", Some(&cookies[i]), None).await;
        assert_eq!((a.status, a.location()), (StatusCode::SEE_OTHER, *want));
    }
}

#[tokio::test]
async fn without_a_session_pages_go_to_the_login_and_writes_are_refused() {
    let app = app("web_anonymous").await;
    for path in [
        "/",
        "/wall",
        "/admin",
        "/unit/T-C-650102",
        "/prefecture/650100",
    ] {
        let a = get(&app.router, path, None).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            a.location().starts_with("/login?next="),
            "{path}: {}",
            a.location()
        );
    }
    let a = post(
        &app.router,
        "/unit/T-C-650102/report",
        None,
        &[
            ("csrf", "x"),
            ("kind", "other"),
            ("account", ""),
            ("text", "t"),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let forged = get(&app.router, "/unit/T-C-650102", Some("haoqi_session=0000")).await;
    assert_eq!(forged.status, StatusCode::SEE_OTHER);
    // The API and health endpoints stay as they were, for dashboards and probes.
    let h = get(&app.router, "/healthz", None).await;
    assert_ne!(h.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_wall_shows_the_products_figures() {
    let app = app("web_wall").await;
    let cookie = login(&app.router, "leader").await;
    let page = get(&app.router, "/wall", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let as_of = haoqi_model::time::last_complete_day();
    let report = goal::report(
        app.store.as_ref(),
        &haoqi::config::Config::default().analytics(),
        as_of,
        &[],
    )
    .await
    .expect("report");
    // Day 10: 100,000 + 10,000, 500 + 500, 2,000 + 100, 60,000 + 100.
    assert_eq!(report.progress.matrix.followers, 173_200);
    assert_eq!(page.text_of("total-full"), "173,200");
    assert_eq!(page.text_of("total-wan"), "17.3万");
    assert_eq!(
        page.text_of("share"),
        format!("{:.1}%", report.progress.share_of_goal * 100.0)
    );
    assert!(page.text_of("as-of").starts_with(&as_of.to_string()));
    assert!(
        page.body.contains("乌鲁木齐市"),
        "the tile map names the prefecture"
    );
    // The week's risers: the university's jump (+59,070 over 7 days) first, then 乌鲁木齐's +7,000.
    let risers = &page.body[page.body.find("id=\"risers\"").expect("risers")..];
    let first = risers.find("+5.9万").expect("the jump");
    let second = risers.find("+7,000").expect("the steady riser");
    assert!(first < second, "{risers}");
    assert_eq!(report.movers.risers[0].account_id, "U1-dy");
    // The same figure through the JSON API.
    let api = get(&app.router, "/api/progress", None).await;
    let json: serde_json::Value = serde_json::from_str(&api.body).expect("json");
    assert_eq!(json["progress"]["matrix"]["followers"], 173_200);
}

#[tokio::test]
async fn pages_carry_a_policy_that_forbids_inline_script() {
    let app = app("web_headers").await;
    let a = get(&app.router, "/login", None).await;
    let csp = a
        .headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .expect("csp")
        .to_string();
    let script = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .expect("script-src");
    assert_eq!(script.trim(), "script-src 'self'");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(!a.body.contains("<script>"), "no inline script in the page");
    assert_eq!(a.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let js = get(&app.router, "/assets/htmx.min.js", None).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.body.contains("htmx"));
}

#[tokio::test]
async fn a_report_needs_the_csrf_token_and_its_text_is_shown_as_text() {
    let app = app("web_csrf").await;
    let cookie = login(&app.router, "tianshan").await;
    let page = get(&app.router, "/unit/T-C-650102", Some(&cookie)).await;
    let token = page.csrf();
    // The county association has Douyin and Bilibili accounts: Channels and Kuaishou are missing.
    assert!(page.body.contains("缺少视频号账号") && page.body.contains("缺少快手账号"));
    assert!(!page.body.contains("缺少抖音账号") && !page.body.contains("缺少哔哩哔哩账号"));
    let evil = "<script>alert(1)</script>";
    let post = |csrf: String, unit: &'static str| {
        let body = form(&[
            ("csrf", &csrf),
            ("kind", "wrong_account"),
            ("account", "抖音 好奇天山"),
            ("text", evil),
        ]);
        let router = app.router.clone();
        let cookie = cookie.clone();
        async move {
            send(
                &router,
                Method::POST,
                &format!("/unit/{unit}/report"),
                Some(&cookie),
                Some(body),
            )
            .await
        }
    };
    let forged = post("not the token".into(), "T-C-650102").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(app.db.reports(None, false).expect("reports").is_empty());
    // Another unit's report form is as closed as its page.
    let other = post(token.clone(), "T-S-001").await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert!(app.db.reports(None, false).expect("reports").is_empty());

    let sent = post(token, "T-C-650102").await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let stored = app.db.reports(None, false).expect("reports");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].unit_id, "T-C-650102");
    assert_eq!(stored[0].created_by, "tianshan");
    let again = get(&app.router, "/unit/T-C-650102", Some(&cookie)).await;
    assert!(!again.body.contains(evil));
    assert!(again.body.contains("&#60;script&#62;") || again.body.contains("&lt;script&gt;"));
    // The office sees it in its queue, escaped too, and the write is in the audit log.
    let admin = login(&app.router, "admin").await;
    let queue = get(&app.router, "/admin", Some(&admin)).await;
    assert!(queue.body.contains("抖音 好奇天山") && !queue.body.contains(evil));
    let log = app.db.audit_log(50, Some("report.add")).expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].actor, "tianshan");
}

#[tokio::test]
async fn ten_wrong_passwords_lock_the_login_and_say_so() {
    let app = app("web_lock").await;
    for _ in 0..10 {
        let a = try_login(&app.router, "leader", "wrong password!!").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert!(a.body.contains("用户名或密码错误"));
    }
    let a = try_login(&app.router, "leader", PW).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.body.contains("已锁定到"), "{}", a.body);
    assert!(a.cookie("haoqi_session").is_none());
    // Others are not locked out by it.
    login(&app.router, "ops").await;
    let failed = app.db.audit_log(100, Some("login.failed")).expect("log");
    assert_eq!(failed.len(), 10);
}

#[tokio::test]
async fn a_login_without_its_form_cookie_or_with_huge_fields_changes_nothing() {
    let app = app("web_bad_forms").await;
    let page = get(&app.router, "/login", None).await;
    let body = form(&[("name", "leader"), ("password", PW), ("csrf", &page.csrf())]);
    let a = send(&app.router, Method::POST, "/login", None, Some(body)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "no double-submit cookie");
    assert!(a.cookie("haoqi_session").is_none());

    let cookie = page.cookie("haoqi_login_csrf").expect("cookie");
    let long = "x".repeat(300);
    let body = form(&[("name", &long), ("password", PW), ("csrf", &page.csrf())]);
    let a = send(
        &app.router,
        Method::POST,
        "/login",
        Some(&cookie),
        Some(body),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("最多 64 个字符"));

    let huge = "x".repeat(200 * 1024);
    let body = form(&[
        ("name", "leader"),
        ("password", &huge),
        ("csrf", &page.csrf()),
    ]);
    let a = send(
        &app.router,
        Method::POST,
        "/login",
        Some(&cookie),
        Some(body),
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(a.body.contains("提交的内容过大"), "{}", a.body);
    assert_eq!(app.db.session_count("leader").expect("sessions"), 0);
    // A form with a field missing, or a date that is not one: a page that says so.
    let a = post(&app.router, "/login", Some(&cookie), &[("name", "x")]).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("表单内容无法识别"), "{}", a.body);
    let admin = login(&app.router, "admin").await;
    let a = get(&app.router, "/committee?from=yesterday", Some(&admin)).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("YYYY-MM-DD"), "{}", a.body);
    // Behind an HTTPS proxy the session cookie is Secure.
    let page = get(&app.router, "/login", None).await;
    let cookie = page.cookie("haoqi_login_csrf").expect("cookie");
    let body = form(&[("name", "leader"), ("password", PW), ("csrf", &page.csrf())]);
    let res = send_with(
        &app.router,
        Method::POST,
        "/login",
        Some(&cookie),
        Some(body),
        &[("x-forwarded-proto", "https")],
    )
    .await;
    let set = res
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("haoqi_session="))
        .expect("session cookie")
        .to_string();
    assert!(
        set.contains("; Secure") && set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
}

#[tokio::test]
async fn disabling_a_login_or_logging_out_ends_its_session() {
    let app = app("web_sessions").await;
    let cookie = login(&app.router, "liaison").await;
    let ok = get(&app.router, "/prefecture/650100", Some(&cookie)).await;
    assert_eq!(ok.status, StatusCode::OK);
    app.db
        .set_disabled("liaison", true, &Actor::command_line())
        .expect("disable");
    let gone = get(&app.router, "/prefecture/650100", Some(&cookie)).await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    let refused = try_login(&app.router, "liaison", PW).await;
    assert!(refused.body.contains("已停用"));

    let cookie = login(&app.router, "ops").await;
    let page = get(&app.router, "/wall", Some(&cookie)).await;
    let out = post(
        &app.router,
        "/logout",
        Some(&cookie),
        &[("csrf", &page.csrf())],
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = get(&app.router, "/wall", Some(&cookie)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_kiosk_link_opens_the_wall_until_it_is_revoked() {
    let app = app("web_kiosk").await;
    let admin = login(&app.router, "admin").await;
    let page = get(&app.router, "/admin", Some(&admin)).await;
    let made = post(
        &app.router,
        "/admin/kiosk",
        Some(&admin),
        &[("csrf", &page.csrf()), ("label", "三楼大屏")],
    )
    .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let at = made.body.find("/wall?kiosk=").expect("the new link") + 12;
    let token: String = made.body[at..].chars().take(64).collect();
    let wall = get(&app.router, &format!("/wall?kiosk={token}"), None).await;
    assert_eq!(wall.status, StatusCode::OK);
    assert!(wall.body.contains("三楼大屏"));
    assert_eq!(wall.text_of("total-full"), "173,200");
    // The kiosk is read-only: it opens no other page.
    let other = get(&app.router, &format!("/admin?kiosk={token}"), None).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);

    let id = app.db.kiosks().expect("kiosks")[0].id;
    let revoked = post(
        &app.router,
        &format!("/admin/kiosk/{id}/revoke"),
        Some(&admin),
        &[("csrf", &page.csrf())],
    )
    .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let wall = get(&app.router, &format!("/wall?kiosk={token}"), None).await;
    assert_eq!(wall.status, StatusCode::FORBIDDEN);
    let csv = get(&app.router, "/admin/audit.csv", Some(&admin)).await;
    assert!(csv.body.contains("kiosk.create") && csv.body.contains("kiosk.revoke"));
}

#[tokio::test]
async fn operations_acknowledge_an_account_in_its_current_state() {
    let app = app("web_ops").await;
    let ops = login(&app.router, "ops").await;
    let page = get(&app.router, "/ops", Some(&ops)).await;
    assert_eq!(page.status, StatusCode::OK);
    // Accounts never read are not growing: listed, with the state's hidden field.
    let at = page.body.find("id=\"acc-").expect("a listed account") + 8;
    let account: String = page.body[at..].split('"').next().expect("id").to_string();
    let state_at = page.body[at..]
        .find("name=\"state\" value=\"")
        .expect("state")
        + at
        + 20;
    let state: String = page.body[state_at..]
        .split('"')
        .next()
        .expect("state")
        .to_string();
    assert!(!state.is_empty() && state != "growing", "{state}");
    let ack = |state: &str, assignee: &str, cookie: &str| {
        let body = form(&[
            ("csrf", &page.csrf()),
            ("account_id", &account),
            ("state", state),
            ("assignee", assignee),
            ("note", "已联系单位"),
        ]);
        let router = app.router.clone();
        let cookie = cookie.to_string();
        async move {
            send(
                &router,
                Method::POST,
                "/ops/acknowledge",
                Some(&cookie),
                Some(body),
            )
            .await
        }
    };
    let stale = ack("dropping_not_now", "王工", &ops).await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST);
    assert!(app.db.acknowledgements().expect("acks").is_empty());
    let unit = login(&app.router, "tianshan").await;
    let refused = ack(&state, "王工", &unit).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let done = ack(&state, "王工<b>", &ops).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let again = get(&app.router, "/ops", Some(&ops)).await;
    assert!(again.body.contains("王工&#60;b&#62;") || again.body.contains("王工&lt;b&gt;"));
    let acks = app.db.acknowledgements().expect("acks");
    assert_eq!(acks[&account].created_by, "ops");
    assert_eq!(app.db.audit_log(10, Some("health.")).expect("log").len(), 1);
}

#[tokio::test]
async fn the_committee_resolves_an_anomaly_freezes_the_ranking_and_gets_the_workbook() {
    let app = app("web_committee").await;
    let c = login(&app.router, "committee").await;
    // The ten days with readings (the default, the last 30 days, has too little coverage).
    let to = haoqi_model::time::last_complete_day();
    let from = first_day();
    let url = format!("/committee?from={from}&to={to}");
    let page = get(&app.router, &url, Some(&c)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // The page's ranking is rank::compute's, score for score.
    let settings = haoqi::config::Config::default().analytics();
    let (ranking, _) = haoqi_analytics::rank::compute(
        app.store.as_ref(),
        from,
        to,
        &haoqi_analytics::rank::TierFilter::Both,
        &settings.rank,
        &settings.crawled,
    )
    .await
    .expect("ranking");
    assert!(!ranking.accounts.is_empty());
    for a in &ranking.accounts {
        let cell = format!("<td class=\"score\">{:.2}</td>", a.score);
        assert!(
            page.body.contains(&cell),
            "{cell} for {}",
            a.input.account_id
        );
    }
    let jump = ranking
        .anomalies
        .iter()
        .find(|a| a.account_id == "U1-dy")
        .expect("the planted jump is found");
    assert!(page.body.contains("name=\"account_id\" value=\"U1-dy\""));
    // Its evidence: the days around the jump, the jump's day marked (1,070 → 60,080).
    let marked = format!("<tr class=\"marked\"><td>{}</td><td>60,080</td>", jump.day);
    assert!(page.body.contains(&marked), "{marked}");
    let before = format!("<td>{}</td><td>1,070</td>", jump.day - Days::new(1));
    assert!(page.body.contains(&before), "{before}");
    let resolve = |csrf: &str, note: &str, cookie: &str| {
        let body = form(&[
            ("csrf", csrf),
            ("account_id", "U1-dy"),
            ("day", &jump.day.to_string()),
            ("kind", &jump.kind),
            ("note", note),
            ("from", &from.to_string()),
            ("to", &to.to_string()),
        ]);
        let router = app.router.clone();
        let cookie = cookie.to_string();
        async move {
            send(
                &router,
                Method::POST,
                "/committee/resolve",
                Some(&cookie),
                Some(body),
            )
            .await
        }
    };
    let csrf = page.csrf();
    assert_eq!(
        resolve("forged", "ok", &c).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        resolve(&csrf, "  ", &c).await.status,
        StatusCode::BAD_REQUEST
    );
    let ops = login(&app.router, "ops").await;
    let ops_page = get(&app.router, "/ops", Some(&ops)).await;
    assert_eq!(
        resolve(&ops_page.csrf(), "ok", &ops).await.status,
        StatusCode::FORBIDDEN
    );
    let none = haoqi_analytics::rank::freeze::resolutions(app.store.as_ref())
        .await
        .expect("r");
    assert!(none.is_empty(), "nothing resolved by refused requests");
    let done = resolve(&csrf, "学校开学活动带来的增长，已核实", &c).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let stored = haoqi_analytics::rank::freeze::resolutions(app.store.as_ref())
        .await
        .expect("r");
    assert_eq!(
        stored,
        vec![("U1-dy".to_string(), jump.day, jump.kind.clone())]
    );
    let log = app.db.audit_log(10, Some("anomaly.")).expect("log");
    assert_eq!((log.len(), log[0].actor.as_str()), (1, "committee"));
    let after = get(&app.router, &url, Some(&c)).await;
    assert!(after.body.contains("已核实的异常（1）"), "{}", after.body);
    // Resolving it again is refused: it is no longer open.
    assert_eq!(
        resolve(&after.csrf(), "again", &c).await.status,
        StatusCode::BAD_REQUEST
    );

    let freeze = |name: &str| {
        let body = form(&[
            ("csrf", &csrf),
            ("name", name),
            ("from", &from.to_string()),
            ("to", &to.to_string()),
        ]);
        let router = app.router.clone();
        let cookie = c.clone();
        async move {
            send(
                &router,
                Method::POST,
                "/committee/freeze",
                Some(&cookie),
                Some(body),
            )
            .await
        }
    };
    let made = freeze("第四季度").await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let shown = get(&app.router, made.location(), Some(&c)).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(shown.body.contains("冻结排名“第四季度”"));
    assert!(
        shown.body.contains("与今日数据的差异（0 个账号变化）"),
        "{}",
        shown.body
    );
    assert_eq!(freeze("第四季度").await.status, StatusCode::CONFLICT);
    let listed = haoqi_analytics::rank::freeze::list(app.store.as_ref())
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);

    // The workbook of the same ten days.
    let xlsx = get(
        &app.router,
        &format!("/committee/ranking.xlsx?from={from}&to={to}"),
        Some(&c),
    )
    .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.body.starts_with("PK"), "a zip container");
    let bad = get(
        &app.router,
        "/committee?from=2026-12-01&to=2026-01-01",
        Some(&c),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_office_opens_and_disables_logins_from_its_page() {
    let app = app("web_users").await;
    let admin = login(&app.router, "admin").await;
    let page = get(&app.router, "/admin", Some(&admin)).await;
    let csrf = page.csrf();
    let add = |fields: Vec<(&'static str, String)>, cookie: String| {
        let router = app.router.clone();
        let csrf = csrf.clone();
        async move {
            let mut pairs: Vec<(&str, String)> = vec![("csrf", csrf)];
            pairs.extend(fields);
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
                .finish();
            send(
                &router,
                Method::POST,
                "/admin/users",
                Some(&cookie),
                Some(body),
            )
            .await
        }
    };
    let fields = |name: &str, role: &str, unit: &str, pref: &str, pw: &str| {
        vec![
            ("name", name.to_string()),
            ("role", role.to_string()),
            ("unit_id", unit.to_string()),
            ("prefecture", pref.to_string()),
            ("password", pw.to_string()),
        ]
    };
    // Bindings that cannot mean anything, a short password, a unit not in the store: refused.
    for (f, says) in [
        (fields("u-x", "unit", "", "", PW), "单位账号需填写单位编号"),
        (
            fields("u-x", "leader", "T-C-650102", "", PW),
            "其他角色两者都不填",
        ),
        (fields("u-x", "unit", "NO-SUCH", "", PW), "名录中没有"),
        (fields("u-x", "liaison", "", "65x", PW), "不是数字"),
        (
            fields("u-x", "unit", "T-C-650102", "", "short"),
            "密码至少 10 个字符",
        ),
        (fields("admin", "leader", "", "", PW), "已存在"),
    ] {
        let a = add(f, admin.clone()).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert!(a.body.contains(says), "{says}: {}", a.body);
    }
    assert!(app.db.user("u-x").expect("q").is_none());
    let ops = login(&app.router, "ops").await;
    let refused = add(fields("u-y", "unit", "T-C-650102", "", PW), ops).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let made = add(
        fields("tianshan2", "unit", "T-C-650102", "", PW),
        admin.clone(),
    )
    .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let cookie = login(&app.router, "tianshan2").await;
    let own = get(&app.router, "/unit/T-C-650102", Some(&cookie)).await;
    assert_eq!(own.status, StatusCode::OK);
    let off = post(
        &app.router,
        "/admin/users/tianshan2/disable",
        Some(&admin),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    let gone = get(&app.router, "/unit/T-C-650102", Some(&cookie)).await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER, "its session ended");
    let me = post(
        &app.router,
        "/admin/users/admin/disable",
        Some(&admin),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        me.status,
        StatusCode::BAD_REQUEST,
        "the office cannot lock itself out"
    );
    let log = app.db.audit_log(20, Some("user.")).expect("log");
    assert!(log
        .iter()
        .any(|e| e.action == "user.add" && e.target == "tianshan2" && e.actor == "admin"));
    assert!(log
        .iter()
        .any(|e| e.action == "user.disable" && e.target == "tianshan2"));
}
