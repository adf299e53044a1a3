-- Frozen rankings: what the committee adopted, kept so the published list can be reproduced
-- after late imports change the data. `rank_freezes` holds the inputs, findings, configuration
-- (weights, thresholds) and formula version as JSON, and the ranking itself; `rank_entries` and
-- `rank_freeze_anomalies` hold the same rows flat, for the committee's Grafana dashboard. A name
-- is written once (haoqi refuses to freeze over an existing name).
CREATE TABLE IF NOT EXISTS {db:Identifier}.rank_freezes
(
    name String,
    created_at DateTime64(3, 'UTC'),
    from_day Date,
    to_day Date,
    tier String,
    formula_version String,
    config_json String,
    data_json String,
    ranking_json String
)
ENGINE = ReplacingMergeTree
ORDER BY name;

CREATE TABLE IF NOT EXISTS {db:Identifier}.rank_entries
(
    name String,
    grp LowCardinality(String),
    rank Nullable(UInt32),
    account_id String,
    display_name String,
    unit_id String,
    unit_name String,
    kind LowCardinality(String),
    tier LowCardinality(String),
    prefecture_name Nullable(String),
    department String,
    platform LowCardinality(String),
    followers_end Nullable(UInt64),
    followers_gained Nullable(Int64),
    views_gained Nullable(Int64),
    likes_gained Nullable(Int64),
    posts_gained Nullable(Int64),
    target Nullable(UInt64),
    completion Nullable(Float64),
    coverage Float64,
    s_followers Nullable(Float64),
    s_growth Nullable(Float64),
    s_completion Nullable(Float64),
    s_views Nullable(Float64),
    s_likes Nullable(Float64),
    s_posts Nullable(Float64),
    score Nullable(Float64),
    eligible Bool,
    reasons String
)
ENGINE = ReplacingMergeTree
ORDER BY (name, account_id);

CREATE TABLE IF NOT EXISTS {db:Identifier}.rank_freeze_anomalies
(
    name String,
    account_id String,
    day Date,
    kind LowCardinality(String),
    value UInt64,
    previous UInt64,
    gain Int64,
    trend Float64,
    threshold Float64,
    engagement_gain Nullable(Int64),
    accounts_same_day UInt64,
    status LowCardinality(String),
    reason String
)
ENGINE = ReplacingMergeTree
ORDER BY (name, account_id, day, kind);

-- A reviewer's decision that a finding is explained (e.g. a viral video behind a jump): the
-- account may compete again. The latest decision per finding counts.
CREATE TABLE IF NOT EXISTS {db:Identifier}.anomaly_resolutions
(
    account_id String,
    day Date,
    kind LowCardinality(String),
    note String,
    reviewer String,
    at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(at)
ORDER BY (account_id, day, kind);
