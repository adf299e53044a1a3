//! Timestamps: everything is stored in UTC and shown in Asia/Shanghai. Platform and spreadsheet
//! times arrive as epoch seconds or milliseconds, RFC 3339, or local wall-clock text; a local
//! time without an offset is Beijing time, because that is what the platforms and the units use.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use chrono_tz::Tz;

/// The zone in which days are counted and times are shown.
pub const DISPLAY_TZ: Tz = Shanghai;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("not a time: {0:?} (expected RFC 3339, YYYY-MM-DD[ HH:MM[:SS]], or epoch seconds/ms)")]
    Unparseable(String),
    #[error("time out of range: {0:?}")]
    OutOfRange(String),
}

/// Epoch seconds or milliseconds (Douyin's `extra.now` is milliseconds) to UTC. Values above
/// 10^11 are taken as milliseconds: 10^11 seconds is the year 5138.
pub fn from_epoch(n: i64) -> Result<DateTime<Utc>, TimeError> {
    let dt = if n.abs() >= 100_000_000_000 {
        DateTime::from_timestamp_millis(n)
    } else {
        DateTime::from_timestamp(n, 0)
    };
    dt.ok_or_else(|| TimeError::OutOfRange(n.to_string()))
}

/// Parses a time as platforms and spreadsheets write it. Text without an offset is Beijing time.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, TimeError> {
    let t = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = t
            .parse()
            .map_err(|_| TimeError::OutOfRange(s.to_string()))?;
        return from_epoch(n);
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S%.f",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(t, fmt) {
            return local_to_utc(naive, s);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return local_to_utc(d.and_time(NaiveTime::MIN), s);
    }
    Err(TimeError::Unparseable(s.to_string()))
}

fn local_to_utc(naive: NaiveDateTime, original: &str) -> Result<DateTime<Utc>, TimeError> {
    // Asia/Shanghai has had no DST since 1991, so a local time is never ambiguous or missing.
    DISPLAY_TZ
        .from_local_datetime(&naive)
        .single()
        .map(|dt| dt.with_timezone(&Utc))
        .ok_or_else(|| TimeError::OutOfRange(original.to_string()))
}

/// The instant a Beijing day ends (exclusive): readings before it belong to that day or earlier.
pub fn end_of_day_utc(day: NaiveDate) -> DateTime<Utc> {
    let next = day.succ_opt().unwrap_or(day);
    DISPLAY_TZ
        .from_local_datetime(&next.and_time(NaiveTime::MIN))
        .single()
        .map(|dt| dt.with_timezone(&Utc))
        .unwrap_or_else(|| next.and_time(NaiveTime::MIN).and_utc())
}

/// Today's date in Beijing.
pub fn today() -> NaiveDate {
    beijing_day(Utc::now())
}

/// The last Beijing day that is over: what "as of" means unless a day is asked for (today's
/// sweep is still partial, so its totals carry yesterday's values and its paces are too low).
pub fn last_complete_day() -> NaiveDate {
    let t = today();
    t.pred_opt().unwrap_or(t)
}

/// The Beijing day an instant falls on.
/// `2026-12-07 13:05`: a time as the pages and tables show it, in Beijing time to the minute.
pub fn display_minute(t: DateTime<Utc>) -> String {
    t.with_timezone(&DISPLAY_TZ)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub fn beijing_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&DISPLAY_TZ).date_naive()
}

/// The text form ClickHouse reads for a `DateTime64(3, 'UTC')` column.
pub fn to_clickhouse(dt: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    // Hand-laid rather than `format("%Y-…")`: this runs for every reading of every batch.
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.timestamp_subsec_millis().min(999)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_text_is_beijing_time() {
        let t = parse_time("2024-03-05 08:00:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-03-05T00:00:00+00:00");
        let d = parse_time("2024-03-05").unwrap();
        assert_eq!(d.to_rfc3339(), "2024-03-04T16:00:00+00:00");
    }

    #[test]
    fn offsets_and_epochs() {
        assert_eq!(
            parse_time("2026-01-01T00:00:00Z").unwrap().timestamp(),
            1_767_225_600
        );
        assert_eq!(
            parse_time("1767225600000").unwrap().timestamp(),
            1_767_225_600
        );
        assert_eq!(parse_time("1767225600").unwrap().timestamp(), 1_767_225_600);
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("").is_err());
    }

    #[test]
    fn a_beijing_day_ends_at_16_utc() {
        let d = NaiveDate::from_ymd_opt(2024, 12, 31).unwrap();
        assert_eq!(to_clickhouse(end_of_day_utc(d)), "2024-12-31 16:00:00.000");
    }
}
