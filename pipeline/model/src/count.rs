//! Normalisation of platform counters (`12,345`, `1.3万`, `2.3w`, `10万+`, `1.58亿`, `1.5k`,
//! `约1.2万`, full-width digits …) into integers with their uncertainty.
//!
//! An abbreviated count is an interval, not a point: `1.3万` is any value that rounds to it, so
//! it becomes 13,000 with bounds 12,500..=13,499, and `10万+` is "at least 100,000" with no upper
//! bound. Later stages use the bounds: a target is reached only when the lower bound reaches it,
//! and a change smaller than the resolution is not growth. Arithmetic is decimal on integers
//! (`1.3万` is 13 × 1000, never 12,999 from a float). Unknown markers (`null`, `""`, `"-"`,
//! `"$undefined"`) give `Ok(None)`; anything else that does not parse is an error quoting the
//! input, never a zero. The grammar follows `shared/reference/platforms.md` §6.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A counter value with the interval it stands for. `lower <= value`, and `upper`, when known,
/// is `>= value`; an exact count has `lower == value == upper`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Count {
    pub value: u64,
    pub lower: u64,
    /// `None` for an open "at least" value such as `10万+`.
    pub upper: Option<u64>,
}

impl Count {
    pub const fn exact(value: u64) -> Self {
        Count {
            value,
            lower: value,
            upper: Some(value),
        }
    }

    pub fn is_exact(&self) -> bool {
        self.upper == Some(self.lower)
    }

    /// Whether `self` is known to have reached `target`: only the lower bound counts.
    pub fn reaches(&self, target: u64) -> bool {
        self.lower >= target
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.upper {
            Some(u) if u == self.lower => write!(f, "{}", self.value),
            Some(u) => write!(f, "{} [{}..={}]", self.value, self.lower, u),
            None => write!(f, "≥{}", self.lower),
        }
    }
}

/// Why a raw value is not a count. Every variant quotes the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CountError {
    #[error("not a count: {input:?} ({reason})")]
    Unparseable { input: String, reason: &'static str },
    #[error("negative count: {input:?}")]
    Negative { input: String },
    #[error("count too large: {input:?}")]
    Overflow { input: String },
}

/// Markers platforms use for "no value"; they are unknown, not zero.
const UNKNOWN_MARKERS: [&str; 10] = [
    "",
    "-",
    "--",
    "—",
    "－",
    "null",
    "NULL",
    "$undefined",
    "undefined",
    "不详",
];

/// Parses a count string. `Ok(None)` means the platform said "unknown".
pub fn parse_count(input: &str) -> Result<Option<Count>, CountError> {
    let trimmed = input.trim_matches(is_blank);
    if input.is_ascii() {
        parse_normalised(trimmed.as_bytes(), input)
    } else {
        let normalised = normalise_width(trimmed);
        parse_normalised(normalised.as_bytes(), input)
    }
}

/// Parses a JSON value as a count: integers, integral floats, strings; `null` is unknown.
pub fn count_from_json(v: &serde_json::Value) -> Result<Option<Count>, CountError> {
    use serde_json::Value;
    match v {
        Value::Null => Ok(None),
        Value::String(s) => parse_count(s),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Ok(Some(Count::exact(u)))
            } else if n.as_i64().is_some() {
                Err(CountError::Negative {
                    input: n.to_string(),
                })
            } else {
                // A float: accept only an integral, non-negative value (Excel writes 12345.0).
                parse_count(&n.to_string())
            }
        }
        other => Err(CountError::Unparseable {
            input: other.to_string(),
            reason: "expected a number or a string",
        }),
    }
}

fn is_blank(c: char) -> bool {
    c.is_whitespace() || c == '\u{3000}' || c == '\u{feff}'
}

/// Folds full-width forms (`１２．３万`, `＋`, `，`, `ｗ`) to ASCII and drops inner blanks.
fn normalise_width(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_blank(c) {
            out.push(' ');
            continue;
        }
        let code = c as u32;
        match code {
            // Full-width ASCII block U+FF01..U+FF5E maps to U+0021..U+007E.
            0xFF01..=0xFF5E => out.push(char::from_u32(code - 0xFEE0).unwrap_or(c)),
            _ => out.push(c),
        }
    }
    out
}

