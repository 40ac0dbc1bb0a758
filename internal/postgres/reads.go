package postgres

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/lib/pq"

	"grantflow/workflow"
)

// GrantRead is everything one grant's answers show, read by ReadGrant in
// one statement: PostgreSQL runs a statement on one snapshot, so the grant's
// totals, its budget lines' spent and its money rows always agree, without
// the BEGIN and COMMIT (two more round trips) of a read-only transaction.
type GrantRead struct {
	Grant   workflow.Grant // with its activities and budget lines
	Group   workflow.Group // members only in ReadOptions.MembersIn states
	Program workflow.Program
	// Findings is the comment of the latest return_report while funded.
	Findings string
	// ReportCode and ReportSHA256 name the frozen LPJ once closed ("" before).
	ReportCode, ReportSHA256 string
	// The money rows, with ReadOptions.Money only.
	Disbursements []workflow.Disbursement
	Expenses      []ExpenseRow
	Refunds       []workflow.Refund
}

// ReadOptions say what ReadGrant reads beyond the grant, its group header
// and its programme.
type ReadOptions struct {
	// MembersIn: read the group's members when the grant is in one of these
	// states (the single-grant answer needs them for submit's guards only).
	MembersIn []workflow.State
	// Money: read the disbursements, expenses (voided too, with their
	// receipts) and refunds, as the ledger and the expense list show them.
	Money bool
}

// grantReadQuery reads a grant with its money, group, programme,
// activities, budget lines and, as asked, members, findings, report and
// money rows: the lists come as JSON arrays named like the Go types' JSON
// fields. The lateral subqueries keep groupColumns and programColumns, and
// their scan functions, the only description of those rows. {{members}}
// and {{money}} are filled in by grantReadSQL.
const grantReadQuery = `SELECT ` + grantColumns + `, gr.*, p.*,
	COALESCE((SELECT json_agg(x ORDER BY x.seq) FROM (` + activitiesSelect + ` WHERE a.grant_id = g.id) x), '[]'),
	COALESCE((SELECT json_agg(x ORDER BY x.seq) FROM (
		SELECT b.id, b.seq, b.category, b.description, b.quantity, b.unit, b.unit_price, b.amount,
			COALESCE((SELECT sum(s.amount) FROM expenses s WHERE s.budget_line_id = b.id AND s.voided_at IS NULL), 0) AS spent
		FROM budget_lines b WHERE b.grant_id = g.id) x), '[]'),
	CASE WHEN {{members}} THEN COALESCE((SELECT json_agg(x ORDER BY x.seq) FROM (
		SELECT m.id, m.name, m.simpatika_id, m.nip, m.madrasah, m.position, m.seq FROM members m WHERE m.group_id = g.group_id) x), '[]') END,
	CASE WHEN g.state = 'funded' THEN (SELECT f.comment FROM grant_events f
		WHERE f.grant_id = g.id AND f.action = 'return_report' ORDER BY f.seq DESC LIMIT 1) END,
	rep.code, rep.sha256,
	CASE WHEN {{money}} THEN COALESCE((SELECT json_agg(x ORDER BY x.tranche) FROM (
		SELECT t.id, t.grant_id, t.tranche, t.amount, t.transferred_on, t.reference, t.recorded_by, t.created_at
		FROM disbursements t WHERE t.grant_id = g.id) x), '[]') END,
	CASE WHEN {{money}} THEN COALESCE((SELECT json_agg(x ORDER BY x.id) FROM (
		SELECT ` + expenseColumns + ` FROM expenses e JOIN evidence v ON v.id = e.receipt_id WHERE e.grant_id = g.id) x), '[]') END,
	CASE WHEN {{money}} THEN COALESCE((SELECT json_agg(x ORDER BY x.id) FROM (
		SELECT f.id, f.grant_id, f.amount, f.paid_on, f.ntpn, COALESCE(f.proof_id, 0) AS proof_id, f.created_by, f.created_at
		FROM refunds f WHERE f.grant_id = g.id) x), '[]') END
	FROM grants g
	JOIN LATERAL (SELECT ` + groupColumns + ` FROM groups WHERE id = g.group_id) gr ON true
	JOIN LATERAL (SELECT ` + programColumns + ` FROM programs WHERE id = g.program_id) p ON true
	LEFT JOIN grant_reports rep ON rep.grant_id = g.id AND g.state = 'closed'` + grantMoney + `
	WHERE g.id = $1`

