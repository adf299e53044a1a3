-- For each row of an import (its index, account and time): the account's latest follower
-- reading at or before that time, from any source. A reading at exactly the row's time means the
-- row is already stored (or conflicts with what is).
SELECT
    q.idx AS idx,
    toString(r.observed_at) AS observed_at,
    r.followers AS followers,
    toString(r.source) AS source,
    r.provenance AS provenance
FROM
(
    SELECT k.1 AS idx, k.2 AS account_id, k.3 AS at
    FROM (SELECT arrayJoin({keys:Array(Tuple(UInt32, String, DateTime64(3, 'UTC')))}) AS k)
) AS q
ASOF INNER JOIN
(
    SELECT account_id, observed_at, assumeNotNull(followers) AS followers, source, provenance
    FROM {db:Identifier}.readings
    WHERE followers IS NOT NULL AND account_id IN {accounts:Array(String)}
) AS r
ON q.account_id = r.account_id AND q.at >= r.observed_at
ORDER BY idx
