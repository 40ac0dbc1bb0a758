-- +goose Up
-- Money while funded (SPEC §4) and evidence files (§5). Amounts on a grant are
-- always derived from these rows; nothing here is a second copy of a total.
CREATE TABLE disbursements (
    id             bigserial PRIMARY KEY,
    grant_id       bigint NOT NULL REFERENCES grants (id),
    tranche        int    NOT NULL CHECK (tranche > 0),
    amount         bigint NOT NULL CHECK (amount > 0),
    transferred_on date   NOT NULL,
    reference      text   NOT NULL CHECK (length(reference) BETWEEN 1 AND 100),
    recorded_by    bigint NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (grant_id, tranche)
);

-- One row per uploaded file: the content address in the store, never the client's name.
CREATE TABLE evidence (
    id             bigserial PRIMARY KEY,
    grant_id       bigint NOT NULL REFERENCES grants (id),
    activity_id    bigint REFERENCES activities (id),
    kind           text   NOT NULL CHECK (kind IN ('receipt', 'refund_proof', 'attendance', 'photo', 'minutes', 'output', 'other')),
    sha256         text   NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size           bigint NOT NULL CHECK (size > 0),
    mime           text   NOT NULL CHECK (mime IN ('image/jpeg', 'image/png', 'application/pdf')),
    preview_sha256 text   CHECK (preview_sha256 ~ '^[0-9a-f]{64}$'),
    uploaded_by    bigint NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evidence_sha256 ON evidence (sha256);
CREATE INDEX evidence_grant ON evidence (grant_id);
CREATE INDEX evidence_activity ON evidence (activity_id) WHERE activity_id IS NOT NULL;

CREATE TABLE expenses (
    id             bigserial PRIMARY KEY,
    grant_id       bigint NOT NULL REFERENCES grants (id),
    spent_on       date   NOT NULL,
    budget_line_id bigint NOT NULL REFERENCES budget_lines (id),
    activity_id    bigint REFERENCES activities (id),
    vendor         text   NOT NULL CHECK (length(vendor) BETWEEN 1 AND 200),
    description    text   NOT NULL CHECK (length(description) BETWEEN 1 AND 1000),
    amount         bigint NOT NULL CHECK (amount > 0),
    tax_ppn        bigint NOT NULL DEFAULT 0 CHECK (tax_ppn >= 0),
    tax_pph        bigint NOT NULL DEFAULT 0 CHECK (tax_pph >= 0),
    receipt_id     bigint NOT NULL REFERENCES evidence (id),
    created_by     bigint NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    voided_at      timestamptz,
    voided_by      bigint REFERENCES users (id),
    void_reason    text,
    CHECK (tax_ppn + tax_pph <= amount),
    CHECK ((voided_at IS NULL) = (void_reason IS NULL) AND (voided_at IS NULL) = (voided_by IS NULL))
);
CREATE INDEX expenses_grant ON expenses (grant_id);
CREATE INDEX expenses_line ON expenses (budget_line_id);

CREATE TABLE refunds (
    id         bigserial PRIMARY KEY,
    grant_id   bigint NOT NULL REFERENCES grants (id),
    amount     bigint NOT NULL CHECK (amount > 0),
    paid_on    date   NOT NULL,
    ntpn       text   NOT NULL CHECK (ntpn ~ '^[0-9A-Z]{16}$'),
    proof_id   bigint REFERENCES evidence (id),
    created_by bigint NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_grant ON refunds (grant_id);
