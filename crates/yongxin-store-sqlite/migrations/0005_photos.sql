-- Photos of appeals, notes and replies, kept in the database so every app node serves them:
-- the image without location metadata for everyone who may see the case, and the upload as it
-- came for staff. The token in the photo's address is random, so addresses cannot be guessed.
-- Same version in ../../yongxin-store-postgres/migrations.

CREATE TABLE photos (
    id INTEGER NOT NULL CONSTRAINT photos_pkey PRIMARY KEY,
    appeal_id BIGINT NOT NULL CONSTRAINT photos_appeal_fkey REFERENCES appeals (id),
    event_id BIGINT CONSTRAINT photos_event_fkey REFERENCES appeal_events (id),
    token TEXT NOT NULL CONSTRAINT photos_token_key UNIQUE,
    content_type TEXT NOT NULL,
    bytes BLOB NOT NULL,
    original BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX photos_appeal_idx ON photos (appeal_id, id);
