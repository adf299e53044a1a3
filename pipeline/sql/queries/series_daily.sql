-- Daily carry-forward totals from {from_day} to {to_day} for the matrix and for each tier, kind,
-- prefecture and platform (accounts as registered at {to_day}), with 1-, 7- and 30-day deltas
-- and rates. A day's total is the sum over accounts of their latest reading at or before the
-- day's end (followers_daily.sql does the same for the matrix alone); `reporting` counts the
-- accounts in it, `stale` those held up by a reading older than {stale_after_hours} h, and
-- `max_age_days` the oldest carried value. An account that starts reporting raises the total
-- (it had those followers before, unmeasured): read `reporting` beside a jump. Days before a
-- group's first reading have no row; from then on every day has one, so a delta over N rows is
-- a delta over N days.
WITH
    active AS (
        SELECT account_id, tier, kind, prefecture_code, prefecture_name, platform
        FROM {db:Identifier}.account_progress(as_of_day = {to_day:Date}, stale_after_hours = {stale_after_hours:UInt32})
    ),
    per_day AS (
        SELECT account_id, day,
               argMaxMerge(value) AS value, argMaxMerge(lo) AS lo, max(last_at) AS last_at
        FROM {db:Identifier}.counters_daily
        WHERE metric = 'followers' AND day <= {to_day:Date} AND account_id IN (SELECT account_id FROM active)
        GROUP BY account_id, day
    ),
    spans AS (
        SELECT account_id, day, value, lo, last_at,
               leadInFrame(day, 1, {to_day:Date} + 1) OVER (
                   PARTITION BY account_id ORDER BY day
                   ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS until
        FROM per_day
    ),
    account_days AS (
        SELECT s.account_id AS account_id, toDate(d) AS day, s.value AS value, s.lo AS lo,
               toDate(d) - toDate(s.last_at, 'Asia/Shanghai') AS age_days
        FROM spans AS s
        ARRAY JOIN range(toUInt32(greatest(s.day, {from_day:Date} - 30)), toUInt32(s.until)) AS d
    ),
    totals AS (
        SELECT g.1 AS dimension, g.2 AS key, any(g.3) AS label, ad.day AS day,
               sum(ad.value) AS followers, sum(ad.lo) AS followers_lo, count() AS reporting,
               countIf(ad.age_days > intDiv({stale_after_hours:UInt32}, 24)) AS stale,
               max(ad.age_days) AS max_age_days
        FROM account_days AS ad
        INNER JOIN active AS a ON a.account_id = ad.account_id
        ARRAY JOIN [
            ('matrix', 'all', '全部 all'),
            ('tier', toString(a.tier), toString(a.tier)),
            ('kind', toString(a.kind), toString(a.kind)),
            ('region', ifNull(toString(a.prefecture_code), 'region-wide'), ifNull(a.prefecture_name, '全区 region-wide')),
            ('platform', toString(a.platform), toString(a.platform))
        ] AS g
        GROUP BY dimension, key, day
    ),
    deltas AS (
        SELECT *,
               toInt64(followers) - lagInFrame(toNullable(toInt64(followers)), 1, NULL) OVER w1 AS delta_1d,
               toInt64(followers) - lagInFrame(toNullable(toInt64(followers)), 7, NULL) OVER w7 AS delta_7d,
               toInt64(followers) - lagInFrame(toNullable(toInt64(followers)), 30, NULL) OVER w30 AS delta_30d,
               lagInFrame(toNullable(followers), 1, NULL) OVER w1 AS base_1d,
               lagInFrame(toNullable(followers), 7, NULL) OVER w7 AS base_7d,
               lagInFrame(toNullable(followers), 30, NULL) OVER w30 AS base_30d
        FROM totals
        WINDOW
            w1 AS (PARTITION BY dimension, key ORDER BY day ROWS BETWEEN 1 PRECEDING AND CURRENT ROW),
            w7 AS (PARTITION BY dimension, key ORDER BY day ROWS BETWEEN 7 PRECEDING AND CURRENT ROW),
            w30 AS (PARTITION BY dimension, key ORDER BY day ROWS BETWEEN 30 PRECEDING AND CURRENT ROW)
    )
SELECT dimension, key, label, day, followers, followers_lo, reporting, stale, max_age_days,
       delta_1d, delta_7d, delta_30d,
       if(base_1d > 0, delta_1d / base_1d, NULL) AS rate_1d,
       if(base_7d > 0, delta_7d / base_7d, NULL) AS rate_7d,
       if(base_30d > 0, delta_30d / base_30d, NULL) AS rate_30d
FROM deltas
WHERE day >= {from_day:Date} AND dimension IN {dimensions:Array(String)}
ORDER BY dimension, key, day
