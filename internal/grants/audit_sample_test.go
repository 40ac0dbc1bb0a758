package grants_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"

	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/internal/postgres"
	"grantflow/workflow"
)

// holdSessions records every planned session of g as held, one day apart in
// plan order and ending yesterday, with one attendee and one evidence file
// each. The realisation service is #7 round 2's: until it is merged this goes
// through the storage layer's InsertRealization with its event, as that
// service will.
func holdSessions(t *testing.T, f *fixture, g *testGrant) {
	t.Helper()
	ctx := ctxT(t)
	var member int64
	if err := f.db.SQL().QueryRow(`SELECT id FROM members WHERE group_id = $1 ORDER BY id LIMIT 1`, g.view.GroupID).Scan(&member); err != nil {
		t.Fatal(err)
	}
	acts := g.view.Activities
	for i, a := range acts {
		err := f.db.InTx(ctx, func(tx *postgres.Tx) error {
			wg, err := tx.GrantForUpdate(ctx, g.id)
			if err != nil {
				return err
			}
			held := f.today.AddDays(i - len(acts))
			ev, err := tx.AppendEvent(ctx, workflow.NewEvent(wg, "record_realization", g.treasurer, workflow.RoleTreasurer, tx.Now(), "",
				map[string]any{"activity_id": a.ID, "held_on": held.String()}))
			if err != nil {
				return err
			}
			_, err = tx.InsertRealization(ctx, workflow.Realization{ActivityID: a.ID, GrantID: g.id, Version: 1, HeldOn: held,
				Location: "Aula MIN 2", Hours: 3, Facilitator: "Pengawas", Summary: "Terlaksana.", Outputs: "Modul.",
				AttendeeIDs: []int64{member}, RecordedBy: g.treasurer.UserID, EventID: ev.ID})
			return err
		})
		if err != nil {
			t.Fatalf("hold %s: %v", a.Title, err)
		}
		if _, err := f.svc.AddActivityEvidence(ctx, g.treasurer, g.id, a.ID, "minutes", f.ingest(t, evidencetest.NotePDF(fmt.Sprintf("notulen %d-%d", g.id, i)))); err != nil {
			t.Fatal(err)
		}
	}
}

