-- +goose Up
-- grant_versions labels what postgres.ReadGrant reads of a grant, so that an
-- instance may answer a grant read from its memory (grants.Options.ReadCache):
-- a read first fetches the grant's version and serves its cached read only
-- when the version is the one the cached read saw (ReadGrant returns the
-- version in the same statement, so on the same snapshot, as its data).
--
-- Every change to a row ReadGrant reads takes a new version, from one
-- sequence so a version is never reused, in the same transaction as the
-- change; whoever makes it (service, CLI, psql). The triggers below cover
-- every table that ReadGrant's statement (grantReadQuery with grantColumns,
-- grantMoney, reportConfirmedExpr, grantLists, activitiesSelect,
-- expenseColumns) touches:
--   grants                     the grant itself
--   groups, members            the group header and its members (every grant of the group)
--   programs                   the programme (every grant of the programme)
--   activities                 the activities
--   activity_realizations      held status, held_on, version, report_confirmed
--   activity_attendees         attendee_count (grant through its realisation)
--   activity_cancellations     cancelled status, reason, report_confirmed
--   evidence                   evidence_count, receipts' sha256 (and the duplicate
--                              flag of every grant whose expense has that file)
--   budget_lines               budget lines
--   expenses                   spent, totals, expense rows; the duplicate flag of
--                              every grant with an expense whose receipt has the same sha256
--   disbursements, refunds     totals and money rows
--   grant_events               findings (return_report), report_confirmed
--   grant_reports              the frozen LPJ's code and sha256
-- A table added to that statement must get its trigger here too.
--
-- A version is never reused, and a grant's versions only grow: the update
-- takes its value after it holds the row (concurrent writers of a grant
-- queue on it), so a later commit always has the larger version. The
-- cache needs only "equal means unchanged"; growing versions let it keep
-- the newer of two reads racing to fill it.
CREATE SEQUENCE grant_version_seq;

CREATE TABLE grant_versions (
    grant_id bigint PRIMARY KEY,
    version  bigint NOT NULL
);

-- +goose StatementBegin
CREATE FUNCTION bump_grant_versions(ids bigint[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO grant_versions (grant_id, version)
    SELECT id, nextval('grant_version_seq') FROM (SELECT DISTINCT id FROM unnest(ids) id WHERE id IS NOT NULL ORDER BY id) x
    ON CONFLICT (grant_id) DO UPDATE SET version = nextval('grant_version_seq')
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION bump_grant_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    CASE TG_TABLE_NAME
    WHEN 'grants' THEN
        ids := ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN OLD.id END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.id END];
    WHEN 'groups' THEN
        ids := ARRAY(SELECT id FROM grants WHERE group_id IN (
            CASE WHEN TG_OP <> 'INSERT' THEN OLD.id END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.id END));
    WHEN 'members' THEN
        ids := ARRAY(SELECT id FROM grants WHERE group_id IN (
            CASE WHEN TG_OP <> 'INSERT' THEN OLD.group_id END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.group_id END));
    WHEN 'programs' THEN
        ids := ARRAY(SELECT id FROM grants WHERE program_id IN (
            CASE WHEN TG_OP <> 'INSERT' THEN OLD.id END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.id END));
    WHEN 'activity_attendees' THEN
        ids := ARRAY(SELECT grant_id FROM activity_realizations WHERE id IN (
            CASE WHEN TG_OP <> 'INSERT' THEN OLD.realization_id END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.realization_id END));
    WHEN 'expenses' THEN
        ids := ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN OLD.grant_id END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.grant_id END]
            || ARRAY(SELECT e.grant_id FROM expenses e JOIN evidence v ON v.id = e.receipt_id
                WHERE v.sha256 IN (SELECT sha256 FROM evidence WHERE id IN (
                    CASE WHEN TG_OP <> 'INSERT' THEN OLD.receipt_id END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.receipt_id END)));
    WHEN 'evidence' THEN
        ids := ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN OLD.grant_id END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.grant_id END]
            || ARRAY(SELECT e.grant_id FROM expenses e JOIN evidence v ON v.id = e.receipt_id
                WHERE v.sha256 IN (CASE WHEN TG_OP <> 'INSERT' THEN OLD.sha256 END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.sha256 END));
    ELSE -- the tables with a grant_id column
        ids := ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN OLD.grant_id END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.grant_id END];
    END CASE;
    PERFORM bump_grant_versions(ids);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER grants_bump_version AFTER INSERT OR UPDATE OR DELETE ON grants FOR EACH ROW EXECUTE FUNCTION bump_grant_version();
