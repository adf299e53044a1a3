//! Offline parsing speed (issue goal: >= 20,000 Douyin profile pages per second per core).

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use haoqi_crawl::decode;
use haoqi_platform::{Platform, Response};

fn fixture(platform: &str, name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(platform)
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A profile page the size of a real one: the fixture's data inside ~100 KB of markup and
/// scripts, as Douyin serves it.
fn realistic_page(data_page: &str) -> String {
    let filler =
        "<div class=\"x\"><span>推荐</span><a href=\"/video/7300000000000000000\">视频</a></div>\n"
            .repeat(1_200);
    data_page.replacen("<body>", &format!("<body>{filler}"), 1)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(1));
    for (name, body) in [
        (
            "douyin/render_data_page",
            realistic_page(&fixture("douyin", "render_data.html")),
        ),
        (
            "douyin/pace_f_page",
            realistic_page(&fixture("douyin", "pace_f.html")),
        ),
        (
            "douyin/profile_json",
            fixture("douyin", "profile_other.json"),
        ),
        ("bilibili/card", fixture("bilibili", "card.json")),
        (
            "kuaishou/graphql",
            fixture("kuaishou", "vision_profile.json"),
        ),
    ] {
        let platform = if name.starts_with("douyin") {
            Platform::Douyin
        } else if name.starts_with("bilibili") {
            Platform::Bilibili
        } else {
            Platform::Kuaishou
        };
        assert!(decode(platform, &Response::saved(&body)).is_ok(), "{name}");
        g.bench_function(name, |b| {
            b.iter(|| black_box(decode(platform, &Response::saved(black_box(&body)))))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
