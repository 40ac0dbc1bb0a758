package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

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
	// Version is the grant's grant_versions version (migration 0190) on
	// the statement's snapshot, 0 before its first change: the label
	// ReadCache keeps the read under.
	Version int64
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
// money rows. The activities and budget lines, read on every grant
// answer, come as one PostgreSQL array per column (activityArrays,
// budgetArrays), which lib/pq parses several times faster than
// encoding/json decodes the same rows as JSON objects; the lists read
// only by some answers come as JSON arrays named like the Go types' JSON
// fields. The lateral subqueries keep groupColumns and programColumns, and
// their scan functions, the only description of those rows. {{members}}
// and {{money}} are filled in by grantReadSQL.
const grantReadQuery = `SELECT ` + grantColumns + `, gr.*, p.*, act.*, bud.*,
	CASE WHEN {{members}} THEN COALESCE((SELECT json_agg(x) FROM (
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
		FROM refunds f WHERE f.grant_id = g.id) x), '[]') END,
	COALESCE((SELECT gv.version FROM grant_versions gv WHERE gv.grant_id = g.id), 0)
	FROM grants g
	JOIN LATERAL (SELECT ` + groupColumns + ` FROM groups WHERE id = g.group_id) gr ON true
	JOIN LATERAL (SELECT ` + programColumns + ` FROM programs WHERE id = g.program_id) p ON true
` + grantLists + `
	LEFT JOIN grant_reports rep ON rep.grant_id = g.id AND g.state = 'closed'` + grantMoney + `
	WHERE g.id = $1`

// grantReadSQL is grantReadQuery for o, whose choices are written into the
// text as constants ($1, the grant id, is the only parameter). As
// parameters they made every execution plan anew: PostgreSQL's custom plan
// for "money: false" drops the money subqueries, so the generic plan,
// which must keep them, always looked dearer, and planning the statement
// costs twice running it (1.1 ms against 0.46 ms). With constants each
// variant gets its generic plan after five runs and is never planned again.
//
// The texts are kept by readSQLs: writing the 3 kB text anew on every
// read cost more Go time than scanning the row.
func grantReadSQL(o ReadOptions) string {
	key := readKey(o)
	if q, ok := readSQLs.Load(key); ok {
		return q.(string)
	}
	q, _ := readSQLs.LoadOrStore(key, buildGrantReadSQL(o))
	return q.(string)
}

// readSQLs maps readKey(o) to grantReadSQL(o): a handful of variants.
var readSQLs sync.Map

// readKey names the variant of grantReadSQL that o asks for.
func readKey(o ReadOptions) string {
	n := 2
	for _, st := range o.MembersIn {
		n += len(st) + 1
	}
	b := make([]byte, 0, n)
	if o.Money {
		b = append(b, 'm')
	}
	b = append(b, '|')
	for _, st := range o.MembersIn {
		b = append(b, st...)
		b = append(b, ',')
	}
	return string(b)
}

