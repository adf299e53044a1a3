//! Cell values of filled-in tables: counts (through [`haoqi_model::count::parse_count`], the same
//! normalisation as crawled values) and dates (`2024年3月5日`, `2024/3/5`, `2024-03-05`,
//! `20240305`, an Excel date cell or serial number), each with an error that quotes the cell.

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use super::table::Cell;
use haoqi_model::count::{parse_count, Count, CountError};
use haoqi_model::time::DISPLAY_TZ;

/// When a row's reading was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// A day: the count as of that (Beijing) day.
    Day(NaiveDate),
    /// A time of day given in the file (Beijing time).
    At(NaiveDateTime),
}

impl When {
    pub fn day(self) -> NaiveDate {
        match self {
            When::Day(d) => d,
            When::At(t) => t.date(),
        }
    }

    /// The instant stored: a day's reading is taken at 23:59:59 Beijing time, so it counts for
    /// that day and the same file always gives the same instant.
    pub fn instant(self) -> DateTime<Utc> {
        let local = match self {
            When::Day(d) => {
                d.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN))
            }
            When::At(t) => t,
        };
        DISPLAY_TZ
            .from_local_datetime(&local)
            .single()
            .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
    }
}

impl std::fmt::Display for When {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            When::Day(d) => write!(f, "{d}"),
            When::At(t) => write!(f, "{}", t.format("%Y-%m-%d %H:%M")),
        }
    }
}

/// Excel serial dates accepted: 1970-01-01 ..= 2099-12-31.
const SERIAL_MIN: f64 = 25_569.0;
const SERIAL_MAX: f64 = 73_050.0;

fn from_serial(serial: f64) -> Option<When> {
    if !(SERIAL_MIN..SERIAL_MAX + 1.0).contains(&serial) {
        return None;
    }
    // Serial 1 is 1900-01-01, but Excel counts a 29 February 1900 that never was: from March
    // 1900 on, day 0 is 1899-12-30.
    let days = serial.floor();
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let date = epoch.checked_add_days(Days::new(days as u64))?;
    let millis = ((serial - days) * 86_400_000.0).round() as u32;
    if millis == 0 {
        Some(When::Day(date))
    } else {
        let t = NaiveTime::from_num_seconds_from_midnight_opt(millis / 1000, 0)?;
        Some(When::At(date.and_time(t)))
    }
}

const DATE_FORMS: &str = "expected a date such as 2024-03-05, 2024/3/5 or 2024年3月5日";

/// Parses a date cell. `Ok(None)` for an empty cell.
pub fn parse_date(cell: &Cell) -> Result<Option<When>, String> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::DateTime(dt) => Ok(Some(if dt.time() == NaiveTime::MIN {
            When::Day(dt.date())
        } else {
            When::At(*dt)
        })),
        Cell::Int(n) => parse_date_number(*n as f64, &n.to_string()).map(Some),
        Cell::Float(x) => parse_date_number(*x, &cell.text()).map(Some),
        Cell::Text(s) => parse_date_text(s).map(Some),
        Cell::Bool(_) | Cell::Error(_) => {
            Err(format!("{:?} is not a date ({DATE_FORMS})", cell.text()))
        }
    }
}

fn parse_date_number(x: f64, shown: &str) -> Result<When, String> {
    // 20240305 typed as a number.
    if x.fract() == 0.0 && (19_700_101.0..=20_991_231.0).contains(&x) {
        if let Some(d) = ymd_compact(&format!("{}", x as u64)) {
            return Ok(When::Day(d));
        }
    }
    from_serial(x).ok_or_else(|| {
        format!("{shown:?} is not a date: as an Excel date serial it is outside 1970..2099 ({DATE_FORMS})")
    })
}

fn ymd_compact(s: &str) -> Option<NaiveDate> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y = s[..4].parse().ok()?;
    let m = s[4..6].parse().ok()?;
    let d = s[6..].parse().ok()?;
    NaiveDate::from_ymd_opt(y, m, d)
}

