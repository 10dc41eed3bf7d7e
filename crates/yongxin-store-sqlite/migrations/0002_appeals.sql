-- Appeals (诉求): the service catalogue, working-day calendars, cases, their events, and the
-- notification outbox written in the same transaction as the change that causes a message.
-- Same version in ../../yongxin-store-postgres/migrations.

CREATE TABLE categories (
    code TEXT NOT NULL CONSTRAINT categories_pkey PRIMARY KEY,
    position INTEGER NOT NULL,
    definition TEXT NOT NULL,
    active INTEGER NOT NULL
);

CREATE TABLE calendar_years (
    year INTEGER NOT NULL CONSTRAINT calendar_years_pkey PRIMARY KEY,
    source TEXT NOT NULL,
    loaded_at TEXT NOT NULL
);

CREATE TABLE appeals (
    id INTEGER NOT NULL CONSTRAINT appeals_pkey PRIMARY KEY,
    category_code TEXT NOT NULL CONSTRAINT appeals_category_fkey REFERENCES categories (code),
    urgency TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    answers TEXT NOT NULL,
    address TEXT NOT NULL,
    latitude REAL,
    longitude REAL,
    village_id INTEGER CONSTRAINT appeals_village_fkey REFERENCES villages (id),
    grid_id INTEGER CONSTRAINT appeals_grid_fkey REFERENCES grids (id),
    household_id INTEGER CONSTRAINT appeals_household_fkey REFERENCES households (id),
    resident_user_id INTEGER CONSTRAINT appeals_resident_fkey REFERENCES users (id),
    contact_name TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    department TEXT,
    cadre_user_id INTEGER CONSTRAINT appeals_cadre_fkey REFERENCES users (id),
    reopen_count INTEGER NOT NULL,
    merged_into INTEGER CONSTRAINT appeals_merged_fkey REFERENCES appeals (id),
    reply TEXT,
    rating TEXT,
    created_at TEXT NOT NULL,
    contact_due TEXT NOT NULL,
    resolution_due TEXT NOT NULL,
    contacted_at TEXT,
    answered_at TEXT,
    rated_at TEXT,
    closed_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX appeals_status_idx ON appeals (status, id);
CREATE INDEX appeals_category_idx ON appeals (category_code, created_at);
CREATE INDEX appeals_village_idx ON appeals (village_id, created_at);
CREATE INDEX appeals_created_idx ON appeals (created_at);
CREATE INDEX appeals_cadre_idx ON appeals (cadre_user_id, status);
CREATE INDEX appeals_resident_idx ON appeals (resident_user_id);
CREATE INDEX appeals_household_idx ON appeals (household_id);

CREATE TABLE appeal_events (
    id INTEGER NOT NULL CONSTRAINT appeal_events_pkey PRIMARY KEY,
    appeal_id INTEGER NOT NULL CONSTRAINT appeal_events_appeal_fkey REFERENCES appeals (id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    status_from TEXT,
    status_to TEXT NOT NULL,
    text TEXT,
    visible INTEGER NOT NULL
);
CREATE INDEX appeal_events_appeal_idx ON appeal_events (appeal_id, id);

CREATE TABLE outbox (
    id INTEGER NOT NULL CONSTRAINT outbox_pkey PRIMARY KEY,
    appeal_id INTEGER CONSTRAINT outbox_appeal_fkey REFERENCES appeals (id),
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    sent_at TEXT,
    last_error TEXT
);
CREATE INDEX outbox_pending_idx ON outbox (sent_at, next_attempt_at);
