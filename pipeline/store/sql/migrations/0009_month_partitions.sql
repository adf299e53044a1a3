-- The daily rollup partitioned by month, and the views that read recent days made to read only
-- those partitions. The stalled query and account_progress read the last 31 or 90 days; without
-- partitions that read every row of the year (the day is last in the sort key).
--
-- ClickHouse cannot change a table's partition key, so the rollup is copied into a partitioned
-- table and the two are swapped by name. The materialized view writes to `counters_daily` by
-- name, so from the swap on it writes into the new table; rows it wrote into the old one while
-- the first copy ran are copied again after the swap (repeats change nothing: every column is
-- an argMax, max or uniqExact state). Run again after stopping part way, the migration starts
-- over from the table then named counters_daily. EXCHANGE needs an Atomic database, ClickHouse's
-- default engine.
DROP TABLE IF EXISTS {db:Identifier}.counters_daily_next SYNC;

CREATE TABLE {db:Identifier}.counters_daily_next
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
PARTITION BY toYYYYMM(day)
ORDER BY (metric, account_id, day)
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO {db:Identifier}.counters_daily_next SELECT * FROM {db:Identifier}.counters_daily;

EXCHANGE TABLES {db:Identifier}.counters_daily AND {db:Identifier}.counters_daily_next;

INSERT INTO {db:Identifier}.counters_daily SELECT * FROM {db:Identifier}.counters_daily_next;

DROP TABLE {db:Identifier}.counters_daily_next SYNC;

-- account_progress as in 0003, with the latest reading taken from recent partitions.
CREATE OR REPLACE VIEW {db:Identifier}.account_progress AS
WITH
    toDateTime64(toString({as_of_day:Date} + 1), 3, 'Asia/Shanghai') AS day_end,
    least(day_end, now64(3)) AS age_ref,
    acc AS (
        SELECT account_id,
               argMax(unit_id, valid_from) AS unit_id,
               argMax(platform, valid_from) AS platform,
               argMax(platform_id, valid_from) AS platform_id,
               argMax(display_name, valid_from) AS display_name,
               argMax(role, valid_from) AS role,
               argMax(standardised, valid_from) AS standardised,
               argMax(naming_ok, valid_from) AS naming_ok,
               argMax(active, valid_from) AS active,
               argMax(deleted, valid_from) AS deleted
        FROM {db:Identifier}.accounts
        WHERE valid_from < day_end
        GROUP BY account_id
    ),
    un AS (
        SELECT unit_id,
               argMax(kind, valid_from) AS kind,
               argMax(tier, valid_from) AS tier,
               argMax(name, valid_from) AS unit_name,
               argMax(prefecture_code, valid_from) AS prefecture_code,
               argMax(county_code, valid_from) AS county_code,
               argMax(department, valid_from) AS department,
               argMax(target, valid_from) AS target,
               argMax(target_basis, valid_from) AS target_basis,
               argMax(target_verified, valid_from) AS target_verified,
               argMax(deleted, valid_from) AS unit_deleted
        FROM {db:Identifier}.units
        WHERE valid_from < day_end
        GROUP BY unit_id
    ),
    reg AS (
        SELECT code, argMax(name, valid_from) AS region_name
        FROM {db:Identifier}.regions
        WHERE valid_from < day_end
        GROUP BY code
    ),
    last AS (
        -- The latest followers reading. Nearly every account has one in the last 31 days,
        -- read from those days' merged rows (one or two month partitions); an account without
        -- one falls back to its whole history, and the primary key narrows that read to it.
        SELECT account_id,
               argMax(finalizeAggregation(value), day) AS last_value,
               argMax(finalizeAggregation(lo), day) AS last_lo,
               nullIf(argMax(finalizeAggregation(hi), day), 18446744073709551615) AS last_hi,
               max(last_at) AS last_at,
               argMax(finalizeAggregation(source), day) AS last_source
        FROM {db:Identifier}.counters_daily FINAL
        WHERE metric = 'followers' AND day <= {as_of_day:Date} AND day > {as_of_day:Date} - 31
        GROUP BY account_id
        UNION ALL
        SELECT account_id,
               argMaxMerge(value), argMaxMerge(lo), nullIf(argMaxMerge(hi), 18446744073709551615),
               max(last_at), argMaxMerge(source)
        FROM {db:Identifier}.counters_daily
        WHERE metric = 'followers' AND day <= {as_of_day:Date} - 31
          AND account_id IN (
              SELECT account_id FROM {db:Identifier}.accounts
              WHERE account_id NOT IN (
                  SELECT account_id FROM {db:Identifier}.counters_daily
                  WHERE metric = 'followers'
                    AND day <= {as_of_day:Date} AND day > {as_of_day:Date} - 31))
        GROUP BY account_id
    )
