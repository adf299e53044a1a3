-- A column mapping saved by name; a later save of the same name replaces it.
INSERT INTO {db:Identifier}.import_mappings
FORMAT JSONEachRow
