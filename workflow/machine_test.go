package workflow

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

// cell is one entry of SPEC §3 written out by hand: from this state the
// action leads to to, for these roles.
type cell struct {
	to    State
	roles []Role
}

var (
	groupRoles = []Role{RoleChair, RoleTreasurer}
	verifier   = []Role{RoleVerifier}
	approver   = []Role{RoleApprover}
	finance    = []Role{RoleFinance}
	treasurer  = []Role{RoleTreasurer}
	chair      = []Role{RoleChair}
	auditor    = []Role{RoleAuditor}
	admin      = []Role{RoleAdmin}
)

// specTable is SPEC §3 transcribed independently of machine.go.
var specTable = map[Action]map[State]cell{
	Submit:          {Draft: {Submitted, groupRoles}, RevisionRequested: {Submitted, groupRoles}},
	StartReview:     {Submitted: {InReview, verifier}},
	RequestRevision: {InReview: {RevisionRequested, verifier}},
	Recommend:       {InReview: {Recommended, verifier}},
	Approve:         {Recommended: {Approved, approver}},
	Reject:          {InReview: {Rejected, verifier}, Recommended: {Rejected, approver}},
	Disburse:        {Approved: {Funded, finance}, Funded: {Funded, finance}},
	ConfirmReport:   {Funded: {Funded, chair}},
	SubmitReport:    {Funded: {ReportSubmitted, treasurer}},
	ReturnReport:    {ReportSubmitted: {Funded, auditor}},
	AcceptReport:    {ReportSubmitted: {Closed, auditor}},
	Cancel: {
		Draft: {Cancelled, admin}, Submitted: {Cancelled, admin}, InReview: {Cancelled, admin},
		RevisionRequested: {Cancelled, admin}, Recommended: {Cancelled, admin}, Approved: {Cancelled, admin},
		Funded: {Cancelled, admin}, ReportSubmitted: {Cancelled, admin},
	},
}

// TestTable runs every state × action × role. The expected outcome comes
// from specTable alone: a role the action never admits is forbidden; a
// state the action cannot leave is a conflict; a role admitted only from
// another state (reject) is forbidden; everything else succeeds with the
// table's target state, because the fixtures satisfy every guard.
func TestTable(t *testing.T) {
	if len(specTable) != len(Actions) {
		t.Fatalf("specTable covers %d actions, want %d", len(specTable), len(Actions))
	}
	ok := 0
	for _, s := range States {
		for _, a := range Actions {
			var admitted []Role
			for _, c := range specTable[a] {
				admitted = append(admitted, c.roles...)
			}
			for _, role := range Roles {
				want, wantTo := EConflict, State("")
				c, fromOK := specTable[a][s]
				switch {
				case !slices.Contains(admitted, role):
					want = EForbidden
				case !fromOK:
					want = EConflict
				case !slices.Contains(c.roles, role):
					want = EForbidden
				default:
					want, wantTo = "", c.to
				}

				name := string(s) + "/" + string(a) + "/" + string(role)
				g := grantIn(s)
				before := cloneGrant(g)
				actor := actorWith(testActorID, role)
				ev, err := Apply(&g, goodRequest(g, a, actor))

				if got := ErrorCode(err); got != want {
					t.Errorf("%s: code %q (%v), want %q", name, got, err, want)
					continue
				}
				allowed := slices.Contains(Allowed(before, actor), a)
				if allowed != (want == "") {
					t.Errorf("%s: Allowed contains action = %v, want %v", name, allowed, want == "")
				}
				if want != "" {
					if !reflect.DeepEqual(g, before) {
						t.Errorf("%s: grant changed on error", name)
					}
					continue
				}
				ok++
				if g.State != wantTo {
					t.Errorf("%s: state %s, want %s", name, g.State, wantTo)
				}
				if ev.FromState != s || ev.ToState != wantTo || ev.ActorRole != role || ev.Action != string(a) ||
					ev.GrantID != testGrantID || ev.ActorID != testActorID || ev.ActorName != actor.Name {
					t.Errorf("%s: event %+v", name, ev)
				}
				if ev.Comment != "Catatan pemeriksa." {
					t.Errorf("%s: comment %q not trimmed", name, ev.Comment)
				}
				if !ev.At.Equal(tNow.Truncate(time.Microsecond)) || ev.At.Location() != time.UTC {
					t.Errorf("%s: at %v", name, ev.At)
				}
			}
		}
	}
	// 4 submit + 1+1+1+1 + 2 reject + 2 disburse + 1 confirm_report + 1+1+1 + 8 cancel.
	if ok != 24 {
		t.Errorf("%d cells succeeded, want 24", ok)
	}
}

