-- One row per imported file; the same file recorded twice folds into one (ReplacingMergeTree).
INSERT INTO {db:Identifier}.imports
FORMAT JSONEachRow
