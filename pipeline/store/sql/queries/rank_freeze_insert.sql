-- Rows of a freeze (header, entries, findings); the token makes a retried write count once.
INSERT INTO {db:Identifier}.{table:Identifier}
SETTINGS insert_deduplicate = 1, insert_deduplication_token = {token:String}
FORMAT JSONEachRow
