-- One account's last value of followers, likes and views on each Beijing day of a window: the
-- evidence beside an anomaly (the followers around the jump, and whether likes and views moved
-- with them). Days without a reading have no row.
SELECT day, metric, argMaxMerge(value) AS value, argMaxMerge(lo) AS lo, argMaxMerge(hi) AS hi
FROM {db:Identifier}.counters_daily
WHERE account_id = {account_id:String}
  AND day BETWEEN {from_day:Date} AND {to_day:Date}
  AND metric IN ('followers', 'likes', 'views')
GROUP BY day, metric
ORDER BY day, metric
