-- Consultations (征求意见): questions and options, households' answers (one current answer per
-- household, enforced by a partial unique index; replaced answers stay as history), and their
-- items, which carry the village and whether they are current so results are counted from one
-- index. Same version in ../../yongxin-store-postgres/migrations.

CREATE TABLE consultations (
    id INTEGER NOT NULL CONSTRAINT consultations_pkey PRIMARY KEY,
    title TEXT NOT NULL,
    background TEXT NOT NULL,
    notice_id BIGINT CONSTRAINT consultations_notice_fkey REFERENCES notices (id),
    scope TEXT NOT NULL CONSTRAINT consultations_scope_check CHECK (scope IN ('subdistrict', 'villages', 'project')),
    project_id BIGINT CONSTRAINT consultations_project_fkey REFERENCES projects (id),
    opens_at TEXT NOT NULL,
    closes_at TEXT NOT NULL,
    result_notice_id BIGINT CONSTRAINT consultations_result_fkey REFERENCES notices (id),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE consultation_villages (
    consultation_id BIGINT NOT NULL CONSTRAINT consultation_villages_consultation_fkey REFERENCES consultations (id),
    village_id BIGINT NOT NULL CONSTRAINT consultation_villages_village_fkey REFERENCES villages (id),
    CONSTRAINT consultation_villages_pkey PRIMARY KEY (consultation_id, village_id)
);

CREATE TABLE consultation_questions (
    id INTEGER NOT NULL CONSTRAINT consultation_questions_pkey PRIMARY KEY,
    consultation_id BIGINT NOT NULL CONSTRAINT consultation_questions_consultation_fkey REFERENCES consultations (id),
    position BIGINT NOT NULL,
    kind TEXT NOT NULL CONSTRAINT consultation_questions_kind_check CHECK (kind IN ('single', 'multiple', 'ranking', 'text')),
    prompt TEXT NOT NULL,
    max_choices BIGINT,
    required BIGINT NOT NULL
);
CREATE INDEX consultation_questions_consultation_idx ON consultation_questions (consultation_id, position);

CREATE TABLE consultation_options (
    id INTEGER NOT NULL CONSTRAINT consultation_options_pkey PRIMARY KEY,
    question_id BIGINT NOT NULL CONSTRAINT consultation_options_question_fkey REFERENCES consultation_questions (id),
    position BIGINT NOT NULL,
    label TEXT NOT NULL
);
CREATE INDEX consultation_options_question_idx ON consultation_options (question_id, position);

CREATE TABLE consultation_answers (
    id INTEGER NOT NULL CONSTRAINT consultation_answers_pkey PRIMARY KEY,
    consultation_id BIGINT NOT NULL CONSTRAINT consultation_answers_consultation_fkey REFERENCES consultations (id),
    household_id BIGINT NOT NULL CONSTRAINT consultation_answers_household_fkey REFERENCES households (id),
    -- Who answered, as the registry named them then; no reference, since a roster import
    -- replaces members and the answer must outlive that.
    resident_id BIGINT,
    village_id BIGINT NOT NULL CONSTRAINT consultation_answers_village_fkey REFERENCES villages (id),
    age_band TEXT,
    channel TEXT NOT NULL CONSTRAINT consultation_answers_channel_check CHECK (channel IN ('online', 'in_person', 'meeting')),
    recorded_by BIGINT NOT NULL CONSTRAINT consultation_answers_user_fkey REFERENCES users (id),
    answered_at TEXT NOT NULL,
    current BIGINT NOT NULL
);
CREATE UNIQUE INDEX consultation_answers_current_key ON consultation_answers (consultation_id, household_id) WHERE current = 1;
CREATE INDEX consultation_answers_village_idx ON consultation_answers (consultation_id, current, village_id);

CREATE TABLE consultation_answer_items (
    answer_id BIGINT NOT NULL CONSTRAINT consultation_answer_items_answer_fkey REFERENCES consultation_answers (id),
    consultation_id BIGINT NOT NULL,
    question_id BIGINT NOT NULL CONSTRAINT consultation_answer_items_question_fkey REFERENCES consultation_questions (id),
    option_id BIGINT CONSTRAINT consultation_answer_items_option_fkey REFERENCES consultation_options (id),
    rank BIGINT,
    text TEXT,
    village_id BIGINT NOT NULL,
    current BIGINT NOT NULL
);
CREATE INDEX consultation_answer_items_count_idx ON consultation_answer_items (consultation_id, current, question_id, option_id, rank, village_id);
CREATE INDEX consultation_answer_items_answer_idx ON consultation_answer_items (answer_id);
CREATE INDEX consultation_answer_items_text_idx ON consultation_answer_items (consultation_id, current, question_id, answer_id)
    WHERE text IS NOT NULL;
