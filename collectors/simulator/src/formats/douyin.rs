//! Douyin's paths and answers (reference §2.5): the profile JSON API and the profile page (the
//! older `RENDER_DATA` script and the newer `__pace_f` chunks), its captcha page and its empty
//! 200 to an unsigned request.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use haoqi_platform::Platform;
use serde::Deserialize;
use serde_json::json;

use super::Format;
use crate::growth::Curve;
use crate::{SimAccount, Simulator};

pub(crate) struct Douyin;

impl Format for Douyin {
    fn routes(&self, r: Router<Simulator>) -> Router<Simulator> {
        r.route("/aweme/v1/web/user/profile/other/", get(profile_json))
            .route("/user/{sec_uid}", get(page))
    }
    fn rate_limited(&self, headers: HeaderMap) -> Response {
        (StatusCode::TOO_MANY_REQUESTS, headers, "").into_response()
    }
    fn captcha(&self) -> Response {
        (StatusCode::OK, "<!DOCTYPE html><html><head><title>验证码中间页</title></head><body><div id=\"captcha_container\"></div><iframe src=\"https://rmc.bytedance.com/verifycenter/captcha/v2\"></iframe></body></html>").into_response()
    }
    fn not_found(&self) -> &'static str {
        r#"{"status_code":0,"status_msg":null,"user":null}"#
    }
    fn changed_layout(&self) -> &'static str {
        r#"{"status_code":0,"user":{"nickname":"x","fans":{"total":1}}}"#
    }
}

#[derive(Deserialize)]
struct SecQuery {
    sec_user_id: Option<String>,
    a_bogus: Option<String>,
}

async fn profile_json(State(s): State<Simulator>, Query(q): Query<SecQuery>) -> Response {
    // Douyin's dominant refusal of an unsigned request: HTTP 200, empty body.
    let unsigned = q.a_bogus.as_deref().is_none_or(str::is_empty);
    let refusal = (s.config().douyin_require_signature && unsigned)
        .then(|| (StatusCode::OK, "").into_response());
    s.answer(
        Platform::Douyin,
        "/aweme/v1/web/user/profile/other/",
        refusal,
        q.sec_user_id.as_deref(),
        profile_json_body,
    )
    .await
}

async fn page(State(s): State<Simulator>, Path(sec_uid): Path<String>) -> Response {
    s.answer(
        Platform::Douyin,
        "/user/{sec_uid}",
        None,
        Some(&sec_uid),
        page_body,
    )
    .await
}

fn douyin_user_snake(a: &SimAccount, c: &Curve, day: f64) -> serde_json::Value {
    let f = c.followers(day);
    json!({"uid": format!("{}", a.seed % 100_000_000_000), "sec_uid": a.platform_id,
           "unique_id": "", "short_id": "0", "nickname": a.name, "signature": "科学传播",
           "is_gov_media_vip": true, "ip_location": "IP属地：新疆",
           "follower_count": f, "mplatform_followers_count": f + f / 50,
           "max_follower_count": f + 3, "following_count": c.following(),
           "total_favorited": c.likes(day), "aweme_count": c.posts(day), "favoriting_count": 0})
}

fn profile_json_body(a: &SimAccount, c: &Curve, day: f64) -> String {
    json!({"status_code": 0, "status_msg": null,
           "extra": {"now": 0, "logid": "sim"}, "log_pb": {"impr_id": "sim"},
           "user": douyin_user_snake(a, c, day)})
    .to_string()
}

fn douyin_user_camel(a: &SimAccount, c: &Curve, day: f64) -> serde_json::Value {
    let f = c.followers(day);
    json!({"uid": format!("{}", a.seed % 100_000_000_000), "secUid": a.platform_id,
           "shortId": "0", "uniqueId": "", "nickname": a.name, "desc": "科学传播",
           "awemeCount": c.posts(day), "followingCount": c.following(), "followerCount": f,
           "followerCountStr": "", "mplatformFollowersCount": f + f / 50,
           "mplatformFollowersCountStr": "$undefined", "favoritingCount": 0,
           "totalFavorited": c.likes(day), "totalFavoritedStr": "$undefined",
           "ipLocation": "IP属地：新疆", "isGovMediaVip": true})
}

/// The profile page: the older `RENDER_DATA` script or the newer `__pace_f` chunks, chosen by
/// the account's seed so both stay exercised.
fn page_body(a: &SimAccount, c: &Curve, day: f64) -> String {
    if a.seed.is_multiple_of(2) {
        let data = json!({"app": {"isSpider": false},
                          "41": {"user": {"user": douyin_user_camel(a, c, day), "isSelf": false},
                                 "post": {"data": [], "hasMore": true}}});
        let encoded = percent_encoding::utf8_percent_encode(
            &data.to_string(),
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string();
        format!(
            "<!DOCTYPE html><html><head><meta charset=\"UTF-8\"><title>{}的抖音 - 抖音</title></head>\
             <body><div id=\"root\"></div><script id=\"RENDER_DATA\" type=\"application/json\">{encoded}</script></body></html>",
            a.name
        )
    } else {
        let user = json!({"statusCode": 0, "statusMsg": "$undefined", "user": douyin_user_camel(a, c, day)});
        let rsc = format!("5:[\"$\",\"$L6\",null,{{\"user\":{user},\"post\":\"$undefined\"}}]\n");
        let cut = rsc
            .char_indices()
            .nth(rsc.chars().count() / 2)
            .map_or(0, |(i, _)| i);
        let chunk = |s: &str| {
            format!(
                "<script nonce=\"sim\" crossorigin=\"anonymous\">self.__pace_f.push([1,{}])</script>",
                serde_json::Value::String(s.to_string())
            )
        };
        format!(
            "<!DOCTYPE html><html><head><title>{}的抖音 - 抖音</title></head><body>\
             <script>(self.__pace_f=self.__pace_f||[]).push([0])</script>{}{}</body></html>",
            a.name,
            chunk(&rsc[..cut]),
            chunk(&rsc[cut..])
        )
    }
}
