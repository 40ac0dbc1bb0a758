-- +goose Up
-- What the scan keeps between runs, per ended grant: its group's latest
-- meeting of all time and its cohort checkpoint flags (whether the group met
-- in the at-risk window before the day 1, 3, 6 and 12 months after the
-- funding ended). Neither depends on the scan's day: they change only when a
-- meeting or a held session of the group is recorded (or corrected), when
-- the funding end moves (the grant closes) or the programme's window
-- changes. The scan computes a row again in those cases alone; aggregating
-- two million meetings and joining them with every checkpoint each hour
-- cost several times the max(held_on) aggregate itself.
CREATE TABLE monitoring_facts (
    grant_id    bigint PRIMARY KEY,
    group_id    bigint NOT NULL,
    ended_on    date   NOT NULL,
    window_days int    NOT NULL,
    last_on     date,  -- NULL: the group never met
    met1        boolean NOT NULL,
    met3        boolean NOT NULL,
    met6        boolean NOT NULL,
    met12       boolean NOT NULL
);

-- Groups whose meetings changed since the scan last looked: filled by the
-- triggers below in the recording transaction itself, emptied by the scan
-- (DELETE … RETURNING, so a mark committed while a scan runs stays for the
-- next one). Without a key: a duplicate mark costs nothing.
CREATE TABLE monitoring_dirty (
    group_id  bigint NOT NULL,
    marked_at timestamptz NOT NULL DEFAULT now()
);

-- +goose StatementBegin
CREATE FUNCTION monitoring_mark_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'meetings' THEN
        INSERT INTO monitoring_dirty (group_id) VALUES (NEW.group_id);
    ELSE
        INSERT INTO monitoring_dirty (group_id) SELECT group_id FROM grants WHERE id = NEW.grant_id;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER meetings_mark_dirty AFTER INSERT ON meetings
    FOR EACH ROW EXECUTE FUNCTION monitoring_mark_dirty();
CREATE TRIGGER activity_realizations_mark_dirty AFTER INSERT ON activity_realizations
    FOR EACH ROW EXECUTE FUNCTION monitoring_mark_dirty();
