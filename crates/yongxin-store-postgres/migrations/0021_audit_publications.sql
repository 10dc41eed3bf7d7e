-- The record's head published each week as a notice (操作记录校验公告), once per ISO week: the
-- week is the key, so two nodes publishing at once leave one notice. Same version in
-- ../../yongxin-store-sqlite/migrations.

CREATE TABLE audit_publications (
    week TEXT NOT NULL CONSTRAINT audit_publications_pkey PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    notice_id BIGINT NOT NULL CONSTRAINT audit_publications_notice_fkey REFERENCES notices (id),
    published_at TIMESTAMPTZ NOT NULL
);
