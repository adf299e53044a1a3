//! Importers: the numbers that no crawler can read — WeChat official accounts and WeChat
//! Channels, or any platform by hand — arrive as filled-in statistics tables (seed 001:
//! 序号 / 单位名称 / 关注人数) or back-office exports, and the association keeps its units and
//! accounts in spreadsheets. This module makes both first-class inputs:
//!
//! - [`table`] reads CSV (UTF-8, BOM, GBK/GB18030) and XLSX/XLS into rows, finds the header under
//!   title rows and merged cells;
//! - [`fields`] knows what a column holds from its header, in Chinese or English, or from a
//!   user's `--map`;
//! - [`values`] parses counts (through [`haoqi_model::count::parse_count`]) and dates;
//! - [`matching`] finds the registry account a row is about, or the closest candidates;
//! - [`readings`] plans, checks and applies an import of readings (one batch: all or none);
//! - [`registry_import`] validates a units-and-accounts spreadsheet with the rules of
//!   `haoqi registry check`, shows the diff and writes the registry files;
//! - [`template`] writes the blank workbooks units fill in, and the registry export;
//! - [`store`] records imports by file hash and saved column mappings.

mod fields;
#[cfg(test)]
mod fixtures;
pub mod matching;
pub mod readings;
pub mod registry_import;
pub mod store;
pub mod table;
pub mod template;
mod text;
pub mod values;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use fields::{Field, Mapping};
/// The progress bar [`readings::plan`] advances (re-exported so callers need not name
/// indicatif).
pub use table::{Grid, TableError};

/// Why an import could not go ahead. Problems in single rows are not errors of this kind: they
/// are collected in the plan with their row and column, so all of them can be shown at once.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Table(#[from] TableError),
    /// The table's layout: no header, no follower column, two candidates for one field.
    #[error("{file}: {message}")]
    Layout { file: String, message: String },
    #[error("{file}: --account {account:?}: {reason}{}", if .candidates.is_empty() { String::new() } else { format!("; closest: {}", .candidates.join("; ")) })]
    Account {
        file: String,
        account: String,
        reason: String,
        candidates: Vec<String>,
    },
    #[error("no saved mapping named {name:?}{}", if .known.is_empty() { " (none saved yet; save one with --save-map NAME)".to_string() } else { format!("; saved: {}", .known.join(", ")) })]
    UnknownMapping { name: String, known: Vec<String> },
    #[error("a saved mapping is damaged: {0}")]
    BadMapping(String),
    /// The plan has problems or unmatched rows (or the file was imported before); nothing was
    /// written. The message says why.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] haoqi_store::StoreError),
    #[error(transparent)]
    Write(#[from] haoqi_store::spool::WriteError),
    #[error("writing the workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error(transparent)]
    Registry(#[from] haoqi_registry::RegistryError),
}

/// A file as read for import: its bytes' sha256 and one sheet as a grid.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub sha256: String,
    pub size: usize,
    pub grid: Grid,
}

impl SourceFile {
    pub fn read(path: &Path, sheet: Option<&str>) -> Result<SourceFile, ImportError> {
        let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(path, &bytes, sheet)
    }

    pub fn from_bytes(
        path: &Path,
        bytes: &[u8],
        sheet: Option<&str>,
    ) -> Result<SourceFile, ImportError> {
        let grid = table::read(path, bytes, sheet)?;
        Ok(SourceFile {
            path: path.to_path_buf(),
            sha256: hex::encode(Sha256::digest(bytes)),
            size: bytes.len(),
            grid,
        })
    }

    /// The file's name, for messages and the import record.
    pub fn name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }
}
