-- Re-derives the daily rollup of some readings: those of the batches {batches} and those of
-- the account-days {days} ('account_id|YYYY-MM-DD'). The SELECT is the one of
-- counters_daily_mv (migrations/0002_readings.sql) with a WHERE; a test checks that a rollup
-- rebuilt from every reading equals the one the view wrote. Idempotent: each column merges so
-- that the same rows twice change nothing.
INSERT INTO {db:Identifier}.counters_daily
WITH bitShiftLeft(toUInt128(toUnixTimestamp64Milli(observed_at)), 64) + assumeNotNull(m.2) AS k
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
  AND (batch_id IN {batches:Array(String)}
       OR concat(account_id, '|', toString(toDate(observed_at, 'Asia/Shanghai'))) IN {days:Array(String)})
GROUP BY metric, account_id, day
SETTINGS optimize_on_insert = 0
