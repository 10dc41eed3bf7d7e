-- Red cards counted without reading the cases: how many waiting cases have a deadline recorded
-- as lapsed (by the sweep) and still open, per department, cadre and village (0: none). The
-- desk adds the few whose deadline passed since the last sweep, found through the partial
-- indexes of unlapsed deadlines, so its count equals the overdue figure's at any instant.
-- The database keeps the counts itself (triggers), so every writer of `appeals` moves them: the
-- handling paths, the sweep, bulk loads, imports. A submission (never lapsed) fires nothing.
-- Same version in the other backend's migrations.

CREATE TABLE overdue_counts (
    department TEXT NOT NULL,
    cadre_user_id INTEGER NOT NULL,
    village_id INTEGER NOT NULL,
    cases INTEGER NOT NULL,
    PRIMARY KEY (department, cadre_user_id, village_id)
) WITHOUT ROWID;

INSERT INTO overdue_counts (department, cadre_user_id, village_id, cases)
SELECT COALESCE(department, ''), COALESCE(cadre_user_id, 0), COALESCE(village_id, 0), COUNT(*)
FROM appeals
WHERE status IN ('submitted', 'accepted', 'assigned', 'contacted', 'in_progress')
  AND ((contact_lapsed = 1 AND contacted_at IS NULL) OR (resolution_lapsed = 1 AND answered_at IS NULL))
GROUP BY 1, 2, 3;

CREATE TRIGGER appeals_overdue_added AFTER INSERT ON appeals
WHEN NEW.status IN ('submitted', 'accepted', 'assigned', 'contacted', 'in_progress')
  AND ((NEW.contact_lapsed = 1 AND NEW.contacted_at IS NULL) OR (NEW.resolution_lapsed = 1 AND NEW.answered_at IS NULL))
BEGIN
    INSERT INTO overdue_counts (department, cadre_user_id, village_id, cases)
    VALUES (COALESCE(NEW.department, ''), COALESCE(NEW.cadre_user_id, 0), COALESCE(NEW.village_id, 0), 1)
    ON CONFLICT (department, cadre_user_id, village_id) DO UPDATE SET cases = cases + 1;
END;

-- A case leaves its count when it stops being overdue-as-recorded or moves to another key.
CREATE TRIGGER appeals_overdue_left AFTER UPDATE OF status, department, cadre_user_id, village_id, contacted_at, answered_at, contact_lapsed, resolution_lapsed ON appeals
WHEN OLD.status IN ('submitted', 'accepted', 'assigned', 'contacted', 'in_progress')
  AND ((OLD.contact_lapsed = 1 AND OLD.contacted_at IS NULL) OR (OLD.resolution_lapsed = 1 AND OLD.answered_at IS NULL))
  AND NOT (
    NEW.status IN ('submitted', 'accepted', 'assigned', 'contacted', 'in_progress')
    AND ((NEW.contact_lapsed = 1 AND NEW.contacted_at IS NULL) OR (NEW.resolution_lapsed = 1 AND NEW.answered_at IS NULL))
    AND NEW.department IS OLD.department AND NEW.cadre_user_id IS OLD.cadre_user_id AND NEW.village_id IS OLD.village_id)
BEGIN
    UPDATE overdue_counts SET cases = cases - 1
    WHERE department = COALESCE(OLD.department, '') AND cadre_user_id = COALESCE(OLD.cadre_user_id, 0)
      AND village_id = COALESCE(OLD.village_id, 0);
END;

-- A case enters a count when it becomes overdue-as-recorded or moves to another key.
CREATE TRIGGER appeals_overdue_entered AFTER UPDATE OF status, department, cadre_user_id, village_id, contacted_at, answered_at, contact_lapsed, resolution_lapsed ON appeals
WHEN NEW.status IN ('submitted', 'accepted', 'assigned', 'contacted', 'in_progress')
  AND ((NEW.contact_lapsed = 1 AND NEW.contacted_at IS NULL) OR (NEW.resolution_lapsed = 1 AND NEW.answered_at IS NULL))
  AND NOT (
    OLD.status IN ('submitted', 'accepted', 'assigned', 'contacted', 'in_progress')
    AND ((OLD.contact_lapsed = 1 AND OLD.contacted_at IS NULL) OR (OLD.resolution_lapsed = 1 AND OLD.answered_at IS NULL))
    AND NEW.department IS OLD.department AND NEW.cadre_user_id IS OLD.cadre_user_id AND NEW.village_id IS OLD.village_id)
BEGIN
    INSERT INTO overdue_counts (department, cadre_user_id, village_id, cases)
    VALUES (COALESCE(NEW.department, ''), COALESCE(NEW.cadre_user_id, 0), COALESCE(NEW.village_id, 0), 1)
    ON CONFLICT (department, cadre_user_id, village_id) DO UPDATE SET cases = cases + 1;
END;

CREATE TRIGGER appeals_overdue_removed AFTER DELETE ON appeals
WHEN OLD.status IN ('submitted', 'accepted', 'assigned', 'contacted', 'in_progress')
  AND ((OLD.contact_lapsed = 1 AND OLD.contacted_at IS NULL) OR (OLD.resolution_lapsed = 1 AND OLD.answered_at IS NULL))
BEGIN
    UPDATE overdue_counts SET cases = cases - 1
    WHERE department = COALESCE(OLD.department, '') AND cadre_user_id = COALESCE(OLD.cadre_user_id, 0)
      AND village_id = COALESCE(OLD.village_id, 0);
END;
