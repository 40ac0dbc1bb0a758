-- +goose Up
-- Monitoring after the funding (SPEC §7): the meeting log, the status each
-- scan stores, its history, the reminders and their e-mail outbox.

-- Meetings are append-only like grant events: a correction is a new row that
-- supersedes the one it corrects (each row is corrected at most once, so the
-- corrections form a chain whose last link is the meeting as it stands).
CREATE TABLE meetings (
    id              bigserial PRIMARY KEY,
    group_id        bigint NOT NULL REFERENCES groups (id),
    held_on         date   NOT NULL,
    topic           text   NOT NULL CHECK (length(topic) BETWEEN 1 AND 200),
    attendees_count int    NOT NULL CHECK (attendees_count > 0),
    notes           text   NOT NULL DEFAULT '' CHECK (length(notes) <= 2000),
    photo_id        bigint REFERENCES evidence (id),
    supersedes      bigint REFERENCES meetings (id),
    created_by      bigint NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meetings_group_held ON meetings (group_id, held_on);
-- Few rows are corrections: a partial index keeps the view's anti-join to them.
CREATE UNIQUE INDEX meetings_supersedes ON meetings (supersedes) WHERE supersedes IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION meetings_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'meetings is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER meetings_append_only BEFORE UPDATE OR DELETE ON meetings
    FOR EACH ROW EXECUTE FUNCTION meetings_refuse_change();
CREATE TRIGGER meetings_no_truncate BEFORE TRUNCATE ON meetings
    FOR EACH STATEMENT EXECUTE FUNCTION meetings_refuse_change();

-- Every date on which a group met, as the scan reads it. Only meetings that
-- no correction superseded count. The activities work redefines this view to
-- add realised In/On sessions (a held session counts as a meeting).
CREATE VIEW group_meetings (group_id, held_on) AS
    SELECT m.group_id, m.held_on
    FROM meetings m
    WHERE NOT EXISTS (SELECT 1 FROM meetings c WHERE c.supersedes IS NOT NULL AND c.supersedes = m.id);

-- The status the latest scan stored, one row per monitored group. The scan
-- tables below are derived from grants, groups and meetings by the scan
-- itself, in bulk, and carry no foreign keys: a key check per written row
-- (and its row lock on the group) cost more than the scan's aggregate.
CREATE TABLE monitoring_status (
    group_id         bigint PRIMARY KEY,
    program_id       bigint NOT NULL,
    status           text   NOT NULL CHECK (status IN ('active', 'at_risk', 'dormant')),
    since            date   NOT NULL,
    -- the group's kind and region, copied so that filters, counts and the
    -- summary read this table alone
    kind             text   NOT NULL,
    province         text   NOT NULL,
    regency          text   NOT NULL,
    funding_ended_on date   NOT NULL,
    last_meeting_on  date,
    days_silent      int    NOT NULL CHECK (days_silent >= 0),
    scanned_on       date   NOT NULL,
    scanned_at       timestamptz NOT NULL
);
CREATE INDEX monitoring_status_silent ON monitoring_status (days_silent DESC, group_id);
CREATE INDEX monitoring_status_region ON monitoring_status (province, regency);

-- Status changes as the scans saw them: [since, until), until NULL while open.
CREATE TABLE monitoring_history (
    id         bigserial PRIMARY KEY,
    group_id   bigint NOT NULL,
    status     text   NOT NULL CHECK (status IN ('active', 'at_risk', 'dormant')),
    since      date   NOT NULL,
    until      date,
    scanned_on date   NOT NULL,
    CHECK (until IS NULL OR until >= since)
);
-- One open row per group: two scans racing cannot both open one.
CREATE UNIQUE INDEX monitoring_history_open ON monitoring_history (group_id) WHERE until IS NULL;
CREATE INDEX monitoring_history_group ON monitoring_history (group_id, since);

-- In-app reminders. key makes each reminder once-only across scans and instances.
CREATE TABLE notifications (
    id         bigserial PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id),
    kind       text   NOT NULL CHECK (kind IN ('lpj_due_soon', 'lpj_due_today', 'lpj_overdue', 'at_risk', 'dormant')),
    key        text   NOT NULL UNIQUE,
    group_id   bigint REFERENCES groups (id),
    grant_id   bigint REFERENCES grants (id),
    text       text   NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at    timestamptz
);
CREATE INDEX notifications_user ON notifications (user_id, created_at DESC, id DESC);

-- E-mails waiting to be sent, one per notification.
CREATE TABLE email_outbox (
    id              bigserial PRIMARY KEY,
    notification_id bigint NOT NULL UNIQUE REFERENCES notifications (id),
    to_address      text   NOT NULL,
    subject         text   NOT NULL,
    body            text   NOT NULL,
    attempts        int    NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text   NOT NULL DEFAULT '',
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at) WHERE sent_at IS NULL;


-- Cohort survival as of the latest scan: of the grants of a programme whose
-- funding ended, per kind and region, how many had passed N months since the
-- end (eligible) and how many of those were active on that day. Stored by
-- the scan so that the page reads a few hundred rows, not every meeting.
CREATE TABLE monitoring_cohorts (
    program_id bigint NOT NULL,
    kind       text   NOT NULL,
    province   text   NOT NULL,
    regency    text   NOT NULL,
    months     int    NOT NULL CHECK (months IN (1, 3, 6, 12)),
    eligible   int    NOT NULL CHECK (eligible > 0),
    active     int    NOT NULL CHECK (active BETWEEN 0 AND eligible),
    PRIMARY KEY (program_id, kind, province, regency, months)
);
