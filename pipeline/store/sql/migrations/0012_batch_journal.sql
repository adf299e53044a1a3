-- The batch journal: why a process killed mid-insert can no longer leave readings without
-- their daily rollup (issue 15; DESIGN notes in the README, "Crash safety").
--
-- An INSERT into readings writes the table's parts (one or more per month partition) and,
-- block by block, the parts of the materialized view into counters_daily. Each part is atomic,
-- the insert is not: a process that dies in between leaves readings parts whose rollup parts
-- were never written. ClickHouse says so ("Deduplicating inserts on retries", Limitations:
-- "When materialized views are involved, it is also unclear in which tables the data may have
-- appeared. The materialized views could be out of sync with the source table."). Retrying the
-- batch with the same insert_deduplication_token does not mend it: the blocks already in
-- readings are recognised and skipped, and so is their rollup (measured: an import killed
-- mid-insert and retried kept its readings and had no rollup at all; pipeline/tests/crash.rs).
--
-- So every batch is journalled: a 'begun' row before the insert, a 'done' row after it returned.
-- A batch begun and not done is recovered by re-deriving its rollup from the readings it left
-- (queries/rollup_rebuild.sql, the view's SELECT restricted to the batch). Every rollup column
-- merges idempotently (argMax by a key that includes the value, max, uniqExact of the reading
-- time), so rows inserted twice change nothing: recovery may run any number of times.
CREATE TABLE IF NOT EXISTS {db:Identifier}.batch_journal
(
    batch_id String,
    -- begun | done
    state LowCardinality(String),
    rows UInt32,
    at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (batch_id, state)
TTL toDateTime(at) + INTERVAL 400 DAY;
