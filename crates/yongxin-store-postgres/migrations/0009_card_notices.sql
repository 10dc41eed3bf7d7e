-- Yellow and red cards (黄牌, 红牌) announced to the handling cadre: one notice per case, deadline
-- (contact or resolution) and card, recorded with the outbox message that carries it, so a card is
-- announced once however many nodes look. The partial indexes find the waiting cases of a cadre by
-- deadline. Same version in ../../yongxin-store-sqlite/migrations.

CREATE TABLE card_notices (
    appeal_id BIGINT NOT NULL CONSTRAINT card_notices_appeal_fkey REFERENCES appeals (id),
    deadline TEXT NOT NULL,
    card TEXT NOT NULL,
    noticed_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT card_notices_pkey PRIMARY KEY (appeal_id, deadline, card)
);

CREATE INDEX appeals_uncontacted_due_idx ON appeals (contact_due)
    WHERE contacted_at IS NULL AND cadre_user_id IS NOT NULL;
CREATE INDEX appeals_unanswered_due_idx ON appeals (resolution_due)
    WHERE answered_at IS NULL AND cadre_user_id IS NOT NULL;
