package monitor_test

// The fixture of the monitoring tests. Everything that needs the grants
// service (groups, users, grants driven to funded) is here and only here, so
// that the grants refactoring has one file to adapt.

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"grantflow/internal/demo"
	"grantflow/internal/grants"
	"grantflow/internal/monitor"
	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

// fix is one database with the grants service, a monitor service whose
// clock a test sets to any day, and the staff a grant needs.
type fix struct {
	t        *testing.T
	db       *postgres.DB
	dbName   string
	svc      *grants.Service
	mon      *monitor.Service
	clock    atomic.Int64 // unix seconds of the monitor clock
	today    workflow.Date
	verifier workflow.Actor
	approver workflow.Actor
	finance  workflow.Actor
	n        int
}

func ctxOf(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newFix(t *testing.T, o monitor.Options) *fix {
	t.Helper()
	f := &fix{t: t, dbName: pgtest.NewDatabase(t)}
	db, err := postgres.Open(context.Background(), pgtest.URL(f.dbName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SQL().SetMaxOpenConns(8)
	f.db = db
	f.svc = grants.New(db, grants.Options{})
	f.today = workflow.DateOf(time.Now().In(workflow.Jakarta))
	f.setClock(f.today)
	o.Now = f.now
	f.mon = monitor.New(db, o)
	f.verifier = f.user(grants.NewUser{Roles: []workflow.Role{workflow.RoleVerifier}})
	f.approver = f.user(grants.NewUser{Roles: []workflow.Role{workflow.RoleApprover}})
	f.finance = f.user(grants.NewUser{Roles: []workflow.Role{workflow.RoleFinance}})
	return f
}

// now is the monitor's clock: noon in Jakarta of the day set last.
func (f *fix) now() time.Time { return time.Unix(f.clock.Load(), 0) }

func (f *fix) setClock(d workflow.Date) {
	y, m, day := d.Time().Date()
	f.clock.Store(time.Date(y, m, day, 12, 0, 0, 0, workflow.Jakarta).Unix())
}

// program creates a programme open for proposals today whose activity
// period ends on ends (at least 62 days ahead: the demo proposal's sessions
// run 56 days from today+5) and whose LPJ is due 30 days later.
func (f *fix) program(ends workflow.Date) workflow.Program {
	f.t.Helper()
	p, err := f.svc.CreateProgram(ctxOf(f.t), grants.System, workflow.Program{
		Name: fmt.Sprintf("Program Pemantauan %s", ends), Year: f.today.Year(),
		ProposalOpensOn: f.today.AddDays(-30), ProposalClosesOn: f.today.AddDays(10),
		ActivityEndsOn: ends, ReportDueOn: ends.AddDays(30), BudgetTotal: 10_000_000_000,
	})
	if err != nil {
		f.t.Fatalf("CreateProgram: %v", err)
	}
	return p
}

func (f *fix) user(in grants.NewUser) workflow.Actor {
	f.t.Helper()
	f.n++
	if in.Email == "" {
		in.Email = fmt.Sprintf("pantau%d@uji.grantflow.id", f.n)
	}
	in.Name = fmt.Sprintf("Pengguna Pantau %d", f.n)
	in.Password = "kata-sandi-uji-panjang"
	u, err := f.svc.CreateUser(ctxOf(f.t), grants.System, in)
	if err != nil {
		f.t.Fatalf("CreateUser: %v", err)
	}
	return u.Actor()
}

// group is one registered group with its chair and treasurer.
type group struct {
	id        int64
	grantID   int64
	chair     workflow.Actor
	treasurer workflow.Actor
}

// where places a group: kind and region.
type where struct {
	kind     workflow.Kind
	province string
	regency  string
}

var bandung = where{workflow.KKG, "Jawa Barat", "Kota Bandung"}

// newGroup registers a group of 15 members with a chair and a treasurer.
func (f *fix) newGroup(w where) group {
	f.t.Helper()
	f.n++
	spec := workflow.Group{Kind: w.kind, Level: "MI", Province: w.province, Regency: w.regency,
		SKNumber: fmt.Sprintf("B-%d/Kk.10.01/PP.00/2026", 900+f.n), BankName: "Bank Syariah Indonesia",
		BankAccountNumber: fmt.Sprintf("73%08d", 7000+f.n)}
	spec.Name = fmt.Sprintf("%s MI Kecamatan Pantau %d", w.kind, f.n)
	if w.kind == workflow.MGMP {
		spec.Name, spec.Subject, spec.Level = fmt.Sprintf("MGMP Matematika MTs Pantau %d", f.n), "Matematika", "MTs"
	}
	spec.BankAccountName = spec.Name
	spec.Members = demo.Members(f.n, 15, "MIN 3 "+w.regency)
	grp, err := f.svc.CreateGroup(ctxOf(f.t), grants.System, spec)
	if err != nil {
		f.t.Fatalf("CreateGroup: %v", err)
	}
	g := group{id: grp.ID}
	g.chair = f.user(grants.NewUser{Roles: []workflow.Role{workflow.RoleChair}, GroupID: grp.ID})
	g.treasurer = f.user(grants.NewUser{Roles: []workflow.Role{workflow.RoleTreasurer}, GroupID: grp.ID})
	return g
}

// recommended opens g's grant in p and drives it to recommended: never funded.
func (f *fix) recommended(p workflow.Program, g *group, kind workflow.Kind) grants.View {
	f.t.Helper()
	ctx := ctxOf(f.t)
	v, err := f.svc.OpenGrant(ctx, g.chair, p.ID, g.id)
	if err != nil {
		f.t.Fatalf("OpenGrant: %v", err)
	}
	g.grantID = v.ID
	if v, err = f.svc.SaveProposal(ctx, g.chair, v.ID, demo.Proposal(kind, f.today.AddDays(5))); err != nil {
		f.t.Fatalf("SaveProposal: %v", err)
	}
	for _, s := range []struct {
		who    workflow.Actor
		action workflow.Action
		in     grants.ActInput
	}{
		{g.chair, workflow.Submit, grants.ActInput{}},
		{f.verifier, workflow.StartReview, grants.ActInput{}},
		{f.verifier, workflow.Recommend, grants.ActInput{Comment: "Lengkap.", ApprovedAmount: v.AmountRequested}},
	} {
		if v, err = f.svc.Act(ctx, s.who, g.grantID, s.action, s.in); err != nil {
			f.t.Fatalf("%s: %v", s.action, err)
		}
	}
	return v
}

// funded registers a group in w and drives its grant in p to funded, the
// first tranche transferred today. Its funding ends with p's activity period.
func (f *fix) funded(p workflow.Program, w where) group {
	f.t.Helper()
	ctx := ctxOf(f.t)
	g := f.newGroup(w)
	v := f.recommended(p, &g, w.kind)
	if _, err := f.svc.Act(ctx, f.approver, g.grantID, workflow.Approve, grants.ActInput{Comment: "Disetujui."}); err != nil {
		f.t.Fatalf("approve: %v", err)
	}
	if _, err := f.svc.Disburse(ctx, f.finance, g.grantID, grants.DisbursementInput{Tranche: 1,
		Amount: p.TrancheAmounts(v.AmountApproved)[0], TransferredOn: f.today, Reference: fmt.Sprintf("TRF-PANTAU-%d", g.grantID)}); err != nil {
		f.t.Fatalf("Disburse: %v", err)
	}
	return g
}

// meet logs a meeting of g on day, with the monitor clock set to that day.
func (f *fix) meet(g group, day workflow.Date) postgres.Meeting {
	f.t.Helper()
	f.setClock(day)
	m, err := f.mon.LogMeeting(ctxOf(f.t), g.chair, g.id, monitor.MeetingInput{HeldOn: day, Topic: "Refleksi praktik asesmen", AttendeesCount: 12}, nil)
	if err != nil {
		f.t.Fatalf("LogMeeting %s: %v", day, err)
	}
	return m
}

// scan runs the scan as of day.
func (f *fix) scan(day workflow.Date) postgres.ScanResult {
	f.t.Helper()
	res, err := f.mon.Scan(ctxOf(f.t), day)
	if err != nil {
		f.t.Fatalf("Scan %s: %v", day, err)
	}
	return res
}

// count runs a count(*) query on the raw pool.
func (f *fix) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.SQL().QueryRow(query, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// endOn returns the first day at least days ahead whose day of the month is
// at most 28, so that adding months means the same in Go and PostgreSQL.
func endOn(from workflow.Date, days int) workflow.Date {
	d := from.AddDays(days)
	for d.Time().Day() > 28 {
		d = d.AddDays(1)
	}
	return d
}

func addMonths(d workflow.Date, n int) workflow.Date {
	return workflow.DateOf(d.Time().AddDate(0, n, 0))
}

func wantCode(t *testing.T, what string, err error, code workflow.Code) {
	t.Helper()
	if got := workflow.ErrorCode(err); got != code {
		t.Fatalf("%s: code %q (%v), want %q", what, got, err, code)
	}
}
