SELECT name, argMax(checksum, applied_at) AS checksum
FROM {db:Identifier}.schema_views
GROUP BY name
ORDER BY name
