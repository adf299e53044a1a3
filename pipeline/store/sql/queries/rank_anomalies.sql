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
-- One pass: each account's counters become day-sorted arrays, likes and views are placed on the
-- followers days, each day is set beside the previous reading day and the trend's reach by
-- shifting the arrays, and the arrays are unrolled into rows (a grouping per account and day and
-- window functions over every row took twice as long); each row's findings are unrolled with
-- ARRAY JOIN (a CTE referenced twice would be computed twice).
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
    cols AS (
        -- Each account's merged daily rows (FINAL) of the window, one array per column (one
        -- grouping per account instead of one per account and day).
        SELECT account_id,
               groupArrayIf(day, metric = 'followers') AS fd0,
               groupArrayIf(v, metric = 'followers') AS fv0,
               groupArrayIf(lo, metric = 'followers') AS flo0,
               groupArrayIf(hi, metric = 'followers') AS fhi0,
               groupArrayIf(day, metric = 'likes') AS ld0,
               groupArrayIf(v, metric = 'likes') AS lv0,
               groupArrayIf(lo, metric = 'likes') AS llo0,
               groupArrayIf(hi, metric = 'likes') AS lhi0,
               groupArrayIf(day, metric = 'views') AS vd0,
               groupArrayIf(v, metric = 'views') AS vv0,
               groupArrayIf(lo, metric = 'views') AS vlo0,
               groupArrayIf(hi, metric = 'views') AS vhi0
        FROM (
            SELECT metric, account_id, day, finalizeAggregation(value) AS v,
                   finalizeAggregation(lo) AS lo, finalizeAggregation(hi) AS hi
            FROM {db:Identifier}.counters_daily FINAL
            WHERE metric IN ('followers', 'likes', 'views')
              AND day <= {to_day:Date} AND day >= {from_day:Date} - {trend_days:UInt32} - 1
        )
        GROUP BY account_id
        HAVING notEmpty(fd0)
    ),
    sorted AS (
        SELECT c.account_id AS account_id, ap.unit_id AS unit_id,
               ap.prefecture_code AS prefecture_code,
               arraySort(fd0) AS fd,
               arraySort((x, d) -> d, fv0, fd0) AS fv,
               arraySort((x, d) -> d, flo0, fd0) AS flo,
               arraySort((x, d) -> d, fhi0, fd0) AS fhi,
               arraySort(ld0) AS ld,
               arraySort((x, d) -> d, lv0, ld0) AS lvs,
               arraySort((x, d) -> d, llo0, ld0) AS llos,
               arraySort((x, d) -> d, lhi0, ld0) AS lhis,
               arraySort(vd0) AS vd,
               arraySort((x, d) -> d, vv0, vd0) AS vvs,
               arraySort((x, d) -> d, vlo0, vd0) AS vlos,
               arraySort((x, d) -> d, vhi0, vd0) AS vhis,
               -- Where each followers day's likes and views are (0: none that day).
               if(ld = fd, arrayEnumerate(fd), arrayMap(d -> indexOf(ld, d), fd)) AS li,
               if(vd = fd, arrayEnumerate(fd), arrayMap(d -> indexOf(vd, d), fd)) AS vi
        FROM cols AS c
        INNER JOIN ap ON ap.account_id = c.account_id
    ),
    rows AS (
        -- One array per column of the rows below, aligned on the followers days.
        SELECT account_id, unit_id, prefecture_code, fd, fv, flo, fhi,
               length(fd) AS n,
               if(ld = fd, arrayWithConstant(n, true), arrayMap(i -> i > 0, li)) AS has_l_a,
               if(ld = fd, lvs, arrayMap(i -> lvs[i], li)) AS lv_a,
               if(ld = fd, llos, arrayMap(i -> llos[i], li)) AS llo_a,
               if(ld = fd, lhis, arrayMap(i -> lhis[i], li)) AS lhi_a,
               if(vd = fd, arrayWithConstant(n, true), arrayMap(i -> i > 0, vi)) AS has_v_a,
               if(vd = fd, vvs, arrayMap(i -> vvs[i], vi)) AS vv_a,
               if(vd = fd, vlos, arrayMap(i -> vlos[i], vi)) AS vlo_a,
               if(vd = fd, vhis, arrayMap(i -> vhis[i], vi)) AS vhi_a,
               -- The previous row's values, and those {trend_rows} rows back (NULL before the
               -- first row), or the first row of that reach.
               arraySlice(arrayConcat([NULL], CAST(fv AS Array(Nullable(UInt64)))), 1, n) AS prev_fv_a,
               arraySlice(arrayConcat([NULL], CAST(flo AS Array(Nullable(UInt64)))), 1, n) AS prev_flo_a,
               arraySlice(arrayConcat([NULL], CAST(fd AS Array(Nullable(Date)))), 1, n) AS prev_day_a,
               arraySlice(arrayConcat([NULL], arrayMap((h, x) -> if(h, toNullable(x), NULL), has_l_a, lv_a)), 1, n) AS prev_lv_a,
               arraySlice(arrayConcat([NULL], arrayMap((h, x) -> if(h, toNullable(x), NULL), has_l_a, llo_a)), 1, n) AS prev_llo_a,
               arraySlice(arrayConcat([NULL], arrayMap((h, x) -> if(h, toNullable(x), NULL), has_v_a, vv_a)), 1, n) AS prev_vv_a,
               arraySlice(arrayConcat([NULL], arrayMap((h, x) -> if(h, toNullable(x), NULL), has_v_a, vlo_a)), 1, n) AS prev_vlo_a,
               arraySlice(arrayConcat(arrayWithConstant({trend_rows:UInt32}, NULL), CAST(fv AS Array(Nullable(UInt64)))), 1, n) AS base_fv_a,
               arraySlice(arrayConcat(arrayWithConstant({trend_rows:UInt32}, NULL), CAST(fd AS Array(Nullable(Date)))), 1, n) AS base_day_a,
               arraySlice(arrayConcat(arrayWithConstant({trend_rows:UInt32}, fv[1]), fv), 1, n) AS first_fv_a,
               arraySlice(arrayConcat(arrayWithConstant({trend_rows:UInt32}, fd[1]), fd), 1, n) AS first_day_a
        FROM sorted
    ),
    steps AS (
        -- One row per account and followers day, with the previous row's values and the trend's
        -- reach (what window functions gave, without sorting every row again).
        SELECT account_id, unit_id, prefecture_code, day, fv, flo, fhi,
               has_l, lv, llo, lhi, has_v, vv, vlo, vhi,
               prev_fv, prev_flo, prev_day, prev_lv, prev_llo, prev_vv, prev_vlo,
               base_fv, base_day, first_fv, first_day
        FROM rows
        ARRAY JOIN fd AS day, fv AS fv, flo AS flo, fhi AS fhi,
                   has_l_a AS has_l, lv_a AS lv, llo_a AS llo, lhi_a AS lhi,
                   has_v_a AS has_v, vv_a AS vv, vlo_a AS vlo, vhi_a AS vhi,
                   prev_fv_a AS prev_fv, prev_flo_a AS prev_flo, prev_day_a AS prev_day,
                   prev_lv_a AS prev_lv, prev_llo_a AS prev_llo, prev_vv_a AS prev_vv,
                   prev_vlo_a AS prev_vlo, base_fv_a AS base_fv, base_day_a AS base_day,
                   first_fv_a AS first_fv, first_day_a AS first_day
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
