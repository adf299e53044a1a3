-- A backup made by backup_database.sql into a store that does not hold the database yet.
RESTORE DATABASE {db:Identifier} FROM File({path:String})
