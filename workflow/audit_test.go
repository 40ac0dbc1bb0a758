package workflow

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// With require_chair_confirmation the treasurer's submit_report waits for
// the chair's confirm_report, and NextSteps says so; without it nothing
// changes. The treasurer may not confirm for the chair.
func TestChairConfirmation(t *testing.T) {
	treasurer, chairA := actorWith(8, RoleTreasurer), actorWith(9, RoleChair)
	for _, on := range []bool{false, true} {
		g := grantIn(Funded)
		g.Spent, g.Refunded = testTranche1, 0
		r := goodRequest(g, SubmitReport, treasurer)
		r.Program.RequireChairConfirmation = on
		steps := NextSteps(g, r)
		waits := slices.ContainsFunc(steps, func(s string) bool { return strings.Contains(s, "belum mengonfirmasi") })
		if waits != on {
			t.Errorf("require %v: next steps %q", on, steps)
		}
		h := cloneGrant(g)
		_, err := Apply(&h, r)
		if on {
			if ErrorCode(err) != EUnprocessable || !hasDetail(asError(t, err), "report_confirmed") {
				t.Fatalf("require on, unconfirmed: %v, want 422 on report_confirmed", err)
			}
		} else if err != nil {
			t.Fatalf("require off: %v", err)
		}
		if !on {
			continue
		}

		if _, err := Apply(&g, goodRequest(g, ConfirmReport, treasurer)); ErrorCode(err) != EForbidden {
			t.Errorf("treasurer confirm_report: %v, want forbidden", err)
		}
		ev, err := Apply(&g, goodRequest(g, ConfirmReport, chairA))
		if err != nil || ev.Action != string(ConfirmReport) || g.State != Funded || !g.ReportConfirmed {
			t.Fatalf("confirm_report: %v, event %+v, grant %s confirmed %v", err, ev, g.State, g.ReportConfirmed)
		}
		r = goodRequest(g, SubmitReport, treasurer)
		r.Program.RequireChairConfirmation = true
		if _, err := Apply(&g, r); err != nil || g.State != ReportSubmitted {
			t.Fatalf("submit_report after confirmation: %v", err)
		}
	}
}

func TestAuditSampleSize(t *testing.T) {
	for _, tc := range []struct{ n, size, want int }{
		{0, 0, 0}, {3, 0, 3}, {5, 0, 5}, {24, 0, 5}, {26, 0, 6}, {100, 0, 10}, {300, 0, 18},
		{300, 40, 40}, {300, 2, 5}, {4, 40, 4},
	} {
		if got := AuditSampleSize(tc.n, tc.size); got != tc.want {
			t.Errorf("AuditSampleSize(%d, %d) = %d, want %d", tc.n, tc.size, got, tc.want)
		}
	}
}

// The sample is reproducible from its seed whatever the order of the
// candidates, differs between seeds, and favours flagged expenses by
// AuditFlagWeight at each pick.
func TestDrawAuditSample(t *testing.T) {
	var cs []SampleCandidate
	for i := range 40 {
		cs = append(cs, SampleCandidate{ExpenseID: int64(100 + i), Flagged: i%10 == 0})
	}
	a := DrawAuditSample(cs, 7, 42)
	rev := slices.Clone(cs)
	slices.Reverse(rev)
	if b := DrawAuditSample(rev, 7, 42); !slices.Equal(a, b) || len(a) != 7 || !slices.IsSorted(a) {
		t.Fatalf("seed 42: %v, then %v reversed", a, b)
	}
	if c := DrawAuditSample(cs, 7, 43); slices.Equal(a, c) {
		t.Errorf("seeds 42 and 43 drew the same sample %v", a)
	}
	if all := DrawAuditSample(cs[:3], 5, 1); !slices.Equal(all, []int64{100, 101, 102}) {
		t.Errorf("k above n: %v", all)
	}

	// One pick between a flagged and an unflagged expense: the flagged one
	// wins w/(w+1) of the time (4/5).
	pair := []SampleCandidate{{ExpenseID: 1, Flagged: true}, {ExpenseID: 2}}
	const runs = 20000
	won := 0
	for seed := range uint64(runs) {
		if DrawAuditSample(pair, 1, seed)[0] == 1 {
			won++
		}
	}
	want := float64(AuditFlagWeight) / float64(AuditFlagWeight+1)
	if got := float64(won) / runs; math.Abs(got-want) > 0.015 {
		t.Errorf("flagged drawn in %.3f of single picks, want %.3f", got, want)
	}

	// In the 40 above (4 flagged), a flagged expense is in a 7-sample far
	// more often than an unflagged one.
	var inF, inU int
	for seed := range uint64(3000) {
		for _, id := range DrawAuditSample(cs, 7, seed) {
			if (id-100)%10 == 0 {
				inF++
			} else {
				inU++
			}
		}
	}
	rateF, rateU := float64(inF)/(3000*4), float64(inU)/(3000*36)
	if rateF < 2.5*rateU {
		t.Errorf("inclusion rate flagged %.3f, unflagged %.3f: want flagged at least 2.5×", rateF, rateU)
	}
	t.Logf("inclusion rate flagged %.3f, unflagged %.3f", rateF, rateU)
}

// accept_report waits for a finding on every sampled expense; NextSteps
// names the missing ones.
func TestAcceptReportNeedsFindings(t *testing.T) {
	aud := actorWith(9, RoleAuditor)
	g := grantIn(ReportSubmitted)
	g.AuditSample = []SampledExpense{{ExpenseID: 11, Result: FindingOK}, {ExpenseID: 12}, {ExpenseID: 13, Result: FindingIssue, Note: "Nota ganda."}}
	if steps := NextSteps(g, goodRequest(g, AcceptReport, aud)); !slices.ContainsFunc(steps, func(s string) bool { return strings.Contains(s, "belanja 12") }) {
		t.Errorf("next steps %q do not name expense 12", steps)
	}
	h := cloneGrant(g)
	if _, err := Apply(&h, goodRequest(h, AcceptReport, aud)); ErrorCode(err) != EUnprocessable || !hasDetail(asError(t, err), "audit_sample") {
		t.Fatalf("accept with an open sample: %v", err)
	}
	g.AuditSample[1].Result = FindingOK
	if _, err := Apply(&g, goodRequest(g, AcceptReport, aud)); err != nil || g.State != Closed {
		t.Fatalf("accept with every finding: %v", err)
	}
}