func TestTableHelpers(t *testing.T) {
	for a, cells := range specTable {
		var from []State
		for _, s := range States {
			c, ok := cells[s]
			if ok {
				from = append(from, s)
			}
			got, gotOK := Target(a, s)
			if gotOK != ok || got != c.to {
				t.Errorf("Target(%s, %s) = %s, %v; want %s, %v", a, s, got, gotOK, c.to, ok)
			}
		}
		if got := Sources(a); !slices.Equal(got, from) {
			t.Errorf("Sources(%s) = %v, want %v", a, got, from)
		}
	}
	if Sources("bogus") != nil {
		t.Error("Sources of an unknown action")
	}
	for _, s := range States {
		if !s.Terminal() {
			continue
		}
		for _, a := range Actions {
			if _, ok := Target(a, s); ok {
				t.Errorf("%s leaves terminal state %s", a, s)
			}
		}
	}
}

func TestGroupRolesOnlyForOwnGroup(t *testing.T) {
	g := grantIn(Draft)
	for _, role := range []Role{RoleChair, RoleTreasurer} {
		other := Actor{UserID: 9, Name: "Lain", Roles: []Role{role}, GroupID: otherGroupID}
		if _, err := Apply(&g, goodRequest(g, Submit, other)); ErrorCode(err) != EForbidden {
			t.Errorf("%s of another group: %v, want forbidden", role, err)
		}
		none := Actor{UserID: 9, Name: "Tanpa kelompok", Roles: []Role{role}}
		if _, err := Apply(&g, goodRequest(g, Submit, none)); ErrorCode(err) != EForbidden {
			t.Errorf("%s without group: %v, want forbidden", role, err)
		}
		if len(Allowed(g, other)) != 0 || len(Allowed(g, none)) != 0 {
			t.Errorf("%s outside the group is offered actions", role)
		}
	}
	// Treasurer only submits the LPJ; the chair may not.
	f := grantIn(Funded)
	if _, err := Apply(&f, goodRequest(f, SubmitReport, actorWith(9, RoleChair))); ErrorCode(err) != EForbidden {
		t.Errorf("chair submit_report: %v", err)
	}
}

func TestApplyOrderOfChecks(t *testing.T) {
	g := grantIn(Draft)
	chair := actorWith(9, RoleChair)

	if _, err := Apply(&g, goodRequest(g, "bogus", chair)); ErrorCode(err) != EInvalid {
		t.Errorf("unknown action: %v", err)
	}
	// Unknown action wins over an expected-state mismatch.
	r := goodRequest(g, "bogus", chair)
	r.ExpectedState = Funded
	if _, err := Apply(&g, r); ErrorCode(err) != EInvalid {
		t.Errorf("unknown action with stale state: %v", err)
	}
	// A stale ExpectedState is a conflict even for a forbidden role.
	r = goodRequest(g, Submit, actorWith(9, RoleAuditor))
	r.ExpectedState = Submitted
	if _, err := Apply(&g, r); ErrorCode(err) != EConflict {
		t.Errorf("stale expected state: %v", err)
	}
	r = goodRequest(g, Submit, chair)
	r.ExpectedState = Draft
	if _, err := Apply(&g, r); err != nil {
		t.Errorf("matching expected state: %v", err)
	}
	// Role before state: an auditor approving a draft is forbidden, an
	// approver approving a draft is a conflict.
	d := grantIn(Draft)
	if _, err := Apply(&d, goodRequest(d, Approve, actorWith(9, RoleAuditor))); ErrorCode(err) != EForbidden {
		t.Errorf("auditor approve draft: %v", err)
	}
	_, err := Apply(&d, goodRequest(d, Approve, actorWith(9, RoleApprover)))
	if ErrorCode(err) != EConflict {
		t.Fatalf("approver approve draft: %v", err)
	}
	if msg := asError(t, err).Message; msg != `aksi "setujui" tidak dapat dilakukan pada hibah berstatus "draf"` {
		t.Errorf("conflict message %q", msg)
	}
	// State before guards: a funded grant with a broken balance still
	// answers conflict to submit, not unprocessable.
	f := grantIn(Funded)
	f.Spent = 0
	if _, err := Apply(&f, goodRequest(f, Submit, chair)); ErrorCode(err) != EConflict {
		t.Errorf("submit funded: %v", err)
	}
	// Segregation of duties before guards.
	rec := grantIn(Recommended)
	rr := goodRequest(rec, Approve, actorWith(testVerifier, RoleApprover))
	rr.Program.BudgetTotal = 1
	if _, err := Apply(&rec, rr); ErrorCode(err) != EForbidden {
		t.Errorf("SoD before guards: %v", err)
	}
	if _, err := Apply(nil, goodRequest(g, Submit, chair)); ErrorCode(err) != EInvalid {
		t.Errorf("nil grant: %v", err)
	}
}

