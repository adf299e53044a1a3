//! Reading a spreadsheet as people send it: CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, or
//! GBK/GB18030 as Chinese Excel saves it; comma, tab or semicolon separated) or a workbook (XLSX,
//! XLS, via calamine), whatever the file's extension says. The result is a [`Grid`]: the rows of
//! one sheet as the user sees them, numbered as Excel numbers them, with merged cells filled in
//! from their top-left cell so that a merged header reads the same in every column it spans.
//!
//! Finding the real header under title rows (`临沂科协微信公众号关注情况统计表`, `填报单位：`) is
//! [`find_header`]: the row, among the first [`HEADER_SCAN_ROWS`], whose cells name the most known
//! columns.

use crate::text::fold_width;
use crate::text::is_blank_char;
use std::borrow::Cow;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use calamine::{Data, Dimensions, Range, Reader, Xls, Xlsx};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// How far down a sheet the header is looked for.
pub const HEADER_SCAN_ROWS: usize = 30;

/// One cell's value, as the file holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A cell Excel formats as a date (or date and time).
    DateTime(NaiveDateTime),
    /// An Excel error value such as `#N/A`.
    Error(String),
}

impl Cell {
    /// The cell as text, as a person would read it.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Cell::Empty => Cow::Borrowed(""),
            Cell::Text(s) => Cow::Borrowed(s.as_str()),
            Cell::Int(n) => Cow::Owned(n.to_string()),
            Cell::Float(x) => Cow::Owned(format_float(*x)),
            Cell::Bool(b) => Cow::Borrowed(if *b { "TRUE" } else { "FALSE" }),
            Cell::DateTime(dt) => Cow::Owned(if dt.time() == NaiveTime::MIN {
                dt.date().to_string()
            } else {
                dt.to_string()
            }),
            Cell::Error(e) => Cow::Owned(e.clone()),
        }
    }

    /// Empty, or text that is only blanks (including the ideographic space).
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.chars().all(is_blank_char),
            _ => false,
        }
    }
}

fn format_float(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// What the file turned out to be.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "format", rename_all = "snake_case")]
pub enum FileKind {
    Csv {
        encoding: &'static str,
        delimiter: char,
    },
    Xlsx,
    Xls,
}

impl FileKind {
    pub fn describe(&self) -> String {
        match self {
            FileKind::Csv {
                encoding,
                delimiter,
            } => {
                let sep = match delimiter {
                    '\t' => "tab".to_string(),
                    c => format!("{c:?}"),
                };
                format!("CSV ({encoding}, {sep}-separated)")
            }
            FileKind::Xlsx => "XLSX workbook".into(),
            FileKind::Xls => "XLS workbook".into(),
        }
    }
}

/// One row of a sheet: its number as the spreadsheet shows it (1-based; for CSV the line) and
/// its cells from column A.
#[derive(Debug, Clone, PartialEq)]
pub struct GridRow {
    pub number: u64,
    pub cells: Vec<Cell>,
}

impl GridRow {
    pub fn get(&self, col: usize) -> &Cell {
        self.cells.get(col).unwrap_or(&Cell::Empty)
    }

    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(Cell::is_blank)
    }
}

/// One sheet of a file, ready to be interpreted.
#[derive(Debug, Clone)]
pub struct Grid {
    pub kind: FileKind,
    /// The sheet's name, for workbooks.
    pub sheet: Option<String>,
    pub rows: Vec<GridRow>,
    /// Things the user should know about how the file was read (a renamed file, an encoding).
    pub notes: Vec<String>,
}

