-- +goose Up
-- Regions by the Kemendagri code (issue #8 item 4). A group's province and
-- regency, a staff member's scope and the monitoring copies of them carry the
-- official codes ("32", "32.71"); every scope check compares these. The text
-- columns stay and hold the official name as the list spells it, for reading
-- and for the reports. Migration 0141 (Go, internal/postgres/regionfill.go)
-- fills the codes of the rows written before this one with the same matcher
-- the API uses.
--
-- groups: '' is a legacy row whose text named no official region; it keeps
-- its text, only unscoped staff and admins see it, and `grantflow migrate`
-- lists it. Every new row has its codes (groups_region_coded, added by 0142
-- once the old rows are filled).
ALTER TABLE groups
    ADD COLUMN province_code text NOT NULL DEFAULT '',
    ADD COLUMN regency_code  text NOT NULL DEFAULT '';
CREATE INDEX groups_region_code ON groups (province_code, regency_code);

-- users: '' is no scope (everywhere, or the whole province for the regency).
-- A legacy scope that named no official region gets the code '?', which no
-- group has: that person sees no group until given a scope from the list.
ALTER TABLE users
    ADD COLUMN province_code text NOT NULL DEFAULT '',
    ADD COLUMN regency_code  text NOT NULL DEFAULT '',
    ADD CONSTRAINT users_region_code_nested CHECK (regency_code = '' OR province_code <> '');

ALTER TABLE monitoring_status
    ADD COLUMN province_code text NOT NULL DEFAULT '',
    ADD COLUMN regency_code  text NOT NULL DEFAULT '';
CREATE INDEX monitoring_status_region_code ON monitoring_status (province_code, regency_code);

ALTER TABLE monitoring_cohorts
    ADD COLUMN province_code text NOT NULL DEFAULT '',
    ADD COLUMN regency_code  text NOT NULL DEFAULT '';
