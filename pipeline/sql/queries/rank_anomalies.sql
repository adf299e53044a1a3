-- What the committee must see before it awards anything, for accounts active at the end of
-- {to_day}, on days {from_day}..{to_day}. Each row is one finding with the numbers behind it:
--   jump         a one-day followers gain above {jump_min} and above {jump_factor} × the
--                account's own trend (its mean daily gain over the previous {trend_days}
--                reading days; a flat or falling trend counts as 0): suspected purchased
--                followers. ({trend_rows} = {trend_days} + 1, the window's reach.)
--   jump_without_engagement  such a jump on a day when likes and views (where the platform
--                exposes them) together grew by less than {engagement_ratio} × the followers gain
--   drop         a certain one-day loss (upper bound now vs lower bound before) above
--                {drop_share} of the previous value and above {drop_min}
--   backwards    likes or views, which only accumulate, certainly lower than the day before
--   unit_cluster / prefecture_cluster  jumps on {unit_cluster_min}+ accounts of one unit, or
--                {prefecture_cluster_min}+ accounts of one prefecture, on the same day
-- Gains are per day: a reading after a gap of n days is compared with 1/n of the change.
-- One pass: the counters are pivoted per account and day, compared with the previous reading
-- day, and each row's findings are unrolled with ARRAY JOIN (a CTE referenced twice would be
-- computed twice).
WITH
    toDateTime64(toString({to_day:Date} + 1), 3, 'Asia/Shanghai') AS day_end,
    {fragment:registry},
    ap AS (
        -- The accounts active at the end of the period.
        SELECT a.account_id AS account_id, a.unit_id AS unit_id, u.prefecture_code AS prefecture_code
        FROM acc AS a
        INNER JOIN un AS u ON u.unit_id = a.unit_id
        WHERE a.active AND NOT a.deleted AND NOT u.unit_deleted
    ),
    d AS (
        -- The merged daily rows (FINAL) pivoted to one row per account and day.
        SELECT account_id, day,
               anyIf(v, metric = 'followers') AS fv,
               anyIf(lo, metric = 'followers') AS flo,
               anyIf(hi, metric = 'followers') AS fhi,
               countIf(metric = 'followers') > 0 AS has_f,
               anyIf(v, metric = 'likes') AS lv,
               anyIf(lo, metric = 'likes') AS llo,
               anyIf(hi, metric = 'likes') AS lhi,
               countIf(metric = 'likes') > 0 AS has_l,
               anyIf(v, metric = 'views') AS vv,
               anyIf(lo, metric = 'views') AS vlo,
               anyIf(hi, metric = 'views') AS vhi,
               countIf(metric = 'views') > 0 AS has_v
        FROM (
            SELECT metric, account_id, day, finalizeAggregation(value) AS v,
                   finalizeAggregation(lo) AS lo, finalizeAggregation(hi) AS hi
            FROM {db:Identifier}.counters_daily FINAL
            WHERE metric IN ('followers', 'likes', 'views')
              AND day <= {to_day:Date} AND day >= {from_day:Date} - {trend_days:UInt32} - 1
        )
        GROUP BY account_id, day
        HAVING has_f
    ),
    steps AS (
        SELECT d.*, ap.unit_id AS unit_id, ap.prefecture_code AS prefecture_code,
               lagInFrame(toNullable(fv), 1, NULL) OVER w AS prev_fv,
               lagInFrame(toNullable(flo), 1, NULL) OVER w AS prev_flo,
               lagInFrame(toNullable(day), 1, NULL) OVER w AS prev_day,
               lagInFrame(if(has_l, toNullable(lv), NULL), 1, NULL) OVER w AS prev_lv,
               lagInFrame(if(has_l, toNullable(llo), NULL), 1, NULL) OVER w AS prev_llo,
               lagInFrame(if(has_v, toNullable(vv), NULL), 1, NULL) OVER w AS prev_vv,
               lagInFrame(if(has_v, toNullable(vlo), NULL), 1, NULL) OVER w AS prev_vlo,
               -- The trend: the mean daily gain over the previous {trend_days} reading days.
               lagInFrame(toNullable(fv), {trend_rows:UInt32}, NULL) OVER wt AS base_fv,
               lagInFrame(toNullable(day), {trend_rows:UInt32}, NULL) OVER wt AS base_day,
               first_value(fv) OVER wt AS first_fv,
               first_value(day) OVER wt AS first_day
        FROM d
        INNER JOIN ap ON ap.account_id = d.account_id
        WINDOW w AS (PARTITION BY d.account_id ORDER BY day ROWS BETWEEN 1 PRECEDING AND CURRENT ROW),
               wt AS (PARTITION BY d.account_id ORDER BY day
                      ROWS BETWEEN {trend_rows:UInt32} PRECEDING AND CURRENT ROW)
    ),
    gains AS (
        SELECT *,
               toInt64(fv) - toInt64(prev_fv) AS f_gain,
               f_gain / greatest(dateDiff('day', prev_day, day), 1) AS gpd,
               greatest(if(has_l AND prev_lv IS NOT NULL, toInt64(lv) - toInt64(prev_lv), 0), 0)
                 + greatest(if(has_v AND prev_vv IS NOT NULL, toInt64(vv) - toInt64(prev_vv), 0), 0) AS eng_gain,
               has_l OR has_v AS engagement_exposed
        FROM steps
        WHERE prev_fv IS NOT NULL
    ),
    trended AS (
        SELECT *,
               -- From the reading {trend_days} reading days before the previous one (or the first
               -- in the window) to the previous one; flat or falling counts as 0.
               greatest(if(prev_day > ifNull(base_day, first_day),
                           (toInt64(prev_fv) - toInt64(ifNull(base_fv, first_fv)))
                             / dateDiff('day', ifNull(base_day, first_day), prev_day),
                           0), 0) AS f_trend,
               greatest(toFloat64({jump_min:UInt64}), {jump_factor:Float64} * f_trend) AS jump_threshold,
               day >= {from_day:Date} AND gpd > jump_threshold AND flo > prev_fv AS is_jump,
               greatest(toFloat64({drop_min:UInt64}), {drop_share:Float64} * prev_fv) AS drop_threshold
        FROM gains
    ),
    flagged AS (
        -- Only rows with a finding go on: the cluster counts need jumps alone.
        SELECT *,
               countIf(is_jump) OVER (PARTITION BY unit_id, day) AS unit_jumps,
               countIf(is_jump) OVER (PARTITION BY prefecture_code, day) AS prefecture_jumps
        FROM trended
        WHERE day >= {from_day:Date}
          AND (is_jump
               OR toInt64(prev_flo) - toInt64(fhi) > drop_threshold
               OR (has_l AND prev_llo IS NOT NULL AND lhi < prev_llo)
               OR (has_v AND prev_vlo IS NOT NULL AND vhi < prev_vlo))
    )
