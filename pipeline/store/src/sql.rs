//! The SQL text both backends run, and its parameters.
//!
//! Statements live in `pipeline/store/sql/` as ClickHouse SQL with ClickHouse's own query-parameter
//! syntax (`{name:Type}`), so each file can be pasted into clickhouse-client as is. [`render`]
//! substitutes the parameters as literals in one place, for both backends: an `Identifier`
//! becomes a back-quoted name, a `String` a quoted literal (usable in `SETTINGS`), numbers a
//! checked number, anything else `CAST('…' AS Type)`.

use std::collections::BTreeMap;

use super::StoreError;

/// The migrations, in order. Their text is part of the binary; the version is the file prefix.
pub const MIGRATIONS: &[(u32, &str, &str)] = &[
    (
        1,
        "dimensions",
        include_str!("../sql/migrations/0001_dimensions.sql"),
    ),
    (
        2,
        "readings",
        include_str!("../sql/migrations/0002_readings.sql"),
    ),
    (
        3,
        "progress_views",
        include_str!("../sql/migrations/0003_progress_views.sql"),
    ),
    (
        4,
        "collection_events",
        include_str!("../sql/migrations/0004_collection_events.sql"),
    ),
    (
        5,
        "analytics_views",
        include_str!("../sql/migrations/0005_analytics_views.sql"),
    ),
    (
        6,
        "rankings",
        include_str!("../sql/migrations/0006_rankings.sql"),
    ),
    (
        7,
        "imports",
        include_str!("../sql/migrations/0007_imports.sql"),
    ),
    (
        8,
        "faster_views",
        include_str!("../sql/migrations/0008_faster_views.sql"),
    ),
    (
        9,
        "month_partitions",
        include_str!("../sql/migrations/0009_month_partitions.sql"),
    ),
    (
        10,
        "queries_not_views",
        include_str!("../sql/migrations/0010_queries_not_views.sql"),
    ),
    (
        11,
        "last_attempts",
        include_str!("../sql/migrations/0011_last_attempts.sql"),
    ),
    (
        12,
        "batch_journal",
        include_str!("../sql/migrations/0012_batch_journal.sql"),
    ),
];

/// Pieces of SQL that several queries share, spliced in where a query says `{fragment:NAME}`
/// (before its parameters are substituted). A parameterized view would say it once too, but
/// reading one inside a query costs ClickHouse about 50 ms more planning (BENCHMARKS.md).
pub const FRAGMENTS: &[(&str, &str)] =
    &[("registry", include_str!("../sql/fragments/registry.sql"))];

/// The text with its fragments spliced in.
pub fn expand(template: &str) -> std::borrow::Cow<'_, str> {
    if !template.contains("{fragment:") {
        return std::borrow::Cow::Borrowed(template);
    }
    let mut out = template.to_string();
    for (name, text) in FRAGMENTS {
        out = out.replace(&format!("{{fragment:{name}}}"), text.trim_end());
    }
    std::borrow::Cow::Owned(out)
}

/// Queries that are also published as parameterized views, for the dashboards: `haoqi init`
/// creates `CREATE OR REPLACE VIEW <name> AS <query file>` whenever the file changed (the binary
/// itself sends the query, which ClickHouse plans faster than a call of the view).
pub const VIEWS: &[(&str, &str)] = &[("account_health", queries::ACCOUNT_HEALTH)];

/// The statement that publishes one of [`VIEWS`] (rendered for a database like a migration).
pub fn view_statement(name: &str, query: &str) -> String {
    format!(
        "CREATE OR REPLACE VIEW {{db:Identifier}}.{name} AS\n{}",
        query.trim().trim_end_matches(';')
    )
}

