//! The schema for a ClickHouse cluster (shards × replicas with ClickHouse Keeper), generated from
//! the single-node migrations so the two cannot drift: the same statements, rewritten.
//!
//! - Readings, their daily rollup, collection events and each account's last attempt are sharded
//!   by account (`cityHash64(account_id)`): each becomes `<name>_local` (a
//!   `Replicated…MergeTree` per shard) plus `<name>`, a `Distributed` table over them — so every
//!   query keeps its table names.
//! - Everything else (registry dimensions, rankings, migrations) is small and read by every
//!   query: one replicated copy on every node (Keeper path without `{shard}`), same name.
//! - The rollups' materialized views run on each node, from `readings_local` into
//!   `counters_daily_local` and from `collection_events_local` into `last_attempts_local`, so
//!   deduplicated inserts stay deduplicated in the rollups.
//! - Views are created `ON CLUSTER` unchanged: they read the `Distributed` tables. Their `IN`
//!   subqueries over distributed tables need `distributed_product_mode = 'global'` (set in the
//!   cluster users profile, deploy/clickhouse/cluster/).

use super::sql::{self, Params};
use super::StoreError;

/// Tables split across shards by account.
pub const SHARDED: [&str; 4] = [
    "readings",
    "counters_daily",
    "collection_events",
    "last_attempts",
];

/// The suffix of the copy a migration rebuilds a table into before swapping the two.
const REBUILD: &str = "_next";

/// A sharded table, or the copy a migration rebuilds it into.
fn sharded(name: &str) -> bool {
    let base = name.strip_suffix(REBUILD).unwrap_or(name);
    SHARDED.contains(&base)
}

/// The per-shard table behind a name: `<name>_local` for sharded tables, else the table itself.
fn local_name(name: &str) -> String {
    if sharded(name) {
        format!("{name}_local")
    } else {
        name.to_string()
    }
}

/// Every schema statement of the single node, in order: the migrations table, each migration's
/// statements, then the query views, rendered for `database`.
pub fn single_node(database: &str) -> Result<Vec<String>, StoreError> {
    let params = Params::new(database);
    let create = sql::render(sql::queries::MIGRATIONS_CREATE, &params)?;
    let mut out = sql::statements(&format!("{};\n", create.trim().trim_end_matches(';')));
    for (_, _, text) in sql::MIGRATIONS {
        for stmt in sql::statements(text) {
            out.push(sql::render_schema(&stmt, &params)?);
        }
    }
    for (name, query) in sql::VIEWS {
        out.push(sql::render_schema(
            &sql::view_statement(name, query),
            &params,
        )?);
    }
    Ok(out)
}

fn err(stmt: &str, why: &str) -> StoreError {
    let head: String = stmt.chars().take(80).collect();
    StoreError::Config(format!("cluster schema: {why} in: {head}…"))
}

