-- Every collection attempt, success or failure, so operations can see which accounts fail and
-- why: outcome is `reading` or the typed error's kind (rate_limited, blocked, login_required,
-- not_found, layout_changed, transport). A layout change keeps the start of the body. Kept for
-- 180 days.
CREATE TABLE IF NOT EXISTS {db:Identifier}.collection_events
(
    at DateTime64(3, 'UTC'),
    account_id String,
    platform LowCardinality(String),
    outcome LowCardinality(String),
    http_status Nullable(UInt16),
    latency_ms UInt32,
    url String,
    error String,
    body_excerpt String,
    parser_version LowCardinality(String)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (platform, account_id, at)
TTL toDateTime(at) + INTERVAL 180 DAY
SETTINGS non_replicated_deduplication_window = 1000;
