//! 大屏, the leadership wall: the total against the goal in 万 and in full, the forecast with
//! its ranges, the daily series, each tier's and kind's part, a tile map of the prefectures
//! coloured by completion of target. It refreshes itself and says plainly when its figures
//! are old. The figures are `haoqi progress --forecast`'s, from the same report.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::Utc;

use haoqi_analytics::goal::GoalReport;
use haoqi_analytics::series::SeriesPoint;
use haoqi_appdb::Role;

use super::super::auth::WallViewer;
use super::super::fmt::{self, group_thousands, pct, wan};
use super::super::view::{self, Chrome};
use super::super::Ctx;

/// Seconds between the wall's own reloads.
const RELOAD_SECS: u64 = 300;

pub(super) fn routes() -> Router<Ctx> {
    Router::new().route("/wall", get(wall))
}

struct Method {
    name: String,
    daily: String,
    reach: String,
    at_deadline: String,
}

struct Part {
    label: String,
    followers: String,
    share: String,
    completion: String,
    delta_7d: String,
}

struct MoverRow {
    name: String,
    platform: String,
    growth: String,
}

struct Tile {
    label: String,
    completion: String,
    /// `good`, `fair`, `poor` or `none`: one colour each.
    class: &'static str,
    col: u8,
    row: u8,
}

#[derive(Template)]
#[template(path = "wall.html")]
struct WallPage {
    chrome: Chrome,
    kiosk: Option<String>,
    reload_secs: u64,
    as_of: String,
    computed_at: String,
    stale: bool,
    fresh_share: String,
    total_wan: String,
    total_full: String,
    certain_wan: String,
    goal_wan: String,
    share: String,
    share_width: String,
    deadline: String,
    days_left: String,
    required: String,
    pace_7d: String,
    reached: Option<String>,
    methods: Vec<Method>,
    note: Option<String>,
    series: Series,
    tiers: Vec<Part>,
    kinds: Vec<Part>,
    tiles: Vec<Tile>,
    risers: Vec<MoverRow>,
    fallers: Vec<MoverRow>,
}

/// The daily series as an SVG polyline (drawn on the server: it shows without script).
struct Series {
    points: String,
    /// The days and totals as JSON arrays, for the chart the page's script draws.
    days_json: String,
    values_json: String,
    first: String,
    last: String,
    low: String,
    high: String,
    days: usize,
}

async fn wall(State(ctx): State<Ctx>, who: WallViewer) -> Response {
    let (chrome, kiosk) = match &who {
        WallViewer::Person(v) => {
            if let Some(r) = v.require(&[Role::Admin, Role::Leader, Role::Committee, Role::Ops]) {
                return r;
            }
            (v.chrome("大屏"), None)
        }
        WallViewer::Kiosk { label } => (Chrome::anonymous("大屏"), Some(label.clone())),
    };
    let as_of = haoqi_model::time::last_complete_day();
    let (at, report) = match super::goal_report(&ctx, as_of).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let stale = Utc::now() - at > chrono::Duration::seconds(2 * RELOAD_SECS as i64);
    view::render(
        StatusCode::OK,
        &page(chrome, kiosk, &report, fmt::beijing(at), stale),
    )
}

