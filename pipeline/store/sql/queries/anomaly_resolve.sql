-- A reviewer's decision that a finding is explained.
INSERT INTO {db:Identifier}.anomaly_resolutions
FORMAT JSONEachRow
