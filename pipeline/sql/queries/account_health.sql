-- See the view account_health in migrations/0005_analytics_views.sql.
SELECT *
FROM {db:Identifier}.account_health(
    now = {now:DateTime64(3, 'UTC')},
    as_of_day = {as_of_day:Date},
    crawl_overdue_hours = {crawl_overdue_hours:UInt32},
    lookback_days = {lookback_days:UInt32},
    flat_days = {flat_days:UInt32},
    no_posts_days = {no_posts_days:UInt32},
    crawled = {crawled:Array(String)},
    import_overdue_hours = {import_overdue_hours:UInt32},
    drop_min = {drop_min:UInt64},
    drop_share = {drop_share:Float64}
)
