-- Foundation: the registry (subdistrict, villages, grids, households, residents), users and
-- sign-in, and the hash-chained audit record. Same version in ../../yongxin-store-postgres/migrations.

CREATE TABLE subdistrict (
    id INTEGER NOT NULL CONSTRAINT subdistrict_pkey PRIMARY KEY CONSTRAINT subdistrict_single CHECK (id = 1),
    name TEXT NOT NULL
);

CREATE TABLE villages (
    id INTEGER NOT NULL CONSTRAINT villages_pkey PRIMARY KEY,
    code TEXT NOT NULL CONSTRAINT villages_code_key UNIQUE,
    name TEXT NOT NULL CONSTRAINT villages_name_key UNIQUE,
    kind TEXT NOT NULL CONSTRAINT villages_kind_check CHECK (kind IN ('village', 'community'))
);

-- SQLite accepts the forward reference to households; PostgreSQL adds that constraint later.
CREATE TABLE users (
    id INTEGER NOT NULL CONSTRAINT users_pkey PRIMARY KEY,
    username TEXT NOT NULL CONSTRAINT users_username_key UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    village_id INTEGER CONSTRAINT users_village_fkey REFERENCES villages (id),
    household_id INTEGER CONSTRAINT users_household_fkey REFERENCES households (id),
    created_at TEXT NOT NULL
);

CREATE TABLE grids (
    id INTEGER NOT NULL CONSTRAINT grids_pkey PRIMARY KEY,
    village_id INTEGER NOT NULL CONSTRAINT grids_village_fkey REFERENCES villages (id),
    code TEXT NOT NULL CONSTRAINT grids_code_key UNIQUE,
    name TEXT NOT NULL,
    cadre_user_id INTEGER CONSTRAINT grids_cadre_fkey REFERENCES users (id),
    cadre_name TEXT NOT NULL,
    cadre_phone TEXT
);
CREATE INDEX grids_village_idx ON grids (village_id);
CREATE INDEX grids_cadre_idx ON grids (cadre_user_id);

CREATE TABLE households (
    id INTEGER NOT NULL CONSTRAINT households_pkey PRIMARY KEY,
    key TEXT NOT NULL CONSTRAINT households_key_key UNIQUE,
    village_id INTEGER NOT NULL CONSTRAINT households_village_fkey REFERENCES villages (id),
    grid_id INTEGER NOT NULL CONSTRAINT households_grid_fkey REFERENCES grids (id),
    address TEXT NOT NULL,
    head_resident_id INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX households_village_idx ON households (village_id, key);
CREATE INDEX households_grid_idx ON households (grid_id, key);

CREATE TABLE residents (
    id INTEGER NOT NULL CONSTRAINT residents_pkey PRIMARY KEY,
    household_id INTEGER NOT NULL CONSTRAINT residents_household_fkey REFERENCES households (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    id_number TEXT NOT NULL CONSTRAINT residents_id_number_key UNIQUE,
    id_last4 TEXT NOT NULL,
    phone TEXT,
    phone_last4 TEXT,
    relation TEXT NOT NULL,
    registered_since TEXT,
    flags TEXT NOT NULL
);
CREATE INDEX residents_household_idx ON residents (household_id, position);
CREATE INDEX residents_name_idx ON residents (name);
CREATE INDEX residents_id_last4_idx ON residents (id_last4);
CREATE INDEX residents_phone_last4_idx ON residents (phone_last4);

CREATE TABLE sessions (
    token_hash TEXT NOT NULL CONSTRAINT sessions_pkey PRIMARY KEY,
    user_id INTEGER NOT NULL CONSTRAINT sessions_user_fkey REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    token_hash TEXT NOT NULL CONSTRAINT api_tokens_pkey PRIMARY KEY,
    user_id INTEGER NOT NULL CONSTRAINT api_tokens_user_fkey REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);

CREATE TABLE sign_in_failures (
    id INTEGER NOT NULL CONSTRAINT sign_in_failures_pkey PRIMARY KEY,
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX sign_in_failures_idx ON sign_in_failures (username, address, at);

CREATE TABLE audit_log (
    seq INTEGER NOT NULL CONSTRAINT audit_log_pkey PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    summary TEXT NOT NULL,
    digest TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

-- The chain's head, kept beside it so that deleting the newest entries is detectable, and locked
-- by every writer so that entries are appended one after another.
CREATE TABLE audit_head (
    id INTEGER NOT NULL CONSTRAINT audit_head_pkey PRIMARY KEY CONSTRAINT audit_head_single CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
