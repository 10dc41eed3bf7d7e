-- Open311 GeoReport v2 clients: one API key each, kept only as its SHA-256.
-- Same version in ../../yongxin-store-postgres/migrations.

CREATE TABLE open311_keys (
    id INTEGER NOT NULL CONSTRAINT open311_keys_pkey PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL CONSTRAINT open311_keys_hash_key UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
