package web

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"grantflow/internal/demo"
	"grantflow/workflow"
)

// eventView is an audit event as GET /grants/{id}/events shows it.
type eventView struct {
	Seq       int            `json:"seq"`
	Action    string         `json:"action"`
	FromState workflow.State `json:"from_state"`
	ToState   workflow.State `json:"to_state"`
	ActorID   int64          `json:"actor_id"`
	ActorRole workflow.Role  `json:"actor_role"`
	Comment   string         `json:"comment"`
	PrevHash  string         `json:"prev_hash"`
	Hash      string         `json:"hash"`
	Data      map[string]any `json:"data"`
}

// events reads a grant's audit trail and checks its hash chain.
func (h *harness) events(t testing.TB, who string, id int64) []eventView {
	t.Helper()
	r := h.do("GET", fmt.Sprintf("/api/v1/grants/%d/events", id), h.token(who), nil)
	expect(t, r, 200, "events")
	var out struct {
		Items []eventView `json:"items"`
		Total int         `json:"total"`
	}
	r.decode(t, &out)
	if out.Total != len(out.Items) {
		t.Fatalf("events total %d, items %d", out.Total, len(out.Items))
	}
	hexHash := regexp.MustCompile(`^[0-9a-f]{64}$`)
	prev := ""
	for i, ev := range out.Items {
		if ev.Seq != i+1 {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
		if ev.PrevHash != prev {
			t.Fatalf("event %d (%s): prev_hash %q, previous hash %q", ev.Seq, ev.Action, ev.PrevHash, prev)
		}
		if !hexHash.MatchString(ev.Hash) {
			t.Fatalf("event %d: hash %q", ev.Seq, ev.Hash)
		}
		prev = ev.Hash
	}
	return out.Items
}

func actions(evs []eventView) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Action)
	}
	return out
}

// allowed checks the actions a person is offered on a grant.
func (h *harness) allowed(t testing.TB, who string, id int64, want ...workflow.Action) {
	t.Helper()
	g := h.getGrant(t, who, id)
	if want == nil {
		want = []workflow.Action{}
	}
	if !slices.Equal(g.AllowedActions, want) {
		t.Errorf("%s in state %s is offered %v, want %v", who, g.State, g.AllowedActions, want)
	}
}

