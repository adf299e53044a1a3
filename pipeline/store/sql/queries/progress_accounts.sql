-- Per-account target completion as of the end of a Beijing day.
SELECT *
FROM {db:Identifier}.account_progress(as_of_day = {as_of_day:Date}, stale_after_hours = {stale_after_hours:UInt32})
ORDER BY tier, kind, prefecture_code, unit_id, platform, account_id
