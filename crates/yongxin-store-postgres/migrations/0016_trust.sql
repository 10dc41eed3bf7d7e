-- Trust hardening. API tokens expire (existing ones 90 days after they were issued) and can be
-- revoked; accounts can be disabled; a secret of the installation, made here once, keys the
-- tracking codes of cases (so a code cannot be derived from a case number); a lottery keeps the
-- commitment to how its seed will be produced. Same version in
-- ../../yongxin-store-sqlite/migrations.

ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_tokens ADD COLUMN revoked_at TIMESTAMPTZ;
UPDATE api_tokens SET expires_at = created_at + INTERVAL '90 days';
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

ALTER TABLE users ADD COLUMN disabled_at TIMESTAMPTZ;

CREATE TABLE server_secrets (
    name TEXT NOT NULL CONSTRAINT server_secrets_pkey PRIMARY KEY,
    value TEXT NOT NULL
);
-- gen_random_uuid() draws from the operating system's strong random source (PostgreSQL 13+).
INSERT INTO server_secrets (name, value)
VALUES ('tracking', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));

ALTER TABLE lotteries ADD COLUMN seed_commitment TEXT;
