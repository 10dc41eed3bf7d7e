-- Rating coverage (回访覆盖率): the cases answered at least once (answered now, or rated), kept
-- beside the rated ones in the three rates' counters, so the share of answers that were rated
-- shows next to the satisfaction rate: an answer that closed unrated counts as not rated, never as
-- satisfied. Same version in ../../yongxin-store-sqlite/migrations.

ALTER TABLE appeal_rates ADD COLUMN answered BIGINT NOT NULL DEFAULT 0;

-- Cases filed before this version.
UPDATE appeal_rates SET answered = n.answered FROM (
    SELECT 'village' AS dim, COALESCE(CAST(village_id AS TEXT), '') AS key, CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE) AS day, COUNT(*) AS answered
    FROM appeals WHERE answered_at IS NOT NULL OR rating IS NOT NULL GROUP BY COALESCE(CAST(village_id AS TEXT), ''), CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE)
    UNION ALL
    SELECT 'grid' AS dim, COALESCE(CAST(grid_id AS TEXT), '') AS key, CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE) AS day, COUNT(*) AS answered
    FROM appeals WHERE answered_at IS NOT NULL OR rating IS NOT NULL GROUP BY COALESCE(CAST(grid_id AS TEXT), ''), CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE)
    UNION ALL
    SELECT 'category' AS dim, category_code AS key, CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE) AS day, COUNT(*) AS answered
    FROM appeals WHERE answered_at IS NOT NULL OR rating IS NOT NULL GROUP BY category_code, CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE)
    UNION ALL
    SELECT 'department' AS dim, COALESCE(department, '') AS key, CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE) AS day, COUNT(*) AS answered
    FROM appeals WHERE answered_at IS NOT NULL OR rating IS NOT NULL GROUP BY COALESCE(department, ''), CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE)
    UNION ALL
    SELECT 'cadre' AS dim, COALESCE(CAST(cadre_user_id AS TEXT), '') AS key, CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE) AS day, COUNT(*) AS answered
    FROM appeals WHERE answered_at IS NOT NULL OR rating IS NOT NULL GROUP BY COALESCE(CAST(cadre_user_id AS TEXT), ''), CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE)
) AS n WHERE appeal_rates.dim = n.dim AND appeal_rates.key = n.key AND appeal_rates.day = n.day;
