-- Goal progress as of the end of a Beijing day, for the whole matrix and broken down by tier
-- (vertical/horizontal), kind, prefecture and platform, in one pass: each account row is
-- counted once per dimension. Totals are sums of each account's carried-forward last reading;
-- `followers_lo` sums the lower bounds (what is certain). Accounts without a reading are counted
-- in `never_reported`, never as 0. (Source columns are qualified with `ap.` because the output
-- names reuse them.)
SELECT
    d.1 AS dimension,
    d.2 AS key,
    any(d.3) AS label,
    count() AS accounts,
    countIf(ap.followers IS NOT NULL) AS reporting,
    countIf(ap.followers IS NULL) AS never_reported,
    countIf(ap.stale) AS stale,
    sum(ifNull(ap.followers, 0)) AS followers,
    sum(ifNull(ap.followers_lo, 0)) AS followers_lo,
    countIf(ap.target IS NOT NULL) AS with_target,
    countIf(ap.target IS NULL) AS target_unknown,
    sum(ifNull(ap.target, 0)) AS target_sum,
    countIf(ap.at_target = 1) AS at_target,
    min(ap.observed_at) AS oldest_reading_at,
    max(ap.age_hours) AS max_age_hours
FROM {db:Identifier}.account_progress(as_of_day = {as_of_day:Date}, stale_after_hours = {stale_after_hours:UInt32}) AS ap
ARRAY JOIN [
    ('matrix', 'all', '全部 all'),
    ('tier', toString(ap.tier), toString(ap.tier)),
    ('kind', toString(ap.kind), toString(ap.kind)),
    ('region', ifNull(toString(ap.prefecture_code), 'region-wide'), ifNull(ap.prefecture_name, '全区 region-wide')),
    ('platform', toString(ap.platform), toString(ap.platform))
] AS d
GROUP BY dimension, key
ORDER BY dimension, key