SELECT
    a.account_id AS account_id,
    a.unit_id AS unit_id,
    u.unit_name AS unit_name,
    u.kind AS kind,
    u.tier AS tier,
    u.prefecture_code AS prefecture_code,
    p.region_name AS prefecture_name,
    u.county_code AS county_code,
    c.region_name AS county_name,
    u.department AS department,
    a.platform AS platform,
    a.platform_id AS platform_id,
    a.display_name AS display_name,
    a.role AS role,
    a.standardised AS standardised,
    a.naming_ok AS naming_ok,
    u.target AS target,
    u.target_basis AS target_basis,
    u.target_verified AS target_verified,
    l.last_value AS followers,
    l.last_lo AS followers_lo,
    l.last_hi AS followers_hi,
    l.last_at AS observed_at,
    l.last_source AS source,
    if(observed_at IS NULL, NULL,
       round(dateDiff('second', observed_at, age_ref) / 3600, 1)) AS age_hours,
    if(observed_at IS NULL, NULL, toBool(age_hours > {stale_after_hours:UInt32})) AS stale,
    -- Reached only when the lower bound reaches the target (an abbreviated 2.0万 may be 19,500).
    if(target IS NULL OR followers_lo IS NULL, NULL, toBool(followers_lo >= target)) AS at_target,
    if(target IS NULL OR followers IS NULL OR target = 0, NULL, followers / target) AS completion
FROM acc AS a
INNER JOIN un AS u ON u.unit_id = a.unit_id
LEFT JOIN reg AS p ON p.code = u.prefecture_code
LEFT JOIN reg AS c ON c.code = u.county_code
LEFT JOIN last AS l ON l.account_id = a.account_id
WHERE a.active AND NOT a.deleted AND NOT u.unit_deleted
SETTINGS join_use_nulls = 1;

