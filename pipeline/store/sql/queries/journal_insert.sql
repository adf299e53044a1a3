-- One journal row per batch and state (see migrations/0012_batch_journal.sql).
INSERT INTO {db:Identifier}.batch_journal
FORMAT JSONEachRow
