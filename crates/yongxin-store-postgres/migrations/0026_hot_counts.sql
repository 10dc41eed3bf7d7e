-- Hot issues counted by filing time, category and village without reading the table (the desk and
-- the weekly report count two weeks of cases, forty thousand at a million a year). Same version in
-- the other backend's migrations.

CREATE INDEX appeals_filed_idx ON appeals (created_at, category_code, village_id);
