package workflow

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

// fuzzActors are the people of the fuzz world: some hold several roles so
// that segregation of duties is exercised, one chair belongs to another group.
var fuzzActors = []Actor{
	actorWith(1, RoleAdmin),
	actorWith(2, RoleVerifier),
	actorWith(3, RoleVerifier),
	actorWith(4, RoleApprover),
	actorWith(5, RoleVerifier, RoleApprover),
	actorWith(6, RoleFinance),
	actorWith(7, RoleFinance, RoleApprover),
	actorWith(8, RoleAuditor),
	actorWith(9, RoleChair),
	actorWith(10, RoleTreasurer),
	{UserID: 11, Name: "Ketua lain", Roles: []Role{RoleChair}, GroupID: otherGroupID},
	{UserID: 12, Name: "Tanpa peran"},
	actorWith(13, RoleAdmin, RoleVerifier, RoleApprover, RoleFinance, RoleAuditor, RoleChair, RoleTreasurer),
}

// Script opcodes: op < 240 applies Actions[op%12] (12 = an unknown action);
// op ≥ 240 changes the world as the rest of the system would.
const (
	opSpend   = 240 // record an expense (receipted or not) within the balance
	opRefund  = 241 // return the whole balance
	opReceipt = 242 // attach receipts to every expense
	opHold    = 243 // realise an activity
	opEdit    = 244 // edit the draft budget
	// Activity records through the domain functions the service calls.
	opRealize  = 245 // Realize (or correct) activity arg%n, held on its planned date; arg ≥ 128 breaks a field
	opCancelAc = 246 // CancelActivity arg%n; arg ≥ 128 gives no reason
	opEvidence = 247 // upload one evidence file to every held activity
)

// FuzzActionSequences drives a grant through random actions by random
// people, interleaved with the money and activity records the rest of the
// system writes, and checks the machine's invariants after every step.
// The script is read three bytes at a time: op, actor, arg.
func FuzzActionSequences(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, script []byte) { runScript(t, script) })
}

// fuzzSeeds returns scripts that walk the main paths: the happy path to
// closed, a revision round ending in cancellation, odd actors and actions.
func fuzzSeeds() [][]byte {
	const (
		chair, verifier, verifier2, approver, finance, treasurer, auditor = 8, 1, 2, 3, 5, 9, 7
	)
	a := func(x Action) byte { return byte(slices.Index(Actions, x)) }
	happy := []byte{
		a(Submit), chair, 0,
		a(StartReview), verifier, 0,
		a(Recommend), verifier, 0,
		a(Approve), approver, 0,
		a(Disburse), finance, 0,
		opHold, 0, 0, opHold, 0, 1, opHold, 0, 2, opHold, 0, 3, opHold, 0, 4,
		opSpend, 0, 0,
		a(Disburse), finance, 0,
		opSpend, 0, 0,
		a(SubmitReport), treasurer, 0,
		a(AcceptReport), auditor, 0,
	}
	// The same journey with the sessions recorded through Realize and
	// CancelActivity: an On first (refused), a correction, a cancellation.
	sessions := []byte{
		a(Submit), chair, 0,
		a(StartReview), verifier, 0,
		a(Recommend), verifier, 0,
		a(Approve), approver, 0,
		a(Disburse), finance, 0,
		opRealize, chair, 1, opRealize, chair, 0, opRealize, treasurer, 1, opRealize, chair, 0,
		opCancelAc, chair, 2, opCancelAc, verifier, 2, opRealize, chair, 2, opRealize, chair, 3, opRealize, chair, 4,
		opEvidence, 0, 0,
		opSpend, 0, 0,
		a(Disburse), finance, 0,
		opSpend, 0, 0,
		a(SubmitReport), treasurer, 0,
		a(AcceptReport), auditor, 0,
	}
	return [][]byte{
		happy,
		sessions,
		{
			a(Submit), chair, 0, a(StartReview), verifier, 0, a(RequestRevision), verifier2, 0,
			opEdit, 0, 200, a(Submit), treasurer, 0, opEdit, 0, 79, a(Submit), treasurer, 0,
			a(StartReview), verifier2, 0, a(Recommend), 4, 0, a(Approve), 4, 0, a(Approve), approver, 0x40,
			a(Cancel), 0, 0x80, a(Cancel), 0, 0,
		},
		{11, 0, 0, a(Cancel), 12, 0x21, a(Submit), 10, 0, a(Disburse), 6, 0},
	}
}