const WAN: &[u8] = "万".as_bytes();
const YI: &[u8] = "亿".as_bytes();
const QIAN: &[u8] = "千".as_bytes();
const YUE: &[u8] = "约".as_bytes();

fn parse_normalised(s: &[u8], original: &str) -> Result<Option<Count>, CountError> {
    let err = |reason: &'static str| CountError::Unparseable {
        input: original.to_string(),
        reason,
    };
    if UNKNOWN_MARKERS.iter().any(|m| m.as_bytes() == s) {
        return Ok(None);
    }
    let mut s = s;
    let mut approx = false;
    if let Some(rest) = s.strip_prefix(YUE) {
        s = trim_spaces(rest);
        approx = true;
    } else if let Some(rest) = s.strip_suffix(YUE) {
        s = trim_spaces(rest);
        approx = true;
    }
    let mut open = false;
    if let Some(rest) = s.strip_suffix(b"+") {
        s = trim_spaces(rest);
        open = true;
    }
    let (digits, unit): (&[u8], u64) = if let Some(rest) = s.strip_suffix(WAN) {
        (rest, 10_000)
    } else if let Some(rest) = s.strip_suffix(YI) {
        (rest, 100_000_000)
    } else if let Some(rest) = s.strip_suffix(QIAN) {
        (rest, 1_000)
    } else {
        match s.last() {
            Some(b'w' | b'W') => (&s[..s.len() - 1], 10_000),
            Some(b'k' | b'K') => (&s[..s.len() - 1], 1_000),
            _ => (s, 1),
        }
    };
    let digits = trim_spaces(digits);
    if digits.first() == Some(&b'-') {
        return if digits.len() > 1 && digits[1..].iter().any(u8::is_ascii_digit) {
            Err(CountError::Negative {
                input: original.to_string(),
            })
        } else {
            Err(err("a dash is not a number"))
        };
    }
    let digits = digits.strip_prefix(b"+").unwrap_or(digits);

    // Mantissa as an integer plus the number of fraction digits: decimal, never float.
    let mut mantissa: u64 = 0;
    let mut frac_len: u32 = 0;
    let mut seen_point = false;
    let mut seen_digit = false;
    let mut prev_digit = false;
    for (i, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa
                    .checked_mul(10)
                    .and_then(|m| m.checked_add(u64::from(b - b'0')))
                    .ok_or_else(|| CountError::Overflow {
                        input: original.to_string(),
                    })?;
                if seen_point {
                    frac_len += 1;
                }
                seen_digit = true;
                prev_digit = true;
            }
            // A thousands separator sits between digits of the integer part.
            b',' if prev_digit
                && !seen_point
                && digits.get(i + 1).is_some_and(u8::is_ascii_digit) =>
            {
                prev_digit = false;
            }
            b'.' if !seen_point && prev_digit => {
                seen_point = true;
                prev_digit = false;
            }
            b' ' if prev_digit && digits.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                // "12 345": a space used as a thousands separator.
                prev_digit = false;
            }
            _ => return Err(err("unexpected character")),
        }
    }
    if !seen_digit {
        return Err(err("no digits"));
    }
    if seen_point && frac_len == 0 {
        return Err(err("a decimal point needs digits after it"));
    }
    let scale = 10u64
        .checked_pow(frac_len)
        .ok_or_else(|| err("too many decimal places"))?;
    let overflow = || CountError::Overflow {
        input: original.to_string(),
    };
    let product = u128::from(mantissa) * u128::from(unit);
    if product % u128::from(scale) != 0 {
        return Err(err("more decimal places than the unit allows"));
    }
    let value = u64::try_from(product / u128::from(scale)).map_err(|_| overflow())?;
    // The step of the last written digit: 1.3万 → 1,000; 12万 → 10,000; 12345 → 1.
    let step = if unit == 1 { 1 } else { unit / scale };
    let rounded = step > 1 || approx;
    let count = if open {
        Count {
            value,
            lower: value,
            upper: None,
        }
    } else if rounded && step > 1 {
        let half = step / 2;
        Count {
            value,
            lower: value.saturating_sub(half),
            upper: Some(value.checked_add(step - half - 1).ok_or_else(overflow)?),
        }
    } else {
        Count::exact(value)
    };
    Ok(Some(count))
}

