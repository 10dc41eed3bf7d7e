-- Trust hardening. API tokens expire (existing ones 90 days after they were issued) and can be
-- revoked; accounts can be disabled; a secret of the installation, made here once, keys the
-- tracking codes of cases (so a code cannot be derived from a case number); a lottery keeps the
-- commitment to how its seed will be produced. Same version in
-- ../../yongxin-store-postgres/migrations.

ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE api_tokens ADD COLUMN revoked_at TEXT;
UPDATE api_tokens SET expires_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', created_at, '+90 days');
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

ALTER TABLE users ADD COLUMN disabled_at TEXT;

CREATE TABLE server_secrets (
    name TEXT NOT NULL CONSTRAINT server_secrets_pkey PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO server_secrets (name, value) VALUES ('tracking', lower(hex(randomblob(32))));

ALTER TABLE lotteries ADD COLUMN seed_commitment TEXT;
