-- Per-account target completion as of the end of a Beijing day, for the accounts in a scope:
-- one unit's (`unit_id`), one prefecture's (`prefecture`), or all ('' and 0).
SELECT *
FROM {db:Identifier}.account_progress(as_of_day = {as_of_day:Date}, stale_after_hours = {stale_after_hours:UInt32})
WHERE ({unit_id:String} = '' OR unit_id = {unit_id:String})
  AND ({prefecture:UInt32} = 0 OR prefecture_code = {prefecture:UInt32})
ORDER BY tier, kind, prefecture_code, unit_id, platform, account_id
