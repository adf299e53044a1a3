-- One row per observation of an account. Every counter is nullable (a platform that does not
-- expose it leaves it NULL; NULL is never 0) and carries its interval: an abbreviated value such
-- as 1.3万 is stored as 13000 with lo 12500 and hi 13499; an open value such as 10万+ has hi NULL.
-- Exact values (most of them) send neither bound: the defaults copy the value. Every column a
-- batch sends costs insert time (about 0.8 ms per 10,000 rows on the benchmark machine).
--
-- Idempotency, two layers:
--  * each batch is inserted with a deterministic insert_deduplication_token (a hash of its
--    rows); non_replicated_deduplication_window makes a repeated batch a no-op here and, with
--    deduplicate_blocks_in_dependent_materialized_views, in the daily rollup too;
--  * the sort key identifies a reading, so ReplacingMergeTree folds the same reading arriving in
--    a different batch, and the rollup keeps the latest value by time, which a duplicate cannot
--    change. (Two *different* values for one account, millisecond and source are a conflict no
--    platform produces; the table would keep the last inserted, the rollup the larger.)

CREATE TABLE IF NOT EXISTS {db:Identifier}.readings
(
    account_id String,
    platform LowCardinality(String),
    observed_at DateTime64(3, 'UTC'),
    followers Nullable(UInt64),
    followers_lo Nullable(UInt64) DEFAULT followers,
    followers_hi Nullable(UInt64) DEFAULT followers,
    likes Nullable(UInt64),
    likes_lo Nullable(UInt64) DEFAULT likes,
    likes_hi Nullable(UInt64) DEFAULT likes,
    views Nullable(UInt64),
    views_lo Nullable(UInt64) DEFAULT views,
    views_hi Nullable(UInt64) DEFAULT views,
    posts Nullable(UInt64),
    posts_lo Nullable(UInt64) DEFAULT posts,
    posts_hi Nullable(UInt64) DEFAULT posts,
    following Nullable(UInt64),
    following_lo Nullable(UInt64) DEFAULT following,
    following_hi Nullable(UInt64) DEFAULT following,
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
-- one table and a NULL counter simply has no row. Each column keeps the day's latest value
-- (argMax); merged over many days it gives the latest value up to a day, which is how totals
-- carry a stock forward. The order key packs the reading's time (ms) above its value into a
-- UInt128: latest first, ties on time broken by the larger value, so the result never depends on
-- insert order and all columns pick the same reading. Numeric states are used on purpose: an
-- argMax over a Tuple merges through ClickHouse's generic path, about ten times slower.
-- `hi` stores an open upper bound ("10万+") as 18446744073709551615, because argMax skips NULLs.
CREATE TABLE IF NOT EXISTS {db:Identifier}.counters_daily
(
    metric LowCardinality(String),
    account_id String,
    day Date,
    value AggregateFunction(argMax, UInt64, UInt128),
    lo AggregateFunction(argMax, UInt64, UInt128),
    hi AggregateFunction(argMax, UInt64, UInt128),
    source AggregateFunction(argMax, String, UInt128),
    last_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    observations AggregateFunction(uniqExact, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (metric, account_id, day)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.counters_daily_mv
TO {db:Identifier}.counters_daily
AS WITH bitShiftLeft(toUInt128(toUnixTimestamp64Milli(observed_at)), 64) + assumeNotNull(m.2) AS k
SELECT
    m.1 AS metric,
    account_id,
    toDate(observed_at, 'Asia/Shanghai') AS day,
    argMaxState(assumeNotNull(m.2), k) AS value,
    argMaxState(assumeNotNull(m.3), k) AS lo,
    argMaxState(ifNull(m.4, 18446744073709551615), k) AS hi,
    argMaxState(toString(source), k) AS source,
    max(observed_at) AS last_at,
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
