package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

	"grantflow/workflow"
)

// grantColumns and grantMoney read a grant with its money derived from the
// rows that make it; grantSelect puts them together for one table.
const (
	grantColumns = `g.id, g.number, g.program_id, g.group_id, g.state, g.amount_requested, g.amount_approved,
	COALESCE(g.verifier_id, 0), COALESCE(g.approver_id, 0), g.background, g.objectives, g.sustainability_plan,
	g.created_at, g.updated_at,
	COALESCE(d.total, 0), COALESCE(d.n, 0),
	COALESCE(e.total, 0), COALESCE(e.receipted, 0), COALESCE(e.missing, 0),
	COALESCE(r.total, 0), ` + reportConfirmedExpr
	grantMoney = `
	LEFT JOIN LATERAL (SELECT sum(amount) AS total, count(*) AS n FROM disbursements WHERE grant_id = g.id) d ON true
	LEFT JOIN LATERAL (SELECT sum(amount) AS total,
			sum(amount) FILTER (WHERE receipt_id IS NOT NULL) AS receipted,
			count(*) FILTER (WHERE receipt_id IS NULL) AS missing
		FROM expenses WHERE grant_id = g.id AND voided_at IS NULL) e ON true
	LEFT JOIN LATERAL (SELECT sum(amount) AS total FROM refunds WHERE grant_id = g.id) r ON true`
	grantSelect = `SELECT ` + grantColumns + ` FROM grants g` + grantMoney
)

func scanGrant(sc interface{ Scan(...any) error }) (workflow.Grant, error) {
	var g workflow.Grant
	err := sc.Scan(&g.ID, &g.Number, &g.ProgramID, &g.GroupID, &g.State, &g.AmountRequested, &g.AmountApproved,
		&g.VerifierID, &g.ApproverID, &g.Background, &g.Objectives, &g.SustainabilityPlan,
		&g.CreatedAt, &g.UpdatedAt,
		&g.Disbursed, &g.TranchesPaid, &g.Spent, &g.Receipted, &g.ExpensesWithoutReceipt, &g.Refunded, &g.ReportConfirmed)
	return g, err
}

// CreateGrant opens a draft for the group in the programme and gives it a
// number such as KKG-2026-000123. A second grant for the same pair answers EConflict.
func (tx *Tx) CreateGrant(ctx context.Context, p workflow.Program, grp workflow.Group) (workflow.Grant, error) {
	var seq int64
	if err := tx.x.GetContext(ctx, &seq, `SELECT nextval('grant_number_seq')`); err != nil {
		return workflow.Grant{}, mapErr(err)
	}
	number := fmt.Sprintf("%s-%d-%06d", grp.Kind, p.Year, seq)
	const query = `INSERT INTO grants (number, program_id, group_id, state, created_at, updated_at)
		VALUES ($1, $2, $3, 'draft', $4, $4) RETURNING id`
	var id int64
	if err := tx.x.GetContext(ctx, &id, query, number, p.ID, grp.ID, tx.now); err != nil {
		if workflow.ErrorCode(mapErr(err)) == workflow.EConflict {
			return workflow.Grant{}, workflow.Errorf(workflow.EConflict, "kelompok ini sudah memiliki hibah pada program ini")
		}
		return workflow.Grant{}, mapErr(err)
	}
	return tx.Grant(ctx, id)
}

// Grant returns a grant with its activities, budget lines and derived money, or ENotFound.
func (q q) Grant(ctx context.Context, id int64) (workflow.Grant, error) {
	return q.loadGrant(ctx, id)
}

// GrantForUpdate is Grant that also locks the grant row until the
// transaction ends: every change to a grant or its money goes through it.
//
// The lock is taken by a statement of its own before the grant is read. Under
// READ COMMITTED a locking SELECT that waited re-reads only the locked row;
// its money sums would still come from the snapshot taken before the wait and
// miss what the transaction it waited for committed. A new statement after
// the lock sees every commit, so concurrent expenses cannot jointly overspend.
func (tx *Tx) GrantForUpdate(ctx context.Context, id int64) (workflow.Grant, error) {
	if err := tx.LockGrant(ctx, id); err != nil {
		return workflow.Grant{}, err
	}
	return tx.loadGrant(ctx, id)
}

