-- +goose Up
-- One group once (issue #8 item 5): the same SK number or the same bank
-- account cannot be registered twice. The keys are compared as people write
-- them differently: an SK number without spaces and in upper case, an account
-- number by its digits. The service checks these (and the members rule, which
-- no index can express) under an advisory lock and names the existing group;
-- the indexes are the backstop for any other writer.
--
-- Rows registered twice before this migration are kept (grants may hang on
-- them): each later copy points at the first group it repeats and is left out
-- of the indexes; `grantflow migrate` lists them for an administrator.
ALTER TABLE groups ADD COLUMN duplicate_of bigint REFERENCES groups (id);
UPDATE groups g SET duplicate_of = (
    SELECT min(o.id) FROM groups o
    WHERE o.id < g.id
      AND (upper(regexp_replace(o.sk_number, '\s', '', 'g')) = upper(regexp_replace(g.sk_number, '\s', '', 'g'))
        OR regexp_replace(o.bank_account_number, '\D', '', 'g') = regexp_replace(g.bank_account_number, '\D', '', 'g')));
CREATE UNIQUE INDEX groups_sk_once ON groups (upper(regexp_replace(sk_number, '\s', '', 'g'))) WHERE duplicate_of IS NULL;
CREATE UNIQUE INDEX groups_account_once ON groups (regexp_replace(bank_account_number, '\D', '', 'g')) WHERE duplicate_of IS NULL;

-- The members rule looks members up by their ids.
CREATE INDEX members_nip ON members (nip) WHERE nip <> '';
CREATE INDEX members_simpatika ON members (simpatika_id) WHERE simpatika_id <> '';
