-- The whole database (tables, views and their data, consistent per table part) to a backup on
-- the engine's file system. The embedded engine allows any path; a server needs the path under
-- its `backups.allowed_path`.
BACKUP DATABASE {db:Identifier} TO File({path:String})