/// Why a file cannot be read as a table. Each names the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("{}: {message}", .file.display())]
    Unreadable { file: PathBuf, message: String },
    #[error("{}: wrong encoding at line {line}: {message}", .file.display())]
    Encoding {
        file: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{}: {kind} is damaged or truncated and cannot be read ({message}); open it in Excel and save it again", .file.display())]
    Damaged {
        file: PathBuf,
        kind: &'static str,
        message: String,
    },
    #[error("{}: there is no sheet {name:?}; the sheets are {}", .file.display(), .available.join(", "))]
    NoSheet {
        file: PathBuf,
        name: String,
        available: Vec<String>,
    },
    #[error("{}: the file is empty", .file.display())]
    Empty { file: PathBuf },
    #[error("{}:{line}: malformed CSV: {message}", .file.display())]
    Csv {
        file: PathBuf,
        line: u64,
        message: String,
    },
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Reads one sheet of `bytes` (the contents of `path`; the path is for messages and for the
/// extension, which is only used to say that it was wrong). `sheet`: a workbook's sheet by name
/// (default: the first); ignored for CSV.
pub fn read(path: &Path, bytes: &[u8], sheet: Option<&str>) -> Result<Grid, TableError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(TableError::Empty {
            file: path.to_path_buf(),
        });
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let mut grid = if bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(b"PK\x05\x06") {
        read_xlsx(path, bytes, sheet)?
    } else if bytes.starts_with(OLE_MAGIC) {
        read_xls(path, bytes, sheet)?
    } else if matches!(ext.as_str(), "xlsx" | "xlsm") {
        return Err(TableError::Damaged {
            file: path.to_path_buf(),
            kind: "XLSX workbook",
            message: "it does not start like a workbook (a zip archive)".into(),
        });
    } else if looks_like_html(bytes) {
        return Err(TableError::Unreadable {
            file: path.to_path_buf(),
            message: "this is a web page (HTML), not a spreadsheet; open it in Excel and save it \
                      as XLSX or CSV"
                .into(),
        });
    } else {
        read_csv(path, bytes)?
    };
    let actual = match grid.kind {
        FileKind::Csv { .. } => "csv",
        FileKind::Xlsx => "xlsx",
        FileKind::Xls => "xls",
    };
    let expected_same = match actual {
        "csv" => matches!(ext.as_str(), "csv" | "txt" | "tsv" | ""),
        "xlsx" => matches!(ext.as_str(), "xlsx" | "xlsm"),
        _ => ext == "xls",
    };
    if !expected_same {
        grid.notes.insert(
            0,
            format!(
                "the file is named .{ext} but is a {}; read as what it is",
                grid.kind.describe()
            ),
        );
    }
    Ok(grid)
}

fn looks_like_html(bytes: &[u8]) -> bool {
    let head: Vec<u8> = bytes
        .iter()
        .skip_while(|b| b.is_ascii_whitespace() || **b == 0xEF || **b == 0xBB || **b == 0xBF)
        .take(512)
        .map(u8::to_ascii_lowercase)
        .collect();
    head.starts_with(b"<!doctype html") || head.starts_with(b"<html") || head.starts_with(b"<table")
}

/// Decodes CSV text: UTF-8 (BOM or not), UTF-16 with a BOM, else GB18030 (a superset of GBK)
/// when it decodes cleanly.
pub fn decode_text(path: &Path, bytes: &[u8]) -> Result<(String, &'static str), TableError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest)
            .map(|s| (s.to_string(), "UTF-8 with BOM"))
            .map_err(|e| bad_utf8(path, rest, e));
    }
    for (bom, enc, name) in [
        (&b"\xFF\xFE"[..], encoding_rs::UTF_16LE, "UTF-16LE"),
        (&b"\xFE\xFF"[..], encoding_rs::UTF_16BE, "UTF-16BE"),
    ] {
        if let Some(rest) = bytes.strip_prefix(bom) {
            let (text, had_errors) = enc.decode_without_bom_handling(rest);
            if had_errors {
                return Err(TableError::Encoding {
                    file: path.to_path_buf(),
                    line: 0,
                    message: format!("it starts like {name} but does not decode as it"),
                });
            }
            return Ok((text.into_owned(), name));
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok((s.to_string(), "UTF-8")),
        Err(e) => {
            let (text, _, had_errors) = encoding_rs::GB18030.decode(bytes);
            if had_errors {
                Err(bad_utf8(path, bytes, e))
            } else {
                Ok((text.into_owned(), "GBK/GB18030"))
            }
        }
    }
}

fn bad_utf8(path: &Path, bytes: &[u8], e: std::str::Utf8Error) -> TableError {
    let upto = e.valid_up_to().min(bytes.len());
    let line = 1 + bytes[..upto].iter().filter(|b| **b == b'\n').count() as u64;
    TableError::Encoding {
        file: path.to_path_buf(),
        line,
        message: "the text is neither UTF-8 nor GBK/GB18030; save it from Excel as \"CSV UTF-8\" \
                  or as XLSX"
            .into(),
    }
}

/// Picks the separator that splits the first lines most consistently.
fn sniff_delimiter(text: &str) -> u8 {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .collect();
    let mut best = (b',', 0usize);
    for d in [b',', b'\t', b';'] {
        let score: usize = lines
            .iter()
            .map(|l| l.bytes().filter(|b| *b == d).count().min(50))
            .sum();
        if score > best.1 {
            best = (d, score);
        }
    }
    best.0
}

fn read_csv(path: &Path, bytes: &[u8]) -> Result<Grid, TableError> {
    let (text, encoding) = decode_text(path, bytes)?;
    let delimiter = sniff_delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut lines = haoqi_model::table::Lines::new(&text);
    for rec in reader.records() {
        let rec = rec.map_err(|e| TableError::Csv {
            file: path.to_path_buf(),
            line: e.position().map_or(0, |p| lines.at(p.byte())),
            message: e.to_string(),
        })?;
        let number = rec
            .position()
            .map_or(rows.len() as u64 + 1, |p| lines.at(p.byte()));
        let cells = rec
            .iter()
            .map(|f| {
                if f.chars().all(is_blank_char) {
                    Cell::Empty
                } else {
                    Cell::Text(f.to_string())
                }
            })
            .collect();
        rows.push(GridRow { number, cells });
    }
    let mut notes = Vec::new();
    if encoding != "UTF-8" {
        notes.push(format!("text encoding: {encoding}"));
    }
    Ok(Grid {
        kind: FileKind::Csv {
            encoding,
            delimiter: char::from(delimiter),
        },
        sheet: None,
        rows,
        notes,
    })
}

fn damaged(path: &Path, kind: &'static str, e: impl std::fmt::Display) -> TableError {
    TableError::Damaged {
        file: path.to_path_buf(),
        kind,
        message: e.to_string(),
    }
}

fn pick_sheet(path: &Path, names: Vec<String>, wanted: Option<&str>) -> Result<String, TableError> {
    match wanted {
        Some(w) => names
            .iter()
            .find(|n| n.as_str() == w)
            .or_else(|| names.iter().find(|n| n.trim() == w.trim()))
            .cloned()
            .ok_or_else(|| TableError::NoSheet {
                file: path.to_path_buf(),
                name: w.to_string(),
                available: names.clone(),
            }),
        None => names.first().cloned().ok_or_else(|| TableError::Empty {
            file: path.to_path_buf(),
        }),
    }
}

fn read_xlsx(path: &Path, bytes: &[u8], sheet: Option<&str>) -> Result<Grid, TableError> {
    const KIND: &str = "XLSX workbook";
    let mut wb: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| damaged(path, KIND, e))?;
    let name = pick_sheet(path, wb.sheet_names(), sheet)?;
    let range = wb
        .worksheet_range(&name)
        .map_err(|e| damaged(path, KIND, e))?;
    let merged = wb
        .merge_cells_by_sheet_name(&name)
        .map_err(|e| damaged(path, KIND, e))?;
    Ok(grid_from_range(FileKind::Xlsx, name, &range, &merged))
}