fn page(
    chrome: Chrome,
    kiosk: Option<String>,
    r: &GoalReport,
    computed_at: String,
    stale: bool,
) -> WallPage {
    let p = &r.progress;
    let f = &r.forecast;
    let m = &p.matrix;
    let fresh = m.reporting.saturating_sub(m.stale);
    let reached = f
        .reached_on
        .map(|d| format!("已于 {} 达成目标", fmt::day(d)))
        .or_else(|| {
            f.reached_before
                .map(|d| format!("在有数据的第一天（{}）之前已达成目标", fmt::day(d)))
        });
    let methods = f
        .methods
        .iter()
        .map(|mf| Method {
            name: mf.description.to_string(),
            daily: format!(
                "{}（{} – {}）",
                wan(mf.daily_growth.max(0.0).round() as u64),
                wan(mf.daily_growth_low.max(0.0).round() as u64),
                wan(mf.daily_growth_high.max(0.0).round() as u64)
            ),
            reach: if reached.is_some() {
                "已达成".into()
            } else {
                match (mf.reach_date, mf.reach_date_earliest, mf.reach_date_latest) {
                    (Some(d), e, l) => format!(
                        "{}（{} – {}）",
                        fmt::day(d),
                        e.map_or("-".into(), fmt::day),
                        l.map_or("期限外".into(), fmt::day)
                    ),
                    (None, _, _) => "按此速度预测期内达不到".into(),
                }
            },
            at_deadline: match (mf.at_deadline, mf.at_deadline_low, mf.at_deadline_high) {
                (Some(c), Some(lo), Some(hi)) => {
                    format!("{}（{} – {}）", wan(c), wan(lo), wan(hi))
                }
                (Some(c), _, _) => wan(c),
                _ => "期限已过".into(),
            },
        })
        .collect();
    let part = |label: String, followers: u64, completion: Option<f64>, delta: Option<i64>| Part {
        label,
        followers: wan(followers),
        share: pct(followers as f64 / m.followers.max(1) as f64),
        completion: fmt::opt_pct(completion),
        delta_7d: fmt::signed(delta),
    };
    let tiers = r
        .contributions
        .iter()
        .filter(|c| c.dimension == "tier")
        .map(|c| {
            part(
                fmt::tier_name(&c.key),
                c.followers,
                c.share_at_target,
                c.delta_7d,
            )
        })
        .collect();
    let kinds = p
        .groups
        .iter()
        .filter(|g| g.dimension == "kind")
        .map(|g| {
            let done = (g.with_target > 0).then(|| g.at_target as f64 / g.with_target as f64);
            part(fmt::kind_name(&g.key), g.followers, done, None)
        })
        .collect();
    let tiles = tiles(r);
    let mover = |m: &haoqi_analytics::goal::Mover| MoverRow {
        name: format!("{} · {}", m.unit_name, m.display_name),
        platform: m
            .platform
            .parse::<haoqi_platform::Platform>()
            .map_or_else(|_| m.platform.clone(), |p| p.chinese_name().to_string()),
        growth: fmt::signed(Some(m.certain_growth_7d)),
    };
    WallPage {
        risers: r.movers.risers.iter().map(mover).collect(),
        fallers: r.movers.fallers.iter().map(mover).collect(),
        chrome,
        kiosk,
        reload_secs: RELOAD_SECS,
        as_of: format!("{} 日终", fmt::day(p.as_of)),
        computed_at,
        stale,
        fresh_share: pct(fresh as f64 / m.accounts.max(1) as f64),
        total_wan: wan(m.followers),
        total_full: group_thousands(m.followers),
        certain_wan: wan(m.followers_lo),
        goal_wan: wan(p.goal),
        share: pct(p.share_of_goal),
        share_width: format!("{:.1}", (p.share_of_goal * 100.0).clamp(0.0, 100.0)),
        deadline: fmt::day(p.deadline),
        days_left: if f.days_to_deadline >= 0 {
            format!("{} 天", f.days_to_deadline)
        } else {
            format!("已过 {} 天", -f.days_to_deadline)
        },
        required: f
            .required_daily_growth
            .map_or_else(|| "-".into(), |g| wan(g.max(0.0).ceil() as u64)),
        pace_7d: f
            .pace_7d
            .map_or_else(|| "-".into(), |g| fmt::signed(Some(g.round() as i64))),
        reached,
        methods,
        note: f.note.clone(),
        series: series(&r.matrix_series),
        tiers,
        kinds,
        tiles,
    }
}

fn series(points: &[SeriesPoint]) -> Series {
    let (w, h) = (600.0, 160.0);
    let lo = points.iter().map(|p| p.followers).min().unwrap_or(0);
    let hi = points.iter().map(|p| p.followers).max().unwrap_or(0);
    let span = (hi - lo).max(1) as f64;
    let n = points.len().max(2) as f64 - 1.0;
    let coords: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let x = i as f64 / n * w;
            let y = h - (p.followers - lo) as f64 / span * (h - 10.0) - 5.0;
            format!("{x:.1},{y:.1}")
        })
        .collect();
    let days: Vec<String> = points.iter().map(|p| fmt::day(p.day)).collect();
    let values: Vec<u64> = points.iter().map(|p| p.followers).collect();
    Series {
        points: coords.join(" "),
        days_json: serde_json::to_string(&days).unwrap_or_else(|_| "[]".into()),
        values_json: serde_json::to_string(&values).unwrap_or_else(|_| "[]".into()),
        first: points.first().map_or_else(String::new, |p| fmt::day(p.day)),
        last: points.last().map_or_else(String::new, |p| fmt::day(p.day)),
        low: wan(lo),
        high: wan(hi),
        days: points.len(),
    }
}

/// Where each prefecture sits on the schematic map: roughly its place in Xinjiang, north up.
const TILE_GRID: &[(&str, u8, u8)] = &[
    ("654200", 2, 1), // 塔城地区
    ("650200", 3, 1), // 克拉玛依市
    ("654300", 4, 1), // 阿勒泰地区
    ("652700", 1, 2), // 博尔塔拉州
    ("654000", 2, 2), // 伊犁州
    ("652300", 3, 2), // 昌吉州
    ("650100", 4, 2), // 乌鲁木齐市
    ("650400", 5, 2), // 吐鲁番市
    ("650500", 6, 2), // 哈密市
    ("653000", 1, 3), // 克孜勒苏州
    ("652900", 2, 3), // 阿克苏地区
    ("652800", 3, 3), // 巴音郭楞州
    ("653100", 1, 4), // 喀什地区
    ("653200", 2, 4), // 和田地区
];

fn tiles(r: &GoalReport) -> Vec<Tile> {
    let mut extra = 0u8;
    r.contributions
        .iter()
        .filter(|c| c.dimension == "region")
        .map(|c| {
            let (col, row) = TILE_GRID
                .iter()
                .find(|(code, _, _)| *code == c.key)
                .map_or_else(
                    || {
                        extra += 1;
                        (extra, 5)
                    },
                    |(_, col, row)| (*col, *row),
                );
            let class = match c.share_at_target {
                None => "none",
                Some(s) if s >= 0.8 => "good",
                Some(s) if s >= 0.5 => "fair",
                Some(_) => "poor",
            };
            Tile {
                label: c.label.clone(),
                completion: fmt::opt_pct(c.share_at_target),
                class,
                col,
                row,
            }
        })
        .collect()
}
