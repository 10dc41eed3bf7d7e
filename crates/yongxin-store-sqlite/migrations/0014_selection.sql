-- Selection (选房): selections (on selection day or online, with a window and waves), the
-- households each may serve (a snapshot of lottery order and limit when it was set up), claims,
-- the owner of each apartment (set once, by a conditional update in the claim's transaction, so an
-- apartment is never sold twice even with several app nodes), the board's event log (sequence
-- numbers taken from the project row at the end of the claim, so they follow commit order), and
-- agreements. Same version in ../../yongxin-store-postgres/migrations.

ALTER TABLE projects ADD COLUMN board_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE project_units ADD COLUMN owner_household_id BIGINT CONSTRAINT project_units_owner_fkey REFERENCES households (id);
ALTER TABLE project_units ADD COLUMN claim_id BIGINT;
ALTER TABLE project_units ADD COLUMN sold_at TEXT;
CREATE INDEX project_units_owner_idx ON project_units (project_id, owner_household_id);

CREATE TABLE lottery_orders (
    project_id BIGINT NOT NULL CONSTRAINT lottery_orders_project_fkey REFERENCES projects (id),
    household_id BIGINT NOT NULL CONSTRAINT lottery_orders_household_fkey REFERENCES households (id),
    lottery_order BIGINT NOT NULL,
    CONSTRAINT lottery_orders_pkey PRIMARY KEY (project_id, household_id)
);

CREATE TABLE selections (
    id INTEGER NOT NULL CONSTRAINT selections_pkey PRIMARY KEY,
    project_id BIGINT NOT NULL CONSTRAINT selections_project_fkey REFERENCES projects (id),
    mode TEXT NOT NULL CONSTRAINT selections_mode_check CHECK (mode IN ('onsite', 'online')),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    waves TEXT NOT NULL,
    time_limit_seconds BIGINT NOT NULL,
    queue TEXT,
    -- The size of its list, fixed with it.
    households BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE selection_households (
    selection_id BIGINT NOT NULL CONSTRAINT selection_households_selection_fkey REFERENCES selections (id),
    household_id BIGINT NOT NULL CONSTRAINT selection_households_household_fkey REFERENCES households (id),
    lottery_order BIGINT NOT NULL,
    -- NULL: no limit (beyond the bands at the market price).
    limit_area BIGINT,
    CONSTRAINT selection_households_pkey PRIMARY KEY (selection_id, household_id)
);

CREATE TABLE claims (
    id INTEGER NOT NULL CONSTRAINT claims_pkey PRIMARY KEY,
    selection_id BIGINT NOT NULL CONSTRAINT claims_selection_fkey REFERENCES selections (id),
    household_id BIGINT NOT NULL CONSTRAINT claims_household_fkey REFERENCES households (id),
    units TEXT NOT NULL,
    total_area BIGINT NOT NULL,
    by_user_id BIGINT NOT NULL CONSTRAINT claims_user_fkey REFERENCES users (id),
    by_name TEXT NOT NULL,
    on_behalf BIGINT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX claims_household_idx ON claims (household_id, id);

CREATE TABLE board_events (
    project_id BIGINT NOT NULL CONSTRAINT board_events_project_fkey REFERENCES projects (id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    at TEXT NOT NULL,
    CONSTRAINT board_events_pkey PRIMARY KEY (project_id, seq)
);

CREATE TABLE agreements (
    project_id BIGINT NOT NULL CONSTRAINT agreements_project_fkey REFERENCES projects (id),
    household_id BIGINT NOT NULL CONSTRAINT agreements_household_fkey REFERENCES households (id),
    signed_on TEXT,
    moved_out_on TEXT,
    keys_on TEXT,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT agreements_pkey PRIMARY KEY (project_id, household_id)
);
