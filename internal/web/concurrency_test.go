package web

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"grantflow/internal/demo"
	"grantflow/workflow"
)

// race sends n requests built by mk at once through the HTTP handler and
// returns their statuses.
func (h *harness) race(t *testing.T, n int, mk func(i int) *http.Request) []int {
	t.Helper()
	statuses := make([]int, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		req := mk(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := h.try(req)
			statuses[i], errs[i] = r.status, err
			if err == nil && r.status >= 500 {
				errs[i] = fmt.Errorf("status %d: %s", r.status, truncate(r.body))
			}
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	return statuses
}

func count(statuses []int, want int) int {
	n := 0
	for _, s := range statuses {
		if s == want {
			n++
		}
	}
	return n
}

// TestConcurrentApprove: twenty approvals of one recommended grant at once,
// half with the same token and half by different approvers: exactly one
// wins, the others are told 409, and the trail holds one approval.
func TestConcurrentApprove(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.grantIn(t, h.prog, h.groupA, workflow.Recommended)
	tokens := []string{h.token("approver"), h.token("approver2")}

	statuses := h.race(t, 20, func(i int) *http.Request {
		return request("POST", fmt.Sprintf("/api/v1/grants/%d/actions/approve", g.ID), tokens[i%2], map[string]string{"comment": fmt.Sprintf("persetujuan %d", i)})
	})
	if count(statuses, 200) != 1 || count(statuses, http.StatusConflict) != 19 {
		t.Fatalf("statuses %v: want one 200 and nineteen 409", statuses)
	}
	got := h.getGrant(t, "admin", g.ID)
	if got.State != workflow.Approved {
		t.Fatalf("state %s", got.State)
	}
	n := 0
	for _, ev := range h.events(t, "admin", g.ID) {
		if ev.Action == string(workflow.Approve) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d approve events", n)
	}
}

// TestConcurrentPool: two different grants approved at once against a pool
// that holds only one of them: exactly one succeeds, the other is refused
// for the pool, and the pool is never over-committed.
func TestConcurrentPool(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for round := 0; round < 3; round++ {
		prog := h.newProgram(t, 15_000_000)
		a := h.grantIn(t, prog, h.groupA, workflow.Recommended)
		b := h.grantIn(t, prog, h.groupB, workflow.Recommended)
		ids := []int64{a.ID, b.ID}
		tokens := []string{h.token("approver"), h.token("approver2")}
		statuses := h.race(t, 2, func(i int) *http.Request {
			return request("POST", fmt.Sprintf("/api/v1/grants/%d/actions/approve", ids[i]), tokens[i], nil)
		})
		if count(statuses, 200) != 1 || count(statuses, http.StatusUnprocessableEntity) != 1 {
			t.Fatalf("round %d: statuses %v: want one 200 and one 422", round, statuses)
		}
		var committed int64
		for _, id := range ids {
			if g := h.getGrant(t, "admin", id); g.State == workflow.Approved {
				committed += g.AmountApproved
			}
		}
		if committed > prog.BudgetTotal || committed == 0 {
			t.Fatalf("round %d: %d committed of a pool of %d", round, committed, prog.BudgetTotal)
		}
	}
}

// TestConcurrentSubmit: the chair and the treasurer submit one draft ten
// times at once: one submission wins, the others are told 409.
func TestConcurrentSubmit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.grantIn(t, h.prog, h.groupA, workflow.Draft)
	if _, err := h.svc.SaveProposal(t.Context(), h.actor("chairA"), g.ID, demo.Proposal(workflow.KKG, proposalStart)); err != nil {
		t.Fatal(err)
	}
	tokens := []string{h.token("chairA"), h.token("treasurerA")}
	statuses := h.race(t, 10, func(i int) *http.Request {
		return request("POST", fmt.Sprintf("/api/v1/grants/%d/actions/submit", g.ID), tokens[i%2], map[string]string{"expected_state": "draft"})
	})
	if count(statuses, 200) != 1 || count(statuses, http.StatusConflict) != 9 {
		t.Fatalf("statuses %v", statuses)
	}
	n := 0
	for _, ev := range h.events(t, "chairA", g.ID) {
		if ev.Action == string(workflow.Submit) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d submit events", n)
	}
}
