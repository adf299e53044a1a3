INSERT INTO {db:Identifier}.schema_migrations (version, name, checksum, applied_at)
VALUES ({version:UInt32}, {name:String}, {checksum:String}, now64(3, 'UTC'))
