-- One-time codes (激活码, 重置码) an administrator issues for an account: the person sets their own
-- password with it at /activate, once, before it expires. Only the code's hash is kept, one live
-- code per account. Same version in the other backend's migrations.

CREATE TABLE account_codes (
    user_id BIGINT NOT NULL CONSTRAINT account_codes_pkey PRIMARY KEY CONSTRAINT account_codes_user_fkey REFERENCES users (id),
    code_hash TEXT NOT NULL,
    purpose TEXT NOT NULL CONSTRAINT account_codes_purpose_check CHECK (purpose IN ('activation', 'reset')),
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