// LockGrant locks grant id's row until the transaction ends, or answers
// ENotFound. Read the grant after it, in statements of their own (see
// GrantForUpdate).
func (tx *Tx) LockGrant(ctx context.Context, id int64) error {
	var locked int64
	if err := tx.x.GetContext(ctx, &locked, `SELECT id FROM grants WHERE id = $1 FOR UPDATE`, id); err != nil {
		return notFound(err, "hibah", id)
	}
	return nil
}

func (q q) loadGrant(ctx context.Context, id int64) (workflow.Grant, error) {
	// One statement, one snapshot: the grant's totals and its lines'
	// spent agree, and every write that locks a grant pays one round trip
	// for it instead of three while others wait on the lock.
	const query = `SELECT ` + grantColumns + `, act.*, bud.* FROM grants g` + grantMoney + grantLists + ` WHERE g.id = $1`
	var (
		g      workflow.Grant
		acts   activityCols
		budget budgetCols
	)
	err := scanParts(q.x.QueryRowxContext(ctx, query, id),
		func(sc scanner) (err error) { g, err = scanGrant(sc); return err },
		func(sc scanner) error { return sc.Scan(append(acts.dests(), budget.dests()...)...) })
	if err != nil {
		return g, notFound(err, "hibah", id)
	}
	if g.Activities, err = acts.rows(); err == nil {
		g.Budget, err = budget.rows()
	}
	if err != nil {
		return g, workflow.Wrap(workflow.EInternal, err, "data hibah %d tidak dapat dibaca", id)
	}
	return g, nil
}

// GrantFilter narrows a grant listing; zero fields match everything.
type GrantFilter struct {
	Scope
	State     workflow.State
	ProgramID int64
	// ReportOverdueOn, when set, keeps the grants whose LPJ is overdue on
	// that day (workflow.ReportOverdue): funded, programme's report_due_on before it.
	ReportOverdueOn workflow.Date
	Limit           int
	// Before, when > 0, keeps the grants with a smaller id: the page after
	// the one that ended with grant Before (the order is newest first).
	Before int64
}

// ListedGrant is a grant of a listing with the group it belongs to (its
// header: no members) and without activities and budget lines.
type ListedGrant struct {
	Grant workflow.Grant
	Group workflow.Group
	// ReportDueOn is the programme's LPJ due date, for workflow.ReportOverdue.
	ReportDueOn workflow.Date
	// Matching is how many grants match the filter, its page (Limit,
	// Before) aside: the same on every row.
	Matching int
}

// Grants returns the grants matching f with their money, group and
// programme's report due date, newest first (by id, so pages do not
// overlap), in one statement.
func (q q) Grants(ctx context.Context, f GrantFilter) ([]ListedGrant, error) {
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 10000
	}
	// The count repeats the filter in a subquery of its own (its aliases
	// shadow the outer ones): PostgreSQL runs it once, beside the page.
	const from = ` FROM grants g JOIN groups gr ON gr.id = g.group_id JOIN programs p ON p.id = g.program_id`
	const where = `
		WHERE ($1 = '' OR gr.province_code = $1) AND ($2 = '' OR gr.regency_code = $2) AND ($3 = 0 OR g.group_id = $3)
		AND ($4 = '' OR g.state = $4) AND ($5 = 0 OR g.program_id = $5)
		AND (CAST($7 AS date) IS NULL OR (g.state = 'funded' AND p.report_due_on < CAST($7 AS date)))`
	const query = `SELECT ` + grantColumns + `, gr.kind, gr.name, gr.province, gr.regency, gr.province_code, gr.regency_code, p.report_due_on,
		(SELECT count(*)` + from + where + `) AS matching` + from + grantMoney + where + `
		AND ($8 = 0 OR g.id < $8)
		ORDER BY g.id DESC LIMIT $6`
	rows, err := q.x.QueryxContext(ctx, query, f.ProvinceCode, f.RegencyCode, f.GroupID, string(f.State), f.ProgramID, f.Limit, f.ReportOverdueOn, f.Before)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []ListedGrant{}
	for rows.Next() {
		var l ListedGrant
		g := &l.Grant
		err := rows.Scan(&g.ID, &g.Number, &g.ProgramID, &g.GroupID, &g.State, &g.AmountRequested, &g.AmountApproved,
			&g.VerifierID, &g.ApproverID, &g.Background, &g.Objectives, &g.SustainabilityPlan,
			&g.CreatedAt, &g.UpdatedAt,
			&g.Disbursed, &g.TranchesPaid, &g.Spent, &g.Receipted, &g.ExpensesWithoutReceipt, &g.Refunded, &g.ReportConfirmed,
			&l.Group.Kind, &l.Group.Name, &l.Group.Province, &l.Group.Regency, &l.Group.ProvinceCode, &l.Group.RegencyCode, &l.ReportDueOn, &l.Matching)
		if err != nil {
			return nil, mapErr(err)
		}
		l.Group.ID = g.GroupID
		out = append(out, l)
	}
	return out, mapErr(rows.Err())
}

