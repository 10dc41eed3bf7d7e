-- Scorecards (考核) and weekly reports (周报): visits and supervision notices read by period, and
-- each finished week's report kept as it was first produced, so a past week's report is the same
-- whenever it is asked for. Same version in the other backend's migrations.

CREATE INDEX visits_visited_idx ON visits (visited_at, cadre_user_id);
CREATE INDEX supervision_notices_issued_idx ON supervision_notices (issued_at);
CREATE INDEX notice_informed_at_idx ON notice_informed (at);

CREATE TABLE weekly_reports (
    week TEXT NOT NULL CONSTRAINT weekly_reports_pkey PRIMARY KEY,
    report TEXT NOT NULL,
    kept_at TIMESTAMPTZ NOT NULL
);
