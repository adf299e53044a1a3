-- Account-days whose rollup does not match their readings, per metric: a different number of
-- readings (distinct times) or a different last value. A missing side counts 0.
SELECT metric, account_id, toString(day) AS day,
       r.n AS readings, c.n AS rolled_up, r.v AS value, c.v AS rolled_up_value
FROM
(
    SELECT m.1 AS metric, account_id, toDate(observed_at, 'Asia/Shanghai') AS day,
           uniqExact(observed_at) AS n,
           argMax(assumeNotNull(m.2), bitShiftLeft(toUInt128(toUnixTimestamp64Milli(observed_at)), 64) + assumeNotNull(m.2)) AS v
    FROM {db:Identifier}.readings
    ARRAY JOIN [
        ('followers', followers), ('likes', likes), ('views', views),
        ('posts', posts), ('following', following)
    ] AS m
    WHERE m.2 IS NOT NULL
    GROUP BY metric, account_id, day
) AS r
FULL OUTER JOIN
(
    SELECT metric, account_id, day, uniqExactMerge(observations) AS n, argMaxMerge(value) AS v
    FROM {db:Identifier}.counters_daily
    GROUP BY metric, account_id, day
) AS c
USING (metric, account_id, day)
WHERE r.n != c.n OR r.v != c.v
ORDER BY account_id, day, metric
LIMIT {limit:UInt32}
