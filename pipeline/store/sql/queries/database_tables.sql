-- How many tables the store's database holds (0: absent or empty, safe to restore into).
SELECT count() AS n FROM system.tables WHERE database = {database:String}
