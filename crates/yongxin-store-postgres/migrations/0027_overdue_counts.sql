-- Red cards counted without reading the cases: how many waiting cases have a deadline recorded
-- as lapsed (by the sweep) and still open, per department, cadre and village (0: none). The
-- desk adds the few whose deadline passed since the last sweep, found through the partial
-- indexes of unlapsed deadlines, so its count equals the overdue figure's at any instant.
-- The database keeps the counts itself (triggers), so every writer of `appeals` moves them: the
-- handling paths, the sweep, bulk loads, imports. A submission (never lapsed) fires nothing.
-- Same version in the other backend's migrations.

CREATE TABLE overdue_counts (
    department TEXT NOT NULL,
    cadre_user_id BIGINT NOT NULL,
    village_id BIGINT NOT NULL,
    cases BIGINT NOT NULL,
    PRIMARY KEY (department, cadre_user_id, village_id)
);

INSERT INTO overdue_counts (department, cadre_user_id, village_id, cases)
SELECT COALESCE(department, ''), COALESCE(cadre_user_id, 0), COALESCE(village_id, 0), COUNT(*)
FROM appeals
WHERE status IN ('submitted', 'accepted', 'assigned', 'contacted', 'in_progress')
  AND ((contact_lapsed = 1 AND contacted_at IS NULL) OR (resolution_lapsed = 1 AND answered_at IS NULL))
GROUP BY 1, 2, 3;

-- Whether a case is overdue as recorded: waiting, with a lapsed deadline still open.
CREATE FUNCTION appeal_overdue_recorded(status TEXT, contact_lapsed BIGINT, contacted_at TIMESTAMPTZ,
    resolution_lapsed BIGINT, answered_at TIMESTAMPTZ) RETURNS BOOLEAN
LANGUAGE sql IMMUTABLE AS $$
    SELECT status IN ('submitted', 'accepted', 'assigned', 'contacted', 'in_progress')
        AND ((contact_lapsed = 1 AND contacted_at IS NULL) OR (resolution_lapsed = 1 AND answered_at IS NULL))
$$;

CREATE FUNCTION appeals_move_overdue_count() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    was BOOLEAN := FALSE;
    now_is BOOLEAN := FALSE;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        was := appeal_overdue_recorded(OLD.status, OLD.contact_lapsed, OLD.contacted_at,
            OLD.resolution_lapsed, OLD.answered_at);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        now_is := appeal_overdue_recorded(NEW.status, NEW.contact_lapsed, NEW.contacted_at,
            NEW.resolution_lapsed, NEW.answered_at);
    END IF;
    IF TG_OP = 'UPDATE' AND was AND now_is
        AND NEW.department IS NOT DISTINCT FROM OLD.department
        AND NEW.cadre_user_id IS NOT DISTINCT FROM OLD.cadre_user_id
        AND NEW.village_id IS NOT DISTINCT FROM OLD.village_id THEN
        RETURN NULL;
    END IF;
    IF was THEN
        UPDATE overdue_counts SET cases = cases - 1
        WHERE department = COALESCE(OLD.department, '') AND cadre_user_id = COALESCE(OLD.cadre_user_id, 0)
          AND village_id = COALESCE(OLD.village_id, 0);
    END IF;
    IF now_is THEN
        INSERT INTO overdue_counts (department, cadre_user_id, village_id, cases)
        VALUES (COALESCE(NEW.department, ''), COALESCE(NEW.cadre_user_id, 0), COALESCE(NEW.village_id, 0), 1)
        ON CONFLICT (department, cadre_user_id, village_id) DO UPDATE SET cases = overdue_counts.cases + 1;
    END IF;
    RETURN NULL;
END
$$;

-- The WHEN clauses keep the function from running for the writes that cannot move a count (a
-- submission, a change to a case that is not overdue and does not become so).
CREATE TRIGGER appeals_overdue_added AFTER INSERT ON appeals FOR EACH ROW
WHEN (appeal_overdue_recorded(NEW.status, NEW.contact_lapsed, NEW.contacted_at, NEW.resolution_lapsed, NEW.answered_at))
EXECUTE FUNCTION appeals_move_overdue_count();

CREATE TRIGGER appeals_overdue_moved AFTER UPDATE OF status, department, cadre_user_id, village_id, contacted_at, answered_at, contact_lapsed, resolution_lapsed ON appeals FOR EACH ROW
WHEN (appeal_overdue_recorded(OLD.status, OLD.contact_lapsed, OLD.contacted_at, OLD.resolution_lapsed, OLD.answered_at)
   OR appeal_overdue_recorded(NEW.status, NEW.contact_lapsed, NEW.contacted_at, NEW.resolution_lapsed, NEW.answered_at))
EXECUTE FUNCTION appeals_move_overdue_count();

CREATE TRIGGER appeals_overdue_removed AFTER DELETE ON appeals FOR EACH ROW
WHEN (appeal_overdue_recorded(OLD.status, OLD.contact_lapsed, OLD.contacted_at, OLD.resolution_lapsed, OLD.answered_at))
EXECUTE FUNCTION appeals_move_overdue_count();
