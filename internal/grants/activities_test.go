package grants_test

import (
	"testing"
	"time"

	"grantflow/internal/grants"
	"grantflow/internal/monitor"
	"grantflow/workflow"
)

// TestHeldSessionClearsAtRisk: a realised In/On session counts as a meeting
// for the monitoring scan (the group_meetings view). A group whose first
// grant's activity period ended 60 days ago is at risk; a session of its
// next grant, held today, makes it active again.
func TestHeldSessionClearsAtRisk(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localStore(t))
	ctx := ctxT(t)
	first := f.fundedGrant(t) // activity period ends today+200
	groupID := first.view.GroupID

	f.skew.Store(int64(260 * 24 * time.Hour))
	today := f.today.AddDays(260)
	mon := monitor.New(f.db, monitor.Options{Now: func() time.Time { return time.Now().Add(260 * 24 * time.Hour) }})
	status := func() (string, workflow.Date) {
		t.Helper()
		if _, err := mon.Scan(ctx, today); err != nil {
			t.Fatalf("Scan: %v", err)
		}
		var st string
		var last *workflow.Date
		if err := f.db.SQL().QueryRow(`SELECT status, last_meeting_on FROM monitoring_status WHERE group_id = $1`, groupID).Scan(&st, &last); err != nil {
			t.Fatalf("monitoring_status: %v", err)
		}
		if last == nil {
			return st, workflow.Date{}
		}
		return st, *last
	}
	if st, last := status(); st != "at_risk" || !last.IsZero() {
		t.Fatalf("60 days after the activity end with no meeting: %s (last meeting %s), want at_risk", st, last)
	}

	// The next round: a programme open today, the same group's grant funded today.
	prog, err := f.svc.CreateProgram(ctx, grants.System, workflow.Program{
		Name: "Program Uji Putaran Kedua", Year: today.Year(),
		ProposalOpensOn: today.AddDays(-30), ProposalClosesOn: today.AddDays(30),
		ActivityEndsOn: today.AddDays(120), ReportDueOn: today.AddDays(150), BudgetTotal: 1_000_000_000,
	})
	if err != nil {
		t.Fatalf("CreateProgram: %v", err)
	}
	v, err := f.svc.OpenGrant(ctx, first.treasurer, prog.ID, groupID)
	if err != nil {
		t.Fatalf("OpenGrant: %v", err)
	}
	f.recommend(t, first.treasurer, v.ID, today.AddDays(5))
	v = f.approve(t, v.ID)
	if _, err := f.svc.Disburse(ctx, f.finance, v.ID, grants.DisbursementInput{Tranche: 1, Amount: 7_507_500, TransferredOn: today, Reference: "TRF-PUTARAN-2"}); err != nil {
		t.Fatalf("Disburse: %v", err)
	}
	if st, _ := status(); st != "at_risk" {
		t.Fatalf("a planned session is no meeting: %s, want at_risk", st)
	}

	grp, err := f.svc.Group(ctx, grants.System, groupID)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int64{grp.Members[0].ID, grp.Members[1].ID, grp.Members[2].ID}
	in := grants.RealizationInput{HeldOn: today, Location: "Aula MIN 2 Kota Bandung", Hours: 4, Facilitator: "Pengawas madrasah",
		AttendeeIDs: ids, Summary: "Lokakarya modul ajar.", Outputs: "Draf modul ajar."}
	a, err := f.svc.RealizeActivity(ctx, first.treasurer, v.ID, v.Activities[0].ID, in)
	if err != nil {
		t.Fatalf("RealizeActivity: %v", err)
	}
	if a.Status != workflow.ActivityHeld || a.Attendance.Present != 3 || a.Attendance.Of != 15 || a.Attendance.Percent != 20 {
		t.Fatalf("realised activity %+v", a)
	}
	if st, last := status(); st != "active" || last != today {
		t.Fatalf("after a session held today: %s (last meeting %s), want active since %s", st, last, today)
	}
}
