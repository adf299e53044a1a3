-- Removes the rollup rows of the account-days {days} ('account_id|YYYY-MM-DD'), all metrics,
-- before they are rebuilt from the readings (a rollup row can only be added to, so one that
-- counts more than its readings is replaced, not corrected). Waits for the mutation.
ALTER TABLE {db:Identifier}.counters_daily
DELETE WHERE concat(account_id, '|', toString(day)) IN {days:Array(String)}
SETTINGS mutations_sync = 2
