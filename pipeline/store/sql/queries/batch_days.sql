-- The account-days ('account_id|YYYY-MM-DD') the readings of {batches} fall on.
SELECT DISTINCT concat(account_id, '|', toString(toDate(observed_at, 'Asia/Shanghai'))) AS day
FROM {db:Identifier}.readings
WHERE batch_id IN {batches:Array(String)}
ORDER BY day