-- account_health as in 0008, but reading the counters once: the lookback's merged rows give the
-- day steps (from sorted arrays, not a window function that sorted every row again) and the
-- latest reading; only accounts with no reading in the lookback read further back.
CREATE OR REPLACE VIEW {db:Identifier}.account_health AS
WITH
    {now:DateTime64(3, 'UTC')} AS now_at,
    {as_of_day:Date} AS as_of,
    toDateTime64(toString(as_of + 1), 3, 'Asia/Shanghai') AS day_end,
    -- The registry as in account_progress, written out here: a parameterized view read inside
    -- another one costs about 50 ms more to plan (measured, BENCHMARKS.md).
    acc AS (
        SELECT account_id,
               argMax(unit_id, valid_from) AS unit_id,
               argMax(platform, valid_from) AS platform,
               argMax(platform_id, valid_from) AS platform_id,
               argMax(display_name, valid_from) AS display_name,
               argMax(role, valid_from) AS role,
               argMax(standardised, valid_from) AS standardised,
               argMax(naming_ok, valid_from) AS naming_ok,
               argMax(active, valid_from) AS active,
               argMax(deleted, valid_from) AS deleted
        FROM {db:Identifier}.accounts
        WHERE valid_from < day_end
        GROUP BY account_id
    ),
    un AS (
        SELECT unit_id,
               argMax(kind, valid_from) AS kind,
               argMax(tier, valid_from) AS tier,
               argMax(name, valid_from) AS unit_name,
               argMax(prefecture_code, valid_from) AS prefecture_code,
               argMax(county_code, valid_from) AS county_code,
               argMax(department, valid_from) AS department,
               argMax(target, valid_from) AS target,
               argMax(target_basis, valid_from) AS target_basis,
               argMax(target_verified, valid_from) AS target_verified,
               argMax(deleted, valid_from) AS unit_deleted
        FROM {db:Identifier}.units
        WHERE valid_from < day_end
        GROUP BY unit_id
    ),
    reg AS (
        SELECT code, argMax(name, valid_from) AS region_name
        FROM {db:Identifier}.regions
        WHERE valid_from < day_end
        GROUP BY code
    ),
    r AS (
        SELECT a.account_id AS account_id, a.unit_id AS unit_id, u.unit_name AS unit_name,
               u.kind AS kind, u.tier AS tier, u.prefecture_code AS prefecture_code,
               p.region_name AS prefecture_name, u.department AS department,
               a.platform AS platform, a.display_name AS display_name
        FROM acc AS a
        INNER JOIN un AS u ON u.unit_id = a.unit_id
        LEFT JOIN reg AS p ON p.code = u.prefecture_code
        WHERE a.active AND NOT a.deleted AND NOT u.unit_deleted
        SETTINGS join_use_nulls = 1
    ),
    m AS (
        -- Each account's merged daily rows of the lookback as day-sorted arrays: the last day
        -- of certain growth is the last step whose low bound exceeds the previous reading's
        -- high bound (arrays instead of a window function, which sorted every row again).
        SELECT account_id,
               arraySort(groupArrayIf((day, lo, hi), metric = 'followers')) AS f_days,
               arraySort(groupArrayIf((day, lo, hi), metric = 'posts')) AS p_days,
               arrayLast((x, prev) -> x.2 > prev.3, arrayPopFront(f_days), arrayPopBack(f_days)).1 AS f_grew_day,
               minIf(day, metric = 'followers') AS f_first_day,
               countIf(metric = 'followers' AND day <= as_of - {flat_days:UInt32}) > 0 AS f_has_ref,
               argMaxIf(hi, day, metric = 'followers' AND day <= as_of - {flat_days:UInt32}) AS f_ref_hi,
               argMaxIf(day, day, metric = 'followers' AND day <= as_of - {flat_days:UInt32}) AS f_ref_day,
               maxIf(lo, metric = 'followers' AND day >= as_of - {flat_days:UInt32}) AS f_peak_lo,
               argMaxIf(day, lo, metric = 'followers' AND day >= as_of - {flat_days:UInt32}) AS f_peak_day,
               countIf(metric = 'posts') > 0 AS p_exposed,
               argMaxIf(v, day, metric = 'posts') AS p_now,
               argMaxIf(lo, day, metric = 'posts') AS p_now_lo,
               countIf(metric = 'posts' AND day <= as_of - {no_posts_days:UInt32}) > 0 AS p_has_ref,
               argMaxIf(hi, day, metric = 'posts' AND day <= as_of - {no_posts_days:UInt32}) AS p_ref_hi,
               arrayLast((x, prev) -> x.2 > prev.3, arrayPopFront(p_days), arrayPopBack(p_days)).1 AS p_grew_day,
               minIf(day, metric = 'posts') AS p_first_day,
               -- The latest followers reading, when there is one in the lookback.
               countIf(metric = 'followers') > 0 AS f_recent,
               argMaxIf(v, day, metric = 'followers') AS f_last,
               argMaxIf(lo, day, metric = 'followers') AS f_last_lo,
               nullIf(argMaxIf(hi, day, metric = 'followers'), 18446744073709551615) AS f_last_hi,
               maxIf(last_at, metric = 'followers') AS f_last_at
        FROM (
            SELECT metric, account_id, day,
                   finalizeAggregation(value) AS v, finalizeAggregation(lo) AS lo,
                   finalizeAggregation(hi) AS hi, last_at
            FROM {db:Identifier}.counters_daily FINAL
            WHERE metric IN ('followers', 'posts')
              AND day <= as_of AND day > as_of - {lookback_days:UInt32}
        )
        GROUP BY account_id
    ),
    older AS (
        -- The latest reading of accounts with none in the lookback (as in account_progress).
        SELECT account_id,
               argMaxMerge(value) AS value, argMaxMerge(lo) AS lo,
               nullIf(argMaxMerge(hi), 18446744073709551615) AS hi, max(last_at) AS last_at
        FROM {db:Identifier}.counters_daily
        WHERE metric = 'followers' AND day <= as_of - {lookback_days:UInt32}
          AND account_id IN (
              SELECT account_id FROM {db:Identifier}.accounts
              WHERE account_id NOT IN (
                  SELECT account_id FROM {db:Identifier}.counters_daily
                  WHERE metric = 'followers'
                    AND day <= as_of AND day > as_of - {lookback_days:UInt32}))
        GROUP BY account_id
    ),
    ev AS (
        SELECT account_id,
               max(at) AS last_attempt_at,
               argMax(outcome, at) AS last_outcome,
               argMax(error, at) AS last_error,
               maxIf(at, outcome = 'reading') AS last_ok_at,
               -- The first failure after the last success: since when it has been failing.
               arrayMin(arrayFilter(t -> t > last_ok_at, groupArray(at))) AS failing_since
        FROM {db:Identifier}.collection_events
        WHERE at <= now_at AND at > now_at - toIntervalDay({lookback_days:UInt32})
        GROUP BY account_id
    ),
    joined AS (
        SELECT
            r.account_id AS account_id,
            r.* EXCEPT (account_id),
            m.* EXCEPT (account_id, f_days, p_days, f_recent, f_last, f_last_lo, f_last_hi, f_last_at),
            if(m.f_recent = 1, m.f_last, o.value) AS followers,
            if(m.f_recent = 1, m.f_last_lo, o.lo) AS followers_lo,
            if(m.f_recent = 1, m.f_last_hi, o.hi) AS followers_hi,
            if(m.f_recent = 1, m.f_last_at, o.last_at) AS observed_at,
            ev.last_attempt_at AS last_attempt_at,
            ev.last_outcome AS last_outcome,
            ev.last_error AS last_error,
            ev.failing_since AS failing_since,
            if(has({crawled:Array(String)}, toString(r.platform)),
               {crawl_overdue_hours:UInt32}, {import_overdue_hours:UInt32}) AS overdue_after_hours,
            if(observed_at IS NULL, NULL,
               dateDiff('second', observed_at, now_at) / 3600) AS hours_since_reading,
            toBool(m.f_peak_lo IS NOT NULL AND followers_hi IS NOT NULL
                   AND m.f_peak_lo > followers_hi
                   AND m.f_peak_lo - followers_hi >= {drop_min:UInt64}
                   AND (m.f_peak_lo - followers_hi) >= {drop_share:Float64} * m.f_peak_lo) AS is_dropping,
            toBool(m.f_has_ref = 1 AND followers_lo IS NOT NULL
                   AND followers_lo <= m.f_ref_hi) AS is_flat,
            toBool(m.p_exposed = 1 AND m.p_has_ref = 1 AND m.p_now_lo <= m.p_ref_hi) AS is_no_posts
        FROM r
        LEFT JOIN m ON m.account_id = r.account_id
        LEFT JOIN older AS o ON o.account_id = r.account_id
        LEFT JOIN ev ON ev.account_id = r.account_id
        SETTINGS join_use_nulls = 1
    )
