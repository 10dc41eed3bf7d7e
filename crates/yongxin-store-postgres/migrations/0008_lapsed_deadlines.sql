-- A deadline that passes while a case waits is recorded on the case (contact_lapsed,
-- resolution_lapsed) by a sweep every node runs, and counted in the three rates' counters from
-- then on; reading the rates then looks only at the few cases whose deadline passed since the
-- last sweep, through the two partial indexes, instead of at every open case of the period.
-- The counters of contact and answers due are the former counts of contacts and answers: with no
-- deadline recorded as lapsed yet, they are the same numbers.
-- Same version in ../../yongxin-store-sqlite/migrations.

ALTER TABLE appeals ADD COLUMN contact_lapsed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE appeals ADD COLUMN resolution_lapsed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE appeal_rates RENAME COLUMN contacted TO contact_due;
ALTER TABLE appeal_rates RENAME COLUMN answered TO resolution_due;
DROP INDEX appeals_open_idx;
CREATE INDEX appeals_contact_unlapsed_idx ON appeals (contact_due)
    WHERE contact_lapsed = 0 AND contacted_at IS NULL AND status NOT IN ('declined', 'merged');
CREATE INDEX appeals_resolution_unlapsed_idx ON appeals (resolution_due)
    WHERE resolution_lapsed = 0 AND answered_at IS NULL AND status NOT IN ('declined', 'merged');
