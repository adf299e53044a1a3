-- Batches begun and not done, begun before {before} (a batch another process is writing right
-- now is younger than that), oldest first.
SELECT batch_id, max(rows) AS rows, toString(min(at)) AS begun_at
FROM {db:Identifier}.batch_journal
GROUP BY batch_id
HAVING countIf(state = 'done') = 0 AND min(at) < {before:DateTime64(3, 'UTC')}
ORDER BY min(at)
LIMIT 1000
