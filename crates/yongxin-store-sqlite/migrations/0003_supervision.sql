-- 督办单: supervision notices a leader issues on a case, tracked to their answer.
-- Same version in ../../yongxin-store-postgres/migrations.

CREATE TABLE supervision_notices (
    id INTEGER NOT NULL CONSTRAINT supervision_notices_pkey PRIMARY KEY,
    appeal_id INTEGER NOT NULL CONSTRAINT supervision_notices_appeal_fkey REFERENCES appeals (id),
    issued_by TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    text TEXT NOT NULL,
    answered_by TEXT,
    answered_at TEXT,
    answer TEXT
);
CREATE INDEX supervision_notices_appeal_idx ON supervision_notices (appeal_id, id);
CREATE INDEX supervision_notices_open_idx ON supervision_notices (answered_at, due_at);