// The auditor's receipt sample: drawn once from a recorded seed that
// redraws it, weighted towards flagged expenses, and accept_report refused
// until every sampled expense has a finding.
func TestAuditSample(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newFixture(t, localStore(t))
	auditor := f.user(t, grants.NewUser{Roles: []workflow.Role{workflow.RoleAuditor}})
	g := f.fundedGrant(t)
	holdSessions(t, f, g)

	// 9 expenses, two sharing one receipt (duplicate_receipt).
	dup := f.ingest(t, evidencetest.JPEG(t, 90, 8, 6))
	var spent int64
	for i := range 9 {
		r := dup
		if i > 1 {
			r = f.ingest(t, evidencetest.JPEG(t, 91+i, 8, 6))
		}
		amt := int64(101_000 + 1_000*i)
		if _, err := f.spend(t, g, "atk_bahan", amt, r); err != nil { // not a session cost: no no_session flag
			t.Fatal(err)
		}
		spent += amt
	}
	if _, err := f.svc.RecordRefund(ctx, g.treasurer, g.id, grants.RefundInput{Amount: 7_507_500 - spent,
		PaidOn: f.today, NTPN: fmt.Sprintf("AUD%013d", g.id)}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Act(ctx, g.treasurer, g.id, workflow.SubmitReport, grants.ActInput{}); err != nil {
		t.Fatalf("submit_report: %v", err)
	}

	if _, err := f.svc.DrawAuditSample(ctx, f.verifier, g.id); workflow.ErrorCode(err) != workflow.EForbidden {
		t.Errorf("verifier draws: %v, want forbidden", err)
	}
	s, err := f.svc.DrawAuditSample(ctx, auditor, g.id)
	if err != nil {
		t.Fatal(err)
	}
	if s.Size != 5 || len(s.Items) != 5 || s.Candidates != 9 { // max(5, ceil(√9))
		t.Fatalf("sample %+v", s)
	}
	if _, err := f.svc.DrawAuditSample(ctx, auditor, g.id); workflow.ErrorCode(err) != workflow.EConflict {
		t.Errorf("second draw: %v, want conflict", err)
	}

	// Redraw from the event alone.
	evs, err := f.svc.Events(ctx, auditor, g.id)
	if err != nil {
		t.Fatal(err)
	}
	var draw workflow.Event
	for _, ev := range evs {
		if ev.Action == "draw_audit_sample" {
			draw = ev
		}
	}
	seed, err := strconv.ParseUint(fmt.Sprint(draw.Data["seed"]), 10, 64)
	if err != nil || fmt.Sprint(seed) != s.Seed {
		t.Fatalf("seed in the event %v, in the answer %s: %v", draw.Data["seed"], s.Seed, err)
	}
	var cs []workflow.SampleCandidate
	flagged := 0
	for _, c := range draw.Data["candidates"].([]any) {
		id := eventInt(t, c)
		isF := slices.ContainsFunc(draw.Data["flagged"].([]any), func(x any) bool { return eventInt(t, x) == id })
		if isF {
			flagged++
		}
		cs = append(cs, workflow.SampleCandidate{ExpenseID: id, Flagged: isF})
	}
	if flagged != 2 {
		t.Errorf("%d flagged candidates recorded, want the 2 duplicates", flagged)
	}
	var got []int64
	for _, it := range s.Items {
		got = append(got, it.ExpenseID)
	}
	if re := workflow.DrawAuditSample(cs, s.Size, seed); !slices.Equal(re, got) {
		t.Fatalf("redrawn %v, drawn %v", re, got)
	}

	// Findings: bad input changes nothing; accept waits for all five.
	first := s.Items[0].ExpenseID
	if _, err := f.svc.RecordFinding(ctx, auditor, g.id, first, grants.FindingInput{Result: "issue"}); workflow.ErrorCode(err) != workflow.EUnprocessable {
		t.Errorf("issue without note: %v", err)
	}
	if _, err := f.svc.RecordFinding(ctx, auditor, g.id, first, grants.FindingInput{Result: "maybe"}); workflow.ErrorCode(err) != workflow.EUnprocessable {
		t.Errorf("unknown result: %v", err)
	}
	outside := slices.IndexFunc(cs, func(c workflow.SampleCandidate) bool { return !slices.Contains(got, c.ExpenseID) })
	if _, err := f.svc.RecordFinding(ctx, auditor, g.id, cs[outside].ExpenseID, grants.FindingInput{Result: "ok"}); workflow.ErrorCode(err) != workflow.ENotFound {
		t.Errorf("finding outside the sample: %v", err)
	}
	for i, it := range s.Items {
		_, err := f.svc.Act(ctx, auditor, g.id, workflow.AcceptReport, grants.ActInput{})
		wantCode(t, fmt.Sprintf("accept with %d of 5 findings", i), err, workflow.EUnprocessable)
		if !hasField(err, "audit_sample") {
			t.Fatalf("accept refused without naming audit_sample: %v", err)
		}
		in := grants.FindingInput{Result: "ok"}
		if i == 0 {
			in = grants.FindingInput{Result: "issue", Note: "Nota dipakai dua kali."}
		}
		if _, err := f.svc.RecordFinding(ctx, auditor, g.id, it.ExpenseID, in); err != nil {
			t.Fatal(err)
		}
	}
	v, err := f.svc.AuditSample(ctx, auditor, g.id)
	if err != nil || v.Items[0].Result != "issue" || v.Items[0].Note != "Nota dipakai dua kali." || v.Items[4].Result != "ok" {
		t.Fatalf("sample with findings %+v, %v", v, err)
	}
	if la, err := f.svc.LPJAudit(ctx, auditor, g.id); err != nil || la == nil || la.Seed != s.Seed || len(la.Items) != 5 || la.Items[0].Note == "" {
		t.Errorf("LPJ audit section %+v, %v", la, err)
	}
	if view, err := f.svc.Act(ctx, auditor, g.id, workflow.AcceptReport, grants.ActInput{}); err != nil || view.State != workflow.Closed {
		t.Fatalf("accept with every finding: %v", err)
	}
}

// eventInt reads a number of an event's data as read back (json.Number).
func eventInt(t *testing.T, v any) int64 {
	t.Helper()
	n, err := strconv.ParseInt(fmt.Sprint(v), 10, 64)
	if err != nil {
		t.Fatalf("event number %v: %v", v, err)
	}
	return n
}
