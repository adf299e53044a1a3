-- Reference data from the registry: regions, units, accounts.
-- Versioned: a registry load appends a row only for an entity that changed (row_hash differs),
-- valid from the load time (the first version is valid from 1970), so a rename or a new target
-- never rewrites what a past report showed. Queries take, per entity, the row with the greatest
-- valid_from at or before the time they look at. ReplacingMergeTree folds a repeated load of the
-- same version.

CREATE TABLE IF NOT EXISTS {db:Identifier}.regions
(
    code UInt32,
    name String,
    level LowCardinality(String),
    parent_code Nullable(UInt32),
    population_2020 Nullable(UInt64),
    population_verified Bool,
    source String,
    deleted Bool,
    valid_from DateTime64(3, 'UTC'),
    row_hash String
)
ENGINE = ReplacingMergeTree
ORDER BY (code, valid_from);

CREATE TABLE IF NOT EXISTS {db:Identifier}.units
(
    unit_id String,
    kind LowCardinality(String),
    tier LowCardinality(String),
    name String,
    prefecture_code Nullable(UInt32),
    county_code Nullable(UInt32),
    department String,
    -- Per-account follower target; NULL when it cannot be computed (population unknown) or is
    -- not set (the region account), never 0.
    target Nullable(UInt64),
    target_basis String,
    target_verified Bool,
    sample Bool,
    deleted Bool,
    valid_from DateTime64(3, 'UTC'),
    row_hash String
)
ENGINE = ReplacingMergeTree
ORDER BY (unit_id, valid_from);

CREATE TABLE IF NOT EXISTS {db:Identifier}.accounts
(
    account_id String,
    unit_id String,
    platform LowCardinality(String),
    platform_id String,
    display_name String,
    role LowCardinality(String),
    standardised Bool,
    naming_ok Bool,
    active Bool,
    deleted Bool,
    valid_from DateTime64(3, 'UTC'),
    row_hash String
)
ENGINE = ReplacingMergeTree
ORDER BY (account_id, valid_from);