// SaveProposal replaces the proposal text, planned activities, budget lines
// and requested amount of a grant locked by GrantForUpdate.
func (tx *Tx) SaveProposal(ctx context.Context, g workflow.Grant) error {
	const text = `UPDATE grants SET background = $2, objectives = $3, sustainability_plan = $4, updated_at = $5,
		amount_requested = $6 WHERE id = $1`
	if _, err := tx.x.ExecContext(ctx, text, g.ID, g.Background, g.Objectives, g.SustainabilityPlan, tx.now, g.AmountRequested); err != nil {
		return mapErr(err)
	}
	for _, del := range []string{`DELETE FROM activities WHERE grant_id = $1`, `DELETE FROM budget_lines WHERE grant_id = $1`} {
		if _, err := tx.x.ExecContext(ctx, del, g.ID); err != nil {
			return mapErr(err)
		}
	}
	n := len(g.Activities)
	aSeq, aKind, aTitle, aPlanned, aPart := make([]int64, n), make([]string, n), make([]string, n), make([]*string, n), make([]int64, n)
	for i, a := range g.Activities {
		aSeq[i], aKind[i], aTitle[i], aPart[i] = int64(a.Seq), string(a.Kind), a.Title, int64(a.PlannedParticipants)
		if !a.PlannedOn.IsZero() {
			s := a.PlannedOn.String()
			aPlanned[i] = &s
		}
	}
	const acts = `INSERT INTO activities (grant_id, seq, kind, title, planned_on, planned_participants)
		SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::date[], $6::int[])`
	if _, err := tx.x.ExecContext(ctx, acts, g.ID, pq.Array(aSeq), pq.Array(aKind), pq.Array(aTitle), pq.Array(aPlanned), pq.Array(aPart)); err != nil {
		return mapErr(err)
	}
	m := len(g.Budget)
	bSeq, bCat, bDesc, bQty, bUnit, bPrice := make([]int64, m), make([]string, m), make([]string, m), make([]int64, m), make([]string, m), make([]int64, m)
	for i, b := range g.Budget {
		bSeq[i], bCat[i], bDesc[i], bQty[i], bUnit[i], bPrice[i] = int64(b.Seq), b.Category, b.Description, b.Quantity, b.Unit, b.UnitPrice
	}
	const lines = `INSERT INTO budget_lines (grant_id, seq, category, description, quantity, unit, unit_price, amount)
		SELECT $1, s, c, d, qty, u, p, qty * p FROM unnest($2::int[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::bigint[]) AS t(s, c, d, qty, u, p)`
	_, err := tx.x.ExecContext(ctx, lines, g.ID, pq.Array(bSeq), pq.Array(bCat), pq.Array(bDesc), pq.Array(bQty), pq.Array(bUnit), pq.Array(bPrice))
	return mapErr(err)
}

// SaveTransition writes the state and amounts Apply changed on a locked grant
// and appends its event, in the caller's transaction.
func (tx *Tx) SaveTransition(ctx context.Context, g workflow.Grant, ev workflow.Event) (workflow.Event, error) {
	const query = `UPDATE grants SET state = $2, amount_requested = $3, amount_approved = $4,
		verifier_id = $5, approver_id = $6, updated_at = $7 WHERE id = $1`
	if _, err := tx.x.ExecContext(ctx, query, g.ID, g.State, g.AmountRequested, g.AmountApproved,
		nullID(g.VerifierID), nullID(g.ApproverID), tx.now); err != nil {
		return ev, mapErr(err)
	}
	return tx.AppendEvent(ctx, ev)
}

