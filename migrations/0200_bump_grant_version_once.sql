-- +goose Up
-- A transaction takes one new version per grant, however many of the
-- grant's rows it writes: the version a reader compares becomes visible only
-- at the commit, so a second bump in the same transaction changes nothing a
-- reader can see. An expense upload wrote three (evidence, expense, event),
-- each an update of the same grant_versions row. The first bump still takes
-- its value while holding the row, so versions keep growing in commit order
-- (0190). The function is PL/pgSQL so that its statement is planned once
-- per connection; as a LANGUAGE sql function it was planned at every call
-- (pg_stat_statements: one plan per call, during `bench -phases uploads`).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION bump_grant_versions(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO grant_versions AS gv (grant_id, version)
    SELECT id, nextval('grant_version_seq') FROM (SELECT DISTINCT id FROM unnest(ids) id WHERE id IS NOT NULL ORDER BY id) x
    ON CONFLICT (grant_id) DO UPDATE SET version = nextval('grant_version_seq')
        WHERE gv.xmin <> pg_current_xact_id()::xid;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION bump_grant_versions(ids bigint[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO grant_versions (grant_id, version)
    SELECT id, nextval('grant_version_seq') FROM (SELECT DISTINCT id FROM unnest(ids) id WHERE id IS NOT NULL ORDER BY id) x
    ON CONFLICT (grant_id) DO UPDATE SET version = nextval('grant_version_seq')
$$;
-- +goose StatementEnd
