-- Resettlement (拆迁安置): a project's phase and its changes, policy versions (the TOML as
-- written, never edited), the apartment catalogue, assessments and every computed result (inputs
-- and policy version kept with it; old results stay as history), registrations (选房登记), and
-- the lottery: the frozen list, and every draw with its proof. Money and areas are integers in
-- hundredths (fen; 0.01 m²). Same version in ../../yongxin-store-postgres/migrations.

ALTER TABLE projects ADD COLUMN phase TEXT NOT NULL DEFAULT 'preparation';
ALTER TABLE projects ADD COLUMN results_notice_id BIGINT CONSTRAINT projects_results_notice_fkey REFERENCES notices (id);

CREATE TABLE project_phase_changes (
    id INTEGER NOT NULL CONSTRAINT project_phase_changes_pkey PRIMARY KEY,
    project_id BIGINT NOT NULL CONSTRAINT project_phase_changes_project_fkey REFERENCES projects (id),
    from_phase TEXT NOT NULL,
    to_phase TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE INDEX project_phase_changes_project_idx ON project_phase_changes (project_id, id);

CREATE TABLE policy_versions (
    id INTEGER NOT NULL CONSTRAINT policy_versions_pkey PRIMARY KEY,
    project_id BIGINT NOT NULL CONSTRAINT policy_versions_project_fkey REFERENCES projects (id),
    version BIGINT NOT NULL,
    title TEXT NOT NULL,
    effective_on TEXT NOT NULL,
    source TEXT NOT NULL,
    notice_id BIGINT CONSTRAINT policy_versions_notice_fkey REFERENCES notices (id),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT policy_versions_version_key UNIQUE (project_id, version)
);

CREATE TABLE project_units (
    id INTEGER NOT NULL CONSTRAINT project_units_pkey PRIMARY KEY,
    project_id BIGINT NOT NULL CONSTRAINT project_units_project_fkey REFERENCES projects (id),
    building TEXT NOT NULL,
    building_name TEXT NOT NULL,
    number TEXT NOT NULL,
    floor BIGINT NOT NULL,
    layout TEXT NOT NULL,
    area BIGINT NOT NULL,
    CONSTRAINT project_units_number_key UNIQUE (project_id, building, number)
);

CREATE TABLE assessments (
    id INTEGER NOT NULL CONSTRAINT assessments_pkey PRIMARY KEY,
    project_id BIGINT NOT NULL CONSTRAINT assessments_project_fkey REFERENCES projects (id),
    household_id BIGINT NOT NULL CONSTRAINT assessments_household_fkey REFERENCES households (id),
    inputs TEXT NOT NULL,
    reason TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX assessments_household_idx ON assessments (project_id, household_id, id);

-- The current result of a household is the one with current = 1 (one per household: the
-- partial unique index); a new result clears the flag of the one before.
CREATE TABLE entitlement_results (
    id INTEGER NOT NULL CONSTRAINT entitlement_results_pkey PRIMARY KEY,
    project_id BIGINT NOT NULL CONSTRAINT entitlement_results_project_fkey REFERENCES projects (id),
    household_id BIGINT NOT NULL CONSTRAINT entitlement_results_household_fkey REFERENCES households (id),
    policy_version BIGINT NOT NULL,
    assessment_id BIGINT NOT NULL CONSTRAINT entitlement_results_assessment_fkey REFERENCES assessments (id),
    chosen TEXT NOT NULL,
    signed_on TEXT,
    result TEXT NOT NULL,
    eligible_persons BIGINT NOT NULL,
    entitled_area BIGINT NOT NULL,
    compensation BIGINT NOT NULL,
    net BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    current BIGINT NOT NULL
);
CREATE UNIQUE INDEX entitlement_results_current_idx ON entitlement_results (project_id, household_id) WHERE current = 1;
CREATE INDEX entitlement_results_household_idx ON entitlement_results (project_id, household_id, id);

CREATE TABLE registrations (
    project_id BIGINT NOT NULL CONSTRAINT registrations_project_fkey REFERENCES projects (id),
    household_id BIGINT NOT NULL CONSTRAINT registrations_household_fkey REFERENCES households (id),
    layouts TEXT NOT NULL,
    total_area BIGINT NOT NULL,
    in_person BIGINT NOT NULL,
    by_user_id BIGINT NOT NULL CONSTRAINT registrations_user_fkey REFERENCES users (id),
    by_name TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    registered_on TEXT NOT NULL,
    CONSTRAINT registrations_pkey PRIMARY KEY (project_id, household_id)
);

CREATE TABLE lotteries (
    project_id BIGINT NOT NULL CONSTRAINT lotteries_pkey PRIMARY KEY CONSTRAINT lotteries_project_fkey REFERENCES projects (id),
    list TEXT NOT NULL,
    list_sha256 TEXT NOT NULL,
    seed_rule TEXT NOT NULL,
    notice_id BIGINT CONSTRAINT lotteries_notice_fkey REFERENCES notices (id),
    frozen_by TEXT NOT NULL,
    frozen_at TEXT NOT NULL
);

CREATE TABLE lottery_draws (
    id INTEGER NOT NULL CONSTRAINT lottery_draws_pkey PRIMARY KEY,
    project_id BIGINT NOT NULL CONSTRAINT lottery_draws_project_fkey REFERENCES lotteries (project_id),
    seed TEXT NOT NULL,
    proof TEXT NOT NULL,
    reason TEXT,
    drawn_by TEXT NOT NULL,
    drawn_at TEXT NOT NULL
);
CREATE INDEX lottery_draws_project_idx ON lottery_draws (project_id, id);
