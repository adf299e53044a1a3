//! Every response variant and error signal of `shared/reference/platforms.md`, saved as a file in
//! `fixtures/<platform>/`, through the platform's parser. A failure is a typed error, never a
//! reading of zeros.

use std::path::Path;
use std::time::Duration;

use haoqi_crawl::decode;
use haoqi_platform::{Decoded, FetchError, Platform, RawCount, Response};

fn body(platform: &str, file: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(platform)
        .join(file);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn ok(platform: Platform, file: &str) -> Decoded {
    let b = body(platform.as_str(), file);
    decode(platform, &Response::saved(&b)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn err(platform: Platform, file: &str) -> FetchError {
    let b = body(platform.as_str(), file);
    match decode(platform, &Response::saved(&b)) {
        Ok(d) => panic!("{file} decoded to {d:?}, expected an error"),
        Err(e) => e,
    }
}

fn int(n: u64) -> Option<RawCount> {
    Some(RawCount::Int(n))
}

#[test]
fn bilibili_card_stat_navnum_upstat() {
    let card = ok(Platform::Bilibili, "card.json");
    assert_eq!(card.shape, "card");
    assert_eq!(card.counters.followers, int(283_417));
    assert_eq!(card.counters.likes, int(1_904_552));
    assert_eq!(card.counters.posts, int(412));
    assert_eq!(card.counters.following, int(58));
    assert_eq!(
        card.counters.views, None,
        "card has no views: unknown, not 0"
    );
    assert_eq!(
        card.platform_id.as_deref(),
        Some("1234567890"),
        "card.mid is a string"
    );
    assert_eq!(card.name.as_deref(), Some("某省科协"));

    let stat = ok(Platform::Bilibili, "relation_stat.json");
    assert_eq!(
        (stat.counters.followers, stat.counters.following),
        (int(283_417), int(58))
    );
    assert_eq!(stat.platform_id.as_deref(), Some("1234567890"));

    let nav = ok(Platform::Bilibili, "navnum.json");
    assert_eq!(nav.counters.posts, int(412));
    assert_eq!(nav.counters.followers, None);
    assert_eq!(nav.extra.get("article"), int(17).as_ref());

    let up = ok(Platform::Bilibili, "upstat.json");
    assert_eq!(
        (up.counters.views, up.counters.likes),
        (int(48_211_097), int(1_904_552))
    );
}

#[test]
fn bilibili_finger_spi_gives_an_anonymous_buvid3() {
    use haoqi_crawl::platforms::bilibili::decode_spi;
    let b = body("bilibili", "finger_spi.json");
    let buvid = decode_spi(&Response::saved(&b)).expect("spi");
    assert_eq!(buvid.b3, "7A3C1E2B-4D5F-6A7B-8C9D-0E1F2A3B4C5D12345infoc");
    assert!(buvid.b4.as_deref().is_some_and(|b4| b4.ends_with("==")));
    assert!(buvid.cookie().starts_with("buvid3=7A3C1E2B-"));
    // No b_3: a layout change, not an empty cookie.
    let b = body("bilibili", "finger_spi_no_b3.json");
    assert_eq!(
        decode_spi(&Response::saved(&b)).unwrap_err().kind(),
        "layout_changed"
    );
    // The envelope's error signals hold here too.
    let b = body("bilibili", "intercepted_412.json");
    let e = decode_spi(&Response {
        status: 412,
        retry_after: None,
        body: &b,
    })
    .unwrap_err();
    assert!(e.opens_circuit(), "{e:?}");
}

#[test]
fn bilibili_errors() {
    use FetchError::*;
    let kind = |f| err(Platform::Bilibili, f).kind();
    assert_eq!(kind("upstat_anonymous.json"), "login_required");
    assert_eq!(kind("not_logged_in_101.json"), "login_required");
    assert_eq!(kind("risk_control_352.json"), "blocked");
    assert_eq!(kind("captcha_401.json"), "blocked");
    assert_eq!(kind("voucher_only_code0.json"), "blocked");
    assert_eq!(kind("intercepted_412.json"), "rate_limited");
    assert_eq!(kind("request_banned_412.json"), "rate_limited");
    assert_eq!(kind("too_frequent_799.json"), "rate_limited");
    assert_eq!(kind("risk_page_412.html"), "rate_limited");
    assert_eq!(kind("not_found_404.json"), "not_found");
    assert_eq!(kind("unknown_code.json"), "layout_changed");
    match err(Platform::Bilibili, "card_layout_changed.json") {
        LayoutChanged { reason, excerpt } => {
            assert!(reason.contains("follower"), "{reason}");
            assert!(
                excerpt.contains("like_num"),
                "the body is kept for the operator"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(kind("card_truncated.json"), "layout_changed");
    // The HTML risk page arrives with HTTP 412 and sometimes a Retry-After.
    let page = body("bilibili", "risk_page_412.html");
    let e = decode(
        Platform::Bilibili,
        &Response {
            status: 412,
            retry_after: Some(Duration::from_secs(600)),
            body: &page,
        },
    )
    .expect_err("412");
    assert!(
        matches!(
            e,
            RateLimited {
                retry_after_secs: Some(600),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.opens_circuit());
}

#[test]
fn douyin_json_page_and_rsc_shapes() {
    for (file, shape) in [
        ("profile_other.json", "profile_other"),
        ("render_data.html", "render_data"),
        ("pace_f.html", "pace_f"),
    ] {
        let d = ok(Platform::Douyin, file);
        assert_eq!(d.shape, shape);
        assert_eq!(d.counters.followers, int(186_420), "{file}");
        assert_eq!(d.counters.likes, int(2_314_907), "{file}");
        assert_eq!(d.counters.posts, int(764), "{file}");
        assert_eq!(d.counters.following, int(32), "{file}");
        assert_eq!(d.counters.views, None);
        assert_eq!(
            d.platform_id.as_deref(),
            Some("MS4wLjABAAAAexampleSecUid_abcdefghijklmnopqrstuv")
        );
        assert_eq!(d.name.as_deref(), Some("某市科普"));
        assert_eq!(d.extra.get("follower_count"), int(186_420).as_ref());
    }
    let d = ok(Platform::Douyin, "profile_other.json");
    assert_eq!(d.extra.get("max_follower_count"), int(186_901).as_ref());
    assert_eq!(
        d.extra.get("mplatform_followers_count"),
        int(186_420).as_ref()
    );
    // The three follower counts differ; followers is follower_count.
    let ies = ok(Platform::Douyin, "iesdouyin_user_info.json");
    assert_eq!(ies.counters.followers, int(40_201_989));
    assert_eq!(
        ies.extra.get("mplatform_followers_count"),
        int(48_209_510).as_ref()
    );
    assert_eq!(
        ies.extra.get("max_follower_count"),
        int(45_635_987).as_ref()
    );
    assert_eq!(
        ies.counters.likes,
        Some(RawCount::Text("2743452015".into())),
        "a numeric string"
    );
}

#[test]
fn douyin_errors() {
    let kind = |f| err(Platform::Douyin, f).kind();
    assert_eq!(kind("empty_200.txt"), "blocked");
    assert_eq!(kind("blocked.txt"), "blocked");
    assert_eq!(kind("captcha.html"), "blocked");
    assert_eq!(kind("render_data_spider.html"), "blocked");
    assert_eq!(kind("user_null.json"), "not_found");
    assert_eq!(kind("status_error.json"), "layout_changed");
    assert_eq!(kind("layout_changed.json"), "layout_changed");
    assert_eq!(kind("truncated.html"), "layout_changed");
    let e = decode(
        Platform::Douyin,
        &Response {
            status: 429,
            retry_after: Some(Duration::from_secs(60)),
            body: "",
        },
    )
    .expect_err("429");
    assert_eq!(e.kind(), "rate_limited");
}

#[test]
fn kuaishou_graphql_and_rest() {
    let g = ok(Platform::Kuaishou, "vision_profile.json");
    assert_eq!(g.shape, "graphql");
    assert_eq!(
        g.counters.followers,
        Some(RawCount::Text("12.6万".into())),
        "rounded, normalised later"
    );
    assert_eq!(
        g.counters.posts,
        int(388),
        "photo_public, not the null photo"
    );
    assert_eq!(g.counters.following, int(41));
    assert_eq!(g.counters.likes, None, "GraphQL has no likes field");
    assert_eq!(g.platform_id.as_deref(), Some("3xabcd1234efgh5"));
    assert_eq!(
        ok(Platform::Kuaishou, "vision_profile_small.json")
            .counters
            .followers,
        Some(RawCount::Text("1.3万".into()))
    );
    assert_eq!(
        ok(Platform::Kuaishou, "vision_profile_exact.json")
            .counters
            .followers,
        int(5_312)
    );
    let r = ok(Platform::Kuaishou, "rest_profile_user.json");
    assert_eq!(r.shape, "rest_profile_user");
    assert_eq!(
        (r.counters.followers, r.counters.likes),
        (int(125_973), int(804_112))
    );
}

#[test]
fn kuaishou_errors() {
    let kind = |f| err(Platform::Kuaishou, f).kind();
    assert_eq!(kind("result_2.json"), "rate_limited");
    assert_eq!(kind("rest_result_2.json"), "rate_limited");
    assert_eq!(kind("result_109.json"), "login_required");
    assert_eq!(kind("graphql_result_109.json"), "login_required");
    assert_eq!(kind("no_login.json"), "login_required");
    assert_eq!(kind("user_missing.json"), "not_found");
    assert_eq!(kind("param_error_21.json"), "layout_changed");
    assert_eq!(kind("layout_changed.json"), "layout_changed");
    assert_eq!(kind("truncated.json"), "layout_changed");
}

#[test]
fn server_errors_are_transport_not_readings() {
    for p in [Platform::Bilibili, Platform::Douyin, Platform::Kuaishou] {
        let e = decode(
            p,
            &Response {
                status: 502,
                retry_after: None,
                body: "<html>Bad Gateway</html>",
            },
        )
        .expect_err("502");
        assert_eq!(e.kind(), "transport", "{p}");
        assert!(!e.opens_circuit());
    }
}

#[test]
fn wechat_has_nothing_to_decode() {
    assert!(decode(Platform::WechatChannels, &Response::saved("{}")).is_err());
}
