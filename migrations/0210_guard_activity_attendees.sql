-- +goose Up
-- A realisation's attendees are written with it, in its transaction, and
-- are members of the grant's group. The append-only triggers of 0102
-- refused changing or removing an attendee but not adding one later, so a
-- plain INSERT could put anyone, of any group, into a session held long
-- ago (and `audit verify` did not compare attendees with the event).
-- +goose StatementBegin
CREATE FUNCTION activity_attendees_check_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM activity_realizations r
            WHERE r.id = NEW.realization_id AND r.xmin = pg_current_xact_id()::xid) THEN
        RAISE EXCEPTION 'activity_attendees: attendees are recorded with their realisation %, not later', NEW.realization_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM activity_realizations r JOIN grants g ON g.id = r.grant_id
            JOIN members m ON m.group_id = g.group_id
            WHERE r.id = NEW.realization_id AND m.id = NEW.member_id) THEN
        RAISE EXCEPTION 'activity_attendees: member % is not of the group of realisation %', NEW.member_id, NEW.realization_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER activity_attendees_insert BEFORE INSERT ON activity_attendees
    FOR EACH ROW EXECUTE FUNCTION activity_attendees_check_insert();

-- +goose Down
DROP TRIGGER activity_attendees_insert ON activity_attendees;
DROP FUNCTION activity_attendees_check_insert();
