-- One row per observation of an account. Every counter is nullable (a platform that does not
-- expose it leaves it NULL; NULL is never 0) and carries its interval: an abbreviated value such
-- as 1.3万 is stored as 13000 with lo 12500 and hi 13499; an open value such as 10万+ has hi NULL.
--
-- Idempotency, two layers:
--  * each batch is inserted with a deterministic insert_deduplication_token (a hash of its
--    rows); non_replicated_deduplication_window makes a repeated batch a no-op here and, with
--    deduplicate_blocks_in_dependent_materialized_views, in the daily rollup too;
--  * the sort key identifies a reading, so ReplacingMergeTree folds the same reading arriving in
--    a different batch, and the rollup keeps the latest value by time, which a duplicate cannot
--    change.

CREATE TABLE IF NOT EXISTS {db:Identifier}.readings
(
    account_id String,
    platform LowCardinality(String),
    observed_at DateTime64(3, 'UTC'),
    followers Nullable(UInt64),
    followers_lo Nullable(UInt64),
    followers_hi Nullable(UInt64),
    likes Nullable(UInt64),
    likes_lo Nullable(UInt64),
    likes_hi Nullable(UInt64),
    views Nullable(UInt64),
    views_lo Nullable(UInt64),
    views_hi Nullable(UInt64),
    posts Nullable(UInt64),
    posts_lo Nullable(UInt64),
    posts_hi Nullable(UInt64),
    following Nullable(UInt64),
    following_lo Nullable(UInt64),
    following_hi Nullable(UInt64),
    -- crawl | official_api | import | simulated
    source LowCardinality(String),
    parser_version LowCardinality(String),
    flags Array(LowCardinality(String)),
    -- Where the value came from: a URL, or file sha256 and row for imports.
    provenance String,
    batch_id String,
    ingested_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(observed_at)
ORDER BY (account_id, observed_at, source)
SETTINGS non_replicated_deduplication_window = 10000;

-- Daily rollup, one row per (metric, account, Beijing day), in long form so every counter shares
-- one table and a NULL counter simply has no row. `last` is the day's latest value with its time
-- and source (the reading it came from); merged over many days it gives the latest value up to
-- a day, which is how totals carry a stock forward.
CREATE TABLE IF NOT EXISTS {db:Identifier}.counters_daily
(
    metric LowCardinality(String),
    account_id String,
    day Date,
    last AggregateFunction(argMax,
        Tuple(value UInt64, lo UInt64, hi Nullable(UInt64), observed_at DateTime64(3, 'UTC'), source String),
        Tuple(DateTime64(3, 'UTC'), UInt64)),
    observations AggregateFunction(uniqExact, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (metric, account_id, day)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.counters_daily_mv
TO {db:Identifier}.counters_daily
AS SELECT
    m.1 AS metric,
    account_id,
    toDate(observed_at, 'Asia/Shanghai') AS day,
    -- Ties on time are broken by the larger value, so the result never depends on insert order.
    argMaxState(
        CAST((assumeNotNull(m.2), assumeNotNull(m.3), m.4, observed_at, toString(source)),
             'Tuple(value UInt64, lo UInt64, hi Nullable(UInt64), observed_at DateTime64(3, \'UTC\'), source String)'),
        (observed_at, assumeNotNull(m.2))) AS last,
    uniqExactState(observed_at) AS observations
FROM {db:Identifier}.readings
ARRAY JOIN [
    ('followers', followers, followers_lo, followers_hi),
    ('likes', likes, likes_lo, likes_hi),
    ('views', views, views_lo, views_hi),
    ('posts', posts, posts_lo, posts_hi),
    ('following', following, following_lo, following_hi)
] AS m
WHERE m.2 IS NOT NULL
GROUP BY metric, account_id, day;
