-- The registry as it stood at the end of the day asked about (`day_end`, which the query
-- defines): each account's, unit's and region's latest version before then. Spliced into the
-- queries that name it (store::sql::FRAGMENTS): one text, without the planning cost of a
-- parameterized view read inside another (about 50 ms, BENCHMARKS.md).
    acc AS (
        SELECT account_id,
               argMax(unit_id, valid_from) AS unit_id,
               argMax(platform, valid_from) AS platform,
               argMax(platform_id, valid_from) AS platform_id,
               argMax(display_name, valid_from) AS display_name,
               argMax(role, valid_from) AS role,
               argMax(standardised, valid_from) AS standardised,
               argMax(naming_ok, valid_from) AS naming_ok,
               argMax(active, valid_from) AS active,
               argMax(deleted, valid_from) AS deleted
        FROM {db:Identifier}.accounts
        WHERE valid_from < day_end
        GROUP BY account_id
    ),
    un AS (
        SELECT unit_id,
               argMax(kind, valid_from) AS kind,
               argMax(tier, valid_from) AS tier,
               argMax(name, valid_from) AS unit_name,
               argMax(prefecture_code, valid_from) AS prefecture_code,
               argMax(county_code, valid_from) AS county_code,
               argMax(department, valid_from) AS department,
               argMax(target, valid_from) AS target,
               argMax(target_basis, valid_from) AS target_basis,
               argMax(target_verified, valid_from) AS target_verified,
               argMax(deleted, valid_from) AS unit_deleted
        FROM {db:Identifier}.units
        WHERE valid_from < day_end
        GROUP BY unit_id
    ),
    reg AS (
        SELECT code, argMax(name, valid_from) AS region_name
        FROM {db:Identifier}.regions
        WHERE valid_from < day_end
        GROUP BY code
    )