// AppendEvent gives ev the next sequence number of its grant, chains its hash
// to the previous event and inserts it. The caller must hold the grant's row
// lock (GrantForUpdate), which is what keeps the chain a line.
func (tx *Tx) AppendEvent(ctx context.Context, ev workflow.Event) (workflow.Event, error) {
	var last struct {
		Seq  int    `json:"seq"`
		Hash string `json:"hash"`
	}
	err := tx.x.GetContext(ctx, &last, `SELECT seq, hash FROM grant_events WHERE grant_id = $1 ORDER BY seq DESC LIMIT 1`, ev.GrantID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return ev, mapErr(err)
	}
	ev.Seq, ev.PrevHash = last.Seq+1, last.Hash
	if ev.At.IsZero() {
		ev.At = tx.now
	}
	ev.At = ev.At.UTC().Truncate(time.Microsecond)
	if ev.Data == nil {
		ev.Data = map[string]any{}
	}
	ev.Hash = workflow.ChainHash(ev.PrevHash, ev.Canonical())
	data, err := json.Marshal(ev.Data)
	if err != nil {
		return ev, workflow.Wrap(workflow.EInternal, err, "data peristiwa tidak dapat disimpan")
	}
	const query = `INSERT INTO grant_events (grant_id, seq, action, from_state, to_state, actor_id, actor_name, actor_role,
		comment, data, at, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`
	err = tx.x.GetContext(ctx, &ev.ID, query, ev.GrantID, ev.Seq, ev.Action, ev.FromState, ev.ToState, ev.ActorID, ev.ActorName,
		ev.ActorRole, ev.Comment, string(data), ev.At, ev.PrevHash, ev.Hash)
	return ev, mapErr(err)
}

const eventColumns = `id, grant_id, seq, action, from_state, to_state, actor_id, actor_name, actor_role, comment, data, at, prev_hash, hash`

func scanEvent(sc interface{ Scan(...any) error }) (workflow.Event, error) {
	var ev workflow.Event
	var data []byte
	if err := sc.Scan(&ev.ID, &ev.GrantID, &ev.Seq, &ev.Action, &ev.FromState, &ev.ToState, &ev.ActorID, &ev.ActorName,
		&ev.ActorRole, &ev.Comment, &data, &ev.At, &ev.PrevHash, &ev.Hash); err != nil {
		return ev, err
	}
	ev.At = ev.At.UTC()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keep int64 digits exact for the hash
	if err := dec.Decode(&ev.Data); err != nil {
		return ev, workflow.Wrap(workflow.EInternal, err, "data peristiwa rusak")
	}
	return ev, nil
}

// Events returns a grant's events in chain order.
func (q q) Events(ctx context.Context, grantID int64) ([]workflow.Event, error) {
	out := []workflow.Event{}
	err := q.EachEvent(ctx, grantID, func(ev workflow.Event) error { out = append(out, ev); return nil })
	return out, err
}

// EachEvent calls fn for every event in order of grant and sequence; with
// grantID > 0 only that grant's. It stops at fn's first error and returns it.
func (q q) EachEvent(ctx context.Context, grantID int64, fn func(workflow.Event) error) error {
	query := `SELECT ` + eventColumns + ` FROM grant_events WHERE ($1 = 0 OR grant_id = $1) ORDER BY grant_id, seq`
	rows, err := q.x.QueryxContext(ctx, query, grantID)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return mapErr(err)
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
	return mapErr(rows.Err())
}

// Place is where a grant stands and whose it is: its state and its group's
// id and region (official codes).
type Place struct {
	State        workflow.State
	GroupID      int64
	ProvinceCode string
	RegencyCode  string
}

// GrantPlace returns a grant's Place: what a permission check needs, in one
// statement. A missing grant is ENotFound.
func (q q) GrantPlace(ctx context.Context, id int64) (Place, error) {
	const query = `SELECT g.state, g.group_id, gr.province_code, gr.regency_code FROM grants g JOIN groups gr ON gr.id = g.group_id WHERE g.id = $1`
	var p Place
	if err := q.x.QueryRowxContext(ctx, query, id).Scan(&p.State, &p.GroupID, &p.ProvinceCode, &p.RegencyCode); err != nil {
		return Place{}, notFound(err, "hibah", id)
	}
	return p, nil
}
