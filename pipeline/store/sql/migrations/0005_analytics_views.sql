-- Analytics as parameterized views, so the product's queries (sql/queries/*.sql call them)
-- and the Grafana panels (dashboards/) read the same SQL. Each view's own comment says what it
-- answers; the parameters are the view's, e.g.
--   SELECT * FROM haoqi.series_daily(from_day = '2024-10-01', to_day = '2024-12-31',
--                                    stale_after_hours = 48, dimensions = ['matrix'])

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
CREATE OR REPLACE VIEW {db:Identifier}.account_health AS
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
SETTINGS join_use_nulls = 1;

-- Daily carry-forward totals from {from_day} to {to_day} for the matrix and for each tier, kind,
-- prefecture and platform (accounts as registered at {to_day}), with 1-, 7- and 30-day deltas
-- and rates. A day's total is the sum over accounts of their latest reading at or before the
-- day's end (followers_daily.sql does the same for the matrix alone); `reporting` counts the
-- accounts in it, `stale` those held up by a reading older than {stale_after_hours} h, and
-- `max_age_days` the oldest carried value. An account that starts reporting raises the total
-- (it had those followers before, unmeasured): read `reporting` beside a jump. Days before a
-- group's first reading have no row; from then on every day has one, so a delta over N rows is
-- a delta over N days.
CREATE OR REPLACE VIEW {db:Identifier}.series_daily AS
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
ORDER BY dimension, key, day;

-- Each active account's followers at the end of {as_of_day} and 1, 7 and 30 days before (each
-- the latest reading at or before that day's end, carried forward), the deltas and rates, and the
-- certain 7- and 30-day growth: the lower bound now minus the upper bound then, so a change
-- within an abbreviated count's resolution (1.2万 → 1.2万) is not growth. NULL where the account
-- had no reading yet at the earlier day.
CREATE OR REPLACE VIEW {db:Identifier}.account_growth AS
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
SETTINGS join_use_nulls = 1;

-- The committee's inputs for each account active at the end of {to_day}, over the period
-- {from_day}..{to_day} (Beijing days, inclusive). For each counter: the value at the end (the
-- latest reading at or before the period's end), at the start (the latest reading before the
-- period; for an account that began reporting inside it, its first reading in the period) and
-- the gain between them; `*_exposed` says whether the account's platform gave that counter at
-- all. Coverage is the share of the period's days with a followers reading; `imported_share`
-- the share of the period's readings that came from imported tables rather than a crawl.
CREATE OR REPLACE VIEW {db:Identifier}.rank_inputs AS
WITH
    ap AS (
        SELECT *
        FROM {db:Identifier}.account_progress(as_of_day = {to_day:Date}, stale_after_hours = {stale_after_hours:UInt32})
    ),
    d AS (
        SELECT metric, account_id, day,
               argMaxMerge(value) AS v, argMaxMerge(lo) AS lo, argMaxMerge(hi) AS hi
        FROM {db:Identifier}.counters_daily
        WHERE metric IN ('followers', 'likes', 'views', 'posts') AND day <= {to_day:Date}
          AND account_id IN (SELECT account_id FROM ap)
        GROUP BY metric, account_id, day
    ),
    m AS (
        SELECT account_id, metric,
               argMax(v, day) AS v_end,
               argMax(lo, day) AS lo_end,
               if(countIf(day < {from_day:Date}) > 0,
                  argMaxIf(v, day, day < {from_day:Date}),
                  argMinIf(v, day, day >= {from_day:Date})) AS v_start,
               countIf(day < {from_day:Date}) > 0 AS has_baseline,
               uniqExactIf(day, day >= {from_day:Date}) AS days_read
        FROM d
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
          AND account_id IN (SELECT account_id FROM ap)
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
