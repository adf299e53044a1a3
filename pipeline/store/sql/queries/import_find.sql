-- An earlier import of the same file (same sha256), if any.
SELECT
    file_name,
    reporter,
    formatDateTime(imported_at, '%Y-%m-%d %H:%i', 'Asia/Shanghai') AS imported_at,
    readings,
    batch_id
FROM {db:Identifier}.imports FINAL
WHERE kind = {kind:String} AND file_sha256 = {sha256:String}
ORDER BY imported_at
LIMIT 1
