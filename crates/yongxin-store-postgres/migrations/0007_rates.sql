-- The three rates (三率), kept rather than recomputed: per group (village, grid, category,
-- department, cadre), per Shanghai calendar day of filing, the counts that do not move with the
-- clock, changed in the same transaction as the case. What the clock adds (open cases past a
-- deadline) is counted when the rates are read, from the open cases only, through the partial index.
-- Same version in ../../yongxin-store-sqlite/migrations.

CREATE TABLE appeal_rates (
    dim TEXT NOT NULL,
    key TEXT NOT NULL,
    day DATE NOT NULL,
    total BIGINT NOT NULL,
    contacted BIGINT NOT NULL,
    contacted_on_time BIGINT NOT NULL,
    answered BIGINT NOT NULL,
    answered_on_time BIGINT NOT NULL,
    rated BIGINT NOT NULL,
    satisfied BIGINT NOT NULL,
    CONSTRAINT appeal_rates_pkey PRIMARY KEY (dim, key, day)
);

CREATE INDEX appeals_open_idx ON appeals (created_at) WHERE answered_at IS NULL AND status NOT IN ('declined', 'merged');

-- Cases filed before this version.
INSERT INTO appeal_rates (dim, key, day, total, contacted, contacted_on_time, answered, answered_on_time, rated, satisfied)
SELECT 'village', COALESCE(CAST(village_id AS TEXT), ''), CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE), COUNT(*),
    SUM(CASE WHEN contacted_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN contacted_at IS NOT NULL AND contacted_at <= contact_due THEN 1 ELSE 0 END),
    SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN answered_at IS NOT NULL AND answered_at <= resolution_due THEN 1 ELSE 0 END),
    SUM(CASE WHEN rating IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN rating IN ('satisfied', 'basically_satisfied') THEN 1 ELSE 0 END)
FROM appeals GROUP BY COALESCE(CAST(village_id AS TEXT), ''), CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE);

INSERT INTO appeal_rates (dim, key, day, total, contacted, contacted_on_time, answered, answered_on_time, rated, satisfied)
SELECT 'grid', COALESCE(CAST(grid_id AS TEXT), ''), CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE), COUNT(*),
    SUM(CASE WHEN contacted_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN contacted_at IS NOT NULL AND contacted_at <= contact_due THEN 1 ELSE 0 END),
    SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN answered_at IS NOT NULL AND answered_at <= resolution_due THEN 1 ELSE 0 END),
    SUM(CASE WHEN rating IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN rating IN ('satisfied', 'basically_satisfied') THEN 1 ELSE 0 END)
FROM appeals GROUP BY COALESCE(CAST(grid_id AS TEXT), ''), CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE);

INSERT INTO appeal_rates (dim, key, day, total, contacted, contacted_on_time, answered, answered_on_time, rated, satisfied)
SELECT 'category', category_code, CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE), COUNT(*),
    SUM(CASE WHEN contacted_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN contacted_at IS NOT NULL AND contacted_at <= contact_due THEN 1 ELSE 0 END),
    SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN answered_at IS NOT NULL AND answered_at <= resolution_due THEN 1 ELSE 0 END),
    SUM(CASE WHEN rating IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN rating IN ('satisfied', 'basically_satisfied') THEN 1 ELSE 0 END)
FROM appeals GROUP BY category_code, CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE);

INSERT INTO appeal_rates (dim, key, day, total, contacted, contacted_on_time, answered, answered_on_time, rated, satisfied)
SELECT 'department', COALESCE(department, ''), CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE), COUNT(*),
    SUM(CASE WHEN contacted_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN contacted_at IS NOT NULL AND contacted_at <= contact_due THEN 1 ELSE 0 END),
    SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN answered_at IS NOT NULL AND answered_at <= resolution_due THEN 1 ELSE 0 END),
    SUM(CASE WHEN rating IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN rating IN ('satisfied', 'basically_satisfied') THEN 1 ELSE 0 END)
FROM appeals GROUP BY COALESCE(department, ''), CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE);

INSERT INTO appeal_rates (dim, key, day, total, contacted, contacted_on_time, answered, answered_on_time, rated, satisfied)
SELECT 'cadre', COALESCE(CAST(cadre_user_id AS TEXT), ''), CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE), COUNT(*),
    SUM(CASE WHEN contacted_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN contacted_at IS NOT NULL AND contacted_at <= contact_due THEN 1 ELSE 0 END),
    SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN answered_at IS NOT NULL AND answered_at <= resolution_due THEN 1 ELSE 0 END),
    SUM(CASE WHEN rating IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN rating IN ('satisfied', 'basically_satisfied') THEN 1 ELSE 0 END)
FROM appeals GROUP BY COALESCE(CAST(cadre_user_id AS TEXT), ''), CAST(created_at AT TIME ZONE 'Asia/Shanghai' AS DATE);
