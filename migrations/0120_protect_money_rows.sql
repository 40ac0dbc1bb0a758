-- +goose Up
-- Money rows are as append-only as the events (SPEC §4): the database refuses
-- UPDATE, DELETE and TRUNCATE, except columns filled once, later, from NULL
-- (a void's time, person and reason; an image's preview). Each row carries
-- row_sha256, computed here at insert over the columns set at creation, and
-- the event that created it carries the same hash (a void's event carries
-- void_sha256), so `grantflow audit verify` can name a row changed, added or
-- removed behind the triggers' back.

-- +goose StatementBegin
CREATE FUNCTION disbursement_row_sha256(d disbursements) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(json_build_array(d.id, d.grant_id, d.tranche, d.amount, d.transferred_on,
        d.reference, d.recorded_by, extract(epoch FROM d.created_at))::text, 'UTF8')), 'hex')
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION expense_row_sha256(e expenses) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(json_build_array(e.id, e.grant_id, e.spent_on, e.budget_line_id, e.activity_id,
        e.vendor, e.description, e.amount, e.tax_ppn, e.tax_pph, e.receipt_id, e.created_by,
        extract(epoch FROM e.created_at))::text, 'UTF8')), 'hex')
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION expense_void_sha256(e expenses) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN e.voided_at IS NULL THEN NULL ELSE
        encode(sha256(convert_to(json_build_array(e.id, e.voided_by, e.void_reason,
            extract(epoch FROM e.voided_at))::text, 'UTF8')), 'hex') END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION refund_row_sha256(r refunds) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(json_build_array(r.id, r.grant_id, r.amount, r.paid_on, r.ntpn, r.proof_id,
        r.created_by, extract(epoch FROM r.created_at))::text, 'UTF8')), 'hex')
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION evidence_row_sha256(v evidence) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(json_build_array(v.id, v.grant_id, v.activity_id, v.kind, v.sha256, v.size,
        v.mime, v.uploaded_by, extract(epoch FROM v.created_at))::text, 'UTF8')), 'hex')
$$;
-- +goose StatementEnd

ALTER TABLE disbursements ADD COLUMN row_sha256 text;
ALTER TABLE expenses ADD COLUMN row_sha256 text;
ALTER TABLE refunds ADD COLUMN row_sha256 text;
ALTER TABLE evidence ADD COLUMN row_sha256 text;
-- Rows recorded before this migration get their hash now; their events
-- predate it and carry none, so verify checks them against the hash alone.
UPDATE disbursements d SET row_sha256 = disbursement_row_sha256(d);
UPDATE expenses e SET row_sha256 = expense_row_sha256(e);
UPDATE refunds r SET row_sha256 = refund_row_sha256(r);
UPDATE evidence v SET row_sha256 = evidence_row_sha256(v);

-- +goose StatementBegin
CREATE FUNCTION money_rows_hash() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- IF, not CASE: each branch is planned only for the table it names.
    IF TG_TABLE_NAME = 'disbursements' THEN
        NEW.row_sha256 := disbursement_row_sha256(NEW);
    ELSIF TG_TABLE_NAME = 'expenses' THEN
        NEW.row_sha256 := expense_row_sha256(NEW);
    ELSIF TG_TABLE_NAME = 'refunds' THEN
        NEW.row_sha256 := refund_row_sha256(NEW);
    ELSE
        NEW.row_sha256 := evidence_row_sha256(NEW);
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- An UPDATE may only fill the columns named as the trigger's arguments,
-- each once, from NULL; any other change is refused like a DELETE.
-- +goose StatementBegin
CREATE FUNCTION money_rows_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o jsonb := to_jsonb(OLD);
    n jsonb := to_jsonb(NEW);
    col text;
BEGIN
    FOR i IN 0 .. TG_NARGS - 1 LOOP
        col := TG_ARGV[i];
        IF (o -> col) IS DISTINCT FROM (n -> col) AND o ->> col IS NOT NULL THEN
            RAISE EXCEPTION '%.% is filled once and then kept: UPDATE refused', TG_TABLE_NAME, col
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        o := o - col;
        n := n - col;
    END LOOP;
    IF o IS DISTINCT FROM n THEN
        RAISE EXCEPTION '% is append-only: UPDATE refused', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER disbursements_hash BEFORE INSERT ON disbursements FOR EACH ROW EXECUTE FUNCTION money_rows_hash();
CREATE TRIGGER expenses_hash BEFORE INSERT ON expenses FOR EACH ROW EXECUTE FUNCTION money_rows_hash();
CREATE TRIGGER refunds_hash BEFORE INSERT ON refunds FOR EACH ROW EXECUTE FUNCTION money_rows_hash();
CREATE TRIGGER evidence_hash BEFORE INSERT ON evidence FOR EACH ROW EXECUTE FUNCTION money_rows_hash();

CREATE TRIGGER disbursements_append_only BEFORE UPDATE ON disbursements FOR EACH ROW EXECUTE FUNCTION money_rows_refuse_change();
CREATE TRIGGER expenses_append_only BEFORE UPDATE ON expenses
    FOR EACH ROW EXECUTE FUNCTION money_rows_refuse_change('voided_at', 'voided_by', 'void_reason');
CREATE TRIGGER refunds_append_only BEFORE UPDATE ON refunds FOR EACH ROW EXECUTE FUNCTION money_rows_refuse_change();
CREATE TRIGGER evidence_append_only BEFORE UPDATE ON evidence
    FOR EACH ROW EXECUTE FUNCTION money_rows_refuse_change('preview_sha256');

CREATE TRIGGER disbursements_no_delete BEFORE DELETE ON disbursements FOR EACH ROW EXECUTE FUNCTION grant_events_refuse_change();
CREATE TRIGGER expenses_no_delete BEFORE DELETE ON expenses FOR EACH ROW EXECUTE FUNCTION grant_events_refuse_change();
CREATE TRIGGER refunds_no_delete BEFORE DELETE ON refunds FOR EACH ROW EXECUTE FUNCTION grant_events_refuse_change();
CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence FOR EACH ROW EXECUTE FUNCTION grant_events_refuse_change();
CREATE TRIGGER disbursements_no_truncate BEFORE TRUNCATE ON disbursements FOR EACH STATEMENT EXECUTE FUNCTION grant_events_refuse_change();
CREATE TRIGGER expenses_no_truncate BEFORE TRUNCATE ON expenses FOR EACH STATEMENT EXECUTE FUNCTION grant_events_refuse_change();
CREATE TRIGGER refunds_no_truncate BEFORE TRUNCATE ON refunds FOR EACH STATEMENT EXECUTE FUNCTION grant_events_refuse_change();
CREATE TRIGGER evidence_no_truncate BEFORE TRUNCATE ON evidence FOR EACH STATEMENT EXECUTE FUNCTION grant_events_refuse_change();
