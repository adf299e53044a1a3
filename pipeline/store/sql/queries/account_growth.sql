-- See the view account_growth in migrations/0005_analytics_views.sql.
SELECT *
FROM {db:Identifier}.account_growth(
    as_of_day = {as_of_day:Date},
    stale_after_hours = {stale_after_hours:UInt32}
)