/// Parses a date written as text.
pub fn parse_date_text(s: &str) -> Result<When, String> {
    let folded = crate::text::fold_width(s);
    let t = folded.trim();
    let bad = |why: &str| format!("{s:?} is not a date: {why} ({DATE_FORMS})");
    if t.is_empty() {
        return Err(bad("empty"));
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        if let Some(d) = ymd_compact(t) {
            return Ok(When::Day(d));
        }
        if t.len() == 5 {
            if let Ok(n) = t.parse::<f64>() {
                if let Some(w) = from_serial(n) {
                    return Ok(w);
                }
            }
        }
        return Err(bad("a number that is neither YYYYMMDD nor an Excel date"));
    }
    // Split the date from a time after it.
    let (date_part, time_part) = match t.find([' ', 'T']) {
        Some(i) => (&t[..i], t[i + 1..].trim()),
        None => (t, ""),
    };
    let normalised: String = date_part
        .replace(['年', '月', '/', '.'], "-")
        .trim_end_matches(['日', '号'])
        .to_string();
    let parts: Vec<&str> = normalised.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad(if parts.len() == 2 {
            "no year"
        } else {
            "not year, month and day"
        }));
    };
    if y.len() != 4 {
        return Err(bad("the year needs four digits"));
    }
    let num = |p: &str| -> Result<u32, String> {
        if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("not year, month and day"));
        }
        p.parse::<u32>().map_err(|_| bad("not a number"))
    };
    let (y, m, d) = (num(y)?, num(m)?, num(d)?);
    let date = NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(|| bad("no such day"))?;
    if time_part.is_empty() {
        return Ok(When::Day(date));
    }
    for fmt in ["%H:%M:%S", "%H:%M", "%H:%M:%S%.f"] {
        if let Ok(time) = NaiveTime::parse_from_str(time_part, fmt) {
            return Ok(When::At(date.and_time(time)));
        }
    }
    Err(bad("the time after the date is not HH:MM[:SS]"))
}

/// Parses a count cell. `Ok(None)` is unknown (empty, `—`, `不详`, `-`): reported, never 0.
pub fn parse_count_cell(cell: &Cell) -> Result<Option<Count>, String> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Int(n) if *n < 0 => Err(format!("negative count {n}")),
        Cell::Int(n) => Ok(Some(Count::exact(*n as u64))),
        Cell::Float(x) if *x < 0.0 => Err(format!("negative count {}", cell.text())),
        Cell::Float(x) if x.fract() != 0.0 => Err(format!(
            "{} is not a whole number of followers",
            cell.text()
        )),
        Cell::Float(x) if *x >= 1.8e19 => Err(format!("count too large: {}", cell.text())),
        Cell::Float(x) => Ok(Some(Count::exact(*x as u64))),
        Cell::Text(s) => parse_count(s).map_err(|e| match e {
            CountError::Negative { input } => format!("negative count {input:?}"),
            other => other.to_string(),
        }),
        Cell::DateTime(_) => Err(format!(
            "{} is a date, not a count (is the column formatted as a date?)",
            cell.text()
        )),
        Cell::Bool(_) | Cell::Error(_) => Err(format!("not a count: {:?}", cell.text())),
    }
}

