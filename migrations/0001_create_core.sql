-- +goose Up
CREATE TABLE programs (
    id                 bigserial PRIMARY KEY,
    name               text   NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    year               int    NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    proposal_opens_on  date   NOT NULL,
    proposal_closes_on date   NOT NULL,
    activity_ends_on   date   NOT NULL,
    report_due_on      date   NOT NULL,
    budget_total       bigint NOT NULL CHECK (budget_total > 0),
    at_risk_after_days int    NOT NULL CHECK (at_risk_after_days > 0),
    dormant_after_days int    NOT NULL CHECK (dormant_after_days > at_risk_after_days),
    -- ceilings, activity_rules, tranche_percents, categories, tax_rates: read whole, never queried apart
    settings           jsonb  NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (proposal_opens_on <= proposal_closes_on),
    CHECK (proposal_closes_on <= activity_ends_on),
    CHECK (activity_ends_on <= report_due_on)
);

CREATE TABLE groups (
    id                  bigserial PRIMARY KEY,
    kind                text NOT NULL CHECK (kind IN ('KKG', 'MGMP', 'MGBK', 'KKM', 'POKJAWAS')),
    name                text NOT NULL,
    subject             text NOT NULL DEFAULT '',
    level               text NOT NULL,
    province            text NOT NULL,
    regency             text NOT NULL,
    sk_number           text NOT NULL,
    bank_name           text NOT NULL,
    bank_account_number text NOT NULL,
    bank_account_name   text NOT NULL,
    npwp                text NOT NULL DEFAULT '',
    remote              boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX groups_region ON groups (province, regency);

CREATE TABLE members (
    id           bigserial PRIMARY KEY,
    group_id     bigint NOT NULL REFERENCES groups (id),
    seq          int    NOT NULL,
    name         text   NOT NULL,
    simpatika_id text   NOT NULL DEFAULT '',
    nip          text   NOT NULL DEFAULT '',
    madrasah     text   NOT NULL,
    position     text   NOT NULL CHECK (position IN ('ketua', 'sekretaris', 'bendahara', 'anggota')),
    UNIQUE (group_id, seq)
);

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    email         text   NOT NULL,
    name          text   NOT NULL,
    password_hash text   NOT NULL,
    roles         text[] NOT NULL CHECK (cardinality(roles) > 0),
    group_id      bigint REFERENCES groups (id),
    province      text   NOT NULL DEFAULT '',
    regency       text   NOT NULL DEFAULT '',
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- chair and treasurer belong to exactly one group
    CHECK (NOT (roles && ARRAY['chair', 'treasurer']) OR group_id IS NOT NULL),
    CHECK (regency = '' OR province <> '')
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE sessions (
    id           bigserial PRIMARY KEY,
    token_hash   text   NOT NULL UNIQUE,
    user_id      bigint NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE SEQUENCE grant_number_seq;

CREATE TABLE grants (
    id                  bigserial PRIMARY KEY,
    number              text   NOT NULL UNIQUE,
    program_id          bigint NOT NULL REFERENCES programs (id),
    group_id            bigint NOT NULL REFERENCES groups (id),
    state               text   NOT NULL CHECK (state IN ('draft', 'submitted', 'in_review', 'revision_requested',
                            'recommended', 'approved', 'rejected', 'funded', 'report_submitted', 'closed', 'cancelled')),
    amount_requested    bigint NOT NULL DEFAULT 0 CHECK (amount_requested >= 0),
    amount_approved     bigint NOT NULL DEFAULT 0 CHECK (amount_approved >= 0 AND amount_approved <= amount_requested),
    verifier_id         bigint REFERENCES users (id),
    approver_id         bigint REFERENCES users (id),
    background          text   NOT NULL DEFAULT '',
    objectives          text   NOT NULL DEFAULT '',
    sustainability_plan text   NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (program_id, group_id),
    CHECK (approver_id IS NULL OR approver_id IS DISTINCT FROM verifier_id)
);
CREATE INDEX grants_state ON grants (state);
CREATE INDEX grants_group ON grants (group_id);

CREATE TABLE activities (
    id                   bigserial PRIMARY KEY,
    grant_id             bigint NOT NULL REFERENCES grants (id),
    seq                  int    NOT NULL,
    kind                 text   NOT NULL CHECK (kind IN ('in', 'on')),
    title                text   NOT NULL,
    planned_on           date,
    planned_participants int    NOT NULL DEFAULT 0 CHECK (planned_participants >= 0),
    status               text   NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'held', 'cancelled')),
    held_on              date,
    UNIQUE (grant_id, seq)
);

CREATE TABLE budget_lines (
    id          bigserial PRIMARY KEY,
    grant_id    bigint NOT NULL REFERENCES grants (id),
    seq         int    NOT NULL,
    category    text   NOT NULL,
    description text   NOT NULL,
    quantity    bigint NOT NULL CHECK (quantity > 0),
    unit        text   NOT NULL,
    unit_price  bigint NOT NULL CHECK (unit_price > 0),
    amount      bigint NOT NULL CHECK (amount = quantity * unit_price),
    UNIQUE (grant_id, seq)
);

CREATE TABLE grant_events (
    id         bigserial PRIMARY KEY,
    grant_id   bigint NOT NULL REFERENCES grants (id),
    seq        int    NOT NULL CHECK (seq > 0),
    action     text   NOT NULL,
    from_state text   NOT NULL,
    to_state   text   NOT NULL,
    actor_id   bigint NOT NULL REFERENCES users (id),
    actor_name text   NOT NULL,
    actor_role text   NOT NULL,
    comment    text   NOT NULL DEFAULT '',
    data       jsonb  NOT NULL DEFAULT '{}',
    at         timestamptz NOT NULL,
    prev_hash  text   NOT NULL,
    hash       text   NOT NULL,
    UNIQUE (grant_id, seq)
);

-- Events are append-only: the database itself refuses to change or remove one.
-- +goose StatementBegin
CREATE FUNCTION grant_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'grant_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER grant_events_append_only BEFORE UPDATE OR DELETE ON grant_events
    FOR EACH ROW EXECUTE FUNCTION grant_events_refuse_change();
CREATE TRIGGER grant_events_no_truncate BEFORE TRUNCATE ON grant_events
    FOR EACH STATEMENT EXECUTE FUNCTION grant_events_refuse_change();
