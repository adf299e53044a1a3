-- account_progress(as_of_day): every active account as it stood at the end of a Beijing day:
-- its registry attributes as they were then, its unit's per-account target, and its latest
-- followers reading at or before that day's end, carried forward with its age. An account that
-- has never reported has NULL followers (join_use_nulls), never 0.
-- The parameters are the view's own; the product passes them, e.g.
--   SELECT * FROM haoqi.account_progress(as_of_day = '2024-12-31', stale_after_hours = 48)
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
        SELECT account_id,
               argMaxMerge(value) AS last_value,
               argMaxMerge(lo) AS last_lo,
               nullIf(argMaxMerge(hi), 18446744073709551615) AS last_hi,
               max(last_at) AS last_at,
               argMaxMerge(source) AS last_source
        FROM {db:Identifier}.counters_daily
        WHERE metric = 'followers' AND day <= {as_of_day:Date}
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