fn read_xls(path: &Path, bytes: &[u8], sheet: Option<&str>) -> Result<Grid, TableError> {
    const KIND: &str = "XLS workbook";
    let mut wb: Xls<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| damaged(path, KIND, e))?;
    let name = pick_sheet(path, wb.sheet_names(), sheet)?;
    let range = wb
        .worksheet_range(&name)
        .map_err(|e| damaged(path, KIND, e))?;
    let merged = wb
        .merge_cells_by_sheet_name(&name)
        .map_err(|e| damaged(path, KIND, e))?;
    Ok(grid_from_range(FileKind::Xls, name, &range, &merged))
}

fn cell_from(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) => {
            if s.chars().all(is_blank_char) {
                Cell::Empty
            } else {
                Cell::Text(s.clone())
            }
        }
        Data::Int(n) => Cell::Int(*n),
        Data::Float(x) => Cell::Float(*x),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
            NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(d))
                .and_then(|date| {
                    date.and_hms_milli_opt(u32::from(h), u32::from(mi), u32::from(s), u32::from(ms))
                })
                .map_or(Cell::Float(dt.as_f64()), Cell::DateTime)
        }
        Data::DateTime(dt) => Cell::Float(dt.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(format!("#{e:?}")),
    }
}

/// Builds rows at their absolute positions (row 1 is the sheet's first row, whatever the used
/// range) and copies each merged region's value into every cell it covers.
fn grid_from_range(
    kind: FileKind,
    sheet: String,
    range: &Range<Data>,
    merged: &[Dimensions],
) -> Grid {
    let mut rows: Vec<GridRow> = Vec::new();
    if let (Some((r0, c0)), Some((r1, c1))) = (range.start(), range.end()) {
        let width = (c1 + 1) as usize;
        for r in r0..=r1 {
            let mut cells = vec![Cell::Empty; width];
            for c in c0..=c1 {
                if let Some(d) = range.get_value((r, c)) {
                    cells[c as usize] = cell_from(d);
                }
            }
            rows.push(GridRow {
                number: u64::from(r) + 1,
                cells,
            });
        }
        let first = r0;
        for m in merged {
            let (mr0, mc0) = m.start;
            let (mr1, mc1) = m.end;
            let value = range
                .get_value((mr0, mc0))
                .map(cell_from)
                .unwrap_or(Cell::Empty);
            if value.is_blank() {
                continue;
            }
            for r in mr0..=mr1 {
                let Some(row) = r.checked_sub(first).and_then(|i| rows.get_mut(i as usize)) else {
                    continue;
                };
                for c in mc0..=mc1 {
                    let c = c as usize;
                    if row.cells.len() <= c {
                        row.cells.resize(c + 1, Cell::Empty);
                    }
                    if row.cells[c].is_blank() {
                        row.cells[c] = value.clone();
                    }
                }
            }
        }
    }
    Grid {
        kind,
        sheet: Some(sheet),
        rows,
        notes: Vec::new(),
    }
}

