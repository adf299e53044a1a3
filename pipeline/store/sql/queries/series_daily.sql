-- See the view series_daily in migrations/0005_analytics_views.sql.
SELECT *
FROM {db:Identifier}.series_daily(
    to_day = {to_day:Date},
    stale_after_hours = {stale_after_hours:UInt32},
    from_day = {from_day:Date},
    dimensions = {dimensions:Array(String)}
)