func buildGrantReadSQL(o ReadOptions) string {
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
// statement, or ENotFound. It reads, it never checks who asks: the caller
// does. In a transaction, after LockGrant, it is what a money write checks
// against: one round trip where a read of each kind took six.
func (q q) ReadGrant(ctx context.Context, id int64, o ReadOptions) (GrantRead, error) {
	var (
		r                               GrantRead
		acts                            activityCols
		budget                          budgetCols
		members, ds, es, rs             []byte
		findings, reportCode, reportSHA *string
	)
	extra := func(sc scanner) error {
		return sc.Scan(append(append(acts.dests(), budget.dests()...),
			&members, &findings, &reportCode, &reportSHA, &ds, &es, &rs, &r.Version)...)
	}
	err := scanParts(q.x.QueryRowxContext(ctx, grantReadSQL(o), id),
		func(sc scanner) (err error) { r.Grant, err = scanGrant(sc); return err },
		func(sc scanner) (err error) { r.Group, err = scanGroup(sc); return err },
		func(sc scanner) (err error) { r.Program, err = scanProgram(sc); return err },
		extra)
	if err != nil {
		return r, notFound(err, "hibah", id)
	}
	r.Findings, r.ReportCode, r.ReportSHA256 = deref(findings), deref(reportCode), deref(reportSHA)
	if r.Grant.Activities, err = acts.rows(); err == nil {
		r.Grant.Budget, err = budget.rows()
	}
	if err != nil {
		return r, workflow.Wrap(workflow.EInternal, err, "data hibah %d tidak dapat dibaca", id)
	}
	for _, l := range []struct {
		b    []byte
		into any
	}{{members, &r.Group.Members},
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
		voided(e)
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

// grantLists joins the activities (act) and budget lines (bud) of the
// grant g as activityArrays and budgetArrays, for activityCols and
// budgetCols to scan.
const grantLists = `
	JOIN LATERAL (SELECT ` + activityArrays + ` FROM (` + activitiesSelect + ` WHERE a.grant_id = g.id ORDER BY a.seq) x) act ON true
	JOIN LATERAL (SELECT ` + budgetArrays + ` FROM (
		SELECT b.id, b.seq, b.category, b.description, b.quantity, b.unit, b.unit_price, b.amount,
			COALESCE((SELECT sum(s.amount) FROM expenses s WHERE s.budget_line_id = b.id AND s.voided_at IS NULL), 0)::bigint AS spent
		FROM budget_lines b WHERE b.grant_id = g.id ORDER BY b.seq) x) bud ON true`

// activityArrays aggregates the rows of activitiesSelect, aliased x, into
// one array per column, scanned by activityCols. One aggregate node feeds
// every array the same rows in the same order, so the i-th elements are
// one activity. The rows come from a subquery sorted by seq and so do the
// arrays in practice; an ORDER BY in each aggregate made PostgreSQL sort
// the rows once per column, a third of the statement's time, so rows sorts
// by Seq instead of trusting the order. Text columns
// that may be NULL come as ” (pq.StringArray refuses NULL elements), and
// dates as YYYY-MM-DD text, as json_agg wrote them.
const activityArrays = `array_agg(x.id), array_agg(x.seq),
	array_agg(x.kind), array_agg(x.title),
	array_agg(COALESCE(to_char(x.planned_on, 'YYYY-MM-DD'), '')),
	array_agg(x.planned_participants), array_agg(x.status),
	array_agg(COALESCE(to_char(x.held_on, 'YYYY-MM-DD'), '')),
	array_agg(x.attendee_count), array_agg(x.evidence_count),
	array_agg(x.version), array_agg(x.cancel_reason)`

// activityCols receives activityArrays.
type activityCols struct {
	id, seq, participants, attendees, evidence, version  pq.Int64Array
	kind, title, plannedOn, status, heldOn, cancelReason pq.StringArray
}

func (c *activityCols) dests() []any {
	return []any{&c.id, &c.seq, &c.kind, &c.title, &c.plannedOn, &c.participants, &c.status, &c.heldOn,
		&c.attendees, &c.evidence, &c.version, &c.cancelReason}
}

// rows returns the activities, [] when the grant has none.
func (c *activityCols) rows() ([]workflow.Activity, error) {
	n := len(c.id)
	if err := sameLength(n, len(c.seq), len(c.kind), len(c.title), len(c.plannedOn), len(c.participants), len(c.status),
		len(c.heldOn), len(c.attendees), len(c.evidence), len(c.version), len(c.cancelReason)); err != nil {
		return nil, err
	}
	out := make([]workflow.Activity, n)
	for i := range out {
		planned, err := optionalDate(c.plannedOn[i])
		if err != nil {
			return nil, err
		}
		held, err := optionalDate(c.heldOn[i])
		if err != nil {
			return nil, err
		}
		out[i] = workflow.Activity{ID: c.id[i], Seq: int(c.seq[i]), Kind: workflow.ActivityKind(c.kind[i]), Title: c.title[i],
			PlannedOn: planned, PlannedParticipants: int(c.participants[i]), Status: workflow.ActivityStatus(c.status[i]),
			HeldOn: held, AttendeeCount: int(c.attendees[i]), EvidenceCount: int(c.evidence[i]), Version: int(c.version[i]),
			CancelReason: c.cancelReason[i]}
	}
	bySeq(out, func(a workflow.Activity) int { return a.Seq })
	return out, nil
}

// budgetArrays aggregates budget lines, aliased x, like activityArrays
// (in seq order in practice, sorted by rows otherwise).
const budgetArrays = `array_agg(x.id), array_agg(x.seq),
	array_agg(x.category), array_agg(x.description),
	array_agg(x.quantity), array_agg(x.unit),
	array_agg(x.unit_price), array_agg(x.amount), array_agg(x.spent)`

// budgetCols receives budgetArrays.
type budgetCols struct {
	id, seq, quantity, unitPrice, amount, spent pq.Int64Array
	category, description, unit                 pq.StringArray
}

func (c *budgetCols) dests() []any {
	return []any{&c.id, &c.seq, &c.category, &c.description, &c.quantity, &c.unit, &c.unitPrice, &c.amount, &c.spent}
}

// rows returns the budget lines, [] when the grant has none.
func (c *budgetCols) rows() ([]workflow.BudgetLine, error) {
	n := len(c.id)
	if err := sameLength(n, len(c.seq), len(c.category), len(c.description), len(c.quantity), len(c.unit),
		len(c.unitPrice), len(c.amount), len(c.spent)); err != nil {
		return nil, err
	}
	out := make([]workflow.BudgetLine, n)
	for i := range out {
		out[i] = workflow.BudgetLine{ID: c.id[i], Seq: int(c.seq[i]), Category: c.category[i], Description: c.description[i],
			Quantity: c.quantity[i], Unit: c.unit[i], UnitPrice: c.unitPrice[i], Amount: c.amount[i], Spent: c.spent[i]}
	}
	bySeq(out, func(b workflow.BudgetLine) int { return b.Seq })
	return out, nil
}

// bySeq sorts rows by seq unless they already are (they come sorted).
func bySeq[T any](rows []T, seq func(T) int) {
	cmp := func(a, b T) int { return seq(a) - seq(b) }
	if !slices.IsSortedFunc(rows, cmp) {
		slices.SortFunc(rows, cmp)
	}
}

// sameLength reports column arrays of different lengths, which one
// aggregate over the same rows cannot produce.
func sameLength(n int, lens ...int) error {
	for _, l := range lens {
		if l != n {
			return fmt.Errorf("column arrays of %d and %d elements", n, l)
		}
	}
	return nil
}

// optionalDate parses a YYYY-MM-DD column, "" being the zero Date.
func optionalDate(s string) (workflow.Date, error) {
	if s == "" {
		return workflow.Date{}, nil
	}
	return workflow.ParseDate(s)
}
