-- The frozen rankings (migrations/0006_rankings.sql), oldest first.
SELECT name, toString(created_at) AS created_at, from_day, to_day, tier, formula_version
FROM {db:Identifier}.rank_freezes FINAL
ORDER BY created_at, name
