//! Kuaishou's path and answers (reference §3.5): the GraphQL `visionProfile`, with follower
//! counts abbreviated as the app shows them (`12.6万`), and its `result` codes.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use haoqi_platform::Platform;
use serde_json::json;

use super::Format;
use crate::growth::Curve;
use crate::{SimAccount, Simulator};

pub(crate) struct Kuaishou;

impl Format for Kuaishou {
    fn routes(&self, r: Router<Simulator>) -> Router<Simulator> {
        r.route("/graphql", post(graphql))
    }
    /// `result: 2` in a 200, no Retry-After.
    fn rate_limited(&self, _: HeaderMap) -> Response {
        (
            StatusCode::OK,
            r#"{"data":{"visionProfile":{"result":2,"hostName":"sim","userProfile":null}}}"#,
        )
            .into_response()
    }
    fn captcha(&self) -> Response {
        (
            StatusCode::OK,
            r#"{"errors":[{"message":"No Login"}],"data":null}"#,
        )
            .into_response()
    }
    fn not_found(&self) -> &'static str {
        r#"{"data":{"visionProfile":{"result":1,"hostName":"sim","userProfile":null}}}"#
    }
    fn changed_layout(&self) -> &'static str {
        r#"{"data":{"visionProfile":{"result":1,"hostName":"sim","userProfile":{"ownerCount":{"fanCount":1},"profile":{"user_id":"x"}}}}}"#
    }
}

async fn graphql(State(s): State<Simulator>, Json(body): Json<serde_json::Value>) -> Response {
    let id = body["variables"]["userId"].as_str().map(str::to_string);
    s.answer(
        Platform::Kuaishou,
        "/graphql",
        None,
        id.as_deref(),
        graphql_body,
    )
    .await
}

/// Kuaishou's display string for a follower count: exact below 10,000, else `12.6万`
/// (rounded half up to one decimal, as the reference's 12,544 → "1.3万").
pub(crate) fn fan(n: u64) -> serde_json::Value {
    if n < 10_000 {
        return json!(n);
    }
    let tenths = (n + 500) / 1_000;
    if tenths.is_multiple_of(10) {
        json!(format!("{}万", tenths / 10))
    } else {
        json!(format!("{}.{}万", tenths / 10, tenths % 10))
    }
}

fn graphql_body(a: &SimAccount, c: &Curve, day: f64) -> String {
    json!({"data": {"visionProfile": {"result": 1, "hostName": "sim.kwaidc.local",
        "userProfile": {
            "ownerCount": {"fan": fan(c.followers(day)), "photo": null,
                           "follow": c.following(), "photo_public": c.posts(day),
                           "__typename": "VisionProfileOwnerCount"},
            "profile": {"gender": "U", "user_name": a.name, "user_id": a.platform_id,
                        "headurl": "https://p2.a.yximgs.com/uhead/sim.jpg", "user_text": "科普宣传",
                        "user_profile_bg_url": "", "__typename": "VisionProfileUserProfileProfile"},
            "isFollowing": false, "__typename": "VisionProfileUserProfile"},
        "__typename": "VisionProfileResult"}}})
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kuaishou_rounds_like_the_app() {
        assert_eq!(fan(12_544), json!("1.3万"));
        assert_eq!(fan(125_973), json!("12.6万"));
        assert_eq!(fan(129_999), json!("13万"));
        assert_eq!(fan(9_999), json!(9_999));
    }
}
