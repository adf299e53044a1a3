-- The matrix total of followers for each Beijing day from {from_day} to {to_day}: for every
-- day, the sum over accounts active at {to_day} of their latest reading at or before the day's
-- end. A reading is carried forward until the account's next one; the carried value's age is
-- counted, so a day held up by old readings shows it. An account that has not reported yet adds
-- nothing and is counted as missing, never as 0; a day on which no account had reported yet has
-- no row at all (the caller shows it as "no data").
WITH
    active AS (
        SELECT account_id
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
    )
SELECT
    toDate(d) AS day,
    sum(s.value) AS followers,
    sum(s.lo) AS followers_lo,
    count() AS reporting,
    (SELECT count() FROM active) - count() AS missing,
    countIf(toDate(d) - toDate(s.last_at, 'Asia/Shanghai') > intDiv({stale_after_hours:UInt32}, 24)) AS stale,
    max(toDate(d) - toDate(s.last_at, 'Asia/Shanghai')) AS max_age_days
FROM spans AS s
ARRAY JOIN range(toUInt32(greatest(s.day, {from_day:Date})), toUInt32(s.until)) AS d
GROUP BY day
ORDER BY day
