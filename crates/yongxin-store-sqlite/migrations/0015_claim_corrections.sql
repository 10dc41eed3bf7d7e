-- A confirmed claim is final unless an administrator corrects it with a reason: the correction
-- releases its apartments and is kept on the claim. Same version in
-- ../../yongxin-store-postgres/migrations.

ALTER TABLE claims ADD COLUMN corrected_at TEXT;
ALTER TABLE claims ADD COLUMN correction_reason TEXT;
ALTER TABLE claims ADD COLUMN corrected_by TEXT;
