-- Each active account's followers at the end of {as_of_day} and 1, 7 and 30 days before (each
-- the latest reading at or before that day's end, carried forward), the deltas and rates, and the
-- certain 7- and 30-day growth: the lower bound now minus the upper bound then, so a change
-- within an abbreviated count's resolution (1.2万 → 1.2万) is not growth. NULL where the account
-- had no reading yet at the earlier day.
WITH
    ap AS (
        SELECT account_id, unit_id, unit_name, kind, tier, prefecture_code, prefecture_name,
               platform, display_name, followers, followers_lo, observed_at
        FROM {db:Identifier}.account_progress(as_of_day = {as_of_day:Date}, stale_after_hours = {stale_after_hours:UInt32})
    ),
    daily AS (
        SELECT account_id, day, argMaxMerge(value) AS v, argMaxMerge(hi) AS hi
        FROM {db:Identifier}.counters_daily
        WHERE metric = 'followers' AND day <= {as_of_day:Date} - 1
          AND account_id IN (SELECT account_id FROM ap)
        GROUP BY account_id, day
    ),
    back AS (
        SELECT account_id,
               argMaxIf(v, day, day <= {as_of_day:Date} - 1) AS v1,
               countIf(day <= {as_of_day:Date} - 1) > 0 AS has1,
               argMaxIf(v, day, day <= {as_of_day:Date} - 7) AS v7,
               argMaxIf(hi, day, day <= {as_of_day:Date} - 7) AS hi7,
               countIf(day <= {as_of_day:Date} - 7) > 0 AS has7,
               argMaxIf(v, day, day <= {as_of_day:Date} - 30) AS v30,
               argMaxIf(hi, day, day <= {as_of_day:Date} - 30) AS hi30,
               countIf(day <= {as_of_day:Date} - 30) > 0 AS has30
        FROM daily
        GROUP BY account_id
    )
SELECT
    ap.account_id AS account_id, unit_id, unit_name, kind, tier, prefecture_code,
    prefecture_name, platform, display_name, followers, observed_at,
    if(b.has1 = 1, b.v1, NULL) AS followers_1d_ago,
    if(b.has7 = 1, b.v7, NULL) AS followers_7d_ago,
    if(b.has30 = 1, b.v30, NULL) AS followers_30d_ago,
    toInt64(followers) - toInt64(followers_1d_ago) AS delta_1d,
    toInt64(followers) - toInt64(followers_7d_ago) AS delta_7d,
    toInt64(followers) - toInt64(followers_30d_ago) AS delta_30d,
    if(followers_7d_ago > 0, delta_7d / followers_7d_ago, NULL) AS rate_7d,
    if(followers_30d_ago > 0, delta_30d / followers_30d_ago, NULL) AS rate_30d,
    if(b.has7 = 1 AND followers_lo IS NOT NULL,
       greatest(toInt64(followers_lo) - toInt64(b.hi7), 0), NULL) AS certain_growth_7d,
    if(b.has30 = 1 AND followers_lo IS NOT NULL,
       greatest(toInt64(followers_lo) - toInt64(b.hi30), 0), NULL) AS certain_growth_30d
FROM ap
LEFT JOIN back AS b ON b.account_id = ap.account_id
ORDER BY tier, kind, prefecture_code, unit_id, platform, account_id
SETTINGS join_use_nulls = 1
