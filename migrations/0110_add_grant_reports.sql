-- +goose Up
-- The LPJ frozen when the auditor accepts the report (SPEC §6): the PDF is
-- stored in the evidence store under its SHA-256, and this row is what every
-- later download and the public verification read. One per grant, never
-- changed: a trigger refuses UPDATE, DELETE and TRUNCATE like on grant_events.
CREATE TABLE grant_reports (
    grant_id   bigint PRIMARY KEY REFERENCES grants (id),
    code       text   NOT NULL UNIQUE CHECK (code ~ '^[A-Z2-7]{16,32}$'),
    sha256     text   NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size       bigint NOT NULL CHECK (size > 0),
    event_id   bigint NOT NULL, -- the accept_report event (no foreign key: see 0102 on TRUNCATE)
    created_at timestamptz NOT NULL
);
CREATE INDEX grant_reports_sha256 ON grant_reports (sha256);

-- +goose StatementBegin
CREATE FUNCTION grant_reports_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'grant_reports is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER grant_reports_append_only BEFORE UPDATE OR DELETE ON grant_reports
    FOR EACH ROW EXECUTE FUNCTION grant_reports_refuse_change();
CREATE TRIGGER grant_reports_no_truncate BEFORE TRUNCATE ON grant_reports
    FOR EACH STATEMENT EXECUTE FUNCTION grant_reports_refuse_change();
