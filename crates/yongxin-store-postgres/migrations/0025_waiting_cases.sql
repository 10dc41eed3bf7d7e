-- The cases still waiting on their handlers, counted without reading the table: the desk's red and
-- yellow cards by department and cadre, the scorecards' overdue cases by any grouping and the
-- weekly report's overdue list all filter on the waiting statuses and the deadlines, and group by
-- department, cadre, village or grid. At a million cases most are closed; this index holds what
-- those counts need. Same version in the other backend's migrations.

CREATE INDEX appeals_waiting_idx ON appeals (status, department, cadre_user_id, village_id, grid_id, contact_due, contacted_at, resolution_due, answered_at, created_at);
