-- The outbox looked up by case: a rating link names the message that carried it and is good only
-- while that message is the case's latest answer notice; the administrators' outbox page filters
-- by case. Same version in the other backend's migrations.

CREATE INDEX outbox_appeal_idx ON outbox (appeal_id, kind, id);