CREATE TRIGGER groups_bump_version AFTER UPDATE OR DELETE ON groups FOR EACH ROW EXECUTE FUNCTION bump_grant_version();
CREATE TRIGGER members_bump_version AFTER INSERT OR UPDATE OR DELETE ON members FOR EACH ROW EXECUTE FUNCTION bump_grant_version();
CREATE TRIGGER programs_bump_version AFTER UPDATE OR DELETE ON programs FOR EACH ROW EXECUTE FUNCTION bump_grant_version();
CREATE TRIGGER activities_bump_version AFTER INSERT OR UPDATE OR DELETE ON activities FOR EACH ROW EXECUTE FUNCTION bump_grant_version();
CREATE TRIGGER activity_realizations_bump_version AFTER INSERT OR UPDATE OR DELETE ON activity_realizations FOR EACH ROW EXECUTE FUNCTION bump_grant_version();
CREATE TRIGGER activity_attendees_bump_version AFTER INSERT OR UPDATE OR DELETE ON activity_attendees FOR EACH ROW EXECUTE FUNCTION bump_grant_version();
CREATE TRIGGER activity_cancellations_bump_version AFTER INSERT OR UPDATE OR DELETE ON activity_cancellations FOR EACH ROW EXECUTE FUNCTION bump_grant_version();
-- Only the evidence columns ReadGrant reads: a preview made later (on another
-- connection, even while the grant's own transaction holds its version row
-- to render the LPJ) must not wait for that transaction.
CREATE TRIGGER evidence_bump_version AFTER INSERT OR DELETE ON evidence FOR EACH ROW EXECUTE FUNCTION bump_grant_version();
CREATE TRIGGER evidence_bump_version_update AFTER UPDATE ON evidence FOR EACH ROW
    WHEN (NEW.id <> OLD.id OR NEW.grant_id IS DISTINCT FROM OLD.grant_id OR NEW.activity_id IS DISTINCT FROM OLD.activity_id
          OR NEW.sha256 IS DISTINCT FROM OLD.sha256)
    EXECUTE FUNCTION bump_grant_version();
CREATE TRIGGER budget_lines_bump_version AFTER INSERT OR UPDATE OR DELETE ON budget_lines FOR EACH ROW EXECUTE FUNCTION bump_grant_version();
CREATE TRIGGER expenses_bump_version AFTER INSERT OR UPDATE OR DELETE ON expenses FOR EACH ROW EXECUTE FUNCTION bump_grant_version();
CREATE TRIGGER disbursements_bump_version AFTER INSERT OR UPDATE OR DELETE ON disbursements FOR EACH ROW EXECUTE FUNCTION bump_grant_version();
CREATE TRIGGER refunds_bump_version AFTER INSERT OR UPDATE OR DELETE ON refunds FOR EACH ROW EXECUTE FUNCTION bump_grant_version();
CREATE TRIGGER grant_events_bump_version AFTER INSERT OR UPDATE OR DELETE ON grant_events FOR EACH ROW EXECUTE FUNCTION bump_grant_version();
CREATE TRIGGER grant_reports_bump_version AFTER INSERT OR UPDATE OR DELETE ON grant_reports FOR EACH ROW EXECUTE FUNCTION bump_grant_version();
