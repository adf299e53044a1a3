//! Argument values checked as they are parsed, so a wrong one is refused with its valid range
//! before anything runs.

use chrono::NaiveDate;

/// A report day (`--as-of`): YYYY-MM-DD from 2000-01-01 to today.
pub(super) fn day(s: &str) -> Result<NaiveDate, String> {
    let d = s
        .parse::<NaiveDate>()
        .map_err(|e| format!("{s:?} is not a date YYYY-MM-DD ({e})"))?;
    haoqi_analytics::limits::check_day(d)
}

/// `stalled --days`: 1 to 365.
pub(super) fn stalled_days(s: &str) -> Result<u32, String> {
    let n = s
        .parse::<u32>()
        .map_err(|e| format!("{s:?} is not a number of days ({e})"))?;
    haoqi_analytics::limits::check_stalled_days(n)
}

/// `--rate`: requests per second per platform, above 0 and at most 1,000 (0, a negative
/// number or NaN would never send a request, or send without limit).
pub(super) fn rate(s: &str) -> Result<f64, String> {
    let r = s
        .parse::<f64>()
        .map_err(|e| format!("{s:?} is not a number ({e})"))?;
    if r.is_finite() && r > 0.0 && r <= 1_000.0 {
        Ok(r)
    } else {
        Err(format!(
            "{s} requests per second: the rate must be above 0 and at most 1000"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_values_are_refused_with_their_range() {
        assert!(day("1970-01-01").unwrap_err().contains("2000-01-01"));
        assert!(day("2024-13-01").is_err());
        assert!(day("2024-06-01").is_ok());
        for bad in ["0", "-1", "NaN", "inf", "1e9", "x"] {
            assert!(rate(bad).is_err(), "{bad}");
        }
        assert_eq!(rate("0.5"), Ok(0.5));
        assert!(stalled_days("30000").unwrap_err().contains("1..=365"));
        assert_eq!(stalled_days("14"), Ok(14));
    }
}