// grantReadSQL is grantReadQuery for o, whose choices are written into the
// text as constants ($1, the grant id, is the only parameter). As
// parameters they made every execution plan anew: PostgreSQL's custom plan
// for "money: false" drops the money subqueries, so the generic plan,
// which must keep them, always looked dearer, and planning the statement
// costs twice running it (1.1 ms against 0.46 ms). With constants each
// variant gets its generic plan after five runs and is never planned again.
func grantReadSQL(o ReadOptions) string {
	members := "false"
	if len(o.MembersIn) > 0 {
		states := make([]string, len(o.MembersIn))
		for i, st := range o.MembersIn {
			states[i] = pq.QuoteLiteral(string(st))
		}
		members = "g.state IN (" + strings.Join(states, ", ") + ")"
	}
	money := "false"
	if o.Money {
		money = "true"
	}
	return strings.NewReplacer("{{members}}", members, "{{money}}", money).Replace(grantReadQuery)
}

// GrantReadStatement is the SQL ReadGrant runs for o ($1 the grant id), for
// the benchmark that runs it under pgbench as the ceiling of GET /grants/{id}.
func GrantReadStatement(o ReadOptions) string { return grantReadSQL(o) }

// ReadGrant returns grant id with what o asks for, in one prepared
// statement, or ENotFound. It reads, it never checks who asks: the caller does.
func (db *DB) ReadGrant(ctx context.Context, id int64, o ReadOptions) (GrantRead, error) {
	var (
		r                                 GrantRead
		acts, budget, members, ds, es, rs []byte
		findings, reportCode, reportSHA   *string
	)
	extra := func(sc scanner) error {
		return sc.Scan(&acts, &budget, &members, &findings, &reportCode, &reportSHA, &ds, &es, &rs)
	}
	st, err := db.prepared(ctx, grantReadSQL(o))
	if err != nil {
		return r, err
	}
	row := st.QueryRowxContext(ctx, id)
	err = scanParts(row,
		func(sc scanner) (err error) { r.Grant, err = scanGrant(sc); return err },
		func(sc scanner) (err error) { r.Group, err = scanGroup(sc); return err },
		func(sc scanner) (err error) { r.Program, err = scanProgram(sc); return err },
		extra)
	if err != nil {
		return r, notFound(err, "hibah", id)
	}
	r.Findings, r.ReportCode, r.ReportSHA256 = deref(findings), deref(reportCode), deref(reportSHA)
	r.Grant.Activities, r.Grant.Budget = []workflow.Activity{}, []workflow.BudgetLine{}
	for _, l := range []struct {
		b    []byte
		into any
	}{{acts, &r.Grant.Activities}, {budget, &r.Grant.Budget}, {members, &r.Group.Members},
		{ds, &r.Disbursements}, {es, &r.Expenses}, {rs, &r.Refunds}} {
		if l.b == nil {
			continue // not asked for
		}
		if err := json.Unmarshal(l.b, l.into); err != nil {
			return r, workflow.Wrap(workflow.EInternal, err, "data hibah %d tidak dapat dibaca", id)
		}
	}
	for i := range r.Expenses {
		e := &r.Expenses[i].Expense
		e.CreatedAt = e.CreatedAt.UTC()
		if e.VoidedAt != nil {
			t := e.VoidedAt.UTC()
			e.VoidedAt = &t
		}
	}
	return r, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// scanner is what sql.Row, sql.Rows and sqlx's rows share.
type scanner interface{ Scan(...any) error }

// scanFunc is a Scan callback: it receives the destinations of one part of
// a row (scanGroup hands its own), the rest is read by the parts after it.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// scanParts reads one row whose columns are the columns of several parts
// in order, each part read by its own scan function (scanGrant, scanGroup,
// …), so a statement that joins rows of several kinds reuses the one
// description of each. Each part's function runs its work after the row
// was read (scanProgram decodes its settings then), as it does alone.
func scanParts(row scanner, parts ...func(scanner) error) error {
	var dests []any
	var step func(i int) error
	step = func(i int) error {
		if i == len(parts) {
			return row.Scan(dests...)
		}
		return parts[i](scanFunc(func(d ...any) error {
			dests = append(dests, d...)
			return step(i + 1)
		}))
	}
	return step(0)
}
