package main

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
)

// The statements GET /api/v1/grants/{id} runs after authentication, copied
// from internal/postgres (grantSelect and loadGrant in grants.go, Group in
// groups.go). Baseline B runs them bare, so keep them in step with those.
const (
	rawGrant = `SELECT g.id, g.number, g.program_id, g.group_id, g.state, g.amount_requested, g.amount_approved,
	COALESCE(g.verifier_id, 0), COALESCE(g.approver_id, 0), g.background, g.objectives, g.sustainability_plan,
	g.created_at, g.updated_at,
	COALESCE(d.total, 0), COALESCE(d.n, 0),
	COALESCE(e.total, 0), COALESCE(e.receipted, 0), COALESCE(e.missing, 0),
	COALESCE(r.total, 0)
	FROM grants g
	LEFT JOIN LATERAL (SELECT sum(amount) AS total, count(*) AS n FROM disbursements WHERE grant_id = g.id) d ON true
	LEFT JOIN LATERAL (SELECT sum(amount) AS total,
			sum(amount) FILTER (WHERE receipt_id IS NOT NULL) AS receipted,
			count(*) FILTER (WHERE receipt_id IS NULL) AS missing
		FROM expenses WHERE grant_id = g.id AND voided_at IS NULL) e ON true
	LEFT JOIN LATERAL (SELECT sum(amount) AS total FROM refunds WHERE grant_id = g.id) r ON true WHERE g.id = $1`
	rawActivities = `SELECT a.id, a.seq, a.kind, a.title, a.planned_on, a.planned_participants, a.status, a.held_on,
		0 AS attendee_count,
		(SELECT count(*) FROM evidence v WHERE v.activity_id = a.id) AS evidence_count
		FROM activities a WHERE a.grant_id = $1 ORDER BY a.seq`
	rawBudget = `SELECT b.id, b.seq, b.category, b.description, b.quantity, b.unit, b.unit_price, b.amount,
		COALESCE((SELECT sum(e.amount) FROM expenses e WHERE e.budget_line_id = b.id AND e.voided_at IS NULL), 0) AS spent
		FROM budget_lines b WHERE b.grant_id = $1 ORDER BY b.seq`
	rawGroup = `SELECT id, kind, name, subject, level, province, regency, sk_number, bank_name,
	bank_account_number, bank_account_name, npwp, remote, created_at FROM groups WHERE id = $1`
)

// readGrantRaw is baseline B's unit of work: the four reads of one grant
// view on the bare database/sql pool, each autocommitted, every row read
// as raw bytes. It returns an error when the grant is missing or a query fails.
func readGrantRaw(ctx context.Context, db *sql.DB, id int64) error {
	groupID, err := drain(ctx, db, rawGrant, id, 3)
	if err != nil {
		return err
	}
	if groupID == 0 {
		return fmt.Errorf("grant %d not found", id)
	}
	for _, q := range []string{rawActivities, rawBudget} {
		if _, err := drain(ctx, db, q, id, -1); err != nil {
			return err
		}
	}
	for _, q := range []string{rawGroup} { // the grant view names its group; members are not read
		if _, err := drain(ctx, db, q, groupID, -1); err != nil {
			return err
		}
	}
	return nil
}

// drain runs query, reads every row and returns the integer in column col
// of the last row (col < 0: none wanted).
func drain(ctx context.Context, db *sql.DB, query string, arg int64, col int) (int64, error) {
	rows, err := db.QueryContext(ctx, query, arg)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	raw := make([]sql.RawBytes, len(cols))
	dst := make([]any, len(cols))
	for i := range raw {
		dst[i] = &raw[i]
	}
	var v int64
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return 0, err
		}
		if col >= 0 {
			if v, err = strconv.ParseInt(string(raw[col]), 10, 64); err != nil {
				return 0, err
			}
		}
	}
	return v, rows.Err()
}
