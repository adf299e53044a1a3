//! A rectangular result (column names and rows of cells) and its text and CSV renderings, and
//! how numbers are written in them. Pure data: a report builds a [`Table`]; the binary decides
//! where it goes. Text tables align CJK text by display width, so Chinese names line up.

use unicode_width::UnicodeWidthStr;

/// A rectangular result: column names and rows of cells.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: &[&str]) -> Self {
        Table {
            columns: columns.iter().map(|c| (*c).to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Aligned text: numbers right, text left.
    pub fn to_text(&self) -> String {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.width()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.width());
                }
            }
        }
        let numeric: Vec<bool> = (0..self.columns.len())
            .map(|i| {
                self.rows
                    .iter()
                    .any(|r| r.get(i).is_some_and(|c| !c.is_empty()))
                    && self.rows.iter().all(|r| {
                        r.get(i).is_none_or(|c| {
                            c.is_empty()
                                || c == "-"
                                || c.chars()
                                    .all(|ch| ch.is_ascii_digit() || ",.%-+".contains(ch))
                        })
                    })
            })
            .collect();
        let mut out = String::new();
        let line = |out: &mut String, cells: &[String]| {
            for (i, w) in widths.iter().enumerate() {
                let cell = cells.get(i).map_or("", String::as_str);
                let pad = w.saturating_sub(cell.width());
                if i > 0 {
                    out.push_str("  ");
                }
                if numeric[i] {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(cell);
                } else {
                    out.push_str(cell);
                    if i + 1 < widths.len() {
                        out.push_str(&" ".repeat(pad));
                    }
                }
            }
            out.push('\n');
        };
        line(&mut out, &self.columns);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        line(&mut out, &rule);
        for row in &self.rows {
            line(&mut out, row);
        }
        out
    }

    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut ok = w.write_record(&self.columns).is_ok();
        for row in &self.rows {
            ok &= w.write_record(row).is_ok();
        }
        debug_assert!(ok);
        w.into_inner()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default()
    }
}

/// `Some(n)` as a grouped number, `None` as `-` (unknown is never printed as 0).
pub fn opt_num(n: Option<u64>) -> String {
    n.map_or_else(|| "-".to_string(), group_thousands)
}

/// `652792` → `652,792`.
pub fn group_thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Line numbers (from 1) of CSV records by their byte offsets: what a record's position means
/// to a person. The csv crate counts a CRLF file's lines one short and puts a record's start on
/// the `\n` before it, so the line terminator at an offset is skipped and the `\n`s before the
/// record counted: CRLF and LF files number their lines alike. Offsets are asked for in
/// increasing order (as a reader yields records), so each byte is counted once.
pub struct Lines<'a> {
    bytes: &'a [u8],
    /// Bytes before `pos` hold `newlines` line feeds.
    pos: usize,
    newlines: u64,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Self {
        Lines {
            bytes: text.as_bytes(),
            pos: 0,
            newlines: 0,
        }
    }

    /// The line of the record starting at byte `offset`.
    pub fn at(&mut self, offset: u64) -> u64 {
        let b = self.bytes;
        let mut end = usize::try_from(offset).unwrap_or(usize::MAX).min(b.len());
        while end < b.len() && matches!(b[end], b'\r' | b'\n') {
            end += 1;
        }
        if end < self.pos {
            self.pos = 0;
            self.newlines = 0;
        }
        self.newlines += b[self.pos..end].iter().filter(|c| **c == b'\n').count() as u64;
        self.pos = end;
        1 + self.newlines
    }
}

/// A count as people write it: `8,765`, `1.2万`, `2,345.6万`, `1.23亿` (one decimal in 万, two in
/// 亿; rounded to nearest, so `12,345` is `1.2万`).
pub fn wan(n: u64) -> String {
    let tenths = (n + 500) / 1_000;
    if n < 10_000 {
        group_thousands(n)
    } else if tenths < 100_000 {
        format!("{}.{}万", group_thousands(tenths / 10), tenths % 10)
    } else {
        let hundredths = (n + 500_000) / 1_000_000;
        format!(
            "{}.{:02}亿",
            group_thousands(hundredths / 100),
            hundredths % 100
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_the_same_in_crlf_and_lf() {
        let lf = "a\nb\nc\n";
        let crlf = "a\r\nb\r\nc\r\n";
        let mut l = Lines::new(lf);
        assert_eq!((l.at(0), l.at(2), l.at(4)), (1, 2, 3));
        let mut c = Lines::new(crlf);
        // Where the csv crate puts a CRLF record's start: on the \n before it.
        assert_eq!((c.at(0), c.at(2), c.at(5)), (1, 2, 3));
        assert_eq!(c.at(999), 4);
        // Asked out of order it counts again from the start.
        assert_eq!(c.at(6), 3);
    }

    #[test]
    fn counts_as_people_write_them() {
        assert_eq!(wan(9_999), "9,999");
        assert_eq!(wan(12_345), "1.2万");
        assert_eq!(wan(12_950), "1.3万");
        assert_eq!(wan(20_000_000), "2,000.0万");
        assert_eq!(wan(99_949_999), "9,995.0万");
        assert_eq!(wan(99_999_999), "1.00亿");
        assert_eq!(wan(123_456_789), "1.23亿");
    }

    #[test]
    fn thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(652_792), "652,792");
        assert_eq!(group_thousands(1_000), "1,000");
    }

    #[test]
    fn cjk_columns_align_by_display_width() {
        let mut t = Table::new(&["name", "n"]);
        t.push(vec!["好奇新疆".into(), "1".into()]);
        t.push(vec!["abc".into(), "100".into()]);
        let text = t.to_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[2].width(), lines[3].width());
        assert!(lines[3].ends_with("100"));
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let mut t = Table::new(&["a"]);
        t.push(vec!["x,y".into()]);
        assert_eq!(t.to_csv(), "a\n\"x,y\"\n");
    }
}
