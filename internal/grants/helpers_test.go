package grants_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"grantflow/internal/demo"
	"grantflow/internal/evidence"
	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

// world is a database seeded with the demo: a programme, staff of every role,
// eight groups with chairs and treasurers, and one grant in each state the
// demo reaches.
type world struct {
	db     *postgres.DB
	svc    *grants.Service
	admin  workflow.Actor
	out    string
	byStat map[workflow.State]grants.View
}

// seed gives t its own database filled by demo.Seed. The demo is the
// fixture because it drives every grant through the service, the way people do.
func seed(t *testing.T) *world {
	t.Helper()
	db := pgtest.New(t)
	store, err := evidence.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := grants.New(db, grants.Options{Store: store})
	var out bytes.Buffer
	if err := demo.Seed(ctxT(t), svc, &out); err != nil {
		t.Fatalf("SeedDemo: %v", err)
	}
	return newWorld(t, db, svc, out.String())
}

// seeded gives t its own copy (pgtest.Clone) of a database seeded once per
// test binary: seeding hashes 24 passwords and drives 9 grants, which would
// dominate the run if every test did it.
func seeded(t *testing.T) *world {
	t.Helper()
	demoTmpl.once.Do(func() {
		ctx := context.Background()
		if demoTmpl.name, demoTmpl.err = pgtest.Create(ctx); demoTmpl.err != nil {
			return
		}
		db, err := postgres.Open(ctx, pgtest.URL(demoTmpl.name))
		if err != nil {
			demoTmpl.err = err
			return
		}
		defer db.Close()
		var out bytes.Buffer
		demoTmpl.err = demo.Seed(ctx, grants.New(db, grants.Options{}), &out)
		demoTmpl.out = out.String()
	})
	if demoTmpl.err != nil {
		t.Fatalf("seeding the demo template: %v", demoTmpl.err)
	}
	db := pgtest.Clone(t, demoTmpl.name)
	return newWorld(t, db, grants.New(db, grants.Options{}), demoTmpl.out)
}

var demoTmpl struct {
	once sync.Once
	name string
	out  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if demoTmpl.name != "" {
		pgtest.Drop(demoTmpl.name)
	}
	os.Exit(code)
}

func newWorld(t *testing.T, db *postgres.DB, svc *grants.Service, out string) *world {
	t.Helper()
	w := &world{db: db, svc: svc, out: out, byStat: map[workflow.State]grants.View{}}
	w.admin = w.actor(t, "admin@demo.grantflow.id")
	all, err := w.svc.Grants(ctxT(t), w.admin, grants.ListFilter{})
	if err != nil {
		t.Fatalf("Grants: %v", err)
	}
	for _, g := range all {
		w.byStat[g.State] = g
	}
	return w
}

// actor reads a user's identity straight from the database: no password
// hashing, so tests stay fast.
func (w *world) actor(t *testing.T, email string) workflow.Actor {
	t.Helper()
	u, err := w.db.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return u.Actor()
}

// grant returns the demo grant in state s.
func (w *world) grant(t *testing.T, s workflow.State) grants.View {
	t.Helper()
	g, ok := w.byStat[s]
	if !ok {
		t.Fatalf("no demo grant in state %s", s)
	}
	return g
}

// chairOf returns the actor of the chair of group id.
func (w *world) chairOf(t *testing.T, groupID int64) workflow.Actor {
	t.Helper()
	var email string
	err := w.db.SQL().QueryRow(`SELECT email FROM users WHERE group_id = $1 AND 'chair' = ANY(roles)`, groupID).Scan(&email)
	if err != nil {
		t.Fatalf("chair of group %d: %v", groupID, err)
	}
	return w.actor(t, email)
}

// tamper is pgtest.TamperEvents: stmt run with the append-only trigger off.
func tamper(t *testing.T, db *sql.DB, stmt string, args ...any) {
	t.Helper()
	pgtest.TamperEvents(t, db, stmt, args...)
}

