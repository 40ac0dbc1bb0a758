-- +goose Up
-- A held In/On session counts as a meeting (SPEC §7): the monitoring scan's
-- group_meetings view adds, to the meetings no correction superseded, the
-- date of every realised session (its latest realisation version), as
-- postgres.HeldSessionsSelect reads them. Cancelled sessions were never
-- realised (a held one cannot be cancelled), so they add nothing.
CREATE OR REPLACE VIEW group_meetings (group_id, held_on) AS
    SELECT m.group_id, m.held_on
    FROM meetings m
    WHERE NOT EXISTS (SELECT 1 FROM meetings c WHERE c.supersedes IS NOT NULL AND c.supersedes = m.id)
    UNION ALL
    SELECT g.group_id, r.held_on
    FROM (SELECT DISTINCT ON (activity_id) grant_id, held_on FROM activity_realizations
          ORDER BY activity_id, version DESC) r
    JOIN grants g ON g.id = r.grant_id;
