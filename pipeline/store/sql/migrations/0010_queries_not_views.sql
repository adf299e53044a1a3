-- Queries the binary sends as they are, instead of calling parameterized views: ClickHouse plans
-- a call of a parameterized view about 70 ms slower than the same SQL sent as a query (it
-- analyses the view once for its columns and again inside the query; measured, BENCHMARKS.md).
--
-- rank_inputs was read only by the binary: the view goes, sql/queries/rank_inputs.sql holds it.
-- account_health is also read by the operations dashboard, so it stays a view, but its text is
-- now sql/queries/account_health.sql itself: `haoqi init` (re)creates the views listed in
-- store::sql::VIEWS from their query files whenever a file changed, and records that here.
DROP VIEW IF EXISTS {db:Identifier}.rank_inputs;

CREATE TABLE IF NOT EXISTS {db:Identifier}.schema_views
(
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY name;
