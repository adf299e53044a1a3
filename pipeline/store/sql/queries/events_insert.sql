-- Collection attempts (see migrations/0004_collection_events.sql); deduplicated by batch token.
INSERT INTO {db:Identifier}.collection_events
SETTINGS insert_deduplicate = 1, insert_deduplication_token = {token:String}
FORMAT JSONEachRow
