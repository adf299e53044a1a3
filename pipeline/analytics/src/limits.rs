//! The ranges a question may ask about, checked the same way on the command line and over
//! HTTP: a day before any matrix existed answers nothing true (its "age" comes out negative),
//! and a stalled window of decades is a typo, not a question.

use std::ops::RangeInclusive;

use chrono::NaiveDate;

/// The earliest day a report may be asked about.
pub const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// `stalled --days` / `/api/stalled?days=`.
pub const STALLED_DAYS: RangeInclusive<u32> = 1..=365;

/// `as_of` must be a day from [`FIRST_DAY`] to today (Beijing).
pub fn check_day(day: NaiveDate) -> Result<NaiveDate, String> {
    let today = haoqi_model::time::today();
    if (FIRST_DAY..=today).contains(&day) {
        Ok(day)
    } else {
        Err(format!(
            "{day} is outside the days a report can be about: {FIRST_DAY} to today ({today}, Beijing)"
        ))
    }
}

/// A stalled window in days within [`STALLED_DAYS`].
pub fn check_stalled_days(days: u32) -> Result<u32, String> {
    if STALLED_DAYS.contains(&days) {
        Ok(days)
    } else {
        Err(format!(
            "{days} days is outside {}..={} days",
            STALLED_DAYS.start(),
            STALLED_DAYS.end()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_windows_out_of_range_are_refused_with_the_range() {
        let today = haoqi_model::time::today();
        assert_eq!(check_day(today), Ok(today));
        let e = check_day(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).unwrap_err();
        assert!(e.contains("2000-01-01 to today"), "{e}");
        assert!(check_day(today.succ_opt().unwrap()).is_err(), "tomorrow");
        assert_eq!(check_stalled_days(7), Ok(7));
        let e = check_stalled_days(30_000).unwrap_err();
        assert!(e.contains("1..=365"), "{e}");
        assert!(check_stalled_days(0).is_err());
    }
}