// TestGrantToApproval walks one grant from draft to approved through the
// API, checking at every step who is offered what, the state, the amounts
// and the hash-chained events.
func TestGrantToApproval(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	chair, verifier := h.token("chairA"), h.token("verifier")

	// Open the draft.
	r := h.do("POST", "/api/v1/grants", chair, map[string]int64{"program_id": h.prog.ID, "group_id": h.groupA.ID})
	expect(t, r, http.StatusCreated, "open draft")
	var g grantView
	r.decode(t, &g)
	if g.State != workflow.Draft || g.ID == 0 || !regexp.MustCompile(`^KKG-2026-\d{6}$`).MatchString(g.Number) || g.Group.ID != h.groupA.ID {
		t.Fatalf("draft = %+v", g)
	}
	if g.Balance == nil || *g.Balance != 0 {
		t.Fatalf("balance missing: %s", r.body)
	}
	id := g.ID
	// A second grant for the same group and programme is a conflict.
	r = h.do("POST", "/api/v1/grants", h.token("treasurerA"), map[string]int64{"program_id": h.prog.ID, "group_id": h.groupA.ID})
	expect(t, r, http.StatusConflict, "second grant")
	// Nor may a chair open one for another group, or for a missing programme.
	// Another group is out of this chair's scope: refused like a missing group.
	if e := expect(t, h.do("POST", "/api/v1/grants", chair, map[string]int64{"program_id": h.prog.ID, "group_id": h.groupB.ID}), http.StatusUnprocessableEntity, "other group's grant"); !e.hasField("group_id") {
		t.Fatalf("details %v", e.Details)
	}
	e := expect(t, h.do("POST", "/api/v1/grants", h.token("admin"), map[string]int64{"program_id": 999999, "group_id": 999999}), http.StatusUnprocessableEntity, "missing programme and group")
	if !e.hasField("program_id") || !e.hasField("group_id") {
		t.Fatalf("details %v", e.Details)
	}

	h.allowed(t, "chairA", id, workflow.Submit)
	h.allowed(t, "treasurerA", id, workflow.Submit)
	h.allowed(t, "verifier", id)
	h.allowed(t, "admin", id, workflow.Cancel)

	// Submitting an empty draft lists every missing part at once.
	e = expect(t, h.act("chairA", id, workflow.Submit, nil), http.StatusUnprocessableEntity, "submit empty")
	if e.Code != "unprocessable" {
		t.Fatalf("code %q", e.Code)
	}
	for _, f := range []string{"background", "objectives", "sustainability_plan", "activities", "budget"} {
		if !e.hasField(f) {
			t.Errorf("submit of an empty draft: no detail for %s in %v", f, e.fields())
		}
	}

	// A proposal over the ceiling, with an honorarium above its cap, too few
	// On sessions and a line in no category, reports all of it.
	bad := demo.Proposal(workflow.KKG, proposalStart)
	bad.Budget[1].UnitPrice = 4_000_000 // honorarium 12 M of ~20 M, over 30 %
	bad.Activities = slices.DeleteFunc(bad.Activities, func(a workflow.Activity) bool { return a.Kind == workflow.On })
	r = h.do("PUT", fmt.Sprintf("/api/v1/grants/%d/proposal", id), chair, bad)
	expect(t, r, 200, "save bad proposal")
	e = expect(t, h.act("chairA", id, workflow.Submit, map[string]string{}), http.StatusUnprocessableEntity, "submit bad proposal")
	msgs := fmt.Sprint(e.Details)
	if !e.hasField("activities") || !e.hasField("budget") || !strings.Contains(msgs, "Honorarium") || !strings.Contains(msgs, "pagu") {
		t.Fatalf("submit of a bad proposal: %v", e.Details)
	}
	// An unknown category is refused when saving already.
	unknown := demo.Proposal(workflow.KKG, proposalStart)
	unknown.Budget[0].Category = "perjalanan_dinas"
	e = expect(t, h.do("PUT", fmt.Sprintf("/api/v1/grants/%d/proposal", id), chair, unknown), http.StatusUnprocessableEntity, "unknown category")
	if !e.hasField("budget[0].category") {
		t.Fatalf("details %v", e.Details)
	}

	// Write the real proposal.
	prop := demo.Proposal(workflow.KKG, proposalStart)
	r = h.do("PUT", fmt.Sprintf("/api/v1/grants/%d/proposal", id), h.token("treasurerA"), prop)
	expect(t, r, 200, "save proposal")
	r.decode(t, &g)
	var total int64
	for _, l := range prop.Budget {
		total += l.Quantity * l.UnitPrice
	}
	if len(g.Activities) != 5 || len(g.Budget) != 6 || g.Budget[0].Amount != prop.Budget[0].Quantity*prop.Budget[0].UnitPrice {
		t.Fatalf("saved proposal: %d activities, %d lines, %+v", len(g.Activities), len(g.Budget), g.Budget)
	}
	for i, a := range g.Activities {
		if a.ID == 0 || a.Seq != i+1 || a.Status != workflow.ActivityPlanned {
			t.Fatalf("activity %d: %+v", i, a)
		}
	}
	// Staff may not write a group's proposal; another group's chair does not see it.
	expect(t, h.do("PUT", fmt.Sprintf("/api/v1/grants/%d/proposal", id), verifier, prop), http.StatusForbidden, "verifier writes proposal")
	expect(t, h.do("PUT", fmt.Sprintf("/api/v1/grants/%d/proposal", id), h.token("chairB"), prop), http.StatusNotFound, "other chair writes proposal")

	// expected_state guards against acting on a stale page.
	e = expect(t, h.act("chairA", id, workflow.Submit, map[string]string{"expected_state": "revision_requested"}), http.StatusConflict, "stale expected_state")
	if e.Code != "conflict" {
		t.Fatalf("code %q", e.Code)
	}

	// Submit.
	r = h.act("chairA", id, workflow.Submit, map[string]string{"expected_state": "draft"})
	expect(t, r, 200, "submit")
	r.decode(t, &g)
	if g.State != workflow.Submitted || g.AmountRequested != total {
		t.Fatalf("after submit: state %s requested %d, want %d", g.State, g.AmountRequested, total)
	}
	// The proposal is frozen now.
	e = expect(t, h.do("PUT", fmt.Sprintf("/api/v1/grants/%d/proposal", id), chair, prop), http.StatusConflict, "edit submitted proposal")
	if e.Code != "conflict" {
		t.Fatalf("code %q", e.Code)
	}
	expect(t, h.act("chairA", id, workflow.Submit, nil), http.StatusConflict, "submit twice")
	h.allowed(t, "chairA", id)
	h.allowed(t, "verifier", id, workflow.StartReview)
	h.allowed(t, "approver", id)
	h.allowed(t, "admin", id, workflow.Cancel)

	// Review, and ask for a revision: a comment is required.
	expect(t, h.act("verifier", id, workflow.StartReview, nil), 200, "start review")
	h.allowed(t, "verifier", id, workflow.RequestRevision, workflow.Recommend, workflow.Reject)
	h.allowed(t, "approver", id)
	for _, body := range []any{nil, map[string]string{}, map[string]string{"comment": "   \n "}} {
		e = expect(t, h.act("verifier", id, workflow.RequestRevision, body), http.StatusUnprocessableEntity, "revision without comment")
		if !e.hasField("comment") {
			t.Fatalf("details %v", e.Details)
		}
	}
	r = h.act("verifier", id, workflow.RequestRevision, map[string]string{"comment": "Tambahkan jadwal sesi On."})
	expect(t, r, 200, "request revision")
	r.decode(t, &g)
	if g.State != workflow.RevisionRequested {
		t.Fatalf("state %s", g.State)
	}
	h.allowed(t, "chairA", id, workflow.Submit)
	h.allowed(t, "verifier", id)

	// Revise and resubmit: a smaller budget this time.
	prop.Budget = prop.Budget[:5]
	total -= 1_000_000 // dokumentasi line dropped
	expect(t, h.do("PUT", fmt.Sprintf("/api/v1/grants/%d/proposal", id), chair, prop), 200, "revise proposal")
	r = h.act("treasurerA", id, workflow.Submit, nil)
	expect(t, r, 200, "resubmit")
	r.decode(t, &g)
	if g.State != workflow.Submitted || g.AmountRequested != total {
		t.Fatalf("after resubmit: state %s requested %d, want %d", g.State, g.AmountRequested, total)
	}
	expect(t, h.act("verifier", id, workflow.StartReview, map[string]string{"expected_state": "submitted"}), 200, "start review again")

	// Recommend: a comment and an amount no larger than requested.
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"approved_amount": total}, "comment"},
		{map[string]any{"comment": "Layak."}, "approved_amount"},
		{map[string]any{"comment": "Layak.", "approved_amount": total + 1}, "approved_amount"},
		{map[string]any{"comment": "Layak.", "approved_amount": -5}, "approved_amount"},
	} {
		e = expect(t, h.act("verifier", id, workflow.Recommend, c.body), http.StatusUnprocessableEntity, fmt.Sprint("recommend ", c.body))
		if !e.hasField(c.field) {
			t.Fatalf("recommend %v: details %v", c.body, e.Details)
		}
	}
	approved := total - 500_000
	r = h.act("verifier", id, workflow.Recommend, map[string]any{"comment": "Layak dengan penyesuaian konsumsi.", "approved_amount": approved})
	expect(t, r, 200, "recommend")
	r.decode(t, &g)
	if g.State != workflow.Recommended || g.AmountApproved != approved || g.AmountRequested != total {
		t.Fatalf("after recommend: %+v", g)
	}
	h.allowed(t, "verifier", id)
	h.allowed(t, "approver", id, workflow.Approve, workflow.Reject)
	h.allowed(t, "finance", id)

	// Approve.
	r = h.act("approver", id, workflow.Approve, map[string]any{"comment": "Disetujui.", "expected_state": "recommended"})
	expect(t, r, 200, "approve")
	r.decode(t, &g)
	if g.State != workflow.Approved || g.AmountApproved != approved || g.ApproverID != h.user("approver").view.ID {
		t.Fatalf("after approve: %+v", g)
	}
	if g.Disbursed != 0 || g.Spent != 0 || g.Refunded != 0 || *g.Balance != 0 {
		t.Fatalf("money before disbursement: %+v", g)
	}
	h.allowed(t, "approver", id)
	h.allowed(t, "finance", id, workflow.Disburse)
	h.allowed(t, "admin", id, workflow.Cancel)
	h.allowed(t, "chairA", id)
	expect(t, h.act("approver", id, workflow.Approve, nil), http.StatusConflict, "approve twice")

	// The trail: every step once, in order, chained.
	evs := h.events(t, "auditor", id)
	want := []string{"open", "save_proposal", "save_proposal", "submit", "start_review", "request_revision",
		"save_proposal", "submit", "start_review", "recommend", "approve"}
	if got := actions(evs); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	last := evs[len(evs)-1]
	if last.FromState != workflow.Recommended || last.ToState != workflow.Approved || last.ActorRole != workflow.RoleApprover || last.ActorID != h.user("approver").view.ID {
		t.Fatalf("approve event %+v", last)
	}
	if evs[5].Comment != "Tambahkan jadwal sesi On." {
		t.Fatalf("revision comment %q", evs[5].Comment)
	}
	// The chair sees the trail of their own grant; another chair does not.
	h.events(t, "chairA", id)
	expect(t, h.do("GET", fmt.Sprintf("/api/v1/grants/%d/events", id), h.token("chairB"), nil), http.StatusNotFound, "other chair's events")

	// The list shows the grant with its state, filtered.
	r = h.do("GET", fmt.Sprintf("/api/v1/grants?state=approved&program_id=%d", h.prog.ID), verifier, nil)
	expect(t, r, 200, "list")
	var list struct {
		Items []grantView `json:"items"`
		Total int         `json:"total"`
	}
	r.decode(t, &list)
	if list.Total != 1 || list.Items[0].ID != id || list.Items[0].AmountApproved != approved {
		t.Fatalf("list %+v", list)
	}
	r = h.do("GET", "/api/v1/grants?state=draft", verifier, nil)
	r.decode(t, &list)
	if list.Total != 0 {
		t.Fatalf("draft filter: %d", list.Total)
	}
	r = h.do("GET", "/api/v1/grants", h.token("verifier_out"), nil)
	r.decode(t, &list)
	if list.Total != 0 {
		t.Fatalf("Jawa Timur verifier lists %d grants", list.Total)
	}
}

