-- Which schema migrations have been applied to this database.
CREATE TABLE IF NOT EXISTS {db:Identifier}.schema_migrations
(
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY version
