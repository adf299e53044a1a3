-- A frozen ranking and the inputs and findings it was computed from, as JSON.
SELECT ranking_json, data_json
FROM {db:Identifier}.rank_freezes FINAL
WHERE name = {name:String}