/// A signed change (净增关注人数 may be negative). `Ok(None)` when unknown.
pub fn parse_change_cell(cell: &Cell) -> Result<Option<i64>, String> {
    let text = cell.text();
    let folded = crate::text::fold_width(text.trim());
    let (negative, rest) = match folded
        .strip_prefix('-')
        .or_else(|| folded.strip_prefix('−'))
    {
        Some(r) if r.trim().chars().next().is_some_and(|c| c.is_ascii_digit()) => (true, r.trim()),
        _ => (false, folded.as_str()),
    };
    let c = match cell {
        Cell::Int(_) | Cell::Float(_) | Cell::Text(_) => {
            parse_count_cell(&Cell::Text(rest.to_string()))?
        }
        other => parse_count_cell(other)?,
    };
    Ok(c.map(|c| {
        let v = i64::try_from(c.value).unwrap_or(i64::MAX);
        if negative {
            -v
        } else {
            v
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> When {
        When::Day(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    #[test]
    fn every_date_form_of_the_issue() {
        for s in [
            "2024年3月5日",
            "2024/3/5",
            "2024-03-05",
            "2024.3.5",
            "20240305",
            "２０２４年３月５日",
            " 2024-3-5 ",
        ] {
            assert_eq!(
                parse_date(&Cell::Text(s.into())),
                Ok(Some(day(2024, 3, 5))),
                "{s}"
            );
        }
        // 45356 is 2024-03-05 in Excel's 1900 system.
        assert_eq!(parse_date(&Cell::Int(45356)), Ok(Some(day(2024, 3, 5))));
        assert_eq!(parse_date(&Cell::Float(45356.0)), Ok(Some(day(2024, 3, 5))));
        assert_eq!(
            parse_date(&Cell::Text("45356".into())),
            Ok(Some(day(2024, 3, 5)))
        );
        assert_eq!(
            parse_date(&Cell::Float(45356.5)),
            Ok(Some(When::At(
                NaiveDate::from_ymd_opt(2024, 3, 5)
                    .unwrap()
                    .and_hms_opt(12, 0, 0)
                    .unwrap()
            )))
        );
        assert_eq!(
            parse_date(&Cell::Text("2024/3/5 14:30".into())),
            Ok(Some(When::At(
                NaiveDate::from_ymd_opt(2024, 3, 5)
                    .unwrap()
                    .and_hms_opt(14, 30, 0)
                    .unwrap()
            )))
        );
        assert_eq!(parse_date(&Cell::Empty), Ok(None));
    }

    #[test]
    fn bad_dates_quote_the_cell() {
        for s in [
            "3月5日",
            "24/3/5",
            "2024-02-30",
            "yesterday",
            "2024-03-05 noon",
            "123",
        ] {
            let e = parse_date(&Cell::Text(s.into())).unwrap_err();
            assert!(e.contains(&format!("{s:?}")), "{e}");
        }
        assert!(parse_date(&Cell::Int(12)).is_err());
    }

    #[test]
    fn a_day_is_stored_at_the_end_of_the_beijing_day() {
        let t = day(2024, 3, 5).instant();
        assert_eq!(t.to_rfc3339(), "2024-03-05T15:59:59+00:00");
        assert_eq!(
            haoqi_model::time::beijing_day(t),
            NaiveDate::from_ymd_opt(2024, 3, 5).unwrap()
        );
    }

    #[test]
    fn counts_go_through_parse_count() {
        let v = |c: Cell| parse_count_cell(&c).map(|x| x.map(|c| c.value));
        assert_eq!(v(Cell::Text("1.2万".into())), Ok(Some(12_000)));
        assert_eq!(v(Cell::Text("3,456".into())), Ok(Some(3_456)));
        assert_eq!(v(Cell::Text("10万+".into())), Ok(Some(100_000)));
        assert_eq!(v(Cell::Int(120)), Ok(Some(120)));
        assert_eq!(v(Cell::Float(120.0)), Ok(Some(120)));
        for unknown in [
            Cell::Empty,
            Cell::Text("—".into()),
            Cell::Text("不详".into()),
        ] {
            assert_eq!(v(unknown), Ok(None));
        }
        assert!(v(Cell::Text("-5".into())).unwrap_err().contains("negative"));
        assert!(v(Cell::Int(-5)).unwrap_err().contains("negative"));
        assert!(v(Cell::Float(12.5)).unwrap_err().contains("whole number"));
        assert!(v(Cell::Text("abc".into())).unwrap_err().contains("\"abc\""));
        let open = parse_count_cell(&Cell::Text("10万+".into()))
            .unwrap()
            .unwrap();
        assert_eq!(open.upper, None);
    }

    #[test]
    fn changes_may_be_negative() {
        assert_eq!(parse_change_cell(&Cell::Text("-12".into())), Ok(Some(-12)));
        assert_eq!(parse_change_cell(&Cell::Int(-12)), Ok(Some(-12)));
        assert_eq!(parse_change_cell(&Cell::Float(88.0)), Ok(Some(88)));
        assert_eq!(parse_change_cell(&Cell::Empty), Ok(None));
    }
}