// TestAuthorization tries every role on every pre-funding action with the
// grant in the action's source state: the one right role succeeds, other
// roles get 403, and people who may not see the grant (staff of another
// province, another group's chair) get 404.
func TestAuthorization(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	everyone := []string{"admin", "verifier", "verifier_out", "approver", "finance", "auditor", "chairA", "treasurerA", "chairB"}
	for _, who := range everyone {
		h.token(who)
	}
	invisible := map[string]bool{"verifier_out": true, "chairB": true}

	cases := []struct {
		action workflow.Action
		from   workflow.State
		right  []string // succeed (the last one is the one that acts)
	}{
		{workflow.Submit, workflow.Draft, []string{"treasurerA", "chairA"}},
		{workflow.Submit, workflow.RevisionRequested, []string{"treasurerA", "chairA"}},
		{workflow.StartReview, workflow.Submitted, []string{"verifier"}},
		{workflow.RequestRevision, workflow.InReview, []string{"verifier"}},
		{workflow.Recommend, workflow.InReview, []string{"verifier"}},
		{workflow.Approve, workflow.Recommended, []string{"approver"}},
		{workflow.Reject, workflow.InReview, []string{"verifier"}},
		{workflow.Reject, workflow.Recommended, []string{"approver"}},
		{workflow.Cancel, workflow.Draft, []string{"admin"}},
		{workflow.Cancel, workflow.Recommended, []string{"admin"}},
		{workflow.Cancel, workflow.Approved, []string{"admin"}},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%s from %s", c.action, c.from), func(t *testing.T) {
			h := h.in(t)
			// Each case needs its own grant, hence its own programme.
			prog := h.newProgram(t, 5_000_000_000)
			g := h.grantIn(t, prog, h.groupA, c.from)
			if c.from == workflow.Draft {
				var err error
				g, err = h.svc.SaveProposal(t.Context(), h.actor("chairA"), g.ID, demo.Proposal(workflow.KKG, proposalStart))
				if err != nil {
					t.Fatal(err)
				}
			}
			body := map[string]any{"comment": fmt.Sprintf("Catatan uji %d.", i), "approved_amount": g.AmountRequested}
			for _, who := range everyone {
				want := http.StatusForbidden
				switch {
				case invisible[who]:
					want = http.StatusNotFound
				case slices.Contains(c.right, who):
					continue
				}
				r := h.act(who, g.ID, c.action, body)
				e := expect(t, r, want, fmt.Sprintf("%s does %s from %s", who, c.action, c.from))
				if (want == 403 && e.Code != "forbidden") || (want == 404 && e.Code != "not_found") {
					t.Fatalf("%s: code %q", who, e.Code)
				}
				if slices.Contains(h.getGrantOrZero(t, who, g.ID).AllowedActions, c.action) {
					t.Fatalf("%s is offered %s", who, c.action)
				}
			}
			if got := h.getGrant(t, "admin", g.ID); got.State != c.from {
				t.Fatalf("refused attempts moved the grant to %s", got.State)
			}
			actor := c.right[len(c.right)-1]
			if !slices.Contains(h.getGrant(t, actor, g.ID).AllowedActions, c.action) {
				t.Fatalf("%s is not offered %s", actor, c.action)
			}
			r := h.act(actor, g.ID, c.action, body)
			expect(t, r, 200, actor+" does "+string(c.action))
			to, _ := workflow.Target(c.action, c.from)
			var got grantView
			r.decode(t, &got)
			if got.State != to {
				t.Fatalf("state %s, want %s", got.State, to)
			}
		})
	}

	// The machine refuses disbursing through the actions route for anyone;
	// a grant the caller may not see still answers 404, like a missing one.
	g := h.grantIn(t, h.prog, h.groupA, workflow.Approved)
	expect(t, h.act("verifier_out", g.ID, workflow.Disburse, map[string]any{}), http.StatusNotFound, "out of scope disburse action")
	expect(t, h.act("finance", 999999, workflow.Disburse, map[string]any{}), http.StatusNotFound, "disburse action on a missing grant")
	if r := h.act("finance", g.ID, workflow.Disburse, map[string]any{}); r.status >= 500 || r.status < 400 {
		t.Fatalf("disburse through actions: %d", r.status)
	}
}

