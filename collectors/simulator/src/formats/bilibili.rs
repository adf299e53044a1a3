//! Bilibili's paths and answers (reference §1.6): card, relation/stat, navnum, upstat (views
//! need a SESSDATA cookie) and finger/spi, with its refusals (-412, -352, -404).

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use haoqi_platform::hash::mix;
use haoqi_platform::Platform;
use serde::Deserialize;
use serde_json::json;

use super::Format;
use crate::faults::Fault;
use crate::growth::Curve;
use crate::{SimAccount, Simulator};

pub(crate) struct Bilibili;

impl Format for Bilibili {
    fn routes(&self, r: Router<Simulator>) -> Router<Simulator> {
        r.route("/x/web-interface/card", get(card))
            .route("/x/relation/stat", get(stat))
            .route("/x/space/navnum", get(navnum))
            .route("/x/space/upstat", get(upstat))
            .route("/x/frontend/finger/spi", get(spi))
    }
    fn rate_limited(&self, headers: HeaderMap) -> Response {
        (
            StatusCode::PRECONDITION_FAILED,
            headers,
            r#"{"code":-412,"message":"请求被拦截","ttl":1,"data":null}"#,
        )
            .into_response()
    }
    fn captcha(&self) -> Response {
        (
            StatusCode::OK,
            r#"{"code":-352,"message":"风控校验失败","ttl":1,"data":{"v_voucher":"voucher_sim"}}"#,
        )
            .into_response()
    }
    fn not_found(&self) -> &'static str {
        r#"{"code":-404,"message":"啥都木有","ttl":1,"data":null}"#
    }
    fn changed_layout(&self) -> &'static str {
        r#"{"code":0,"message":"0","ttl":1,"data":{"card":{"mid":"0","name":"x"},"stats":{"fans_total":1}}}"#
    }
}

/// Bilibili's refusal of a request without a buvid3 cookie, when configured to refuse.
fn refusal(s: &Simulator, headers: &HeaderMap) -> Option<Response> {
    let has_buvid3 = headers
        .get("cookie")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.split(';').any(|p| p.trim_start().starts_with("buvid3=")));
    (s.config().require_buvid3 && !has_buvid3).then(|| Bilibili.captcha())
}

#[derive(Deserialize)]
struct MidQuery {
    mid: Option<String>,
    vmid: Option<String>,
}

async fn card(
    State(s): State<Simulator>,
    headers: HeaderMap,
    Query(q): Query<MidQuery>,
) -> Response {
    let refusal = refusal(&s, &headers);
    s.answer(
        Platform::Bilibili,
        "/x/web-interface/card",
        refusal,
        q.mid.as_deref(),
        card_body,
    )
    .await
}

async fn stat(
    State(s): State<Simulator>,
    headers: HeaderMap,
    Query(q): Query<MidQuery>,
) -> Response {
    let refusal = refusal(&s, &headers);
    s.answer(
        Platform::Bilibili,
        "/x/relation/stat",
        refusal,
        q.vmid.as_deref(),
        stat_body,
    )
    .await
}

async fn navnum(
    State(s): State<Simulator>,
    headers: HeaderMap,
    Query(q): Query<MidQuery>,
) -> Response {
    let refusal = refusal(&s, &headers);
    s.answer(
        Platform::Bilibili,
        "/x/space/navnum",
        refusal,
        q.mid.as_deref(),
        |_, c, d| navnum_body(c, d),
    )
    .await
}

/// `x/frontend/finger/spi`: a fresh anonymous buvid3/buvid4 pair (not tied to an account).
async fn spi(State(s): State<Simulator>) -> Response {
    s.count_path("/x/frontend/finger/spi");
    if !s.admit(Platform::Bilibili) {
        return s.rate_limited(Platform::Bilibili);
    }
    match s.fault() {
        Some(Fault::RateLimited) => s.rate_limited(Platform::Bilibili),
        Some(Fault::Captcha) => Bilibili.captcha(),
        Some(Fault::ServerError) => {
            (StatusCode::BAD_GATEWAY, "<html>502 Bad Gateway</html>").into_response()
        }
        Some(Fault::Empty | Fault::Truncated | Fault::Layout) => {
            (StatusCode::OK, r#"{"code":0,"data":{},"message":"ok"}"#).into_response()
        }
        fault => {
            if fault == Some(Fault::Slow) {
                tokio::time::sleep(Duration::from_millis(s.slow_ms())).await;
            }
            let n = s.requests_so_far();
            (StatusCode::OK, spi_body(n)).into_response()
        }
    }
}

async fn upstat(
    State(s): State<Simulator>,
    headers: HeaderMap,
    Query(q): Query<MidQuery>,
) -> Response {
    let logged_in = headers
        .get("cookie")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("SESSDATA="));
    let refusal = refusal(&s, &headers);
    s.answer(
        Platform::Bilibili,
        "/x/space/upstat",
        refusal,
        q.mid.as_deref(),
        |_, c, d| upstat_body(c, d, logged_in),
    )
    .await
}

fn card_body(a: &SimAccount, c: &Curve, day: f64) -> String {
    let f = c.followers(day);
    json!({"code": 0, "message": "0", "ttl": 1, "data": {
        "card": {"mid": a.platform_id, "name": a.name, "sex": "保密",
                 "face": "https://i0.hdslb.com/bfs/face/sim.jpg", "fans": f,
                 "friend": c.following(), "attention": c.following(), "sign": "科学传播",
                 "Official": {"role": 3, "title": format!("{}官方账号", a.name), "desc": "", "type": 1}},
        "following": false, "archive_count": c.posts(day), "article_count": 0,
        "follower": f, "like_num": c.likes(day)}})
    .to_string()
}

fn stat_body(a: &SimAccount, c: &Curve, day: f64) -> String {
    let mid: serde_json::Value = a
        .platform_id
        .parse::<u64>()
        .map_or(json!(a.platform_id), |m| json!(m));
    json!({"code": 0, "message": "0", "ttl": 1,
           "data": {"mid": mid, "following": c.following(), "whisper": 0, "black": 0,
                    "follower": c.followers(day)}})
    .to_string()
}

fn navnum_body(c: &Curve, day: f64) -> String {
    json!({"code": 0, "message": "0", "ttl": 1, "data": {"video": c.posts(day), "bangumi": 0,
           "cinema": 0, "channel": {"master": 1, "guest": 1}, "favourite": {"master": 0, "guest": 0},
           "tag": 0, "article": 2, "playlist": 0, "album": 1, "audio": 0, "pugv": 0,
           "season_num": 1, "opus": 3}})
    .to_string()
}

fn upstat_body(c: &Curve, day: f64, logged_in: bool) -> String {
    if logged_in {
        json!({"code": 0, "message": "0", "ttl": 1,
               "data": {"archive": {"view": c.views(day)}, "article": {"view": 0}, "likes": c.likes(day)}})
        .to_string()
    } else {
        r#"{"code":0,"message":"0","ttl":1,"data":{}}"#.to_string()
    }
}

/// `x/frontend/finger/spi`: an anonymous buvid3/buvid4 pair; `n` makes each one different.
fn spi_body(n: u64) -> String {
    let h = mix(n ^ 0xb0b1d3);
    let b3 = format!(
        "{:08X}-{:04X}-{:04X}-{:04X}-{:012X}{:05}infoc",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xffff,
        (h >> 48) & 0xffff,
        h & 0xffff_ffff_ffff,
        n % 100_000
    );
    let b4 = format!("{:016X}-{}-sim==", mix(h), n);
    json!({"code": 0, "data": {"b_3": b3, "b_4": b4}, "message": "ok"}).to_string()
}
