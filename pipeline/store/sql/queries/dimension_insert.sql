-- New versions of regions, units or accounts (see migrations/0001_dimensions.sql).
INSERT INTO {db:Identifier}.{table:Identifier}
SETTINGS insert_deduplicate = 1, insert_deduplication_token = {token:String}
FORMAT JSONEachRow