// getGrantOrZero reads a grant, or returns the zero view when who may not see it.
func (h *harness) getGrantOrZero(t testing.TB, who string, id int64) grantView {
	t.Helper()
	r := h.do("GET", fmt.Sprintf("/api/v1/grants/%d", id), h.token(who), nil)
	if r.status == http.StatusNotFound {
		return grantView{}
	}
	expect(t, r, 200, "read grant as "+who)
	var g grantView
	r.decode(t, &g)
	return g
}

// TestSegregationOfDuties: a person holding both verifier and approver
// roles may review and recommend, but never approve what they recommended.
func TestSegregationOfDuties(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.grantIn(t, h.prog, h.groupA, workflow.Submitted)

	expect(t, h.act("verapprover", g.ID, workflow.StartReview, nil), 200, "start review")
	r := h.act("verapprover", g.ID, workflow.Recommend, map[string]any{"comment": "Layak.", "approved_amount": g.AmountRequested})
	expect(t, r, 200, "recommend")
	h.allowed(t, "verapprover", g.ID)
	e := expect(t, h.act("verapprover", g.ID, workflow.Approve, map[string]any{"comment": "Saya setujui sendiri."}), http.StatusForbidden, "approve own recommendation")
	if e.Code != "forbidden" {
		t.Fatalf("code %q", e.Code)
	}
	// Nor may they reject it as approver.
	expect(t, h.act("verapprover", g.ID, workflow.Reject, map[string]any{"comment": "Tidak jadi."}), http.StatusForbidden, "reject own recommendation")
	if got := h.getGrant(t, "admin", g.ID); got.State != workflow.Recommended {
		t.Fatalf("state %s", got.State)
	}
	// Another approver may.
	h.allowed(t, "approver2", g.ID, workflow.Approve, workflow.Reject)
	expect(t, h.act("approver2", g.ID, workflow.Approve, nil), 200, "approve by another person")

	// The same person approves a grant somebody else recommended.
	g2 := h.grantIn(t, h.prog, h.groupB, workflow.Recommended)
	h.allowed(t, "verapprover", g2.ID, workflow.Approve, workflow.Reject)
	expect(t, h.act("verapprover", g2.ID, workflow.Approve, nil), 200, "approve another verifier's recommendation")
}

