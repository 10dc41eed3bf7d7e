-- Selection day keeps a household at the desk until its combination is chosen or it declines the
-- rest (recorded with its reason, printed on the slip); the operator may return a confirmed
-- choice within the selection's return window until the slip is signed. Same version in
-- ../../yongxin-store-sqlite/migrations.

ALTER TABLE selections ADD COLUMN return_seconds BIGINT NOT NULL DEFAULT 120;
ALTER TABLE selection_households ADD COLUMN declined_at TIMESTAMPTZ;
ALTER TABLE selection_households ADD COLUMN decline_reason TEXT;
ALTER TABLE selection_households ADD COLUMN declined_by TEXT;
ALTER TABLE claims ADD COLUMN signed_at TIMESTAMPTZ;
-- 'return': the operator's return within the window; NULL: an administrator's correction.
ALTER TABLE claims ADD COLUMN correction_kind TEXT;
