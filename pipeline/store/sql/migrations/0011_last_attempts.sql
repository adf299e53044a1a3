-- Each account's latest collection attempt, kept up to date from collection_events as attempts
-- are written. The health query needs only the latest attempt (and, for an account whose latest
-- attempt failed, when the failures began); finding it among the events meant grouping every
-- attempt of the last 90 days: hourly polls of 3,000 accounts are 6.5 million rows, about 450 ms
-- of the stalled query (measured, BENCHMARKS.md). Here it is one row per account once merged.
--
-- Every column merges regardless of the order rows arrive in (max, min and argMax by attempt
-- time), so an attempt recorded late, or twice, changes nothing. last_ok_at is 1970-01-01 for an
-- account that never returned a reading; such an account has been failing since first_at. Unlike
-- the events (kept 180 days), a row stays: the health query decides how old an attempt may be.
CREATE TABLE IF NOT EXISTS {db:Identifier}.last_attempts
(
    account_id String,
    last_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    last_outcome AggregateFunction(argMax, String, DateTime64(3, 'UTC')),
    last_error AggregateFunction(argMax, String, DateTime64(3, 'UTC')),
    last_ok_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    first_at SimpleAggregateFunction(min, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY account_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.last_attempts_mv
TO {db:Identifier}.last_attempts
AS SELECT
    account_id,
    max(at) AS last_at,
    argMaxState(toString(outcome), at) AS last_outcome,
    argMaxState(error, at) AS last_error,
    maxIf(at, outcome = 'reading') AS last_ok_at,
    min(at) AS first_at
FROM {db:Identifier}.collection_events
GROUP BY account_id;

-- The attempts recorded before this migration. One written while this runs is counted by the
-- view as well; counting it twice changes nothing.
INSERT INTO {db:Identifier}.last_attempts (account_id, last_at, last_outcome, last_error, last_ok_at, first_at) SELECT account_id, max(at), argMaxState(toString(outcome), at), argMaxState(error, at), maxIf(at, outcome = 'reading'), min(at) FROM {db:Identifier}.collection_events GROUP BY account_id;
