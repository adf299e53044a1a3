-- Whether a name is taken: a frozen ranking is written once.
SELECT count() AS n
FROM {db:Identifier}.rank_freezes
WHERE name = {name:String}
