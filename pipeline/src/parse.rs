//! `haoqi parse`: runs the platform parsers over saved responses, offline, and says for each
//! file what the collector would make of it — the normalised reading, or the typed error. For
//! operators checking whether a platform changed its format.

use std::path::Path;

use haoqi_crawl::decode;
use haoqi_platform::{FetchError, Platform, RawCount, Response};
use serde_json::{json, Map, Value};

use haoqi_model::count::{from_raw, Count};

/// The outcome for one file, as one JSON object.
pub fn parse_file(platform: Platform, path: &Path) -> Value {
    let file = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return json!({"file": file, "error": {"kind": "io", "reason": e.to_string()}}),
    };
    let Ok(body) = std::str::from_utf8(&bytes) else {
        return json!({"file": file, "error": {"kind": "layout_changed", "reason": "the body is not UTF-8"}});
    };
    let mut out = Map::new();
    out.insert("file".into(), file.into());
    out.insert("platform".into(), platform.as_str().into());
    match decode(platform, &Response::saved(body)) {
        Ok(d) => {
            out.insert("shape".into(), d.shape.into());
            out.insert("platform_id".into(), d.platform_id.clone().into());
            out.insert("name".into(), d.name.clone().into());
            let mut counters = Map::new();
            let c = &d.counters;
            for (metric, raw) in [
                ("followers", &c.followers),
                ("likes", &c.likes),
                ("views", &c.views),
                ("posts", &c.posts),
                ("following", &c.following),
            ] {
                if let Some(raw) = raw {
                    match normalised(raw) {
                        Ok(v) => counters.insert(metric.into(), v),
                        Err(reason) => {
                            // A counter that does not normalise is no reading at all.
                            let e = FetchError::layout(format!("{metric}: {reason}"), body);
                            return error_json(out, &e);
                        }
                    };
                }
            }
            out.insert("counters".into(), Value::Object(counters));
            let extra: Map<String, Value> = d
                .extra
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(Value::Null)))
                .collect();
            if !extra.is_empty() {
                out.insert("extra".into(), Value::Object(extra));
            }
            out.insert(
                "parser_version".into(),
                haoqi_platform::PARSER_VERSION.into(),
            );
            Value::Object(out)
        }
        Err(e) => error_json(out, &e),
    }
}

fn normalised(raw: &RawCount) -> Result<Value, String> {
    match from_raw(raw) {
        Ok(Some(Count {
            value,
            lower,
            upper,
        })) => Ok(json!({"raw": raw, "value": value, "lower": lower, "upper": upper})),
        Ok(None) => Ok(json!({"raw": raw, "value": null})),
        Err(e) => Err(e.to_string()),
    }
}

fn error_json(mut out: Map<String, Value>, e: &FetchError) -> Value {
    let mut err = Map::new();
    err.insert("kind".into(), e.kind().into());
    err.insert("message".into(), e.to_string().into());
    if let FetchError::LayoutChanged { excerpt, .. } = e {
        // The whole excerpt (up to 64 KB) is kept by the collector; a line shows its start.
        let head: String = excerpt.chars().take(300).collect();
        err.insert("excerpt_start".into(), head.into());
        err.insert("excerpt_bytes".into(), excerpt.len().into());
    }
    out.insert("error".into(), Value::Object(err));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(platform: &str, name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../collectors/crawl/tests/fixtures")
            .join(platform)
            .join(name)
    }

    #[test]
    fn a_rounded_kuaishou_count_keeps_its_interval() {
        let v = parse_file(
            Platform::Kuaishou,
            &fixture("kuaishou", "vision_profile.json"),
        );
        assert_eq!(v["counters"]["followers"]["raw"], "12.6万");
        assert_eq!(v["counters"]["followers"]["value"], 126_000);
        assert_eq!(v["counters"]["followers"]["lower"], 125_500);
        assert_eq!(v["counters"]["followers"]["upper"], 126_499);
        assert_eq!(v["counters"].get("likes"), None);
    }

    #[test]
    fn errors_are_typed_lines() {
        let v = parse_file(Platform::Douyin, &fixture("douyin", "empty_200.txt"));
        assert_eq!(v["error"]["kind"], "blocked");
        assert_eq!(v.get("counters"), None);
        let v = parse_file(
            Platform::Bilibili,
            &fixture("bilibili", "card_layout_changed.json"),
        );
        assert_eq!(v["error"]["kind"], "layout_changed");
        assert!(v["error"]["excerpt_bytes"].as_u64().unwrap_or(0) > 0);
        let v = parse_file(Platform::Bilibili, Path::new("/nonexistent/file.json"));
        assert_eq!(v["error"]["kind"], "io");
    }

    #[test]
    fn a_count_that_does_not_normalise_is_an_error_not_a_zero() {
        let dir = std::env::temp_dir().join(format!("haoqi-parse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("odd.json");
        std::fs::write(&f, r#"{"data":{"visionProfile":{"result":1,"userProfile":{"ownerCount":{"fan":"很多","follow":1,"photo_public":2},"profile":{"user_id":"3x"}}}}}"#).unwrap();
        let v = parse_file(Platform::Kuaishou, &f);
        assert_eq!(v["error"]["kind"], "layout_changed");
        assert!(v["error"]["message"].as_str().unwrap().contains("很多"));
    }
}
