-- See the view rank_inputs in migrations/0005_analytics_views.sql.
SELECT *
FROM {db:Identifier}.rank_inputs(
    to_day = {to_day:Date},
    stale_after_hours = {stale_after_hours:UInt32},
    from_day = {from_day:Date}
)