func wantCode(t *testing.T, what string, err error, code workflow.Code) {
	t.Helper()
	if got := workflow.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

// hasField reports whether err carries a detail on field.
func hasField(err error, field string) bool {
	var we *workflow.Error
	if !errors.As(err, &we) {
		return false
	}
	for _, d := range we.Details {
		if d.Field == field {
			return true
		}
	}
	return false
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// ---------------------------------------------------------------------------
// A fixture built per test: for tests that need grants of their own (money,
// activities, audits) rather than the demo's.

// fixture is a database with a programme, the staff a grant needs, and a
// service whose clock a test may move forward.
type fixture struct {
	db       *postgres.DB
	svc      *grants.Service
	store    evidence.Store
	prog     workflow.Program
	today    workflow.Date
	skew     atomic.Int64 // nanoseconds added to the service clock
	verifier workflow.Actor
	approver workflow.Actor
	finance  workflow.Actor
	n        int
}

// newFixture gives t its own database and a service on store st whose
// clock is the wall clock plus f.skew; the programme is open around today.
func newFixture(t *testing.T, st evidence.Store) *fixture {
	t.Helper()
	ctx := ctxT(t)
	f := &fixture{db: pgtest.New(t), store: st}
	// Ten connections still run the concurrency tests' transactions side by
	// side while leaving room on a server shared by parallel test binaries.
	f.db.SQL().SetMaxOpenConns(10)
	f.svc = grants.New(f.db, grants.Options{Store: st, Now: func() time.Time {
		return time.Now().Add(time.Duration(f.skew.Load()))
	}})
	f.today = workflow.DateOf(time.Now().In(workflow.Jakarta))
	var err error
	f.prog, err = f.svc.CreateProgram(ctx, grants.System, workflow.Program{
		Name: "Program Uji Layanan Keuangan", Year: f.today.Time().Year(),
		ProposalOpensOn: f.today.AddDays(-60), ProposalClosesOn: f.today.AddDays(30),
		ActivityEndsOn: f.today.AddDays(200), ReportDueOn: f.today.AddDays(230), BudgetTotal: 1_000_000_000,
	})
	if err != nil {
		t.Fatalf("CreateProgram: %v", err)
	}
	f.verifier = f.user(t, grants.NewUser{Roles: []workflow.Role{workflow.RoleVerifier}})
	f.approver = f.user(t, grants.NewUser{Roles: []workflow.Role{workflow.RoleApprover}})
	f.finance = f.user(t, grants.NewUser{Roles: []workflow.Role{workflow.RoleFinance}})
	return f
}

func localStore(t *testing.T) evidence.Store {
	st, err := evidence.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func s3Store(t *testing.T) evidence.Store {
	st, err := evidence.NewS3(context.Background(), evidence.S3Config{Endpoint: evidencetest.FakeS3(t), Region: "us-east-1", Bucket: "evidence",
		AccessKey: "test", SecretKey: "test-secret", Prefix: "gc", TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (f *fixture) user(t *testing.T, in grants.NewUser) workflow.Actor {
	t.Helper()
	f.n++
	in.Email = fmt.Sprintf("mxsvc%d@uji.grantflow.id", f.n)
	in.Name = fmt.Sprintf("Pengguna Layanan %d", f.n)
	in.Password = "kata-sandi-uji-panjang"
	u, err := f.svc.CreateUser(ctxT(t), grants.System, in)
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return workflow.Actor{UserID: u.ID, Name: u.Name, Roles: u.Roles, GroupID: u.GroupID, Province: u.Province, Regency: u.Regency}
}

// testGrant is one group's grant with its treasurer, as the fixture drives it.
type testGrant struct {
	id        int64
	treasurer workflow.Actor
	view      grants.View
	lines     map[string]workflow.BudgetLine
}

// draftGrant opens a grant for a new group and returns it with its treasurer.
func (f *fixture) draftGrant(t *testing.T) *testGrant {
	t.Helper()
	ctx := ctxT(t)
	f.n++
	name := fmt.Sprintf("KKG MI Kecamatan Layanan %d", f.n)
	spec := workflow.Group{Kind: workflow.KKG, Name: name, Level: "MI", Province: "Jawa Barat", Regency: "Kota Bandung",
		SKNumber: fmt.Sprintf("B-%d/Kk.10.01/PP.00/2026", 700+f.n), BankName: "Bank Syariah Indonesia",
		BankAccountNumber: fmt.Sprintf("72%08d", 5000+f.n), BankAccountName: name}
	spec.Members = demo.Members(f.n, 15, "MIN 2 Kota Bandung")
	grp, err := f.svc.CreateGroup(ctx, grants.System, spec)
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	g := &testGrant{treasurer: f.user(t, grants.NewUser{Roles: []workflow.Role{workflow.RoleTreasurer}, GroupID: grp.ID})}
	v, err := f.svc.OpenGrant(ctx, g.treasurer, f.prog.ID, grp.ID)
	if err != nil {
		t.Fatalf("OpenGrant: %v", err)
	}
	g.id = v.ID
	return g
}

// recommendedGrant takes a new draft through proposal, submission and
// review to recommended (10 725 000 requested and recommended).
func (f *fixture) recommendedGrant(t *testing.T) *testGrant {
	t.Helper()
	g := f.draftGrant(t)
	f.recommend(t, g.treasurer, g.id, f.today.AddDays(5))
	return g
}

// recommend writes the demo proposal (sessions from day from, total
// 10 725 000) on grant id as treasurer, submits it, and has the verifier
// review and recommend it in full.
func (f *fixture) recommend(t *testing.T, treasurer workflow.Actor, id int64, from workflow.Date) {
	t.Helper()
	ctx := ctxT(t)
	if _, err := f.svc.SaveProposal(ctx, treasurer, id, demo.Proposal(workflow.KKG, from)); err != nil {
		t.Fatalf("SaveProposal: %v", err)
	}
	for _, s := range []struct {
		who    workflow.Actor
		action workflow.Action
		in     grants.ActInput
	}{
		{treasurer, workflow.Submit, grants.ActInput{}},
		{f.verifier, workflow.StartReview, grants.ActInput{}},
		{f.verifier, workflow.Recommend, grants.ActInput{Comment: "Lengkap.", ApprovedAmount: 10_725_000}},
	} {
		if _, err := f.svc.Act(ctx, s.who, id, s.action, s.in); err != nil {
			t.Fatalf("%s: %v", s.action, err)
		}
	}
}

// approve has the fixture's approver approve grant id and returns it.
func (f *fixture) approve(t *testing.T, id int64) grants.View {
	t.Helper()
	v, err := f.svc.Act(ctxT(t), f.approver, id, workflow.Approve, grants.ActInput{Comment: "Disetujui."})
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	return v
}

// fundedGrant drives a new group's grant to funded (tranche 1 transferred 20
// days ago) through the service, the way people do.
func (f *fixture) fundedGrant(t *testing.T) *testGrant {
	t.Helper()
	ctx := ctxT(t)
	g := f.recommendedGrant(t)
	f.approve(t, g.id)
	if _, err := f.svc.Disburse(ctx, f.finance, g.id, grants.DisbursementInput{Tranche: 1, Amount: 7_507_500,
		TransferredOn: f.today.AddDays(-20), Reference: fmt.Sprintf("TRF-%d", g.id)}); err != nil {
		t.Fatalf("Disburse: %v", err)
	}
	g.view = f.grant(t, g)
	g.lines = map[string]workflow.BudgetLine{}
	for _, b := range g.view.Budget {
		g.lines[b.Category] = b
	}
	return g
}

func (f *fixture) grant(t *testing.T, g *testGrant) grants.View {
	t.Helper()
	v, err := f.svc.Grant(ctxT(t), grants.System, g.id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (f *fixture) ingest(t *testing.T, b []byte) *evidence.Object {
	t.Helper()
	obj, err := f.svc.Ingest(ctxT(t), bytes.NewReader(b))
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	return &obj
}

func (f *fixture) spend(t *testing.T, g *testGrant, category string, amount int64, receipt *evidence.Object) (workflow.Expense, error) {
	return f.svc.RecordExpense(ctxT(t), g.treasurer, g.id, grants.ExpenseInput{
		SpentOn: f.today.AddDays(-5), BudgetLineID: g.lines[category].ID,
		Vendor: "Toko Sumber Rejeki", Description: "Belanja " + category, Amount: amount}, receipt)
}

// wantField fails t unless err has code and, when field is not "", names
// field in its details.
func wantField(t *testing.T, what string, err error, code workflow.Code, field string) {
	t.Helper()
	wantCode(t, what, err, code)
	if field != "" && !hasField(err, field) {
		t.Fatalf("%s: %v does not name %q", what, err, field)
	}
}
