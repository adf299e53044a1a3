-- When each account last gave a reading (collection_events through last_attempts), in
-- milliseconds since the epoch, for the scheduler's order after a restart.
SELECT account_id, toUnixTimestamp64Milli(max(last_ok_at)) AS ok_ms
FROM {db:Identifier}.last_attempts
GROUP BY account_id
HAVING max(last_ok_at) > toDateTime64('1970-01-02 00:00:00', 3, 'UTC')
