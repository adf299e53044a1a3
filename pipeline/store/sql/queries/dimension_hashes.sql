-- The current version of every entity of a dimension table: its hash and whether it is deleted.
SELECT toString({key:Identifier}) AS id,
       argMax(row_hash, valid_from) AS row_hash,
       argMax(deleted, valid_from) AS deleted
FROM {db:Identifier}.{table:Identifier}
GROUP BY id
