-- Imports of filled-in tables and registry spreadsheets (haoqi import readings, haoqi registry
-- import): one row per file imported, keyed by the file's sha256, so that importing the same file
-- again imports nothing and says when it was imported and by whom. The readings themselves carry
-- source = 'import' and provenance 'sha256:<file> row <n>'.
CREATE TABLE IF NOT EXISTS {db:Identifier}.imports
(
    file_sha256 String,
    file_name String,
    -- readings | registry
    kind LowCardinality(String),
    platform LowCardinality(String),
    reporter String,
    rows_read UInt32,
    readings UInt32,
    skipped UInt32,
    batch_id String,
    -- The column mapping given by the user (JSON object: header -> field).
    mapping String,
    imported_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (kind, file_sha256);

-- Column mappings saved by name (--save-map NAME) for layouts haoqi does not recognise by itself,
-- reused with --use-map NAME. The latest save of a name counts.
CREATE TABLE IF NOT EXISTS {db:Identifier}.import_mappings
(
    name String,
    -- JSON object: header text (or column letter) -> field
    mapping String,
    created_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(created_at)
ORDER BY name;
