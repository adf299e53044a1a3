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
-- report can say why. Only {lookback_days} days of daily rollups are read, and only an attempt made
-- within them counts.
-- The binary sends this query as it is; `haoqi init` also publishes it as the parameterized view
-- account_health for the operations dashboard (store::sql::VIEWS). Calling the view costs
-- ClickHouse about 70 ms more planning than sending the query (measured, BENCHMARKS.md).
WITH
    {now:DateTime64(3, 'UTC')} AS now_at,
    {as_of_day:Date} AS as_of,
    toDateTime64(toString(as_of + 1), 3, 'Asia/Shanghai') AS day_end,
    {fragment:registry},
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
    m0 AS (
        -- Each account's merged daily rows of the lookback, one array per column (an array of
        -- tuples aggregates about twice as slowly), sorted by day in m. The last day of certain
        -- growth is the last step whose low bound exceeds the previous reading's high bound;
        -- arrays instead of a window function, which sorted every row again. Of the value only
        -- the last is needed: an aggregate, not a third array (30 ms less, BENCHMARKS.md).
        SELECT account_id,
               groupArrayIf(day, metric = 'followers') AS fd0,
               argMaxIf(v, day, metric = 'followers') AS f_last,
               groupArrayIf(lo, metric = 'followers') AS fl0,
               groupArrayIf(hi, metric = 'followers') AS fh0,
               maxIf(last_at, metric = 'followers') AS f_last_at,
               groupArrayIf(day, metric = 'posts') AS pd0,
               argMaxIf(v, day, metric = 'posts') AS p_now,
               groupArrayIf(lo, metric = 'posts') AS pl0,
               groupArrayIf(hi, metric = 'posts') AS ph0
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
    m AS (
        SELECT account_id,
               arraySort(fd0) AS fd,
               arraySort((x, d) -> d, fl0, fd0) AS fl,
               arraySort((x, d) -> d, fh0, fd0) AS fh,
               arraySort(pd0) AS pd,
               arraySort((x, d) -> d, pl0, pd0) AS pl,
               arraySort((x, d) -> d, ph0, pd0) AS ph,
               arrayLast((d, l, prev_hi) -> l > prev_hi, arrayPopFront(fd), arrayPopFront(fl), arrayPopBack(fh)) AS f_grew_day,
               fd[1] AS f_first_day,
               arrayLastIndex(d -> d <= as_of - {flat_days:UInt32}, fd) AS f_ref_i,
               f_ref_i > 0 AS f_has_ref,
               fh[f_ref_i] AS f_ref_hi,
               fd[f_ref_i] AS f_ref_day,
               arrayMax(arrayMap((l, d) -> if(d >= as_of - {flat_days:UInt32}, l, 0), fl, fd)) AS f_peak_lo,
               arrayFirst((d, l) -> d >= as_of - {flat_days:UInt32} AND l = f_peak_lo, fd, fl) AS f_peak_day,
               notEmpty(pd) AS p_exposed,
               p_now,
               pl[-1] AS p_now_lo,
               arrayLastIndex(d -> d <= as_of - {no_posts_days:UInt32}, pd) AS p_ref_i,
               p_ref_i > 0 AS p_has_ref,
               ph[p_ref_i] AS p_ref_hi,
               arrayLast((d, l, prev_hi) -> l > prev_hi, arrayPopFront(pd), arrayPopFront(pl), arrayPopBack(ph)) AS p_grew_day,
               pd[1] AS p_first_day,
               notEmpty(fd) AS f_recent,
               f_last,
               fl[-1] AS f_last_lo,
               nullIf(fh[-1], 18446744073709551615) AS f_last_hi,
               f_last_at
        FROM m0
    ),
    older AS (
        -- The latest reading before the lookback, used for accounts with none in it (as in
        -- account_progress). Read only for accounts without a reading in the last two days: that
        -- set is far cheaper to build than the set of those without one in the whole lookback
        -- (~20 ms of CPU), and an account read within the lookback keeps m's values anyway.
        SELECT account_id,
               argMaxMerge(value) AS value, argMaxMerge(lo) AS lo,
               nullIf(argMaxMerge(hi), 18446744073709551615) AS hi, max(last_at) AS last_at
        FROM {db:Identifier}.counters_daily
        WHERE metric = 'followers' AND day <= as_of - {lookback_days:UInt32}
          AND account_id IN (
              SELECT account_id FROM {db:Identifier}.accounts
              WHERE account_id NOT IN (
                  SELECT account_id FROM {db:Identifier}.counters_daily
                  WHERE metric = 'followers' AND day <= as_of
                    AND day > as_of - least(2, {lookback_days:UInt32})))
        GROUP BY account_id
    ),
    ev AS (
        -- Each account's latest attempt (last_attempts keeps it), if it was made within the
        -- lookback and not after {now}: an older one says nothing about the account now (it is
        -- no longer polled, or only imported), and a later one would hide what was known then.
        SELECT account_id,
               max(last_at) AS last_attempt_at,
               argMaxMerge(last_outcome) AS last_outcome,
               argMaxMerge(last_error) AS last_error,
               max(last_ok_at) AS last_ok_at,
               min(first_at) AS first_at
        FROM {db:Identifier}.last_attempts
        GROUP BY account_id
        HAVING last_attempt_at <= now_at
           AND last_attempt_at > now_at - toIntervalDay({lookback_days:UInt32})
    ),
    failing AS (
        -- Accounts whose latest attempt failed after an earlier success. One that never
        -- succeeded has been failing since its first attempt.
        SELECT account_id, last_ok_at
        FROM ev
        WHERE last_outcome != 'reading' AND last_ok_at > toDateTime64(0, 3, 'UTC')
    ),
    fs AS (
        -- Since when they fail: their first attempt after their last success (every later one
        -- failed), from the attempts kept (180 days). The IN set and the earliest of those
        -- successes narrow what is read to the failing accounts' recent attempts.
        SELECT e.account_id AS account_id, min(e.at) AS failing_since
        FROM {db:Identifier}.collection_events AS e
        INNER JOIN failing AS f ON f.account_id = e.account_id
        WHERE e.account_id IN (SELECT account_id FROM failing)
          AND e.at >= (SELECT min(last_ok_at) FROM failing)
          AND e.at > f.last_ok_at AND e.at <= now_at
        GROUP BY e.account_id
    ),
    joined AS (
        SELECT
            r.account_id AS account_id,
            r.* EXCEPT (account_id),
            m.* EXCEPT (account_id, fd, fl, fh, pd, pl, ph, f_ref_i, p_ref_i, f_recent, f_last, f_last_lo, f_last_hi, f_last_at),
            if(m.f_recent = 1, m.f_last, o.value) AS followers,
            if(m.f_recent = 1, m.f_last_lo, o.lo) AS followers_lo,
            if(m.f_recent = 1, m.f_last_hi, o.hi) AS followers_hi,
            if(m.f_recent = 1, m.f_last_at, o.last_at) AS observed_at,
            ev.last_attempt_at AS last_attempt_at,
            ev.last_outcome AS last_outcome,
            ev.last_error AS last_error,
            if(ev.last_ok_at > toDateTime64(0, 3, 'UTC'), fs.failing_since, ev.first_at)
                AS failing_since,
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
        LEFT JOIN fs ON fs.account_id = r.account_id
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