SELECT account_id, day, kind,
       toUInt64(multiIf(kind = 'backwards_likes', lv, kind = 'backwards_views', vv, fv)) AS value,
       toUInt64(multiIf(kind = 'backwards_likes', prev_lv, kind = 'backwards_views', prev_vv, prev_fv)) AS previous,
       multiIf(kind = 'backwards_likes', toInt64(lv) - toInt64(prev_lv),
               kind = 'backwards_views', toInt64(vv) - toInt64(prev_vv), f_gain) AS gain,
       toFloat64(f_trend) AS trend,
       toFloat64(multiIf(kind = 'drop', drop_threshold,
                         kind = 'jump_without_engagement', {engagement_ratio:Float64} * f_gain,
                         startsWith(kind, 'backwards'), 0, jump_threshold)) AS threshold,
       if(kind = 'jump_without_engagement', toNullable(toInt64(eng_gain)), NULL) AS engagement_gain,
       toUInt64(multiIf(kind = 'unit_cluster', unit_jumps, kind = 'prefecture_cluster', prefecture_jumps, 1)) AS accounts_same_day
FROM flagged
ARRAY JOIN arrayConcat(
    if(is_jump, ['jump'], []),
    if(is_jump AND engagement_exposed AND eng_gain < {engagement_ratio:Float64} * f_gain,
       ['jump_without_engagement'], []),
    if(is_jump AND unit_jumps >= {unit_cluster_min:UInt32}, ['unit_cluster'], []),
    if(is_jump AND prefecture_code IS NOT NULL AND prefecture_jumps >= {prefecture_cluster_min:UInt32},
       ['prefecture_cluster'], []),
    if(toInt64(prev_flo) - toInt64(fhi) > drop_threshold, ['drop'], []),
    if(has_l AND prev_llo IS NOT NULL AND lhi < prev_llo, ['backwards_likes'], []),
    if(has_v AND prev_vlo IS NOT NULL AND vhi < prev_vlo, ['backwards_views'], [])
) AS kind
ORDER BY account_id, day, kind
SETTINGS join_use_nulls = 0
