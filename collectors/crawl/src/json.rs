//! Small helpers for walking platform JSON: a counter at a path becomes a [`RawCount`] (an
//! integer or text, `null` and `"$undefined"` absent), never a guessed zero.

use serde_json::Value;

use haoqi_platform::RawCount;

/// The value at a dotted path (`data.card.fans`).
pub(crate) fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, key| cur.get(key))
}

/// A counter at `path`: integers stay integers, strings stay text for normalisation; `null`,
/// `""`, `"$undefined"` and a missing key are unknown. A negative or fractional number is kept
/// as text so normalisation rejects it loudly.
pub(crate) fn count(v: &Value, path: &str) -> Option<RawCount> {
    match at(v, path)? {
        Value::Number(n) => Some(match n.as_u64() {
            Some(u) => RawCount::Int(u),
            None => RawCount::Text(n.to_string()),
        }),
        Value::String(s) if s.trim().is_empty() || s == "$undefined" => None,
        Value::String(s) => Some(RawCount::Text(s.clone())),
        _ => None,
    }
}

/// A string at `path` (numbers are written as text: Bilibili's `card.mid` is a string, the
/// other `mid`s are numbers).
pub(crate) fn text(v: &Value, path: &str) -> Option<String> {
    match at(v, path)? {
        Value::String(s) if !s.is_empty() && s != "$undefined" => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn int(v: &Value, path: &str) -> Option<i64> {
    at(v, path).and_then(Value::as_i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counters_are_never_invented() {
        let v = json!({"a": {"n": 5, "s": "1.3万", "u": "$undefined", "z": null, "neg": -1}});
        assert_eq!(count(&v, "a.n"), Some(RawCount::Int(5)));
        assert_eq!(count(&v, "a.s"), Some(RawCount::Text("1.3万".into())));
        assert_eq!(count(&v, "a.u"), None);
        assert_eq!(count(&v, "a.z"), None);
        assert_eq!(count(&v, "a.missing"), None);
        assert_eq!(count(&v, "a.neg"), Some(RawCount::Text("-1".into())));
    }
}