/// Named queries (one file each under `sql/queries/`).
pub mod queries {
    pub const MIGRATIONS_CREATE: &str = include_str!("../sql/queries/migrations_create.sql");
    pub const MIGRATIONS_APPLIED: &str = include_str!("../sql/queries/migrations_applied.sql");
    pub const MIGRATIONS_RECORD: &str = include_str!("../sql/queries/migrations_record.sql");
    pub const VIEWS_APPLIED: &str = include_str!("../sql/queries/views_applied.sql");
    pub const VIEWS_RECORD: &str = include_str!("../sql/queries/views_record.sql");
    pub const READINGS_INSERT: &str = include_str!("../sql/queries/readings_insert.sql");
    pub const DIMENSION_INSERT: &str = include_str!("../sql/queries/dimension_insert.sql");
    pub const DIMENSION_HASHES: &str = include_str!("../sql/queries/dimension_hashes.sql");
    pub const PROGRESS_ACCOUNTS: &str = include_str!("../sql/queries/progress_accounts.sql");
    pub const PROGRESS_SUMMARY: &str = include_str!("../sql/queries/progress_summary.sql");
    pub const FOLLOWERS_DAILY: &str = include_str!("../sql/queries/followers_daily.sql");
    pub const EVENTS_INSERT: &str = include_str!("../sql/queries/events_insert.sql");
    pub const ACCOUNT_HEALTH: &str = include_str!("../sql/queries/account_health.sql");
    pub const SERIES_DAILY: &str = include_str!("../sql/queries/series_daily.sql");
    pub const ACCOUNT_GROWTH: &str = include_str!("../sql/queries/account_growth.sql");
    pub const RANK_INPUTS: &str = include_str!("../sql/queries/rank_inputs.sql");
    pub const RANK_ANOMALIES: &str = include_str!("../sql/queries/rank_anomalies.sql");
    pub const RANK_FREEZE_LIST: &str = include_str!("../sql/queries/rank_freeze_list.sql");
    pub const RANK_FREEZE_COUNT: &str = include_str!("../sql/queries/rank_freeze_count.sql");
    pub const RANK_FREEZE_LOAD: &str = include_str!("../sql/queries/rank_freeze_load.sql");
    pub const RANK_FREEZE_INSERT: &str = include_str!("../sql/queries/rank_freeze_insert.sql");
    pub const ANOMALY_RESOLUTIONS: &str = include_str!("../sql/queries/anomaly_resolutions.sql");
    pub const ANOMALY_RESOLVE: &str = include_str!("../sql/queries/anomaly_resolve.sql");
    pub const JOURNAL_INSERT: &str = include_str!("../sql/queries/journal_insert.sql");
    pub const JOURNAL_PENDING: &str = include_str!("../sql/queries/journal_pending.sql");
    pub const ROLLUP_REBUILD: &str = include_str!("../sql/queries/rollup_rebuild.sql");
    pub const ROLLUP_FORGET: &str = include_str!("../sql/queries/rollup_forget.sql");
    pub const READINGS_FORGET: &str = include_str!("../sql/queries/readings_forget.sql");
    pub const CHECK_ROLLUP: &str = include_str!("../sql/queries/check_rollup.sql");
    pub const CHECK_IMPORTS: &str = include_str!("../sql/queries/check_imports.sql");
    pub const BATCH_DAYS: &str = include_str!("../sql/queries/batch_days.sql");
    pub const LAST_SUCCESSES: &str = include_str!("../sql/queries/last_successes.sql");
    pub const BACKUP_DATABASE: &str = include_str!("../sql/queries/backup_database.sql");
    pub const RESTORE_DATABASE: &str = include_str!("../sql/queries/restore_database.sql");
    pub const DATABASE_TABLES: &str = include_str!("../sql/queries/database_tables.sql");
    pub const ACCOUNT_DAYS: &str = include_str!("../sql/queries/account_days.sql");
}

/// A parameter value. The declared type in the SQL decides how it is written.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Str(String),
    UInt(u64),
    Int(i64),
    Float(f64),
    /// For `Array(String)`: written as an array literal of quoted strings.
    List(Vec<String>),
}

impl From<&str> for Param {
    fn from(s: &str) -> Self {
        Param::Str(s.to_string())
    }
}
impl From<String> for Param {
    fn from(s: String) -> Self {
        Param::Str(s)
    }
}
impl From<u64> for Param {
    fn from(n: u64) -> Self {
        Param::UInt(n)
    }
}
impl From<i64> for Param {
    fn from(n: i64) -> Self {
        Param::Int(n)
    }
}

impl From<f64> for Param {
    fn from(n: f64) -> Self {
        Param::Float(n)
    }
}

impl<S: AsRef<str>> From<&[S]> for Param {
    fn from(items: &[S]) -> Self {
        Param::List(items.iter().map(|s| s.as_ref().to_string()).collect())
    }
}

/// Parameters by name; `db` is always the store's database.
#[derive(Debug, Clone, Default)]
pub struct Params(BTreeMap<String, Param>);

impl Params {
    pub fn new(database: &str) -> Self {
        let mut p = Params::default();
        p.0.insert("db".into(), Param::Str(database.to_string()));
        p
    }

