-- The one way readings enter the store. The token is a hash of the batch, so a retried or
-- replayed batch is recognised and counted once, here and in counters_daily.
INSERT INTO {db:Identifier}.readings
SETTINGS
    insert_deduplicate = 1,
    insert_deduplication_token = {token:String},
    deduplicate_blocks_in_dependent_materialized_views = 1,
    -- The rollup is grouped by the view already and readings fold in background merges;
    -- merging again while inserting costs a third of the insert time.
    optimize_on_insert = 0
FORMAT JSONEachRow
