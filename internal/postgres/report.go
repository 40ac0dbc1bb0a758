package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"grantflow/workflow"
)

// GrantReport is the LPJ frozen when a grant closed: the stored PDF's
// content address and size, its public verification code, and the
// accept_report event that froze it.
type GrantReport struct {
	GrantID   int64     `json:"grant_id"`
	Code      string    `json:"code"`
	SHA256    string    `json:"sha256"`
	Size      int64     `json:"size"`
	EventID   int64     `json:"event_id"`
	CreatedAt time.Time `json:"created_at"`
}

// InsertGrantReport records the frozen report of a grant in the caller's
// transaction. A second report of the same grant, or a code already given
// to another (a collision of 80 random bits, in practice never), answers
// EConflict.
func (tx *Tx) InsertGrantReport(ctx context.Context, r GrantReport) (GrantReport, error) {
	const query = `INSERT INTO grant_reports (grant_id, code, sha256, size, event_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING created_at`
	if r.CreatedAt.IsZero() {
		r.CreatedAt = tx.now
	}
	err := tx.x.QueryRowxContext(ctx, query, r.GrantID, r.Code, r.SHA256, r.Size, r.EventID, r.CreatedAt).Scan(&r.CreatedAt)
	r.CreatedAt = r.CreatedAt.UTC()
	return r, mapErr(err)
}

const grantReportColumns = `grant_id, code, sha256, size, event_id, created_at`

// GrantReport returns the frozen report of grant grantID, or ENotFound
// while the grant has none (it is not closed).
func (q q) GrantReport(ctx context.Context, grantID int64) (GrantReport, error) {
	const query = `SELECT ` + grantReportColumns + ` FROM grant_reports WHERE grant_id = $1`
	var r GrantReport
	if err := q.x.GetContext(ctx, &r, query, grantID); err != nil {
		return r, notFound(err, "laporan hibah", grantID)
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return r, nil
}

// GrantReportByCode returns the frozen report with verification code code,
// or ENotFound.
func (q q) GrantReportByCode(ctx context.Context, code string) (GrantReport, error) {
	const query = `SELECT ` + grantReportColumns + ` FROM grant_reports WHERE code = $1`
	var r GrantReport
	if err := q.x.GetContext(ctx, &r, query, code); errors.Is(err, sql.ErrNoRows) {
		return r, workflow.Errorf(workflow.ENotFound, "kode verifikasi tidak dikenal")
	} else if err != nil {
		return r, mapErr(err)
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return r, nil
}

// ReportFile is an evidence row as the LPJ's index and the dossier name it:
// with its uploader's name, the session it documents (ActivitySeq, 0 for
// none) and the expense or refund it backs (0 for none).
type ReportFile struct {
	File
	UploaderName string `json:"uploader_name"`
	ActivitySeq  int    `json:"activity_seq"`
	ExpenseID    int64  `json:"expense_id"`
	RefundID     int64  `json:"refund_id"`
}

// ReportFiles returns every evidence file of a grant in upload order, each
// with what the report and the dossier say about it.
func (q q) ReportFiles(ctx context.Context, grantID int64) ([]ReportFile, error) {
	const query = `SELECT v.id, v.grant_id, COALESCE(v.activity_id, 0) AS activity_id, v.kind, v.sha256, v.size, v.mime,
		COALESCE(v.preview_sha256, '') AS preview_sha256, v.uploaded_by, v.created_at, u.name AS uploader_name,
		COALESCE(a.seq, 0) AS activity_seq,
		COALESCE((SELECT min(e.id) FROM expenses e WHERE e.receipt_id = v.id), 0) AS expense_id,
		COALESCE((SELECT min(r.id) FROM refunds r WHERE r.proof_id = v.id), 0) AS refund_id
		FROM evidence v JOIN users u ON u.id = v.uploaded_by LEFT JOIN activities a ON a.id = v.activity_id
		WHERE v.grant_id = $1 ORDER BY v.id`
	out := []ReportFile{}
	err := q.x.SelectContext(ctx, &out, query, grantID)
	for i := range out {
		out[i].CreatedAt = out[i].CreatedAt.UTC()
	}
	return out, mapErr(err)
}
