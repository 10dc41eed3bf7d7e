-- Meetings (会议): members drawn from the registry when the meeting is created (a snapshot, so a
-- later registry change does not change who should have attended), attendance, minutes and
-- resolutions with the rule that decided them. Same version in
-- ../../yongxin-store-postgres/migrations.

CREATE TABLE meetings (
    id INTEGER NOT NULL CONSTRAINT meetings_pkey PRIMARY KEY,
    kind TEXT NOT NULL CONSTRAINT meetings_kind_check CHECK (kind IN ('village_committee', 'party_members', 'representatives', 'villagers', 'hearing')),
    village_id BIGINT CONSTRAINT meetings_village_fkey REFERENCES villages (id),
    basis TEXT,
    title TEXT NOT NULL,
    held_at TEXT NOT NULL,
    place TEXT NOT NULL,
    agenda TEXT NOT NULL,
    minutes TEXT,
    code_hash TEXT,
    code_expires_at TEXT,
    minutes_notice_id BIGINT CONSTRAINT meetings_notice_fkey REFERENCES notices (id),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE meeting_members (
    meeting_id BIGINT NOT NULL CONSTRAINT meeting_members_meeting_fkey REFERENCES meetings (id),
    -- As the registry named them then; no reference, as for consultation answers.
    resident_id BIGINT NOT NULL,
    household_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    signed_in_how TEXT,
    signed_in_at TEXT,
    CONSTRAINT meeting_members_pkey PRIMARY KEY (meeting_id, resident_id)
);

CREATE TABLE meeting_resolutions (
    id INTEGER NOT NULL CONSTRAINT meeting_resolutions_pkey PRIMARY KEY,
    meeting_id BIGINT NOT NULL CONSTRAINT meeting_resolutions_meeting_fkey REFERENCES meetings (id),
    text TEXT NOT NULL,
    votes_for BIGINT NOT NULL,
    against BIGINT NOT NULL,
    abstain BIGINT NOT NULL,
    members BIGINT NOT NULL,
    present BIGINT NOT NULL,
    passed BIGINT NOT NULL,
    rule TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX meeting_resolutions_meeting_idx ON meeting_resolutions (meeting_id, id);