/// Excel's name for a column: 0 → A, 25 → Z, 26 → AA.
pub fn column_letter(col: usize) -> String {
    let mut n = col + 1;
    let mut s = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        s.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

/// The column index of a letter name (`C` → 2), for `--map C=followers`.
pub fn column_index(letters: &str) -> Option<usize> {
    if letters.is_empty() || letters.len() > 3 || !letters.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let mut n = 0usize;
    for b in letters.bytes() {
        n = n * 26 + usize::from(b - b'A' + 1);
    }
    Some(n - 1)
}

/// Header text folded for comparison: full-width to ASCII, blanks and line breaks removed, a
/// trailing unit in brackets (`关注人数（人）`) dropped, ASCII lower-cased.
pub fn fold_header(s: &str) -> String {
    let folded = fold_width(s);
    let mut out: String = folded
        .chars()
        .filter(|c| !is_blank_char(*c) && *c != '*' && *c != ':' && *c != '：')
        .collect::<String>()
        .to_lowercase();
    // Drop bracketed annotations: 关注人数(人), 日期(yyyy-mm-dd), 粉丝数【必填】.
    for (open, close) in [('(', ')'), ('[', ']'), ('【', '】'), ('〔', '〕')] {
        while let (Some(a), Some(b)) = (out.find(open), out.rfind(close)) {
            if a >= b {
                break;
            }
            let without = format!("{}{}", &out[..a], &out[b + close.len_utf8()..]);
            if without.is_empty() {
                break;
            }
            out = without;
        }
    }
    out
}

/// The header of a table: which row it is and what each column holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Header<R> {
    /// Index into [`Grid::rows`].
    pub index: usize,
    /// (column, role) for every column with a role.
    pub columns: Vec<(usize, R)>,
    /// The label of every column of the header row (from the rows above where the header row's
    /// own cell is empty, as under a merged header).
    pub labels: Vec<String>,
}

impl<R: Copy + PartialEq> Header<R> {
    pub fn column(&self, role: R) -> Option<usize> {
        self.columns
            .iter()
            .find(|(_, r)| *r == role)
            .map(|(c, _)| *c)
    }

    /// `C (关注人数)`: how messages name a column.
    pub fn describe(&self, col: usize) -> String {
        match self.labels.get(col).filter(|l| !l.is_empty()) {
            Some(l) => format!("{} ({l})", column_letter(col)),
            None => column_letter(col),
        }
    }
}

/// Finds the header among the first rows: the row whose labels give the most distinct roles
/// (`classify` maps a label to a role; `None` for unknown labels). Ties go to the earlier row.
/// Returns `None` when no row names any known column.
pub fn find_header<R: Copy + PartialEq>(
    grid: &Grid,
    classify: impl Fn(usize, &str) -> Option<R>,
) -> Option<Header<R>> {
    let mut best: Option<(usize, Header<R>)> = None;
    for (index, row) in grid.rows.iter().enumerate().take(HEADER_SCAN_ROWS) {
        if row.is_blank() {
            continue;
        }
        let labels = labels_at(grid, index);
        let mut columns: Vec<(usize, R)> = Vec::new();
        for (col, label) in labels.iter().enumerate() {
            if label.is_empty() {
                continue;
            }
            if let Some(role) = classify(col, label) {
                columns.push((col, role));
            }
        }
        let mut distinct: Vec<R> = Vec::new();
        for (_, r) in &columns {
            if !distinct.contains(r) {
                distinct.push(*r);
            }
        }
        let score = distinct.len();
        if score > 0 && best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((
                score,
                Header {
                    index,
                    columns,
                    labels,
                },
            ));
        }
    }
    best.map(|(_, h)| h)
}