SELECT
    account_id, unit_id, unit_name, kind, tier, prefecture_code, prefecture_name, department,
    platform, display_name,
    multiIf(
        last_outcome = 'not_found', 'gone',
        last_outcome IN ('rate_limited', 'blocked', 'login_required'), 'collection_blocked',
        hours_since_reading IS NULL OR hours_since_reading > overdue_after_hours, 'overdue',
        is_dropping, 'dropping',
        is_flat, 'flat',
        is_no_posts, 'no_posts',
        'growing') AS state,
    -- Since when the state holds (a Beijing day).
    multiIf(
        state IN ('gone', 'collection_blocked'), toDate(failing_since, 'Asia/Shanghai'),
        state = 'overdue', toDate(observed_at, 'Asia/Shanghai'),
        state = 'dropping', f_peak_day,
        state = 'flat', if(f_grew_day > f_first_day, f_grew_day, f_first_day),
        state = 'no_posts', if(p_grew_day > p_first_day, p_grew_day, p_first_day),
        if(f_grew_day > f_first_day, f_grew_day, NULL)) AS since,
    followers, followers_lo, followers_hi, observed_at,
    round(hours_since_reading, 1) AS hours_since_reading,
    overdue_after_hours,
    if(f_has_ref = 1, f_ref_day, NULL) AS reference_day,
    if(f_has_ref = 1, nullIf(f_ref_hi, 18446744073709551615), NULL) AS reference_followers_hi,
    f_peak_lo AS peak_followers_lo,
    if(p_exposed = 1, p_now, NULL) AS posts,
    if(p_has_ref = 1, nullIf(p_ref_hi, 18446744073709551615), NULL) AS reference_posts_hi,
    last_attempt_at, last_outcome, nullIf(last_error, '') AS last_error
FROM joined
ORDER BY department, state, platform, account_id
SETTINGS join_use_nulls = 1;
