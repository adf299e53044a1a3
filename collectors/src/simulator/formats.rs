//! The simulator's answers in each platform's real format (reference §1.6, §2.5, §3.5), so the
//! real parsers are exercised. Numbers come from [`super::growth::Curve`].

use serde_json::json;

use super::growth::Curve;
use super::SimAccount;

pub fn bilibili_card(a: &SimAccount, c: &Curve, day: f64) -> String {
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

pub fn bilibili_stat(a: &SimAccount, c: &Curve, day: f64) -> String {
    let mid: serde_json::Value = a
        .platform_id
        .parse::<u64>()
        .map_or(json!(a.platform_id), |m| json!(m));
    json!({"code": 0, "message": "0", "ttl": 1,
           "data": {"mid": mid, "following": c.following(), "whisper": 0, "black": 0,
                    "follower": c.followers(day)}})
    .to_string()
}

pub fn bilibili_navnum(c: &Curve, day: f64) -> String {
    json!({"code": 0, "message": "0", "ttl": 1, "data": {"video": c.posts(day), "bangumi": 0,
           "cinema": 0, "channel": {"master": 1, "guest": 1}, "favourite": {"master": 0, "guest": 0},
           "tag": 0, "article": 2, "playlist": 0, "album": 1, "audio": 0, "pugv": 0,
           "season_num": 1, "opus": 3}})
    .to_string()
}

pub fn bilibili_upstat(c: &Curve, day: f64, logged_in: bool) -> String {
    if logged_in {
        json!({"code": 0, "message": "0", "ttl": 1,
               "data": {"archive": {"view": c.views(day)}, "article": {"view": 0}, "likes": c.likes(day)}})
        .to_string()
    } else {
        r#"{"code":0,"message":"0","ttl":1,"data":{}}"#.to_string()
    }
}

/// `x/frontend/finger/spi`: an anonymous buvid3/buvid4 pair; `n` makes each one different.
pub fn bilibili_spi(n: u64) -> String {
    let h = crate::hash::mix(n ^ 0xb0b1d3);
    let b3 = format!(
        "{:08X}-{:04X}-{:04X}-{:04X}-{:012X}{:05}infoc",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xffff,
        (h >> 48) & 0xffff,
        h & 0xffff_ffff_ffff,
        n % 100_000
    );
    let b4 = format!("{:016X}-{}-sim==", crate::hash::mix(h), n);
    json!({"code": 0, "data": {"b_3": b3, "b_4": b4}, "message": "ok"}).to_string()
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

pub fn douyin_profile_json(a: &SimAccount, c: &Curve, day: f64) -> String {
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
pub fn douyin_page(a: &SimAccount, c: &Curve, day: f64) -> String {
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

/// Kuaishou's display string for a follower count: exact below 10,000, else `12.6万`
/// (rounded half up to one decimal, as the reference's 12,544 → "1.3万").
pub fn kuaishou_fan(n: u64) -> serde_json::Value {
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

pub fn kuaishou_graphql(a: &SimAccount, c: &Curve, day: f64) -> String {
    json!({"data": {"visionProfile": {"result": 1, "hostName": "sim.kwaidc.local",
        "userProfile": {
            "ownerCount": {"fan": kuaishou_fan(c.followers(day)), "photo": null,
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
        assert_eq!(kuaishou_fan(12_544), json!("1.3万"));
        assert_eq!(kuaishou_fan(125_973), json!("12.6万"));
        assert_eq!(kuaishou_fan(129_999), json!("13万"));
        assert_eq!(kuaishou_fan(9_999), json!(9_999));
    }
}