func TestSegregationOfDuties(t *testing.T) {
	// The person who recommended holds the approver role too.
	both := actorWith(testVerifier, RoleVerifier, RoleApprover)
	g := grantIn(Recommended)
	for _, a := range []Action{Approve, Reject} {
		before := cloneGrant(g)
		if _, err := Apply(&g, goodRequest(g, a, both)); ErrorCode(err) != EForbidden {
			t.Errorf("%s by recommending verifier: %v, want forbidden", a, err)
		}
		if !reflect.DeepEqual(g, before) {
			t.Errorf("%s changed the grant", a)
		}
	}
	if got := Allowed(g, both); slices.Contains(got, Approve) || slices.Contains(got, Reject) {
		t.Errorf("Allowed offers %v to the recommending verifier", got)
	}
	// Another approver may.
	other := actorWith(55, RoleApprover)
	if got := Allowed(g, other); !slices.Equal(got, []Action{Approve, Reject}) {
		t.Errorf("Allowed(other approver) = %v", got)
	}
	ap := cloneGrant(g)
	if _, err := Apply(&ap, goodRequest(ap, Approve, other)); err != nil || ap.ApproverID != 55 {
		t.Fatalf("approve by another approver: %v, approver %d", err, ap.ApproverID)
	}

	// While in review the same person rejects as verifier: no conflict of duties.
	rv := grantIn(InReview)
	rv.VerifierID = testVerifier
	if _, err := Apply(&rv, goodRequest(rv, Reject, both)); err != nil {
		t.Errorf("verifier reject in review: %v", err)
	}

	// The approver may not record the transfer, even holding finance.
	fin := actorWith(testApprover, RoleFinance, RoleApprover)
	for _, s := range []State{Approved, Funded} {
		d := grantIn(s)
		if _, err := Apply(&d, goodRequest(d, Disburse, fin)); ErrorCode(err) != EForbidden {
			t.Errorf("disburse from %s by approver: %v", s, err)
		}
		if slices.Contains(Allowed(d, fin), Disburse) {
			t.Errorf("Allowed offers disburse to the approver in %s", s)
		}
		d2 := grantIn(s)
		if _, err := Apply(&d2, goodRequest(d2, Disburse, actorWith(66, RoleFinance))); err != nil {
			t.Errorf("disburse from %s by another officer: %v", s, err)
		}
	}

	// Recommend hands the grant to the recommending verifier even when
	// another verifier started the review; that person may not approve.
	ir := grantIn(InReview)
	v2 := actorWith(77, RoleVerifier, RoleApprover)
	if _, err := Apply(&ir, goodRequest(ir, Recommend, v2)); err != nil || ir.VerifierID != 77 {
		t.Fatalf("recommend: %v, verifier %d", err, ir.VerifierID)
	}
	if _, err := Apply(&ir, goodRequest(ir, Approve, v2)); ErrorCode(err) != EForbidden {
		t.Errorf("approve by the new recommending verifier: %v", err)
	}
}

