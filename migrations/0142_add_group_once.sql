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
-- The first group sharing either key is the smaller of the first ids of the
-- two partitions (window functions: one sort per key, where a correlated
-- subquery on an OR of expressions rescanned the table for every row —
-- 18 s for 4 000 groups). LEAST ignores the NULL of a key nobody shares first.
UPDATE groups g SET duplicate_of = d.first FROM (
    SELECT k.id, LEAST(NULLIF(k.first_sk, k.id), NULLIF(k.first_account, k.id)) AS first
    FROM (SELECT n.id,
            min(n.id) OVER (PARTITION BY upper(regexp_replace(n.sk_number, '\s', '', 'g'))) AS first_sk,
            min(n.id) OVER (PARTITION BY regexp_replace(n.bank_account_number, '\D', '', 'g')) AS first_account
        FROM groups n) k) d
WHERE d.id = g.id AND d.first IS NOT NULL;
CREATE UNIQUE INDEX groups_sk_once ON groups (upper(regexp_replace(sk_number, '\s', '', 'g'))) WHERE duplicate_of IS NULL;
CREATE UNIQUE INDEX groups_account_once ON groups (regexp_replace(bank_account_number, '\D', '', 'g')) WHERE duplicate_of IS NULL;

-- The members rule looks members up by their ids.
CREATE INDEX members_nip ON members (nip) WHERE nip <> '';
CREATE INDEX members_simpatika ON members (simpatika_id) WHERE simpatika_id <> '';

-- Every group written from now on names its region by code (0140, 0141):
-- NOT VALID leaves the legacy rows that matched no official name as they
-- are, and checks every row inserted or changed.
ALTER TABLE groups ADD CONSTRAINT groups_region_coded CHECK (province_code <> '' AND regency_code <> '') NOT VALID;