    pub fn set(mut self, name: &str, value: impl Into<Param>) -> Self {
        self.0.insert(name.to_string(), value.into());
        self
    }
}

/// Quotes a string as a ClickHouse literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\0' => out.push_str("\\0"),
            _ => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Substitutes every `{name:Type}` in `template`. A parameter the SQL names but `params` lacks
/// is an error, never an empty value.
pub fn render(template: &str, params: &Params) -> Result<String, StoreError> {
    render_with(template, params, false)
}

/// Renders a schema statement: only the parameters given are substituted; the others are the
/// parameters of a parameterized view being defined and stay as they are.
pub fn render_schema(template: &str, params: &Params) -> Result<String, StoreError> {
    render_with(template, params, true)
}

fn render_with(template: &str, params: &Params, keep_unknown: bool) -> Result<String, StoreError> {
    let template = expand(template);
    if let Some(at) = template.find("{fragment:") {
        let name: String = template[at..].chars().take_while(|c| *c != '}').collect();
        return Err(StoreError::Config(format!("unknown SQL fragment {name}}}")));
    }
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest: &str = &template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match parse_placeholder(after) {
            Some((name, ty, consumed)) => {
                match params.0.get(name) {
                    Some(value) => out.push_str(&literal(name, ty, value)?),
                    None if keep_unknown => out.push_str(&rest[open..open + 1 + consumed]),
                    None => {
                        return Err(StoreError::Config(format!(
                            "SQL parameter {{{name}:{ty}}} has no value"
                        )))
                    }
                }
                rest = &after[consumed..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// `name:Type}` → (name, Type, bytes consumed including the `}`). Types may nest parentheses and
/// quotes (`DateTime64(3, 'UTC')`).
fn parse_placeholder(s: &str) -> Option<(&str, &str, usize)> {
    let colon = s.find(':')?;
    let name = &s[..colon];
    let mut chars = name.chars();
    let first = chars.next()?;
    if !(first.is_ascii_alphabetic() || first == '_')
        || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return None;
    }
    let ty_start = colon + 1;
    let mut depth = 0i32;
    let mut in_quote = false;
    for (i, c) in s[ty_start..].char_indices() {
        match c {
            '\'' => in_quote = !in_quote,
            '(' if !in_quote => depth += 1,
            ')' if !in_quote => depth -= 1,
            '}' if !in_quote && depth == 0 => {
                let ty = s[ty_start..ty_start + i].trim();
                return (!ty.is_empty()).then_some((name, ty, ty_start + i + 1));
            }
            '\n' | '{' if !in_quote => return None,
            _ => {}
        }
    }
    None
}

fn literal(name: &str, ty: &str, value: &Param) -> Result<String, StoreError> {
    let bad = || {
        StoreError::Config(format!(
            "SQL parameter {name} of type {ty} cannot take {value:?}"
        ))
    };
    let numeric = ty.starts_with("UInt") || ty.starts_with("Int") || ty.starts_with("Float");
    Ok(match (ty, value) {
        ("Identifier", Param::Str(s)) => {
            super::check_identifier(s)?;
            format!("`{s}`")
        }
        ("String", Param::Str(s)) => quote(s),
        (_, Param::UInt(n)) if numeric => n.to_string(),
        (_, Param::Int(n)) if numeric && !ty.starts_with("UInt") => n.to_string(),
        (_, Param::Int(n)) if numeric && *n >= 0 => n.to_string(),
        // Debug formatting keeps a decimal point (1.0, not 1) and full precision.
        (_, Param::Float(x)) if ty.starts_with("Float") && x.is_finite() => format!("{x:?}"),
        ("Array(String)", Param::List(items)) => {
            let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
            format!("[{}]", quoted.join(", "))
        }
        (_, Param::Str(s)) if !numeric && ty != "Identifier" => {
            format!("CAST({} AS {ty})", quote(s))
        }
        _ => return Err(bad()),
    })
}

/// Splits a migration file into statements: each ends with `;` at the end of a line.
pub fn statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let code = line.trim();
        if code.starts_with("--") && current.trim().is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if code.ends_with(';') && !code.starts_with("--") {
            let stmt = current.trim().trim_end_matches(';').trim().to_string();
            if !stmt.is_empty() {
                out.push(stmt);
            }
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_each_kind_of_parameter() {
        let p = Params::new("haoqi")
            .set("day", "2024-12-31")
            .set("n", 5u64)
            .set("who", "it's");
        let sql = render(
            "SELECT * FROM {db:Identifier}.t WHERE d <= {day:Date} AND x = {n:UInt32} \
             AND s = {who:String} AND t < {day:DateTime64(3, 'UTC')} AND m = {'a':1}",
            &p,
        )
        .unwrap();
        assert_eq!(
            sql,
            "SELECT * FROM `haoqi`.t WHERE d <= CAST('2024-12-31' AS Date) AND x = 5 \
             AND s = 'it\\'s' AND t < CAST('2024-12-31' AS DateTime64(3, 'UTC')) AND m = {'a':1}"
        );
    }

    #[test]
    fn a_missing_parameter_is_an_error() {
        let err = render("SELECT {x:UInt8}", &Params::new("haoqi")).unwrap_err();
        assert!(err.to_string().contains("{x:UInt8}"), "{err}");
    }

    #[test]
    fn string_lists_become_array_literals() {
        let p = Params::new("h").set("xs", ["douyin", "it's"].as_slice());
        assert_eq!(
            render("SELECT has({xs:Array(String)}, 'a')", &p).unwrap(),
            "SELECT has(['douyin', 'it\\'s'], 'a')"
        );
        // A list fits no other type.
        assert!(render("SELECT {xs:String}", &p).is_err());
    }

    #[test]
    fn injection_through_identifiers_or_numbers_is_refused() {
        let p = Params::new("x`; DROP TABLE y; --");
        assert!(render("SELECT 1 FROM {db:Identifier}.t", &p).is_err());
        let p = Params::new("haoqi").set("n", "1 OR 1=1");
        assert!(render("SELECT {n:UInt64}", &p).is_err());
    }

    #[test]
    fn every_migration_and_query_renders() {
        let p = Params::new("haoqi")
            .set("as_of", "2024-12-31 16:00:00.000")
            .set("as_of_day", "2024-12-31")
            .set("stale_after_hours", 48u64)
            .set("token", "t")
            .set("table", "units")
            .set("key", "unit_id")
            .set("version", 1u64)
            .set("name", "n")
            .set("checksum", "c")
            .set("from_day", "2024-01-01")
            .set("to_day", "2024-12-31")
            .set("unit_id", "")
            .set("prefecture", 0u64);
        for (_, _, text) in MIGRATIONS {
            for stmt in statements(text) {
                let sql = render_schema(&stmt, &Params::new("haoqi")).unwrap();
                assert!(!sql.contains("{db:"), "{sql}");
            }
        }
        for q in [
            queries::MIGRATIONS_CREATE,
            queries::MIGRATIONS_APPLIED,
            queries::MIGRATIONS_RECORD,
            queries::READINGS_INSERT,
            queries::DIMENSION_INSERT,
            queries::PROGRESS_ACCOUNTS,
            queries::PROGRESS_SUMMARY,
            queries::FOLLOWERS_DAILY,
            queries::EVENTS_INSERT,
        ] {
            render(q, &p).unwrap();
        }
    }

    #[test]
    fn no_migration_splices_a_fragment() {
        // An applied migration is recorded by its own text; a fragment edited later would
        // change what it means without changing its checksum.
        for (version, _, text) in MIGRATIONS {
            assert!(!text.contains("{fragment:"), "migration {version}");
        }
    }

    #[test]
    fn fragments_are_spliced_before_parameters() {
        let q = "WITH now() AS day_end,\n    {fragment:registry}\nSELECT * FROM acc";
        let sql = render(q, &Params::new("h")).unwrap();
        assert!(sql.contains("FROM `h`.accounts"), "{sql}");
        assert!(sql.contains("reg AS ("), "{sql}");
        assert!(!sql.contains("{fragment:"), "{sql}");
        let err = render("SELECT {fragment:nope}", &Params::new("h")).unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown SQL fragment {fragment:nope}"),
            "{err}"
        );
    }

    #[test]
    fn statements_split_on_line_final_semicolons() {
        let s = statements("-- c\nCREATE TABLE a (x UInt8);\n\n-- d\nCREATE TABLE b\n(y UInt8);\n");
        assert_eq!(
            s,
            vec![
                "CREATE TABLE a (x UInt8)",
                // A comment before a statement is dropped.
                "CREATE TABLE b\n(y UInt8)"
            ]
        );
    }
}
