-- Door-to-door campaigns (入户走访): the campaign and its rules, its target households with their
-- current cadre and their progress (kept beside the visits that decide it, recomputed from them on
-- every visit or correction, so coverage is counted from one index), the history of assignments,
-- the visits (a correction replaces a visit, which stays as history), the appeals raised at the
-- door and the visits' photos. Same version in ../../yongxin-store-postgres/migrations.

CREATE TABLE campaigns (
    id INTEGER NOT NULL CONSTRAINT campaigns_pkey PRIMARY KEY,
    title TEXT NOT NULL,
    kind TEXT NOT NULL CONSTRAINT campaigns_kind_check CHECK (kind IN ('policy', 'registration', 'inspection', 'survey', 'other')),
    description TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    notice_id BIGINT CONSTRAINT campaigns_notice_fkey REFERENCES notices (id),
    project_id BIGINT CONSTRAINT campaigns_project_fkey REFERENCES projects (id),
    -- The visit form: a consultation's questions, its answers recorded in person.
    consultation_id BIGINT CONSTRAINT campaigns_consultation_fkey REFERENCES consultations (id),
    assignment TEXT NOT NULL CONSTRAINT campaigns_assignment_check CHECK (assignment IN ('grid', 'hand')),
    target_kind TEXT NOT NULL,
    escalate_after BIGINT NOT NULL,
    reached_on_refused BIGINT NOT NULL,
    open_to_scope BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE campaign_households (
    campaign_id BIGINT NOT NULL CONSTRAINT campaign_households_campaign_fkey REFERENCES campaigns (id),
    household_id BIGINT NOT NULL CONSTRAINT campaign_households_household_fkey REFERENCES households (id),
    village_id BIGINT NOT NULL,
    grid_id BIGINT NOT NULL,
    cadre_user_id BIGINT CONSTRAINT campaign_households_cadre_fkey REFERENCES users (id),
    attempts BIGINT NOT NULL,
    not_home_days BIGINT NOT NULL,
    last_outcome TEXT,
    last_visit_at TEXT,
    reached_at TEXT,
    -- The Shanghai day of reached_at, which coverage by day groups by.
    reached_on TEXT,
    -- The Shanghai day the household was settled (reached, or found gone), for the burn-down.
    settled_on TEXT,
    met BIGINT NOT NULL,
    refused BIGINT NOT NULL,
    settled BIGINT NOT NULL,
    escalated BIGINT NOT NULL,
    CONSTRAINT campaign_households_pkey PRIMARY KEY (campaign_id, household_id)
);
CREATE INDEX campaign_households_cadre_idx ON campaign_households (campaign_id, cadre_user_id, settled);
-- Coverage is counted from this index alone, without visiting the rows: every column the counts
-- read is in it.
CREATE INDEX campaign_households_coverage_idx ON campaign_households (campaign_id, village_id, grid_id, cadre_user_id, settled, escalated, refused, met, attempts, reached_on);
CREATE INDEX campaign_households_reached_idx ON campaign_households (campaign_id, reached_on, met);

CREATE TABLE campaign_assignments (
    id INTEGER NOT NULL CONSTRAINT campaign_assignments_pkey PRIMARY KEY,
    campaign_id BIGINT NOT NULL CONSTRAINT campaign_assignments_campaign_fkey REFERENCES campaigns (id),
    household_id BIGINT NOT NULL CONSTRAINT campaign_assignments_household_fkey REFERENCES households (id),
    cadre_user_id BIGINT CONSTRAINT campaign_assignments_cadre_fkey REFERENCES users (id),
    -- 'grid', 'hand', 'reassign' or 'escalated'.
    why TEXT NOT NULL,
    by_actor TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX campaign_assignments_household_idx ON campaign_assignments (campaign_id, household_id, id);

CREATE TABLE visits (
    id INTEGER NOT NULL CONSTRAINT visits_pkey PRIMARY KEY,
    campaign_id BIGINT NOT NULL CONSTRAINT visits_campaign_fkey REFERENCES campaigns (id),
    household_id BIGINT NOT NULL CONSTRAINT visits_household_fkey REFERENCES households (id),
    cadre_user_id BIGINT NOT NULL CONSTRAINT visits_cadre_fkey REFERENCES users (id),
    -- The phone's id of the visit: a replay finds the visit stored, never a second one.
    client_id TEXT NOT NULL CONSTRAINT visits_client_id_key UNIQUE,
    fingerprint TEXT NOT NULL,
    visited_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    outcome TEXT NOT NULL CONSTRAINT visits_outcome_check CHECK (outcome IN ('met', 'not_home', 'refused', 'moved', 'no_such_household')),
    members TEXT NOT NULL,
    answers TEXT NOT NULL,
    note TEXT NOT NULL,
    answer_id BIGINT CONSTRAINT visits_answer_fkey REFERENCES consultation_answers (id),
    current BIGINT NOT NULL,
    corrects_id BIGINT CONSTRAINT visits_corrects_fkey REFERENCES visits (id),
    correction_reason TEXT
);
CREATE INDEX visits_household_idx ON visits (campaign_id, household_id, current);
CREATE INDEX visits_campaign_idx ON visits (campaign_id, id);

CREATE TABLE visit_concerns (
    visit_id BIGINT NOT NULL CONSTRAINT visit_concerns_visit_fkey REFERENCES visits (id),
    appeal_id BIGINT NOT NULL CONSTRAINT visit_concerns_appeal_fkey REFERENCES appeals (id),
    CONSTRAINT visit_concerns_pkey PRIMARY KEY (visit_id, appeal_id)
);
CREATE UNIQUE INDEX visit_concerns_appeal_key ON visit_concerns (appeal_id);

CREATE TABLE visit_photos (
    id INTEGER NOT NULL CONSTRAINT visit_photos_pkey PRIMARY KEY,
    visit_id BIGINT NOT NULL CONSTRAINT visit_photos_visit_fkey REFERENCES visits (id),
    token TEXT NOT NULL CONSTRAINT visit_photos_token_key UNIQUE,
    content_type TEXT NOT NULL,
    original BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX visit_photos_visit_idx ON visit_photos (visit_id, id);
