-- E-mail addresses notifications can go to: a cadre's, set by an admin, and a resident's, given
-- with an appeal, who is then told by e-mail instead of SMS. Without one, residents are told by SMS
-- and cadres through the log. Same version in ../../yongxin-store-postgres/migrations.

ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE appeals ADD COLUMN contact_email TEXT;
