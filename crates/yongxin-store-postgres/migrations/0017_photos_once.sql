-- Photos are kept once: the upload, cleaned of location metadata whenever it is served (since
-- 0016 a new photo leaves the cleaned copy's column empty). This empties that column for the
-- photos stored before, which held every photo twice. Nothing is lost: the served image is made
-- from the upload, which stays.
-- Same version in ../../yongxin-store-sqlite/migrations.

UPDATE photos SET bytes = ''::bytea WHERE length(bytes) > 0;
