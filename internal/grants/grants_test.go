package grants_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"grantflow/internal/demo"
	"grantflow/internal/grants"
	"grantflow/workflow"
)

func count(t *testing.T, w *world, table string) int {
	t.Helper()
	var n int
	if err := w.db.SQL().QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSeedDemo(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	w := seed(t)

	want := []workflow.State{workflow.Draft, workflow.Submitted, workflow.InReview, workflow.RevisionRequested,
		workflow.Recommended, workflow.Approved, workflow.Rejected, workflow.Cancelled, workflow.Funded}
	for _, s := range want {
		if _, ok := w.byStat[s]; !ok {
			t.Errorf("no demo grant in state %s", s)
		}
	}
	// The funded grant carries money: a tranche, receipted expenses (one with
	// tax, one voided), and a ledger that ends at the grant's balance.
	if f, ok := w.byStat[workflow.Funded]; ok {
		es, err := w.svc.Expenses(ctx, w.admin, f.ID)
		if err != nil || len(es) != 4 || !es[3].Voided() || es[1].TaxPPh == 0 {
			t.Errorf("funded demo expenses = %+v, %v", es, err)
		}
		v, rows, err := w.svc.Ledger(ctx, w.admin, f.ID)
		if err != nil || len(rows) == 0 || rows[len(rows)-1].Balance != v.Balance || v.Disbursed == 0 || v.Spent == 0 {
			t.Errorf("funded demo ledger: %+v balance %d, %v", rows, v.Balance, err)
		}
	}
	if len(w.byStat) != len(want) {
		t.Errorf("demo grant states %v, want exactly %v", w.byStat, want)
	}
	if !strings.Contains(w.out, demo.Password) {
		t.Errorf("demo output does not print the password:\n%s", w.out)
	}
	logins := []string{"admin@demo.grantflow.id", "verifikator@demo.grantflow.id", "penyetuju@demo.grantflow.id",
		"keuangan@demo.grantflow.id", "auditor@demo.grantflow.id"}
	for i := 1; i <= 9; i++ {
		logins = append(logins, fmt.Sprintf("ketua%d@demo.grantflow.id", i), fmt.Sprintf("bendahara%d@demo.grantflow.id", i))
	}
	for _, l := range logins {
		if !strings.Contains(w.out, l) {
			t.Errorf("demo output lacks login %s", l)
		}
	}

	// A printed login really logs in with the printed password.
	if _, u, err := w.svc.Login(ctx, "ketua2@demo.grantflow.id", demo.Password, "192.0.2.1"); err != nil {
		t.Errorf("demo login: %v", err)
	} else if len(u.Roles) != 1 || u.Roles[0] != workflow.RoleChair || u.GroupID == 0 {
		t.Errorf("demo chair = %+v", u)
	}

	// A second run seeds nothing and still prints the logins.
	tables := []string{"users", "programs", "groups", "members", "grants", "grant_events"}
	before := map[string]int{}
	for _, tb := range tables {
		before[tb] = count(t, w, tb)
	}
	if before["users"] != 24 || before["grants"] != 9 {
		t.Errorf("demo made %d users and %d grants, want 24 and 9", before["users"], before["grants"])
	}
	var out bytes.Buffer
	if err := demo.Seed(ctx, w.svc, &out); err != nil {
		t.Fatalf("second SeedDemo: %v", err)
	}
	if !strings.Contains(out.String(), "not seeded again") || !strings.Contains(out.String(), "ketua1@demo.grantflow.id") {
		t.Errorf("second run output:\n%s", out.String())
	}
	for _, tb := range tables {
		if n := count(t, w, tb); n != before[tb] {
			t.Errorf("second SeedDemo changed %s: %d rows, was %d", tb, n, before[tb])
		}
	}
}

func TestVerifyChains(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)

	t.Run("intact after the demo", func(t *testing.T) {
		t.Parallel()
		w := seeded(t)
		breaks, n, err := w.svc.VerifyChains(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(breaks) != 0 {
			t.Errorf("breaks after demo: %+v", breaks)
		}
		if total := count(t, w, "grant_events"); n != total || n == 0 {
			t.Errorf("checked %d events, table holds %d", n, total)
		}
	})

	t.Run("edited comment", func(t *testing.T) {
		t.Parallel()
		w := seeded(t)
		g := w.grant(t, workflow.Recommended)
		tamper(t, w.db.SQL(), `UPDATE grant_events SET comment = 'disetujui oleh kepala' WHERE grant_id = $1 AND seq = 2`, g.ID)
		breaks, _, err := w.svc.VerifyChains(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(breaks) != 1 || breaks[0].GrantID != g.ID || breaks[0].Seq != 2 {
			t.Fatalf("breaks = %+v, want grant %d at seq 2 only", breaks, g.ID)
		}
		if breaks[0].Reason == "" {
			t.Error("a break without a reason")
		}
	})

	t.Run("deleted middle event", func(t *testing.T) {
		t.Parallel()
		w := seeded(t)
		g := w.grant(t, workflow.Approved)
		tamper(t, w.db.SQL(), `DELETE FROM grant_events WHERE grant_id = $1 AND seq = 2`, g.ID)
		breaks, _, err := w.svc.VerifyChains(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(breaks) != 1 || breaks[0].GrantID != g.ID || breaks[0].Seq != 3 {
			t.Fatalf("breaks = %+v, want grant %d at seq 3 only", breaks, g.ID)
		}
	})

	t.Run("edited data of the last event", func(t *testing.T) {
		t.Parallel()
		w := seeded(t)
		g := w.grant(t, workflow.Approved)
		var last int
		if err := w.db.SQL().QueryRow(`SELECT max(seq) FROM grant_events WHERE grant_id = $1`, g.ID).Scan(&last); err != nil {
			t.Fatal(err)
		}
		tamper(t, w.db.SQL(), `UPDATE grant_events SET data = '{"approved_amount": 30000000}' WHERE grant_id = $1 AND seq = $2`, g.ID, last)
		breaks, _, err := w.svc.VerifyChains(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(breaks) != 1 || breaks[0].GrantID != g.ID || breaks[0].Seq != last {
			t.Fatalf("breaks = %+v, want grant %d at seq %d only", breaks, g.ID, last)
		}
	})
}

// Sixteen approvers press "approve" at once: the grant row lock lets exactly
// one through, the others find the grant approved and get EConflict.
func TestApproveRace(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	w := seeded(t)
	g := w.grant(t, workflow.Recommended)
	approver := w.actor(t, "penyetuju@demo.grantflow.id")

	const n = 16
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = w.svc.Act(ctx, approver, g.ID, workflow.Approve, grants.ActInput{Comment: "Disetujui."})
		}()
	}
	close(start)
	wg.Wait()

	ok := 0
	for i, err := range errs {
		switch workflow.ErrorCode(err) {
		case "":
			ok++
		case workflow.EConflict:
		default:
			t.Errorf("approver %d: %v, want nil or conflict", i, err)
		}
	}
	if ok != 1 {
		t.Errorf("%d approvals succeeded, want exactly 1", ok)
	}

	got, err := w.svc.Grant(ctx, w.admin, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != workflow.Approved || got.ApproverID != approver.UserID {
		t.Errorf("grant after the race: state %s approver %d", got.State, got.ApproverID)
	}
	evs, err := w.svc.Events(ctx, w.admin, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	approvals := 0
	for i, ev := range evs {
		if ev.Seq != i+1 {
			t.Errorf("event %d has seq %d", i, ev.Seq)
		}
		if ev.Action == string(workflow.Approve) {
			approvals++
		}
	}
	if approvals != 1 {
		t.Errorf("%d approve events, want 1", approvals)
	}
	breaks, _, err := w.svc.VerifyChains(ctx)
	if err != nil || len(breaks) != 0 {
		t.Errorf("chains after the race: %+v, %v", breaks, err)
	}
}

// Out-of-scope grants answer ENotFound, exactly like missing ones, and
// nothing changes.
func TestScope(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	w := seeded(t)
	g := w.grant(t, workflow.Submitted)

	mk := func(email, province, regency string) workflow.Actor {
		u, err := w.svc.CreateUser(ctx, w.admin, grants.NewUser{Email: email, Name: "Staf " + email, Password: "rahasia-sekali",
			Roles: []workflow.Role{workflow.RoleVerifier, workflow.RoleAuditor}, Province: province, Regency: regency})
		if err != nil {
			t.Fatalf("create %s: %v", email, err)
		}
		return u.Actor()
	}
	outsiders := map[string]workflow.Actor{
		"verifier of another province": mk("jatim@example.id", "Jawa Timur", ""),
		"verifier of another regency":  mk("cirebon@example.id", "Jawa Barat", "Kota Cirebon"),
		"chair of another group":       w.chairOf(t, w.grant(t, workflow.Draft).GroupID),
	}
	for name, a := range outsiders {
		t.Run(name, func(t *testing.T) {
			_, err := w.svc.Grant(ctx, a, g.ID)
			wantCode(t, "Grant", err, workflow.ENotFound)
			_, err = w.svc.Events(ctx, a, g.ID)
			wantCode(t, "Events", err, workflow.ENotFound)
			action := workflow.StartReview
			if a.Has(workflow.RoleChair) {
				action = workflow.Submit
			}
			_, err = w.svc.Act(ctx, a, g.ID, action, grants.ActInput{})
			wantCode(t, "Act", err, workflow.ENotFound)
			_, err = w.svc.Act(ctx, a, g.ID+1_000_000, action, grants.ActInput{})
			wantCode(t, "Act on a missing grant", err, workflow.ENotFound)
			list, err := w.svc.Grants(ctx, a, grants.ListFilter{State: workflow.Submitted})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range list {
				if v.ID == g.ID {
					t.Errorf("grant %d listed for an outsider", g.ID)
				}
			}
		})
	}

	// Staff in the grant's province see and act on it.
	insider := mk("jabar@example.id", "Jawa Barat", g.Group.Regency)
	if _, err := w.svc.Grant(ctx, insider, g.ID); err != nil {
		t.Errorf("in-scope verifier: %v", err)
	}
	got, err := w.svc.Grant(ctx, w.admin, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != workflow.Submitted || got.VerifierID != 0 {
		t.Errorf("refused actions changed the grant: %s, verifier %d", got.State, got.VerifierID)
	}
}

func TestOpenGrantTwice(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	w := seeded(t)
	draft := w.grant(t, workflow.Draft)

	// The demo group already holds a grant in the programme.
	chair := w.chairOf(t, draft.GroupID)
	_, err := w.svc.OpenGrant(ctx, chair, draft.ProgramID, draft.GroupID)
	wantCode(t, "OpenGrant again (chair)", err, workflow.EConflict)
	_, err = w.svc.OpenGrant(ctx, w.admin, draft.ProgramID, draft.GroupID)
	wantCode(t, "OpenGrant again (admin)", err, workflow.EConflict)

	// A new group: the first opening works, the second does not.
	grp, err := w.svc.Group(ctx, w.admin, draft.GroupID)
	if err != nil {
		t.Fatal(err)
	}
	grp.Name, grp.BankAccountName = "KKG MI Kecamatan Parigi", "KKG MI Kecamatan Parigi"
	grp.SKNumber, grp.BankAccountNumber, grp.Members = "B-9901/Kk.10.99/PP.00/2026", "7199000001", demo.Members(9901, len(grp.Members))
	grp, err = w.svc.CreateGroup(ctx, w.admin, grp)
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	first, err := w.svc.OpenGrant(ctx, w.admin, draft.ProgramID, grp.ID)
	if err != nil {
		t.Fatalf("first OpenGrant: %v", err)
	}
	if first.State != workflow.Draft || !strings.HasPrefix(first.Number, "KKG-") {
		t.Errorf("opened grant %+v", first.Grant)
	}
	_, err = w.svc.OpenGrant(ctx, w.admin, draft.ProgramID, grp.ID)
	wantCode(t, "second OpenGrant", err, workflow.EConflict)

	var n int
	if err := w.db.SQL().QueryRow(`SELECT count(*) FROM grants WHERE group_id = ANY(ARRAY[$1, $2]::bigint[])`, draft.GroupID, grp.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d grants for the two groups, want 2", n)
	}
}

func TestSaveProposalUnknownCategory(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	w := seeded(t)
	draft := w.grant(t, workflow.Draft)
	chair := w.chairOf(t, draft.GroupID)
	before := count(t, w, "grant_events")

	p := demo.Proposal(draft.Group.Kind, workflow.DateOf(time.Now().In(workflow.Jakarta)).AddDays(30))
	p.Budget[1].Category = "jalan_jalan"
	_, err := w.svc.SaveProposal(ctx, chair, draft.ID, p)
	wantCode(t, "SaveProposal", err, workflow.EUnprocessable)
	if !hasField(err, "budget[1].category") {
		t.Errorf("error does not name budget[1].category: %#v", err)
	}
	got, err := w.svc.Grant(ctx, chair, draft.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Budget) != 0 || len(got.Activities) != 0 || got.Background != "" {
		t.Errorf("refused proposal was saved: %+v", got.Proposal)
	}
	if n := count(t, w, "grant_events"); n != before {
		t.Errorf("refused proposal appended %d events", n-before)
	}
}

func TestSubmitOutsideProposalWindow(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	w := seeded(t)
	draft := w.grant(t, workflow.Draft)
	chair := w.chairOf(t, draft.GroupID)
	prog, err := w.svc.Program(ctx, chair, draft.ProgramID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.SaveProposal(ctx, chair, draft.ID, demo.Proposal(draft.Group.Kind, workflow.DateOf(time.Now().In(workflow.Jakarta)).AddDays(30))); err != nil {
		t.Fatalf("SaveProposal: %v", err)
	}

	for name, at := range map[string]time.Time{
		"after closing":  prog.ProposalClosesOn.Time().AddDate(0, 0, 1).Add(12 * time.Hour),
		"before opening": prog.ProposalOpensOn.Time().AddDate(0, 0, -1).Add(12 * time.Hour),
	} {
		late := grants.New(w.db, grants.Options{Now: func() time.Time { return at }})
		_, err := late.Act(ctx, chair, draft.ID, workflow.Submit, grants.ActInput{})
		wantCode(t, "submit "+name, err, workflow.EUnprocessable)
		if !hasField(err, "proposal_window") {
			t.Errorf("submit %s: error does not name the proposal window: %#v", name, err)
		}
	}
	got, err := w.svc.Grant(ctx, chair, draft.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != workflow.Draft {
		t.Fatalf("refused submit moved the grant to %s", got.State)
	}
	// Inside the window the same proposal goes through: the window was the only reason.
	if v, err := w.svc.Act(ctx, chair, draft.ID, workflow.Submit, grants.ActInput{}); err != nil || v.State != workflow.Submitted {
		t.Fatalf("submit inside the window: %v, %v", v.State, err)
	}
}
