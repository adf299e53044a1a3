-- The committee's inputs for each account active at the end of {to_day}, over the period
-- {from_day}..{to_day} (Beijing days, inclusive). For each counter: the value at the end (the
-- latest reading at or before the period's end), at the start (the latest reading before the
-- period; for an account that began reporting inside it, its first reading in the period) and
-- the gain between them; `*_exposed` says whether the account's platform gave that counter at
-- all. Coverage is the share of the period's days with a followers reading; `imported_share`
-- the share of the period's readings that came from imported tables rather than a crawl.
-- This is the query itself, not a call of a view (a parameterized view costs ClickHouse more
-- to plan than the same SQL sent as a query; migration 0010 dropped the view, nothing else read it).
WITH
    toDateTime64(toString({to_day:Date} + 1), 3, 'Asia/Shanghai') AS day_end,
    {fragment:registry},
    ap AS (
        -- The accounts active at the end of the period (as account_progress has them; its
        -- latest readings are not needed here).
        SELECT a.account_id AS account_id, a.unit_id AS unit_id, u.unit_name AS unit_name,
               u.kind AS kind, u.tier AS tier, u.prefecture_code AS prefecture_code,
               p.region_name AS prefecture_name, u.department AS department,
               a.platform AS platform, a.display_name AS display_name,
               a.standardised AS standardised, a.naming_ok AS naming_ok, u.target AS target
        FROM acc AS a
        INNER JOIN un AS u ON u.unit_id = a.unit_id
        LEFT JOIN reg AS p ON p.code = u.prefecture_code
        WHERE a.active AND NOT a.deleted AND NOT u.unit_deleted
    ),
    recent AS (
        -- The merged daily rows (FINAL) of the period and the 31 days before it, where nearly
        -- every counter has its baseline: the last value, the last before the period, the
        -- value of the first day in the period.
        SELECT account_id, metric,
               argMaxMerge(value) AS v_end,
               argMaxMerge(lo) AS lo_end,
               countIf(day < {from_day:Date}) > 0 AS has_pre,
               argMaxMergeIf(value, day < {from_day:Date}) AS v_pre,
               argMinIf(finalizeAggregation(value), day, day >= {from_day:Date}) AS v_first,
               uniqExactIf(day, day >= {from_day:Date}) AS days_read
        FROM {db:Identifier}.counters_daily FINAL
        WHERE metric IN ('followers', 'likes', 'views', 'posts')
          AND day <= {to_day:Date} AND day >= {from_day:Date} - 31
        GROUP BY account_id, metric
    ),
    older AS (
        -- The last value before those 31 days, only for counters without a reading in them
        -- (the primary key narrows the read to those): a year of history is read for few.
        SELECT account_id, metric, argMaxMerge(value) AS v_old, argMaxMerge(lo) AS lo_old
        FROM {db:Identifier}.counters_daily
        WHERE metric IN ('followers', 'likes', 'views', 'posts') AND day < {from_day:Date} - 31
          AND (metric, account_id) IN (
              SELECT m, account_id
              FROM {db:Identifier}.accounts
              ARRAY JOIN ['followers', 'likes', 'views', 'posts'] AS m
              WHERE (m, account_id) NOT IN (
                  SELECT metric, account_id FROM {db:Identifier}.counters_daily
                  WHERE metric IN ('followers', 'likes', 'views', 'posts')
                    AND day >= {from_day:Date} - 31 AND day < {from_day:Date}))
        GROUP BY account_id, metric
    ),
    m AS (
        -- Per counter: the last value, and the baseline (the last value before the period or,
        -- for a counter without one, its first day in the period). `recent` wins where both are.
        SELECT account_id, metric,
               argMax(x_end, src) AS v_end,
               argMax(x_lo, src) AS lo_end,
               max(x_has_pre) > 0 AS has_baseline,
               multiIf(maxIf(x_has_pre, src = 1) > 0, anyIf(x_pre, src = 1),
                       countIf(src = 0) > 0, anyIf(x_pre, src = 0),
                       anyIf(x_first, src = 1)) AS v_start,
               sum(x_days) AS days_read
        FROM (
            SELECT account_id, metric, 1 AS src, v_end AS x_end, lo_end AS x_lo,
                   toUInt8(has_pre) AS x_has_pre, v_pre AS x_pre, v_first AS x_first,
                   days_read AS x_days
            FROM recent
            UNION ALL
            SELECT account_id, metric, 0, v_old, lo_old, toUInt8(1), v_old, toUInt64(0), toUInt64(0)
            FROM older
        )
        GROUP BY account_id, metric
    ),
    pivot AS (
        SELECT account_id,
               maxIf(v_end, metric = 'followers') AS followers_end,
               maxIf(lo_end, metric = 'followers') AS followers_end_lo,
               maxIf(v_start, metric = 'followers') AS followers_start,
               maxIf(has_baseline, metric = 'followers') AS has_baseline,
               maxIf(days_read, metric = 'followers') AS days_read,
               countIf(metric = 'likes') > 0 AS likes_exposed,
               maxIf(toInt64(v_end) - toInt64(v_start), metric = 'likes') AS likes_gained,
               countIf(metric = 'views') > 0 AS views_exposed,
               maxIf(toInt64(v_end) - toInt64(v_start), metric = 'views') AS views_gained,
               countIf(metric = 'posts') > 0 AS posts_exposed,
               maxIf(v_end, metric = 'posts') AS posts_end,
               maxIf(toInt64(v_end) - toInt64(v_start), metric = 'posts') AS posts_gained,
               countIf(metric = 'followers') > 0 AS followers_exposed
        FROM m
        GROUP BY account_id
    ),
    src AS (
        SELECT account_id, count() AS readings, countIf(source = 'import') AS imported
        FROM {db:Identifier}.readings
        WHERE observed_at >= toDateTime64(toString({from_day:Date}), 3, 'Asia/Shanghai')
          AND observed_at < toDateTime64(toString({to_day:Date} + 1), 3, 'Asia/Shanghai')
        GROUP BY account_id
    )
