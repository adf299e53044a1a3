-- The latest saved mapping of each name (all names when name is '').
SELECT name, argMax(mapping, created_at) AS mapping
FROM {db:Identifier}.import_mappings
WHERE {name:String} = '' OR name = {name:String}
GROUP BY name
ORDER BY name
