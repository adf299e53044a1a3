-- Imported readings against the import records. `recorded` is the record's count for the file
-- (has_record 0: no record), `stored` the readings the store has from that file, `batches` their batch
-- ids. A record whose batch holds fewer readings than it says, and readings of a file with no
-- record (an interrupted import), are the differences.
WITH stored AS (
    SELECT substring(provenance, 8, 64) AS sha256, count() AS stored,
           groupUniqArray(batch_id) AS batches
    FROM {db:Identifier}.readings FINAL
    WHERE source = 'import' AND startsWith(provenance, 'sha256:')
    GROUP BY sha256
),
recorded AS (
    SELECT file_sha256 AS sha256, 1 AS has_record, any(file_name) AS file_name, any(readings) AS recorded,
           any(batch_id) AS batch_id
    FROM {db:Identifier}.imports FINAL
    WHERE kind = 'readings'
    GROUP BY sha256
),
in_batch AS (
    SELECT batch_id, count() AS n
    FROM {db:Identifier}.readings FINAL
    WHERE source = 'import' AND batch_id IN (SELECT batch_id FROM recorded)
    GROUP BY batch_id
)
SELECT sha256, rec.has_record AS has_record, rec.file_name AS file_name, rec.recorded AS recorded, s.stored AS stored,
       b.n AS in_recorded_batch, s.batches AS batches
FROM stored AS s
FULL OUTER JOIN recorded AS rec USING (sha256)
LEFT JOIN in_batch AS b ON b.batch_id = rec.batch_id
WHERE has_record = 0 OR in_recorded_batch < recorded
ORDER BY sha256