// runScript plays one script and fails t on the first broken invariant; it
// returns the final grant.
func runScript(t *testing.T, script []byte) Grant {
	prog := testProgram()
	group := testGroup(KKG, 20)
	ceiling := prog.Ceilings[group.Kind]
	g := grantIn(Draft)
	for i := range g.Activities {
		g.Activities[i].Status, g.Activities[i].AttendeeCount, g.Activities[i].EvidenceCount = ActivityPlanned, 0, 0
	}

	for steps := 0; len(script) >= 3 && steps < 200; steps++ {
		op, who, arg := script[0], script[1], script[2]
		script = script[3:]

		if op == opRealize || op == opCancelAc {
			activityStep(t, &g, op, fuzzActors[int(who)%len(fuzzActors)], arg, prog)
			continue
		}
		if op >= opSpend {
			world(&g, op, arg)
			continue
		}
		action := Action("bogus")
		if i := int(op) % 12; i < len(Actions) {
			action = Actions[i]
		}
		actor := fuzzActors[int(who)%len(fuzzActors)]
		r := fuzzRequest(g, action, actor, arg, prog, group)

		before := cloneGrant(g)
		ev, err := Apply(&g, r)

		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%s: error %v is %T, not *Error", action, err, err)
			}
			switch e.Code {
			case EInvalid, EConflict, EForbidden, EUnprocessable:
			default:
				t.Fatalf("%s: unexpected code %s", action, e.Code)
			}
			if e.Code == EUnprocessable && len(e.Details) == 0 {
				t.Fatalf("%s: unprocessable without details", action)
			}
			if !reflect.DeepEqual(g, before) {
				t.Fatalf("%s by %v: grant changed on error %v", action, actor.Roles, err)
			}
		}
		code := ErrorCode(err)

		if !action.Valid() {
			if code != EInvalid {
				t.Fatalf("unknown action answered %v", err)
			}
			continue
		}
		if before.State.Terminal() && err == nil {
			t.Fatalf("%s left terminal state %s", action, before.State)
		}
		stale := r.ExpectedState != "" && r.ExpectedState != before.State
		if stale {
			if code != EConflict {
				t.Fatalf("stale expected state answered %v", err)
			}
		} else {
			allowed := slices.Contains(Allowed(before, actor), action)
			authFailed := code == EForbidden || code == EConflict
			if allowed == authFailed {
				t.Fatalf("%s by %v in %s: Allowed=%v but Apply: %v", action, actor.Roles, before.State, allowed, err)
			}
		}
		if err == nil {
			to, ok := Target(action, before.State)
			if !ok || g.State != to || ev.FromState != before.State || ev.ToState != g.State || ev.Action != string(action) {
				t.Fatalf("%s: %s→%s, event %s→%s", action, before.State, g.State, ev.FromState, ev.ToState)
			}
			if !slices.Contains(actor.Roles, ev.ActorRole) {
				t.Fatalf("%s: event role %s not held by %v", action, ev.ActorRole, actor.Roles)
			}
		}

		if g.AmountApproved > g.AmountRequested || g.AmountRequested > ceiling {
			t.Fatalf("after %s: approved %d, requested %d, ceiling %d", action, g.AmountApproved, g.AmountRequested, ceiling)
		}
		if g.Disbursed > g.AmountApproved || g.Disbursed < 0 {
			t.Fatalf("after %s: disbursed %d of approved %d", action, g.Disbursed, g.AmountApproved)
		}
		if g.TranchesPaid > len(prog.TranchePercents) {
			t.Fatalf("after %s: %d tranches paid", action, g.TranchesPaid)
		}
		if g.State == Closed && (g.Balance() != 0 || g.Disbursed == 0) {
			t.Fatalf("closed with balance %d, disbursed %d", g.Balance(), g.Disbursed)
		}
		if g.ApproverID != 0 && g.ApproverID == g.VerifierID {
			t.Fatalf("person %d verified and approved", g.ApproverID)
		}
	}
	return g
}

func TestFuzzSeeds(t *testing.T) {
	seeds := fuzzSeeds()
	if g := runScript(t, seeds[0]); g.State != Closed || g.Disbursed != testTotal {
		t.Errorf("happy seed ends in %s with %d disbursed", g.State, g.Disbursed)
	}
	if g := runScript(t, seeds[1]); g.State != Closed || g.Disbursed != testTotal || g.Activities[2].Status != ActivityCancelled ||
		g.Activities[0].Version != 2 || g.Activities[1].Version != 1 {
		t.Errorf("sessions seed ends in %s with %d disbursed, activities %+v", g.State, g.Disbursed, g.Activities)
	}
	if g := runScript(t, seeds[2]); g.State != Cancelled || g.AmountRequested != 80*50_000+7_000_000 {
		t.Errorf("revision seed ends in %s, requested %d", g.State, g.AmountRequested)
	}
	runScript(t, seeds[3])
}

