//! The cluster schema (deploy/clickhouse/cluster/schema.sql) is generated from the single-node
//! migrations: it must be current, every statement must parse on the real engine, and turned
//! back into single-node form it must give exactly the single node's tables and columns.

use haoqi_store::cluster;
use haoqi_tests::*;

const CLUSTER: &str = "haoqi_cluster";

fn committed() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/clickhouse/cluster/schema.sql")
}

#[test]
fn the_committed_cluster_schema_is_current() {
    let want = cluster::script(CLUSTER, "haoqi").expect("generate");
    let have = std::fs::read_to_string(committed()).expect("read schema.sql");
    assert!(
        have == want,
        "deploy/clickhouse/cluster/schema.sql is out of date: regenerate it with\n  \
         cargo run --release -- init --print --cluster {CLUSTER} --database haoqi > deploy/clickhouse/cluster/schema.sql"
    );
}

#[tokio::test]
async fn every_cluster_statement_parses_on_the_engine() {
    let store = fresh_store("cluster_parse").await;
    let text = std::fs::read_to_string(committed()).expect("read");
    let statements = haoqi_store::sql::statements(&text);
    assert!(statements.len() > 20, "{}", statements.len());
    for stmt in statements {
        // formatQuery parses without executing: ON CLUSTER and Keeper paths need no cluster.
        let sql = format!(
            "SELECT formatQuery({}) AS q",
            haoqi_store::sql::quote(&stmt)
        );
        let rows = store
            .query_rows(&sql)
            .await
            .unwrap_or_else(|e| panic!("does not parse: {e}\n{stmt}"));
        assert_eq!(rows.len(), 1);
    }
}

#[tokio::test]
async fn the_cluster_has_the_single_nodes_tables_and_columns() {
    let single = fresh_store("cluster_single").await;
    let local = fresh_store("cluster_local").await;
    local
        .execute(&format!("DROP DATABASE `{}`", local.database()))
        .await
        .expect("drop");
    local
        .execute(&format!("CREATE DATABASE `{}`", local.database()))
        .await
        .expect("create");
    for stmt in cluster::localized(CLUSTER, local.database()).expect("localize") {
        local
            .execute(&stmt)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{stmt}"));
    }
    let columns = |db: &str| {
        format!(
            "SELECT replaceRegexpOne(table, '_local$', '') AS t, name, type, position \
             FROM system.columns WHERE database = '{db}' ORDER BY t, position FORMAT TSV"
        )
    };
    let a = single
        .query_rows(&columns(single.database()).replace(" FORMAT TSV", ""))
        .await
        .expect("single columns");
    let b = local
        .query_rows(&columns(local.database()).replace(" FORMAT TSV", ""))
        .await
        .expect("cluster columns");
    assert!(a.len() > 100, "{}", a.len());
    assert_eq!(
        a, b,
        "a column added to one schema must appear in the other"
    );
    let engines = |db: &str| format!("SELECT count() FROM system.tables WHERE database = '{db}'");
    assert_eq!(
        scalar(single.as_ref(), &engines(single.database())).await,
        scalar(local.as_ref(), &engines(local.database())).await
    );
}