fn trim_spaces(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|b| *b != b' ').unwrap_or(s.len());
    let end = s.iter().rposition(|b| *b != b' ').map_or(start, |e| e + 1);
    &s[start..end]
}

/// Normalises a counter as a collector found it.
pub fn from_raw(raw: &haoqi_platform::RawCount) -> Result<Option<Count>, CountError> {
    match raw {
        haoqi_platform::RawCount::Int(n) => Ok(Some(Count::exact(*n))),
        haoqi_platform::RawCount::Text(s) => parse_count(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) -> Count {
        match parse_count(s) {
            Ok(Some(c)) => c,
            other => panic!("{s:?} gave {other:?}"),
        }
    }

    #[test]
    fn every_variant_of_the_reference() {
        assert_eq!(ok("12345"), Count::exact(12_345));
        assert_eq!(ok("2743452015"), Count::exact(2_743_452_015));
        assert_eq!(ok("1,234"), Count::exact(1_234));
        assert_eq!(ok("12,345"), Count::exact(12_345));
        assert_eq!(ok("1.3万").value, 13_000);
        assert_eq!(ok("12.6万").value, 126_000);
        assert_eq!(ok("5.5万").value, 55_000);
        assert_eq!(ok("3.6万").value, 36_000);
        assert_eq!(ok("1w").value, 10_000);
        assert_eq!(ok("2.3w").value, 23_000);
        assert_eq!(ok("1.2W").value, 12_000);
        assert_eq!(ok("11万+").value, 110_000);
        assert_eq!(ok("11w+").value, 110_000);
        assert_eq!(ok("10万+").value, 100_000);
        assert_eq!(ok("1.2亿").value, 120_000_000);
        assert_eq!(ok("1亿+").value, 100_000_000);
        assert_eq!(ok("1.58亿").value, 158_000_000);
        assert_eq!(ok("1.5k").value, 1_500);
        assert_eq!(ok("1.5k+").value, 1_500);
        assert_eq!(ok("1.5K").value, 1_500);
        assert_eq!(ok("约1.2万").value, 12_000);
        assert_eq!(ok("1.2万约").value, 12_000);
        assert_eq!(ok("3千").value, 3_000);
    }

    #[test]
    fn decimal_not_float() {
        // 1.3 * 10_000 in f64 is 12999.999999999998.
        assert_eq!(ok("1.3万").value, 13_000);
        assert_eq!(ok("0.29亿").value, 29_000_000);
        assert_eq!(ok("1.1万").value, 11_000);
    }

    #[test]
    fn abbreviated_counts_are_intervals() {
        let c = ok("1.3万");
        assert_eq!((c.lower, c.upper), (12_500, Some(13_499)));
        assert!(!c.is_exact());
        // Kuaishou showed 1.3万 for a real 12,544: inside the interval.
        assert!(c.lower <= 12_544 && Some(12_544) <= c.upper);
        let open = ok("10万+");
        assert_eq!((open.lower, open.upper), (100_000, None));
        assert!(open.reaches(100_000));
        assert!(
            !c.reaches(13_000),
            "13,000 ± 500 has not surely reached 13,000"
        );
        assert!(c.reaches(12_500));
        let w = ok("1w");
        assert_eq!((w.lower, w.upper), (5_000, Some(14_999)));
    }

    #[test]
    fn full_width_and_spaces() {
        assert_eq!(ok("１２３４５"), Count::exact(12_345));
        assert_eq!(ok(" １．３万 ").value, 13_000);
        assert_eq!(ok("\u{3000}12,345\u{3000}"), Count::exact(12_345));
        assert_eq!(ok("１０万＋").lower, 100_000);
        assert_eq!(ok("12 345"), Count::exact(12_345));
        assert_eq!(ok("1.3 万").value, 13_000);
        assert_eq!(ok("１２，３４５"), Count::exact(12_345));
    }

    #[test]
    fn unknown_markers_are_not_zero() {
        for s in ["", "  ", "-", "—", "$undefined", "null", "不详", "－"] {
            assert_eq!(parse_count(s), Ok(None), "{s:?}");
        }
        assert_eq!(count_from_json(&serde_json::Value::Null), Ok(None));
    }

    #[test]
    fn garbage_is_an_error_that_quotes_the_input() {
        for s in [
            "abc",
            "1.2.3",
            "万",
            "1..2",
            ".5",
            "5.",
            "1,2,",
            ",12",
            "12万万",
            "1e5",
            "0x10",
            "1.23456万",
            "12.5",
            "++1",
        ] {
            let e = parse_count(s).expect_err(s);
            assert!(e.to_string().contains(&format!("{s:?}")), "{e}");
        }
        assert!(matches!(
            parse_count("-5"),
            Err(CountError::Negative { .. })
        ));
        assert!(matches!(
            parse_count("99999999999999999999"),
            Err(CountError::Overflow { .. })
        ));
        assert!(matches!(
            parse_count("999999999999亿"),
            Err(CountError::Overflow { .. })
        ));
    }

    #[test]
    fn json_values() {
        use serde_json::json;
        assert_eq!(
            count_from_json(&json!(283417)),
            Ok(Some(Count::exact(283_417)))
        );
        assert_eq!(
            count_from_json(&json!("1.3万")).map(|c| c.map(|c| c.value)),
            Ok(Some(13_000))
        );
        assert_eq!(
            count_from_json(&json!(12345.0)),
            Ok(Some(Count::exact(12_345)))
        );
        assert!(count_from_json(&json!(12.5)).is_err());
        assert!(count_from_json(&json!(-3)).is_err());
        assert!(count_from_json(&json!(true)).is_err());
        assert!(count_from_json(&json!({"a": 1})).is_err());
    }

    proptest! {
        #[test]
        fn integers_round_trip(n in any::<u64>()) {
            prop_assert_eq!(parse_count(&n.to_string()), Ok(Some(Count::exact(n))));
        }

        #[test]
        fn thousands_separators_round_trip(n in 0u64..10_000_000_000_000) {
            let plain = n.to_string();
            let mut grouped = String::new();
            for (i, ch) in plain.chars().enumerate() {
                if i > 0 && (plain.len() - i) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(ch);
            }
            prop_assert_eq!(parse_count(&grouped), Ok(Some(Count::exact(n))));
        }

        #[test]
        fn wan_with_one_decimal_is_exact_decimal(int in 0u64..100_000, frac in 0u64..10) {
            let c = parse_count(&format!("{int}.{frac}万")).unwrap().unwrap();
            prop_assert_eq!(c.value, int * 10_000 + frac * 1_000);
            prop_assert!(c.lower <= c.value && c.upper.unwrap() >= c.value);
            prop_assert_eq!(c.upper.unwrap() - c.lower + 1, 1_000);
        }

        #[test]
        fn full_width_digits_parse_like_ascii(n in any::<u32>()) {
            let wide: String = n.to_string().chars()
                .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap()).collect();
            prop_assert_eq!(parse_count(&wide), Ok(Some(Count::exact(u64::from(n)))));
        }

        /// Whatever the input, a zero only comes out of an input whose digits are all zeros.
        #[test]
        fn never_zero_for_garbage(s in "\\PC{0,12}") {
            if let Ok(Some(c)) = parse_count(&s) {
                if c.value == 0 {
                    let folded = normalise_width(&s);
                    prop_assert!(folded.chars().any(|ch| ch == '0'));
                    prop_assert!(!folded.chars().any(|ch| ch.is_ascii_digit() && ch != '0'), "{:?}", s);
                }
            }
        }

        #[test]
        fn letters_and_symbols_are_errors(s in "[a-jl-vx-zA-JL-VX-Z#@!?/=]{1,3}[0-9]{0,4}") {
            prop_assert!(parse_count(&s).is_err());
        }
    }
}