// activityStep records a session or cancels one through the domain and
// checks what must hold whatever the actor, state and input: a refusal is a
// known code and changes nothing; a success touches one activity only, as
// its rules say, and never moves the grant.
func activityStep(t *testing.T, g *Grant, op byte, actor Actor, arg byte, prog Program) {
	t.Helper()
	if len(g.Activities) == 0 {
		return
	}
	idx := int(arg&0x7f) % len(g.Activities)
	act := g.Activities[idx]
	before := cloneGrant(*g)
	var err error
	if op == opRealize {
		rz := goodRealization(act.PlannedOn.String())
		if arg >= 128 {
			rz.Hours = 0
		}
		_, _, err = Realize(g, RealizeRequest{Actor: actor, Now: tRealizeNow, ActivityID: act.ID, Realization: rz, Program: prog,
			FirstTransfer: tFirstTransfer, Members: testMembers(20)})
	} else {
		reason := "Madrasah libur"
		if arg >= 128 {
			reason = " "
		}
		_, err = CancelActivity(g, CancelActivityRequest{Actor: actor, Now: tNow, ActivityID: act.ID, Reason: reason})
	}
	if err != nil {
		switch ErrorCode(err) {
		case EForbidden, EConflict, EUnprocessable:
		default:
			t.Fatalf("op %d on %q by %v: %v", op, act.Title, actor.Roles, err)
		}
		if !reflect.DeepEqual(*g, before) {
			t.Fatalf("op %d by %v: grant changed on error %v", op, actor.Roles, err)
		}
		return
	}
	if before.State != Funded || g.State != Funded {
		t.Fatalf("op %d succeeded in %s", op, before.State)
	}
	got := g.Activities[idx]
	if op == opRealize {
		if _, ok := actsAs(before, actor, []Role{RoleChair, RoleTreasurer}); !ok || act.Status == ActivityCancelled ||
			got.Status != ActivityHeld || got.Version != act.Version+1 || got.HeldOn != act.PlannedOn {
			t.Fatalf("realize %q by %v: %+v → %+v", act.Title, actor.Roles, act, got)
		}
		if got.Kind == On && !slices.ContainsFunc(g.Activities, func(b Activity) bool {
			return b.Kind == In && b.Status == ActivityHeld && !b.HeldOn.After(got.HeldOn)
		}) {
			t.Fatalf("On %q realised before any In", got.Title)
		}
	} else if !actor.Has(RoleVerifier) || act.Status != ActivityPlanned || got.Status != ActivityCancelled || got.CancelReason == "" {
		t.Fatalf("cancel %q by %v: %+v → %+v", act.Title, actor.Roles, act, got)
	}
	for i := range g.Activities {
		if i != idx && !reflect.DeepEqual(g.Activities[i], before.Activities[i]) {
			t.Fatalf("op %d on %q changed activity %d", op, act.Title, i)
		}
	}
}

// fuzzRequest builds the request for one step. arg's bits choose the inputs;
// arg 0 always asks for the "right" values.
func fuzzRequest(g Grant, a Action, actor Actor, arg byte, prog Program, group Group) Request {
	r := Request{Action: a, Actor: actor, Now: tNow, Comment: "ok", Program: prog, Group: group}
	if arg&0x80 != 0 {
		r.Comment = "  "
	}
	switch arg % 4 {
	case 0:
		r.ApprovedAmount = g.AmountRequested
	case 1:
		r.ApprovedAmount = g.AmountRequested / 2
	case 2:
		r.ApprovedAmount = g.AmountRequested + 1
	}
	switch r.Tranche = g.TranchesPaid + 1; arg % 3 {
	case 1:
		r.Tranche++
	case 2:
		r.Tranche--
	}
	if shares := prog.TrancheAmounts(g.AmountApproved); r.Tranche >= 1 && r.Tranche <= len(shares) {
		r.Amount = shares[r.Tranche-1]
	} else {
		r.Amount = 1_000
	}
	if arg&0x04 != 0 {
		r.Amount++
	}
	if arg&0x40 != 0 {
		r.PoolCommitted = prog.BudgetTotal
	}
	if arg&0x20 != 0 {
		r.ExpectedState = States[int(arg)%len(States)]
	}
	return r
}

// world changes the grant the way other records do: expenses, refunds,
// receipts, realised activities, budget edits. It keeps the facts possible:
// money is never spent beyond what was disbursed.
func world(g *Grant, op, arg byte) {
	switch op {
	case opSpend:
		if g.State != Funded {
			return
		}
		amt := g.Balance()
		if arg != 0 {
			amt = min(amt, int64(arg)*50_000)
		}
		if amt <= 0 {
			return
		}
		g.Spent += amt
		if arg%5 == 4 {
			g.ExpensesWithoutReceipt++
		} else {
			g.Receipted += amt
		}
	case opRefund:
		if g.State == Funded || g.State == ReportSubmitted {
			g.Refunded += g.Balance()
		}
	case opReceipt:
		g.Receipted, g.ExpensesWithoutReceipt = g.Spent, 0
	case opHold:
		if g.State != Funded || len(g.Activities) == 0 {
			return
		}
		act := &g.Activities[int(arg)%len(g.Activities)]
		act.Status, act.AttendeeCount, act.EvidenceCount = ActivityHeld, 15, 1
		if arg >= 128 {
			act.Status = ActivityCancelled
		} else if arg >= 64 {
			act.EvidenceCount = 0
		}
	case opEdit:
		if g.State != Draft && g.State != RevisionRequested {
			return
		}
		l := &g.Budget[0]
		l.Quantity = int64(arg) + 1
		l.Amount = l.Quantity * l.UnitPrice
	case opEvidence:
		for i := range g.Activities {
			if g.Activities[i].Status == ActivityHeld {
				g.Activities[i].EvidenceCount++
			}
		}
	default:
		// Opcodes above opEvidence do nothing: a no-op step.
	}
}