SELECT
    ap.account_id AS account_id, ap.unit_id AS unit_id, ap.unit_name AS unit_name,
    ap.kind AS kind, ap.tier AS tier, ap.prefecture_code AS prefecture_code,
    ap.prefecture_name AS prefecture_name, ap.department AS department,
    ap.platform AS platform, ap.display_name AS display_name,
    ap.standardised AS standardised, ap.naming_ok AS naming_ok, ap.target AS target,
    if(p.followers_exposed = 1, p.followers_end, NULL) AS followers_end,
    if(p.followers_exposed = 1, p.followers_end_lo, NULL) AS followers_end_lo,
    if(p.followers_exposed = 1, p.followers_start, NULL) AS followers_start,
    if(p.followers_exposed = 1, toInt64(p.followers_end) - toInt64(p.followers_start), NULL) AS followers_gained,
    toBool(ifNull(p.has_baseline, 0)) AS has_baseline,
    if(p.likes_exposed = 1, p.likes_gained, NULL) AS likes_gained,
    if(p.views_exposed = 1, p.views_gained, NULL) AS views_gained,
    if(p.posts_exposed = 1, p.posts_end, NULL) AS posts_end,
    if(p.posts_exposed = 1, p.posts_gained, NULL) AS posts_gained,
    ifNull(p.days_read, 0) AS days_read,
    dateDiff('day', {from_day:Date}, {to_day:Date}) + 1 AS days_in_period,
    days_read / days_in_period AS coverage,
    ifNull(s.readings, 0) AS readings,
    ifNull(s.imported, 0) AS imported,
    if(readings > 0, imported / readings, 0) AS imported_share,
    if(ap.target IS NULL OR ap.target = 0 OR followers_end IS NULL, NULL, followers_end / ap.target) AS completion,
    if(ap.target IS NULL OR followers_end_lo IS NULL, NULL, toBool(followers_end_lo >= ap.target)) AS at_target
FROM ap
LEFT JOIN pivot AS p ON p.account_id = ap.account_id
LEFT JOIN src AS s ON s.account_id = ap.account_id
ORDER BY account_id
SETTINGS join_use_nulls = 1
