-- Notices (公告, 公示): projects they may address, every version of their text, attached files,
-- the households informed (read by a member signed in, or confirmed by a cadre), and the link from
-- an objection's appeal to the 公示 it objects to. Same version in
-- ../../yongxin-store-postgres/migrations.

CREATE TABLE projects (
    id INTEGER NOT NULL CONSTRAINT projects_pkey PRIMARY KEY,
    code TEXT NOT NULL CONSTRAINT projects_code_key UNIQUE,
    name TEXT NOT NULL CONSTRAINT projects_name_key UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE project_villages (
    project_id BIGINT NOT NULL CONSTRAINT project_villages_project_fkey REFERENCES projects (id),
    village_id BIGINT NOT NULL CONSTRAINT project_villages_village_fkey REFERENCES villages (id),
    CONSTRAINT project_villages_pkey PRIMARY KEY (project_id, village_id)
);

CREATE TABLE notices (
    id INTEGER NOT NULL CONSTRAINT notices_pkey PRIMARY KEY,
    kind TEXT NOT NULL CONSTRAINT notices_kind_check CHECK (kind IN ('policy', 'progress', 'publication')),
    scope TEXT NOT NULL CONSTRAINT notices_scope_check CHECK (scope IN ('subdistrict', 'villages', 'project')),
    project_id BIGINT CONSTRAINT notices_project_fkey REFERENCES projects (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    publish_at TEXT NOT NULL,
    end_at TEXT,
    objections_until TEXT,
    version BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX notices_publish_idx ON notices (publish_at, id);

CREATE TABLE notice_villages (
    notice_id BIGINT NOT NULL CONSTRAINT notice_villages_notice_fkey REFERENCES notices (id),
    village_id BIGINT NOT NULL CONSTRAINT notice_villages_village_fkey REFERENCES villages (id),
    CONSTRAINT notice_villages_pkey PRIMARY KEY (notice_id, village_id)
);
CREATE INDEX notice_villages_village_idx ON notice_villages (village_id, notice_id);

CREATE TABLE notice_versions (
    notice_id BIGINT NOT NULL CONSTRAINT notice_versions_notice_fkey REFERENCES notices (id),
    version BIGINT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    author TEXT NOT NULL,
    at TEXT NOT NULL,
    reason TEXT,
    CONSTRAINT notice_versions_pkey PRIMARY KEY (notice_id, version)
);

CREATE TABLE notice_attachments (
    id INTEGER NOT NULL CONSTRAINT notice_attachments_pkey PRIMARY KEY,
    notice_id BIGINT NOT NULL CONSTRAINT notice_attachments_notice_fkey REFERENCES notices (id),
    token TEXT NOT NULL CONSTRAINT notice_attachments_token_key UNIQUE,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    bytes BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX notice_attachments_notice_idx ON notice_attachments (notice_id, id);

CREATE TABLE notice_informed (
    notice_id BIGINT NOT NULL CONSTRAINT notice_informed_notice_fkey REFERENCES notices (id),
    household_id BIGINT NOT NULL CONSTRAINT notice_informed_household_fkey REFERENCES households (id),
    how TEXT NOT NULL CONSTRAINT notice_informed_how_check CHECK (how IN ('read', 'confirmed')),
    by_user_id BIGINT NOT NULL CONSTRAINT notice_informed_user_fkey REFERENCES users (id),
    at TEXT NOT NULL,
    CONSTRAINT notice_informed_pkey PRIMARY KEY (notice_id, household_id)
);

ALTER TABLE appeals ADD COLUMN notice_id BIGINT CONSTRAINT appeals_notice_fkey REFERENCES notices (id);
CREATE INDEX appeals_notice_idx ON appeals (notice_id, id) WHERE notice_id IS NOT NULL;