func TestAllowedByRole(t *testing.T) {
	cases := []struct {
		s     State
		actor Actor
		want  []Action
	}{
		{Draft, actorWith(9, RoleChair), []Action{Submit}},
		{Draft, actorWith(1, RoleAdmin), []Action{Cancel}},
		{InReview, actorWith(9, RoleVerifier), []Action{RequestRevision, Recommend, Reject}},
		{InReview, actorWith(9, RoleVerifier, RoleAdmin), []Action{RequestRevision, Recommend, Reject, Cancel}},
		{ReportSubmitted, actorWith(9, RoleAuditor), []Action{ReturnReport, AcceptReport}},
		{Funded, actorWith(9, RoleTreasurer), []Action{SubmitReport}},
		{Funded, actorWith(9, RoleFinance), []Action{Disburse}},
		{Closed, actorWith(1, RoleAdmin, RoleVerifier, RoleApprover, RoleFinance, RoleAuditor, RoleChair, RoleTreasurer), []Action{}},
		{Submitted, Actor{UserID: 3}, []Action{}},
	}
	for _, c := range cases {
		got := Allowed(grantIn(c.s), c.actor)
		if got == nil || !slices.Equal(got, c.want) {
			t.Errorf("Allowed(%s, %v) = %#v, want %v", c.s, c.actor.Roles, got, c.want)
		}
	}
}

func TestApplyEffects(t *testing.T) {
	// Submit records the total requested.
	g := grantIn(Draft)
	ev, err := Apply(&g, goodRequest(g, Submit, actorWith(9, RoleTreasurer)))
	if err != nil {
		t.Fatal(err)
	}
	if g.AmountRequested != testTotal || ev.Data["amount_requested"] != int64(testTotal) || ev.ActorRole != RoleTreasurer {
		t.Errorf("submit: requested %d, event %+v", g.AmountRequested, ev)
	}
	// Both roles held: the chair is named first.
	g = grantIn(RevisionRequested)
	ev, err = Apply(&g, goodRequest(g, Submit, actorWith(9, RoleTreasurer, RoleChair)))
	if err != nil || ev.ActorRole != RoleChair {
		t.Errorf("submit by chair+treasurer: %v, role %s", err, ev.ActorRole)
	}

	g = grantIn(Submitted)
	ev, err = Apply(&g, goodRequest(g, StartReview, actorWith(40, RoleVerifier)))
	if err != nil || g.VerifierID != 40 || ev.Data != nil {
		t.Errorf("start_review: %v, verifier %d, data %v", err, g.VerifierID, ev.Data)
	}

	g = grantIn(InReview)
	r := goodRequest(g, Recommend, actorWith(41, RoleVerifier))
	r.ApprovedAmount = 10_000_000
	ev, err = Apply(&g, r)
	if err != nil || g.AmountApproved != 10_000_000 || g.VerifierID != 41 || ev.Data["approved_amount"] != int64(10_000_000) {
		t.Errorf("recommend: %v, %+v, data %v", err, g, ev.Data)
	}

	g = grantIn(Approved)
	ev, err = Apply(&g, goodRequest(g, Disburse, actorWith(42, RoleFinance)))
	if err != nil || g.State != Funded || g.Disbursed != testTranche1 || g.TranchesPaid != 1 {
		t.Fatalf("disburse 1: %v, %+v", err, g)
	}
	if ev.Data["tranche"] != 1 || ev.Data["amount"] != int64(testTranche1) {
		t.Errorf("disburse 1 data %v", ev.Data)
	}
	g.Spent, g.Receipted = testTranche1/2, testTranche1/2 // exactly 50 % receipted
	ev, err = Apply(&g, goodRequest(g, Disburse, actorWith(42, RoleFinance)))
	if err != nil || g.State != Funded || g.Disbursed != testTotal || g.TranchesPaid != 2 || ev.Data["tranche"] != 2 {
		t.Fatalf("disburse 2: %v, %+v", err, g)
	}
	r = goodRequest(g, Disburse, actorWith(42, RoleFinance))
	r.Tranche, r.Amount = 3, 1
	if _, err := Apply(&g, r); ErrorCode(err) != EUnprocessable {
		t.Errorf("third tranche of two: %v", err)
	}

	// Cancel from a state before funding needs only the reason.
	g = grantIn(Approved)
	ev, err = Apply(&g, goodRequest(g, Cancel, actorWith(1, RoleAdmin)))
	if err != nil || ev.ToState != Cancelled || ev.Comment != "Catatan pemeriksa." {
		t.Errorf("cancel: %v %+v", err, ev)
	}
}

