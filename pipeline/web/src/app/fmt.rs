//! Figures as the pages write them: counts in 万 (`1.2万`) with the full digits beside, shares
//! in per cent, times in Beijing time, and the Chinese names of tiers and kinds.

use chrono::NaiveDate;

pub(crate) use haoqi_model::table::{group_thousands, wan};

pub(crate) fn pct(share: f64) -> String {
    if share.is_finite() {
        format!("{:.1}%", share * 100.0)
    } else {
        "-".into()
    }
}

pub(crate) fn opt_pct(share: Option<f64>) -> String {
    share.map_or_else(|| "-".into(), pct)
}

pub(crate) fn signed(n: Option<i64>) -> String {
    match n {
        Some(n) if n >= 0 => format!("+{}", wan(n.unsigned_abs())),
        Some(n) => format!("−{}", wan(n.unsigned_abs())),
        None => "-".into(),
    }
}

/// `2026-12-07 13:05` in Beijing time.
pub(crate) use haoqi_model::time::display_minute as beijing;

pub(crate) fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// An age in hours as people say it: `3 小时`, `2 天`.
pub(crate) fn age(hours: Option<f64>) -> String {
    match hours {
        None => "-".into(),
        Some(h) if h < 1.0 => "不到 1 小时".into(),
        Some(h) if h < 48.0 => format!("{:.0} 小时", h.floor()),
        Some(h) => format!("{:.0} 天", (h / 24.0).floor()),
    }
}

pub(crate) fn tier_name(key: &str) -> String {
    match key {
        "vertical" => "纵向（科协系统）".into(),
        "horizontal" => "横向（学会与机构）".into(),
        other => other.into(),
    }
}

pub(crate) fn kind_name(key: &str) -> String {
    haoqi_registry::Kind::ALL
        .into_iter()
        .find(|k| k.as_str() == key)
        .map_or_else(|| key.to_string(), |k| k.chinese_name().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(signed(Some(12_345)), "+1.2万");
        assert_eq!(signed(Some(-233)), "−233");
        assert_eq!(pct(0.4567), "45.7%");
        assert_eq!(age(Some(0.5)), "不到 1 小时");
        assert_eq!(age(Some(50.0)), "2 天");
        let t = chrono::DateTime::parse_from_rfc3339("2026-12-06T16:30:00Z")
            .expect("time")
            .with_timezone(&chrono::Utc);
        assert_eq!(beijing(t), "2026-12-07 00:30");
        assert_eq!(tier_name("vertical"), "纵向（科协系统）");
    }
}