/// The labels of row `index`, taking a column's label from the nearest non-empty cell above
/// (within two rows) when the row's own cell is empty: a merged header saved as CSV leaves its
/// lower cells empty.
fn labels_at(grid: &Grid, index: usize) -> Vec<String> {
    let row = &grid.rows[index];
    let width = row.cells.len();
    (0..width)
        .map(|col| {
            let own = row.get(col).text().trim().to_string();
            if !own.is_empty() {
                return own;
            }
            // Only above a row that has other labels: a header, not a data row.
            for up in 1..=2 {
                let Some(i) = index.checked_sub(up) else {
                    break;
                };
                let t = grid.rows[i].get(col).text().trim().to_string();
                if !t.is_empty() {
                    return t;
                }
            }
            String::new()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_index("C"), Some(2));
        assert_eq!(column_index("AA"), Some(26));
        assert_eq!(column_index("关注"), None);
    }

    #[test]
    fn gbk_bom_and_utf8_decode() {
        let (gbk, _, _) = encoding_rs::GBK.encode("序号,单位名称,关注人数\n1,天山区科协,120\n");
        let (t, enc) = decode_text(Path::new("a.csv"), &gbk).unwrap();
        assert_eq!(enc, "GBK/GB18030");
        assert!(t.contains("天山区科协"));
        let (t, enc) = decode_text(Path::new("a.csv"), "\u{feff}a,b".as_bytes()).unwrap();
        assert_eq!((t.as_str(), enc), ("a,b", "UTF-8 with BOM"));
        let err = decode_text(Path::new("a.csv"), &[0x31, 0x2c, 0xff, 0xff, 0xff]).unwrap_err();
        assert!(err.to_string().contains("neither UTF-8 nor GBK"), "{err}");
    }

    #[test]
    fn tabs_are_sniffed() {
        let g = read(
            Path::new("t.txt"),
            "序号\t单位名称\t关注人数\n1\t天山\t3\n".as_bytes(),
            None,
        )
        .unwrap();
        assert_eq!(g.rows[1].cells.len(), 3);
        assert_eq!(
            g.kind,
            FileKind::Csv {
                encoding: "UTF-8",
                delimiter: '\t'
            }
        );
    }

    #[test]
    fn crlf_rows_are_numbered_as_in_the_file() {
        for text in [
            "序号,单位名称,关注人数\n1,天山,3\n\n2,沙依巴克,4\n",
            "序号,单位名称,关注人数\r\n1,天山,3\r\n\r\n2,沙依巴克,4\r\n",
        ] {
            let g = read(Path::new("t.csv"), text.as_bytes(), None).unwrap();
            let numbers: Vec<u64> = g.rows.iter().map(|r| r.number).collect();
            // The blank line 3 is skipped; 沙依巴克 is on line 4 either way.
            assert_eq!(numbers, [1, 2, 4], "{text:?}");
        }
    }

    #[test]
    fn headers_fold() {
        assert_eq!(fold_header(" 关注人数（人） "), "关注人数");
        assert_eq!(fold_header("Followers"), "followers");
        assert_eq!(fold_header("单位 名称"), "单位名称");
        assert_eq!(fold_header("*日期【必填】"), "日期");
    }

    #[test]
    fn a_truncated_workbook_is_named_as_such() {
        let err = read(Path::new("x.xlsx"), b"PK\x03\x04garbage", None).unwrap_err();
        assert!(matches!(err, TableError::Damaged { .. }), "{err}");
        assert!(err.to_string().contains("damaged or truncated"), "{err}");
        let err = read(Path::new("x.xlsx"), b"a,b\n1,2\n", None).unwrap_err();
        assert!(matches!(err, TableError::Damaged { .. }), "{err}");
    }

    #[test]
    fn html_is_refused() {
        let err = read(Path::new("x.xls"), b"<html><table></table></html>", None).unwrap_err();
        assert!(err.to_string().contains("HTML"), "{err}");
    }

    #[test]
    fn the_header_is_found_under_title_rows_and_merged_cells() {
        let text = "临沂科协微信公众号关注情况统计表,,\n填报单位：,,\n序号,单位名称,关注情况\n,,关注人数\n1,天山,3\n";
        let g = read(Path::new("t.csv"), text.as_bytes(), None).unwrap();
        let h = find_header(&g, |_, l| match fold_header(l).as_str() {
            "序号" => Some(0),
            "单位名称" => Some(1),
            "关注人数" => Some(2),
            _ => None,
        })
        .unwrap();
        assert_eq!(h.index, 3, "the lower header row, with labels from above");
        assert_eq!(h.column(1), Some(1));
        assert_eq!(h.column(2), Some(2));
        assert_eq!(h.describe(1), "B (单位名称)");
    }
}
