-- Faster analytics views, same answers (the tests of 0005's views run on these): the rank
-- inputs read the daily rollup once, merged (FINAL), instead of grouping every account-day of
-- the year; the health view reads the merged daily rows without grouping them; both restrict
-- to active accounts by their final join alone (a filter on account_progress computed it twice).
CREATE OR REPLACE VIEW {db:Identifier}.rank_inputs AS
WITH
    ap AS (
        SELECT *
        FROM {db:Identifier}.account_progress(as_of_day = {to_day:Date}, stale_after_hours = {stale_after_hours:UInt32})
    ),
    m AS (
        -- One pass over the merged daily rows (FINAL): the last value, the last before the
        -- period, and for an account without one, the value of its first day in the period.
        SELECT account_id, metric,
               argMaxMerge(value) AS v_end,
               argMaxMerge(lo) AS lo_end,
               countIf(day < {from_day:Date}) > 0 AS has_baseline,
               if(has_baseline,
                  argMaxMergeIf(value, day < {from_day:Date}),
                  argMinIf(finalizeAggregation(value), day, day >= {from_day:Date})) AS v_start,
               uniqExactIf(day, day >= {from_day:Date}) AS days_read
        FROM {db:Identifier}.counters_daily FINAL
        WHERE metric IN ('followers', 'likes', 'views', 'posts') AND day <= {to_day:Date}
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
SETTINGS join_use_nulls = 1;

CREATE OR REPLACE VIEW {db:Identifier}.account_health AS
WITH
    {now:DateTime64(3, 'UTC')} AS now_at,
    {as_of_day:Date} AS as_of,
    ap AS (
        SELECT *
        FROM {db:Identifier}.account_progress(as_of_day = {as_of_day:Date}, stale_after_hours = {crawl_overdue_hours:UInt32})
    ),
    daily AS (
        -- The merged daily rows (FINAL) as they are: no grouping of account-days.
        SELECT metric, account_id, day,
               finalizeAggregation(value) AS v, finalizeAggregation(lo) AS lo,
               finalizeAggregation(hi) AS hi
        FROM {db:Identifier}.counters_daily FINAL
        WHERE metric IN ('followers', 'posts')
          AND day <= as_of AND day > as_of - {lookback_days:UInt32}
    ),
    steps AS (
        SELECT *,
               -- Certain growth since the previous day with a reading.
               lagInFrame(toNullable(hi), 1, NULL) OVER (
                   PARTITION BY metric, account_id ORDER BY day
                   ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS prev_hi
        FROM daily
    ),
    m AS (
        SELECT account_id,
               maxIf(day, metric = 'followers' AND prev_hi IS NOT NULL AND lo > prev_hi) AS f_grew_day,
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
               maxIf(day, metric = 'posts' AND prev_hi IS NOT NULL AND lo > prev_hi) AS p_grew_day,
               minIf(day, metric = 'posts') AS p_first_day
        FROM steps
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
            ap.account_id AS account_id,
            ap.* EXCEPT (account_id),
            m.* EXCEPT (account_id),
            ev.last_attempt_at AS last_attempt_at,
            ev.last_outcome AS last_outcome,
            ev.last_error AS last_error,
            ev.failing_since AS failing_since,
            if(has({crawled:Array(String)}, toString(ap.platform)),
               {crawl_overdue_hours:UInt32}, {import_overdue_hours:UInt32}) AS overdue_after_hours,
            if(ap.observed_at IS NULL, NULL,
               dateDiff('second', ap.observed_at, now_at) / 3600) AS hours_since_reading,
            toBool(m.f_peak_lo IS NOT NULL AND ap.followers_hi IS NOT NULL
                   AND m.f_peak_lo > ap.followers_hi
                   AND m.f_peak_lo - ap.followers_hi >= {drop_min:UInt64}
                   AND (m.f_peak_lo - ap.followers_hi) >= {drop_share:Float64} * m.f_peak_lo) AS is_dropping,
            toBool(m.f_has_ref = 1 AND ap.followers_lo IS NOT NULL
                   AND ap.followers_lo <= m.f_ref_hi) AS is_flat,
            toBool(m.p_exposed = 1 AND m.p_has_ref = 1 AND m.p_now_lo <= m.p_ref_hi) AS is_no_posts
        FROM ap
        LEFT JOIN m ON m.account_id = ap.account_id
        LEFT JOIN ev ON ev.account_id = ap.account_id
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
