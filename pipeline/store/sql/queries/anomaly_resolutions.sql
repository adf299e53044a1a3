-- The findings reviewers have resolved (the latest decision per finding).
SELECT account_id, day, toString(kind) AS kind
FROM {db:Identifier}.anomaly_resolutions FINAL
