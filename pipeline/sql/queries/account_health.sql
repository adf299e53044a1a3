-- One health state for every active account (an account missing from this answer would silently
-- resolve its alert, so every row of account_progress comes out, read or not), judged at {now}:
--   gone                the platform says the account does not exist (last attempt not_found)
--   collection_blocked  the last attempt was rate limited, met a captcha or a login wall
--   overdue             no reading for {crawl_overdue_hours} h (crawled platforms) or
--                       {import_overdue_hours} h (platforms that only arrive by import); never read
--   dropping            followers fell below the peak of the last {flat_days} days by more than
--                       {drop_share} of it and at least {drop_min} (upper bound now vs lower bound then)
--   flat                read fine, but no growth beyond the readings' resolution in {flat_days}
--                       days: the lower bound now does not exceed the upper bound then
--   no_posts            the post count (where the platform exposes it) has not risen in
--                       {no_posts_days} days
--   growing             none of the above
-- The first that applies wins, in that order. Numbers behind each state come out too, so the
-- report can say why. Only {lookback_days} days of daily rollups are read.
WITH
    {now:DateTime64(3, 'UTC')} AS now_at,
    {as_of_day:Date} AS as_of,
    ap AS (
        SELECT *
        FROM {db:Identifier}.account_progress(as_of_day = {as_of_day:Date}, stale_after_hours = {crawl_overdue_hours:UInt32})
    ),
    daily AS (
        SELECT metric, account_id, day,
               argMaxMerge(value) AS v, argMaxMerge(lo) AS lo, argMaxMerge(hi) AS hi
        FROM {db:Identifier}.counters_daily
        WHERE metric IN ('followers', 'posts')
          AND day <= as_of AND day > as_of - {lookback_days:UInt32}
          AND account_id IN (SELECT account_id FROM ap)
        GROUP BY metric, account_id, day
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
          AND account_id IN (SELECT account_id FROM ap)
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
SETTINGS join_use_nulls = 1
