package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"grantflow/workflow"
)

// InsertDisbursement records a tranche transfer.
func (tx *Tx) InsertDisbursement(ctx context.Context, d workflow.Disbursement) (workflow.Disbursement, error) {
	const query = `INSERT INTO disbursements (grant_id, tranche, amount, transferred_on, reference, recorded_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_at, row_sha256`
	err := tx.x.QueryRowxContext(ctx, query, d.GrantID, d.Tranche, d.Amount, d.TransferredOn, d.Reference, d.RecordedBy, tx.now).
		Scan(&d.ID, &d.CreatedAt, &d.RowSHA256)
	return d, mapErr(err)
}

// Disbursements returns a grant's transfers by tranche.
func (q q) Disbursements(ctx context.Context, grantID int64) ([]workflow.Disbursement, error) {
	const query = `SELECT id, grant_id, tranche, amount, transferred_on, reference, recorded_by, created_at
		FROM disbursements WHERE grant_id = $1 ORDER BY tranche`
	out := []workflow.Disbursement{}
	err := q.x.SelectContext(ctx, &out, query, grantID)
	return out, mapErr(err)
}

// File is an evidence row: a stored file and what it belongs to.
type File struct {
	ID            int64     `json:"id"`
	GrantID       int64     `json:"grant_id"`
	ActivityID    int64     `json:"activity_id"`
	Kind          string    `json:"kind"`
	SHA256        string    `json:"sha256"`
	Size          int64     `json:"size"`
	MIME          string    `json:"mime"`
	PreviewSHA256 string    `json:"preview_sha256"`
	UploadedBy    int64     `json:"uploaded_by"`
	CreatedAt     time.Time `json:"created_at"`
	RowSHA256     string    `json:"-"` // set by the database at insert; its event carries it
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// InsertFile links a stored file to its grant (and activity) and uploader.
func (tx *Tx) InsertFile(ctx context.Context, f File) (File, error) {
	const query = `INSERT INTO evidence (grant_id, activity_id, kind, sha256, size, mime, preview_sha256, uploaded_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, created_at, row_sha256`
	err := tx.x.QueryRowxContext(ctx, query, f.GrantID, nullID(f.ActivityID), f.Kind, f.SHA256, f.Size, f.MIME,
		nullText(f.PreviewSHA256), f.UploadedBy, tx.now).Scan(&f.ID, &f.CreatedAt, &f.RowSHA256)
	return f, mapErr(err)
}

// File returns one evidence row, or ENotFound.
func (q q) File(ctx context.Context, id int64) (File, error) {
	const query = `SELECT id, grant_id, COALESCE(activity_id, 0) AS activity_id, kind, sha256, size, mime,
		COALESCE(preview_sha256, '') AS preview_sha256, uploaded_by, created_at FROM evidence WHERE id = $1`
	var f File
	if err := q.x.GetContext(ctx, &f, query, id); err != nil {
		return f, notFound(err, "berkas", id)
	}
	return f, nil
}

// Files returns a grant's evidence rows in upload order.
func (q q) Files(ctx context.Context, grantID int64) ([]File, error) {
	const query = `SELECT id, grant_id, COALESCE(activity_id, 0) AS activity_id, kind, sha256, size, mime,
		COALESCE(preview_sha256, '') AS preview_sha256, uploaded_by, created_at FROM evidence WHERE grant_id = $1 ORDER BY id`
	out := []File{}
	err := q.x.SelectContext(ctx, &out, query, grantID)
	return out, mapErr(err)
}

// InsertExpense records a purchase whose receipt row already exists.
func (tx *Tx) InsertExpense(ctx context.Context, e workflow.Expense) (workflow.Expense, error) {
	const query = `INSERT INTO expenses (grant_id, spent_on, budget_line_id, activity_id, vendor, description, amount,
		tax_ppn, tax_pph, receipt_id, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id, created_at, row_sha256`
	err := tx.x.QueryRowxContext(ctx, query, e.GrantID, e.SpentOn, e.BudgetLineID, nullID(e.ActivityID), e.Vendor, e.Description,
		e.Amount, e.TaxPPN, e.TaxPPh, e.ReceiptID, e.CreatedBy, tx.now).Scan(&e.ID, &e.CreatedAt, &e.RowSHA256)
	return e, mapErr(err)
}

// expenseColumns read an expense e with its receipt row v, named like the
// JSON fields of ExpenseRow (the one-statement reads aggregate them as JSON).
//
// duplicate looks for other expenses only when the receipt's file is in
// evidence_shared (kept by a trigger on evidence, 0170): RecordExpense
// stores a receipt row for every expense, even of a file already stored, so
// a file backing two expenses is always a shared one. CASE keeps that order: the
// planner may reorder AND, and the search of other expenses, planned for
// the row counts of the last ANALYZE, costs a scan of every expense when
// they were few (the benchmark's first minutes, a new deployment's first
// days), for every row read.
const expenseColumns = `e.id, e.grant_id, e.spent_on, e.budget_line_id, COALESCE(e.activity_id, 0) AS activity_id, e.vendor,
	e.description, e.amount, e.tax_ppn, e.tax_pph, e.receipt_id, v.sha256 AS receipt_sha256, e.created_by, e.created_at,
	e.voided_at, COALESCE(e.void_reason, '') AS void_reason,
	CASE WHEN e.voided_at IS NULL AND EXISTS (SELECT 1 FROM evidence_shared s WHERE s.sha256 = v.sha256)
		THEN EXISTS (SELECT 1 FROM evidence v2 JOIN expenses e2 ON e2.receipt_id = v2.id
			WHERE v2.sha256 = v.sha256 AND e2.id <> e.id AND e2.voided_at IS NULL)
		ELSE false END AS duplicate`

// ExpenseRow is an expense with whether its receipt file also backs another
// expense that stands (a voided one re-entered with its receipt is no duplicate).
type ExpenseRow struct {
	workflow.Expense
	Duplicate bool `json:"duplicate"`
}

// Expenses returns a grant's expenses (voided ones too) in entry order; with
// expenseID > 0 only that one.
func (q q) Expenses(ctx context.Context, grantID, expenseID int64) ([]ExpenseRow, error) {
	const query = `SELECT ` + expenseColumns + ` FROM expenses e JOIN evidence v ON v.id = e.receipt_id
		WHERE e.grant_id = $1 AND ($2 = 0 OR e.id = $2) ORDER BY e.id`
	rows, err := q.x.QueryxContext(ctx, query, grantID, expenseID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []ExpenseRow{}
	for rows.Next() {
		var r ExpenseRow
		e := &r.Expense
		if err := rows.Scan(&e.ID, &e.GrantID, &e.SpentOn, &e.BudgetLineID, &e.ActivityID, &e.Vendor, &e.Description,
			&e.Amount, &e.TaxPPN, &e.TaxPPh, &e.ReceiptID, &e.ReceiptSHA256, &e.CreatedBy, &e.CreatedAt, &e.VoidedAt,
			&e.VoidReason, &r.Duplicate); err != nil {
			return nil, mapErr(err)
		}
		voided(e)
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

// voided sets a void expense's VoidedAt in UTC and its VoidedOn, the Jakarta
// day the ledger and the LPJ date the void by: every reader of expenses
// gets both, not only those that remember to derive the day.
func voided(e *workflow.Expense) {
	if e.VoidedAt == nil {
		return
	}
	t := e.VoidedAt.UTC()
	e.VoidedAt = &t
	e.VoidedOn = workflow.DateOf(t.In(workflow.Jakarta))
}

// VoidExpense marks an expense void and returns the hash of the void's
// columns, for its event; EConflict when it already is void.
func (tx *Tx) VoidExpense(ctx context.Context, grantID, expenseID, by int64, reason string) (string, error) {
	const query = `UPDATE expenses e SET voided_at = $4, voided_by = $3, void_reason = $5
		WHERE id = $1 AND grant_id = $2 AND voided_at IS NULL RETURNING expense_void_sha256(e)`
	var hash string
	err := tx.x.QueryRowxContext(ctx, query, expenseID, grantID, by, tx.now, reason).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", workflow.Errorf(workflow.EConflict, "belanja %d sudah dibatalkan", expenseID)
	}
	return hash, mapErr(err)
}

// InsertRefund records a deposit of unspent money; an NTPN already recorded
// (on any grant) answers EConflict.
func (tx *Tx) InsertRefund(ctx context.Context, r workflow.Refund) (workflow.Refund, error) {
	const query = `INSERT INTO refunds (grant_id, amount, paid_on, ntpn, proof_id, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_at, row_sha256`
	err := tx.x.QueryRowxContext(ctx, query, r.GrantID, r.Amount, r.PaidOn, r.NTPN, nullID(r.ProofID), r.CreatedBy, tx.now).
		Scan(&r.ID, &r.CreatedAt, &r.RowSHA256)
	if workflow.ErrorCode(mapErr(err)) == workflow.EConflict {
		return r, workflow.Errorf(workflow.EConflict, "NTPN %s sudah tercatat: satu setoran hanya dicatat sekali", r.NTPN)
	}
	return r, mapErr(err)
}

// Refunds returns a grant's refunds in entry order.
func (q q) Refunds(ctx context.Context, grantID int64) ([]workflow.Refund, error) {
	const query = `SELECT id, grant_id, amount, paid_on, ntpn, COALESCE(proof_id, 0) AS proof_id, created_by, created_at
		FROM refunds WHERE grant_id = $1 ORDER BY id`
	out := []workflow.Refund{}
	err := q.x.SelectContext(ctx, &out, query, grantID)
	return out, mapErr(err)
}