// TestHappyPath walks a grant from draft to closed with two tranches.
func TestHappyPath(t *testing.T) {
	g := grantIn(Draft)
	for i := range g.Activities {
		g.Activities[i].Status, g.Activities[i].AttendeeCount, g.Activities[i].EvidenceCount = ActivityPlanned, 0, 0
	}
	chair, treasurer := actorWith(10, RoleChair), actorWith(11, RoleTreasurer)
	ver, app, fin, aud := actorWith(20, RoleVerifier), actorWith(21, RoleApprover), actorWith(22, RoleFinance), actorWith(23, RoleAuditor)
	step := func(a Action, who Actor, edit func(*Request)) {
		t.Helper()
		r := goodRequest(g, a, who)
		if edit != nil {
			edit(&r)
		}
		from := g.State
		ev, err := Apply(&g, r)
		if err != nil {
			t.Fatalf("%s from %s: %v%s", a, from, err, dumpDetails(asError(t, err).Details))
		}
		if ev.FromState != from || ev.ToState != g.State {
			t.Fatalf("%s: event %s→%s, grant %s", a, ev.FromState, ev.ToState, g.State)
		}
	}
	step(Submit, chair, nil)
	step(StartReview, ver, nil)
	step(RequestRevision, ver, nil)
	g.Budget[0].Quantity, g.Budget[0].Amount = 80, 80*50_000 // revise: 11 000 000
	step(Submit, treasurer, nil)
	if g.AmountRequested != 11_000_000 {
		t.Fatalf("requested after revision %d", g.AmountRequested)
	}
	step(StartReview, ver, nil)
	step(Recommend, ver, func(r *Request) { r.ApprovedAmount = 10_000_001 })
	step(Approve, app, func(r *Request) { r.PoolCommitted = testPoolTotal - 10_000_001 })
	step(Disburse, fin, func(r *Request) { r.Amount = 7_000_000 })
	g.Activities[0].Status, g.Activities[0].AttendeeCount, g.Activities[0].EvidenceCount = ActivityHeld, 19, 2
	g.Spent, g.Receipted = 3_500_000, 3_500_000
	step(Disburse, fin, func(r *Request) { r.Amount = 3_000_001 })
	for i := range g.Activities {
		g.Activities[i].Status, g.Activities[i].AttendeeCount, g.Activities[i].EvidenceCount = ActivityHeld, 17, 1
	}
	// The verifier cancels the last On: the last In may not be cancelled,
	// since every On held must be followed by an In held (SPEC §3).
	g.Activities[3].Status, g.Activities[3].CancelReason = ActivityCancelled, "Madrasah libur"
	g.Spent, g.Receipted, g.Refunded = 9_000_000, 9_000_000, 1_000_001
	step(SubmitReport, treasurer, nil)
	step(ReturnReport, aud, nil)
	step(SubmitReport, treasurer, nil)
	step(AcceptReport, aud, func(r *Request) { r.Comment = "" })
	if g.State != Closed || g.Disbursed != 10_000_001 {
		t.Fatalf("end: %+v", g)
	}
	for _, a := range Actions {
		for _, who := range []Actor{chair, treasurer, ver, app, fin, aud, actorWith(1, RoleAdmin)} {
			if _, err := Apply(&g, goodRequest(g, a, who)); err == nil {
				t.Errorf("%s by %v left closed", a, who.Roles)
			}
		}
	}
}
