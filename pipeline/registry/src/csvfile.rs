//! Reading one registry CSV file with errors that name the file, the line and the field.
//!
//! Registry files are UTF-8 (a BOM is accepted). A file saved by Chinese Excel as GBK is
//! recognised and refused with a message saying so, rather than loading mojibake.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use haoqi_model::table::Lines;

/// One problem in one place of one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoadError {
    pub file: PathBuf,
    /// 1-based line; 0 when the problem is the file as a whole.
    pub line: u64,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(field) = &self.field {
            write!(f, " field {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A parsed CSV file: its records with their line numbers, addressable by column name.
pub(crate) struct CsvFile {
    pub path: PathBuf,
    columns: HashMap<String, usize>,
    pub records: Vec<(u64, csv::StringRecord)>,
}

/// The text of a registry file, decoded; the error explains a wrong encoding.
pub(crate) fn decode(path: &Path, bytes: &[u8]) -> Result<String, LoadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            let (_, _, gbk_errors) = encoding_rs::GB18030.decode(bytes);
            let hint = if gbk_errors {
                "it is not UTF-8 (nor GBK)".to_string()
            } else {
                "it is GBK/GB18030-encoded (as Chinese Excel saves CSV), not UTF-8; save it as \
                 \"CSV UTF-8\" and load it again"
                    .to_string()
            };
            Err(LoadError {
                file: path.to_path_buf(),
                line,
                field: None,
                message: format!("wrong encoding: {hint}"),
            })
        }
    }
}

impl CsvFile {
    /// Parses `text`, checking that every `required` column is in the header.
    pub(crate) fn parse(
        path: &Path,
        text: &str,
        required: &[&str],
    ) -> Result<Self, Vec<LoadError>> {
        let err = |line: u64, message: String| LoadError {
            file: path.to_path_buf(),
            line,
            field: None,
            message,
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(text.as_bytes());
        let header = reader
            .headers()
            .map_err(|e| vec![err(1, format!("cannot read the header: {e}"))])?
            .clone();
        let columns: HashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_string(), i))
            .collect();
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|c| !columns.contains_key(*c))
            .collect();
        if !missing.is_empty() {
            return Err(vec![err(
                1,
                format!(
                    "wrong header: missing column(s) {}; expected {} (found {})",
                    missing.join(", "),
                    required.join(","),
                    header.iter().collect::<Vec<_>>().join(",")
                ),
            )]);
        }
        let mut records = Vec::new();
        let mut errors = Vec::new();
        let mut lines = Lines::new(text);
        for rec in reader.records() {
            match rec {
                Ok(r) => {
                    let line = r.position().map_or(0, |p| lines.at(p.byte()));
                    if r.iter().all(|f| f.trim().is_empty()) {
                        continue;
                    }
                    records.push((line, r));
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| lines.at(p.byte()));
                    errors.push(err(line, format!("malformed CSV record: {e}")));
                }
            }
        }
        if errors.is_empty() {
            Ok(CsvFile {
                path: path.to_path_buf(),
                columns,
                records,
            })
        } else {
            Err(errors)
        }
    }

    /// A cursor over one record that collects field errors.
    pub(crate) fn row<'a>(&'a self, line: u64, record: &'a csv::StringRecord) -> Row<'a> {
        Row {
            file: self,
            line,
            record,
        }
    }
}

pub(crate) struct Row<'a> {
    file: &'a CsvFile,
    pub line: u64,
    record: &'a csv::StringRecord,
}

impl Row<'_> {
    pub(crate) fn path(&self) -> &Path {
        &self.file.path
    }

    fn error(&self, field: &str, message: String) -> LoadError {
        LoadError {
            file: self.file.path.clone(),
            line: self.line,
            field: Some(field.to_string()),
            message,
        }
    }

    /// The trimmed text of a column ("" when the column is optional and absent).
    pub(crate) fn text(&self, field: &str) -> &str {
        self.file
            .columns
            .get(field)
            .and_then(|i| self.record.get(*i))
            .map_or("", str::trim)
    }

    pub(crate) fn required(&self, field: &str, errors: &mut Vec<LoadError>) -> Option<String> {
        let t = self.text(field);
        if t.is_empty() {
            errors.push(self.error(field, "is empty".into()));
            None
        } else {
            Some(t.to_string())
        }
    }

    /// A value parsed with `FromStr`; an empty field is `Ok(None)`.
    pub(crate) fn optional<T: FromStr>(&self, field: &str, errors: &mut Vec<LoadError>) -> Option<T>
    where
        T::Err: fmt::Display,
    {
        let t = self.text(field);
        if t.is_empty() {
            return None;
        }
        match t.parse::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                errors.push(self.error(field, format!("{t:?}: {e}")));
                None
            }
        }
    }

    pub(crate) fn parsed<T: FromStr>(&self, field: &str, errors: &mut Vec<LoadError>) -> Option<T>
    where
        T::Err: fmt::Display,
    {
        if self.text(field).is_empty() {
            errors.push(self.error(field, "is empty".into()));
            return None;
        }
        self.optional(field, errors)
    }

    pub(crate) fn boolean(&self, field: &str, default: bool, errors: &mut Vec<LoadError>) -> bool {
        match self.text(field) {
            "" => default,
            "true" | "TRUE" | "True" | "1" | "yes" | "y" | "是" => true,
            "false" | "FALSE" | "False" | "0" | "no" | "n" | "否" => false,
            other => {
                errors.push(self.error(
                    field,
                    format!("{other:?} is not a yes/no value (true/false, 1/0, 是/否)"),
                ));
                default
            }
        }
    }

    pub(crate) fn fail(&self, field: &str, message: String, errors: &mut Vec<LoadError>) {
        errors.push(self.error(field, message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_is_recognised() {
        let (gbk, _, _) = encoding_rs::GBK.encode("code,name\n650100,乌鲁木齐市\n");
        let err = decode(Path::new("regions.csv"), &gbk).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("GBK"), "{}", err.message);
    }

    #[test]
    fn bom_is_accepted() {
        let text = decode(Path::new("x.csv"), b"\xEF\xBB\xBFa,b\n1,2\n").unwrap();
        assert!(text.starts_with("a,b"));
    }

    #[test]
    fn missing_columns_are_named() {
        let errs = CsvFile::parse(
            Path::new("units.csv"),
            "unit_id,name\nx,y\n",
            &["unit_id", "kind"],
        )
        .err()
        .unwrap();
        assert_eq!(errs[0].line, 1);
        assert!(errs[0].message.contains("kind"));
    }

    #[test]
    fn ragged_rows_are_errors_with_lines() {
        let errs = CsvFile::parse(Path::new("u.csv"), "a,b\n1,2\n3\n", &["a"])
            .err()
            .unwrap();
        assert_eq!(errs[0].line, 3);
    }

    #[test]
    fn crlf_files_number_their_lines_as_lf_files_do() {
        for text in ["a,b\n1,2\n3,4\n5\n", "a,b\r\n1,2\r\n3,4\r\n5\r\n"] {
            let errs = CsvFile::parse(Path::new("u.csv"), text, &["a"])
                .err()
                .unwrap();
            assert_eq!(errs[0].line, 4, "{text:?}");
            let ok =
                CsvFile::parse(Path::new("u.csv"), &text.replace("\n5", "\n5,6"), &["a"]).unwrap();
            let lines: Vec<u64> = ok.records.iter().map(|(l, _)| *l).collect();
            assert_eq!(lines, [2, 3, 4], "{text:?}");
        }
    }
}