/// `CREATE … <prefix>`db`.name` → (name, byte range of the qualified name).
fn object_name<'a>(stmt: &'a str, qualified_db: &str) -> Option<(&'a str, usize, usize)> {
    let at = stmt.find(qualified_db)?;
    let start = at + qualified_db.len();
    let len = stmt[start..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(stmt.len() - start);
    Some((&stmt[start..start + len], at, start + len))
}

/// The cluster's statements for `database` on `cluster`.
pub fn ddl(cluster: &str, database: &str) -> Result<Vec<String>, StoreError> {
    super::check_identifier(cluster)?;
    let q = format!("`{database}`.");
    let mut out = Vec::new();
    for stmt in single_node(database)? {
        let on = format!(" ON CLUSTER `{cluster}`");
        if stmt.starts_with("CREATE TABLE") {
            let (name, _, end) =
                object_name(&stmt, &q).ok_or_else(|| err(&stmt, "no table name"))?;
            let name = name.to_string();
            let local = local_name(&name);
            let engine_at = stmt
                .find("\nENGINE = ")
                .ok_or_else(|| err(&stmt, "no ENGINE line"))?;
            let engine_start = engine_at + "\nENGINE = ".len();
            let engine_end = stmt[engine_start..]
                .find('\n')
                .map_or(stmt.len(), |i| engine_start + i);
            let engine = &stmt[engine_start..engine_end];
            let (family, args) = match engine.split_once('(') {
                Some((f, rest)) => (f, rest.trim_end_matches(')').trim()),
                None => (engine, ""),
            };
            if !family.ends_with("MergeTree") {
                return Err(err(&stmt, "only MergeTree engines can be replicated"));
            }
            let shard = if sharded(&name) { "{shard}" } else { "all" };
            // A rebuilt copy is swapped in under the live name and keeps its Keeper path, so
            // that path must not be the one the next rebuild's copy would use: `{uuid}` (the
            // table's own, generated for `ON CLUSTER`) keeps each one distinct.
            let unique = if name.ends_with(REBUILD) {
                "/{uuid}"
            } else {
                ""
            };
            let mut rargs =
                format!("'/clickhouse/tables/{shard}/{database}/{local}{unique}', '{{replica}}'");
            if !args.is_empty() {
                rargs.push_str(", ");
                rargs.push_str(args);
            }
            let mut s = String::with_capacity(stmt.len() + 128);
            s.push_str(&stmt[..end - name.len()]);
            s.push_str(&local);
            s.push_str(&on);
            s.push_str(&stmt[end..engine_start]);
            s.push_str(&format!("Replicated{family}({rargs})"));
            s.push_str(&stmt[engine_end..]);
            out.push(s.replace(
                "non_replicated_deduplication_window",
                "replicated_deduplication_window",
            ));
            if sharded(&name) {
                out.push(format!(
                    "CREATE TABLE IF NOT EXISTS {q}{name}{on} AS {q}{local}\n\
                     ENGINE = Distributed(`{cluster}`, `{database}`, {local}, cityHash64(account_id))"
                ));
            }
        } else if stmt.starts_with("CREATE MATERIALIZED VIEW") {
            let (_, _, end) = object_name(&stmt, &q).ok_or_else(|| err(&stmt, "no view name"))?;
            let mut s = format!("{}{on}{}", &stmt[..end], &stmt[end..]);
            for t in SHARDED {
                for kw in ["TO ", "FROM "] {
                    s = s.replace(&format!("{kw}{q}{t}\n"), &format!("{kw}{q}{t}_local\n"));
                    s = s.replace(&format!("{kw}{q}{t} "), &format!("{kw}{q}{t}_local "));
                }
            }
            out.push(s);
        } else if ["CREATE OR REPLACE VIEW", "CREATE VIEW", "DROP VIEW "]
            .iter()
            .any(|k| stmt.starts_with(k))
        {
            let (_, _, end) = object_name(&stmt, &q).ok_or_else(|| err(&stmt, "no view name"))?;
            out.push(format!("{}{on}{}", &stmt[..end], &stmt[end..]));
        } else if stmt.starts_with("DROP TABLE ") {
            // The Distributed table first, then what it points at.
            let (name, at, end) =
                object_name(&stmt, &q).ok_or_else(|| err(&stmt, "no table name"))?;
            let (head, tail) = (&stmt[..at], &stmt[end..]);
            if sharded(name) {
                out.push(format!("{head}{q}{name}{on}{tail}"));
            }
            out.push(format!("{head}{q}{}{on}{tail}", local_name(name)));
        } else if stmt.starts_with("EXCHANGE TABLES ") {
            // Distributed tables name their local tables, so swapping those swaps the data.
            let (a, _, a_end) =
                object_name(&stmt, &q).ok_or_else(|| err(&stmt, "no table name"))?;
            let (b, _, _) = object_name(&stmt[a_end..], &q)
                .ok_or_else(|| err(&stmt, "no second table name"))?;
            out.push(format!(
                "EXCHANGE TABLES {q}{} AND {q}{}{on}",
                local_name(a),
                local_name(b)
            ));
        } else if stmt.starts_with("INSERT INTO ") && stmt.contains(" SELECT ") {
            // Copies rows between tables; run once, through the Distributed tables. A new
            // cluster has no rows, so on it this does nothing.
            out.push(stmt);
        } else {
            return Err(err(
                &stmt,
                "a statement the cluster generator does not know",
            ));
        }
    }
    Ok(out)
}

/// The cluster schema as one file, for `clickhouse-client --multiquery`.
pub fn script(cluster: &str, database: &str) -> Result<String, StoreError> {
    let mut s = format!(
        "-- Generated by `haoqi init --cluster {cluster} --print` from pipeline/store/sql/migrations/ (do not edit:\n\
         -- change the migrations and regenerate). Cluster `{cluster}`, database `{database}`.\n\
         CREATE DATABASE IF NOT EXISTS `{database}` ON CLUSTER `{cluster}`;\n\n"
    );
    for stmt in ddl(cluster, database)? {
        s.push_str(&stmt);
        s.push_str(";\n\n");
    }
    Ok(s)
}

/// The cluster statements turned back into single-node ones (no `ON CLUSTER`, no replication,
/// no `Distributed` tables), so a test can run them on the embedded engine and compare columns.
pub fn localized(cluster: &str, database: &str) -> Result<Vec<String>, StoreError> {
    let on = format!(" ON CLUSTER `{cluster}`");
    let mut out = Vec::new();
    let q = format!("`{database}`.");
    for stmt in ddl(cluster, database)? {
        if stmt.contains("ENGINE = Distributed(") {
            continue;
        }
        // Dropping a Distributed table: the single node has only the local one.
        if stmt.starts_with("DROP TABLE ")
            && object_name(&stmt, &q).is_some_and(|(n, _, _)| sharded(n))
        {
            continue;
        }
        // Rows copied through Distributed tables are copied between the local ones here.
        if stmt.starts_with("INSERT INTO ") {
            let words: Vec<String> = stmt
                .split(' ')
                .map(|w| match w.strip_prefix(&q) {
                    Some(name) if sharded(name) => format!("{q}{name}_local"),
                    _ => w.to_string(),
                })
                .collect();
            out.push(words.join(" "));
            continue;
        }
        let mut s = stmt.replace(&on, "");
        if let Some(i) = s.find("ENGINE = Replicated") {
            let start = i + "ENGINE = ".len();
            let line_end = s[start..].find('\n').map_or(s.len(), |j| start + j);
            let engine = &s[start + "Replicated".len()..line_end];
            let (family, args) = engine.split_once('(').unwrap_or((engine, ")"));
            // Drop the Keeper path and replica name, keep the engine's own arguments.
            let own: Vec<&str> = args.trim_end_matches(')').split(", ").skip(2).collect();
            let replacement = if own.is_empty() {
                family.to_string()
            } else {
                format!("{family}({})", own.join(", "))
            };
            s = format!("{}{}{}", &s[..start], replacement, &s[line_end..]);
            s = s.replace(
                "replicated_deduplication_window",
                "non_replicated_deduplication_window",
            );
        }
        out.push(s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sharded_tables_get_a_local_table_and_a_distributed_one() {
        let d = ddl("haoqi_cluster", "haoqi").unwrap();
        let readings: Vec<&String> = d
            .iter()
            .filter(|s| s.contains("`haoqi`.readings"))
            .collect();
        assert!(readings.iter().any(|s| s.starts_with(
            "CREATE TABLE IF NOT EXISTS `haoqi`.readings_local ON CLUSTER `haoqi_cluster`"
        ) && s.contains(
            "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/haoqi/readings_local', '{replica}')"
        ) && s.contains("replicated_deduplication_window")
            && !s.contains("non_replicated")));
        assert!(d.iter().any(|s| {
            s.contains(
            "ENGINE = Distributed(`haoqi_cluster`, `haoqi`, readings_local, cityHash64(account_id))"
        )
        }));
        let mv = d
            .iter()
            .find(|s| s.starts_with("CREATE MATERIALIZED VIEW"))
            .unwrap();
        assert!(mv.contains("TO `haoqi`.counters_daily_local"), "{mv}");
        assert!(mv.contains("FROM `haoqi`.readings_local"), "{mv}");
        // Each node keeps the latest attempts of the accounts whose attempts it holds.
        let mv = d
            .iter()
            .find(|s| {
                s.starts_with("CREATE MATERIALIZED VIEW IF NOT EXISTS `haoqi`.last_attempts_mv")
            })
            .unwrap();
        assert!(mv.contains("TO `haoqi`.last_attempts_local"), "{mv}");
        assert!(mv.contains("FROM `haoqi`.collection_events_local"), "{mv}");
        assert!(d.iter().any(|s| s.contains(
            "ENGINE = Distributed(`haoqi_cluster`, `haoqi`, last_attempts_local, cityHash64(account_id))"
        )));
        // Small tables: one copy everywhere, engine arguments kept.
        assert!(d.iter().any(|s| s.contains(
            "ReplicatedReplacingMergeTree('/clickhouse/tables/all/haoqi/anomaly_resolutions', '{replica}', at)"
        )));
        assert!(ddl("bad name; DROP", "haoqi").is_err());
    }

    #[test]
    fn a_rebuilt_sharded_table_is_swapped_shard_by_shard() {
        let d = ddl("c", "haoqi").unwrap();
        assert!(d.contains(
            &"EXCHANGE TABLES `haoqi`.counters_daily_local AND `haoqi`.counters_daily_next_local ON CLUSTER `c`".to_string()
        ));
        let next = d
            .iter()
            .find(|s| s.starts_with("CREATE TABLE `haoqi`.counters_daily_next_local"))
            .unwrap();
        assert!(
            next.contains("/counters_daily_next_local/{uuid}'"),
            "{next}"
        );
        assert!(next.contains("PARTITION BY toYYYYMM(day)"), "{next}");
        // Dropping drops the Distributed table and the local one.
        let drops: Vec<&String> = d
            .iter()
            .filter(|s| s.starts_with("DROP TABLE `haoqi`.counters_daily_next"))
            .collect();
        assert_eq!(drops.len(), 2, "{drops:?}");
    }

    #[test]
    fn views_are_dropped_and_published_on_every_node() {
        let d = ddl("c", "haoqi").unwrap();
        assert!(
            d.contains(&"DROP VIEW IF EXISTS `haoqi`.rank_inputs ON CLUSTER `c`".to_string()),
            "{d:?}"
        );
        // The query views come last, so they replace what the migrations defined.
        let last = d.last().unwrap();
        assert!(
            last.starts_with("CREATE OR REPLACE VIEW `haoqi`.account_health ON CLUSTER `c` AS"),
            "{last}"
        );
    }

    #[test]
    fn localizing_undoes_exactly_the_cluster_rewrite() {
        let single = single_node("haoqi").unwrap();
        let local = localized("c", "haoqi").unwrap();
        assert_eq!(single.len(), local.len());
        for (a, b) in single.iter().zip(&local) {
            let b = b.replace("_local", "");
            assert_eq!(a, &b);
        }
    }
}
