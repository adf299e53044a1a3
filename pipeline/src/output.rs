//! Printing data as `table`, `csv` or `json`, the three formats every data command offers, and
//! progress bars for long work.

use std::fmt::Write as _;
use std::str::FromStr;

pub use haoqi_model::table::Table;
use haoqi_model::tick::Tick;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Csv,
    Json,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        <Format as clap::ValueEnum>::from_str(s, true)
    }
}

/// Renders `table` in `format`; for JSON, `json` is printed instead (richer than the cells).
pub fn render(format: Format, table: &Table, json: &serde_json::Value) -> String {
    match format {
        Format::Table => table.to_text(),
        Format::Csv => table.to_csv(),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(json).unwrap_or_default();
            let _ = writeln!(s);
            s
        }
    }
}

/// A progress bar on the terminal for work that takes long (imports, sweeps, the demo's
/// history); library functions see it only as a [`Tick`].
pub struct Bar(indicatif::ProgressBar);

impl Bar {
    /// A bar drawn as `template` (indicatif's syntax, e.g. `{bar:40} {pos}/{len} rows`).
    pub fn new(template: &str) -> Bar {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Bar(bar)
    }

    /// A bar that draws nothing (not a terminal, `--quiet`, tests).
    pub fn hidden() -> Bar {
        Bar(indicatif::ProgressBar::hidden())
    }
}

impl Tick for Bar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
