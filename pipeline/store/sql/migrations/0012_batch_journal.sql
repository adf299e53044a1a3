-- The batch journal: why a process killed mid-insert can no longer leave readings without
-- their daily rollup (issue 15; DESIGN notes in the README, "Crash safety").
--
-- An INSERT into readings writes the table's parts (one or more per month partition) and then,
-- block by block, the parts of the materialized view into counters_daily. ClickHouse makes each
-- part atomic, not the insert: a process that dies in between leaves readings parts whose
-- rollup parts were never written. And a retry with the same insert_deduplication_token skips
-- the blocks already in readings *and their dependent views*: deduplication is decided at the
-- source table, so the missing rollup is not written by the retry either (ClickHouse docs,
-- "Deduplicating Inserts on Retries": "if a block is deduplicated in the source table, it is
-- not inserted into dependent materialized views").
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