// TestPoolExhausted: approval is refused when the programme's pool no
// longer covers the grant.
func TestPoolExhausted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	prog := h.newProgram(t, 15_000_000)
	a := h.grantIn(t, prog, h.groupA, workflow.Recommended)
	b := h.grantIn(t, prog, h.groupB, workflow.Recommended)
	if a.AmountApproved+b.AmountApproved <= prog.BudgetTotal || a.AmountApproved > prog.BudgetTotal {
		t.Fatalf("fixture: %d + %d against pool %d", a.AmountApproved, b.AmountApproved, prog.BudgetTotal)
	}
	expect(t, h.act("approver", a.ID, workflow.Approve, nil), 200, "first approval")
	e := expect(t, h.act("approver", b.ID, workflow.Approve, nil), http.StatusUnprocessableEntity, "approval beyond the pool")
	if e.Code != "unprocessable" || !e.hasField("budget_total") {
		t.Fatalf("error %+v", e)
	}
	if got := h.getGrant(t, "admin", b.ID); got.State != workflow.Recommended {
		t.Fatalf("state %s", got.State)
	}
	// Cancelling the first grant frees its share of the pool.
	expect(t, h.act("admin", a.ID, workflow.Cancel, map[string]any{"comment": "Kelompok bubar."}), 200, "cancel")
	expect(t, h.act("approver", b.ID, workflow.Approve, nil), 200, "approval after the pool was freed")
}
