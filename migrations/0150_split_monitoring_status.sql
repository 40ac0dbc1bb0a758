-- +goose Up
-- The scan stored every group's days_silent and scan date on its row, so a
-- scan on a new day rewrote all 50 000 rows (and their index) although only
-- a few statuses change per day. The row now keeps what changes only when
-- the status, the group or its last meeting changes: silent_from, the day
-- the silence counts from. The scan's day is kept once, in monitoring_scan,
-- and monitoring_status becomes a view that derives days_silent from the
-- two, so every reader keeps its columns.
ALTER TABLE monitoring_status RENAME TO monitoring_state;
ALTER INDEX monitoring_status_pkey RENAME TO monitoring_state_pkey;
ALTER INDEX monitoring_status_region RENAME TO monitoring_state_region;
ALTER INDEX monitoring_status_region_code RENAME TO monitoring_state_region_code;
DROP INDEX monitoring_status_silent;

-- The one row of the latest scan: its day and when that day was first stored.
CREATE TABLE monitoring_scan (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    as_of      date        NOT NULL,
    scanned_at timestamptz NOT NULL
);
INSERT INTO monitoring_scan (as_of, scanned_at)
    SELECT max(scanned_on), max(scanned_at) FROM monitoring_state HAVING count(*) > 0;

ALTER TABLE monitoring_state DROP COLUMN days_silent, DROP COLUMN scanned_on;
ALTER TABLE monitoring_state RENAME COLUMN scanned_at TO changed_at;
-- Silence counts from the last meeting or, when later, the funding end.
ALTER TABLE monitoring_state ADD COLUMN silent_from date
    GENERATED ALWAYS AS (GREATEST(funding_ended_on, last_meeting_on)) STORED;
-- The list's order, most silent first: the first page reads 50 index entries.
CREATE INDEX monitoring_state_silent ON monitoring_state (silent_from, group_id);
-- The list filtered by status (and kind): its count and first page read the
-- index alone.
CREATE INDEX monitoring_state_status ON monitoring_state (status, kind, silent_from, group_id);

CREATE VIEW monitoring_status (group_id, program_id, status, since, kind, province, regency, province_code, regency_code,
        funding_ended_on, last_meeting_on, days_silent, scanned_on, scanned_at) AS
    SELECT s.group_id, s.program_id, s.status, s.since, s.kind, s.province, s.regency, s.province_code, s.regency_code,
        s.funding_ended_on,
        s.last_meeting_on, c.as_of - s.silent_from, c.as_of, s.changed_at
    FROM monitoring_state s CROSS JOIN monitoring_scan c;
