-- +goose Up
-- Funded In/On sessions (SPEC §5): realisations with their attendees, and
-- cancellations by a verifier. Both are append-only facts like events: a
-- correction is a new realisation version, never an update. The status and
-- held_on an activity shows are derived from these rows at read time; the
-- older activities.status and activities.held_on columns stay 'planned' and NULL.

-- Composite keys so that a realisation or cancellation can only name an
-- activity of its own grant, and an attendee only a member of a group.
ALTER TABLE activities ADD CONSTRAINT activities_id_grant UNIQUE (id, grant_id);

CREATE TABLE activity_realizations (
    id          bigserial PRIMARY KEY,
    activity_id bigint NOT NULL,
    grant_id    bigint NOT NULL REFERENCES grants (id),
    version     int    NOT NULL CHECK (version > 0),
    held_on     date   NOT NULL,
    location    text   NOT NULL CHECK (length(btrim(location)) BETWEEN 1 AND 200),
    hours       int    NOT NULL CHECK (hours BETWEEN 1 AND 12),
    facilitator text   NOT NULL CHECK (length(btrim(facilitator)) BETWEEN 1 AND 200),
    summary     text   NOT NULL CHECK (length(btrim(summary)) BETWEEN 1 AND 10000),
    outputs     text   NOT NULL CHECK (length(btrim(outputs)) BETWEEN 1 AND 10000),
    recorded_by bigint NOT NULL REFERENCES users (id),
    recorded_at timestamptz NOT NULL,
    -- the event that recorded this version; the audit checks the row against it
    event_id    bigint NOT NULL UNIQUE,
    UNIQUE (activity_id, version),
    FOREIGN KEY (activity_id, grant_id) REFERENCES activities (id, grant_id)
);
CREATE INDEX activity_realizations_grant ON activity_realizations (grant_id);

CREATE TABLE activity_attendees (
    realization_id bigint NOT NULL REFERENCES activity_realizations (id),
    member_id      bigint NOT NULL REFERENCES members (id),
    PRIMARY KEY (realization_id, member_id)
);
CREATE INDEX activity_attendees_member ON activity_attendees (member_id);

-- One cancellation per activity, with the verifier's reason.
CREATE TABLE activity_cancellations (
    activity_id  bigint PRIMARY KEY,
    grant_id     bigint NOT NULL REFERENCES grants (id),
    reason       text   NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 10000),
    cancelled_by bigint NOT NULL REFERENCES users (id),
    cancelled_at timestamptz NOT NULL,
    event_id     bigint NOT NULL UNIQUE,
    FOREIGN KEY (activity_id, grant_id) REFERENCES activities (id, grant_id)
);
CREATE INDEX activity_cancellations_grant ON activity_cancellations (grant_id);

-- Files linked to an activity are its evidence, never a receipt or a refund proof.
ALTER TABLE evidence ADD CONSTRAINT evidence_activity_kind
    CHECK (activity_id IS NULL OR kind IN ('attendance', 'photo', 'minutes', 'output', 'other'));
CREATE INDEX expenses_activity ON expenses (activity_id) WHERE activity_id IS NOT NULL;

-- event_id names an event of the same grant. It is checked by a trigger, not
-- a foreign key: a key referencing grant_events would make PostgreSQL refuse
-- TRUNCATE grant_events for the reference before the append-only trigger could
-- refuse it for what it is.
-- +goose StatementBegin
CREATE FUNCTION activity_rows_check_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM grant_events WHERE id = NEW.event_id AND grant_id = NEW.grant_id) THEN
        RAISE EXCEPTION '%: event % of grant % not found', TG_TABLE_NAME, NEW.event_id, NEW.grant_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER activity_realizations_event BEFORE INSERT ON activity_realizations
    FOR EACH ROW EXECUTE FUNCTION activity_rows_check_event();
CREATE TRIGGER activity_cancellations_event BEFORE INSERT ON activity_cancellations
    FOR EACH ROW EXECUTE FUNCTION activity_rows_check_event();

-- The append-only trigger function of grant_events, now naming the table it
-- guards so that one function serves every append-only table.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION grant_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER activity_realizations_append_only BEFORE UPDATE OR DELETE ON activity_realizations
    FOR EACH ROW EXECUTE FUNCTION grant_events_refuse_change();
CREATE TRIGGER activity_realizations_no_truncate BEFORE TRUNCATE ON activity_realizations
    FOR EACH STATEMENT EXECUTE FUNCTION grant_events_refuse_change();
CREATE TRIGGER activity_attendees_append_only BEFORE UPDATE OR DELETE ON activity_attendees
    FOR EACH ROW EXECUTE FUNCTION grant_events_refuse_change();
CREATE TRIGGER activity_attendees_no_truncate BEFORE TRUNCATE ON activity_attendees
    FOR EACH STATEMENT EXECUTE FUNCTION grant_events_refuse_change();
CREATE TRIGGER activity_cancellations_append_only BEFORE UPDATE OR DELETE ON activity_cancellations
    FOR EACH ROW EXECUTE FUNCTION grant_events_refuse_change();
CREATE TRIGGER activity_cancellations_no_truncate BEFORE TRUNCATE ON activity_cancellations
    FOR EACH STATEMENT EXECUTE FUNCTION grant_events_refuse_change();
