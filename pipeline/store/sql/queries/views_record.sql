INSERT INTO {db:Identifier}.schema_views (name, checksum, applied_at)
VALUES ({name:String}, {checksum:String}, now64(3, 'UTC'))
