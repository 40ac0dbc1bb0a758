package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

// readCheck compares, after every write a harness sends, the answer of
// GET /api/v1/grants/{id} of a server with the grant read cache on (its own
// service: another instance on the same database) with h's uncached answer,
// byte for byte, as every person logged in so far, for every grant the test
// has touched: a write on one grant may change another's (a receipt's
// duplicate flag), and a cache entry the write left stale would differ.
type readCheck struct {
	t      testing.TB
	cached *Server

	mu      sync.Mutex
	ids     []int64
	checked int // comparisons made, for the test to assert it ran
}

// checkReadCache turns the comparison on for h's writes; now is the clock of
// h's service (the cached instance must answer for the same day).
func (h *harness) checkReadCache(t testing.TB, now func() time.Time) *readCheck {
	t.Helper()
	svc := grants.New(h.db, grants.Options{Now: now, ReadCache: true})
	h.readCheck = &readCheck{t: t, cached: New(svc, Options{})}
	return h.readCheck
}

var grantPath = regexp.MustCompile(`^/api/v1/grants/(\\d+)`)

// after records the grant req (or its answer r) names and compares.
func (c *readCheck) after(h *harness, req *http.Request, r result) {
	c.t.Helper()
	if m := grantPath.FindStringSubmatch(req.URL.Path); m != nil {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		c.watch(id)
	} else if req.URL.Path == "/api/v1/grants" && r.status == http.StatusCreated {
		var g struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(r.body, &g); err == nil {
			c.watch(g.ID)
		}
	}
	c.compare(h, req.Method+" "+req.URL.Path)
}

// watch adds grant id to the grants compared.
func (c *readCheck) watch(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id > 0 && !slices.Contains(c.ids, id) {
		c.ids = append(c.ids, id)
	}
}

// readCheckPaths are the answers compared: the grant (ReadGrant with the
// members of submit's states) and the two read with its money rows.
var readCheckPaths = []string{"/api/v1/grants/%d", "/api/v1/grants/%d/expenses", "/api/v1/grants/%d/ledger"}

// compare reads every watched grant's answers as every logged-in person,
// from the cached instance twice (the first may fill the cache, the second
// must answer from it) and from h, and fails on any difference.
func (c *readCheck) compare(h *harness, what string) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	h.mu.Lock()
	tokens := map[string]string{}
	for name, a := range h.accounts {
		if a.token != "" {
			tokens[name] = a.token
		}
	}
	h.mu.Unlock()
	for _, id := range c.ids {
		for _, p := range readCheckPaths {
			path := fmt.Sprintf(p, id)
			for name, tok := range tokens {
				for range 2 {
					want, err := h.tryOn(h.srv, request("GET", path, tok, nil))
					if err != nil {
						c.t.Fatalf("after %s: uncached GET %s as %s: %v", what, path, name, err)
					}
					got, err := h.tryOn(c.cached, request("GET", path, tok, nil))
					if err != nil {
						c.t.Fatalf("after %s: cached GET %s as %s: %v", what, path, name, err)
					}
					if got.status != want.status || !bytes.Equal(got.body, want.body) {
						c.t.Fatalf("after %s: GET %s as %s\ncached:   %s\nuncached: %s", what, path, name, got, want)
					}
					c.checked++
				}
			}
		}
	}
}

// TestReadCacheFollowsActivitiesJourney runs the activities journey (draft
// to closed: proposal, submit, review, approval, two tranches, sessions with
// evidence and a corrected realisation, expenses with receipts, a refund,
// the LPJ returned with findings, resubmitted and accepted) with the read
// cache checked after every write, as the people of the journey and staff
// of every role, in and out of the grant's scope.
func TestReadCacheFollowsActivitiesJourney(t *testing.T) {
	t.Parallel()
	h, skew := withStore(t, newHarness(t))
	for _, name := range []string{"admin", "verifier", "approver", "finance", "auditor", "auditor_out", "chairB"} {
		h.token(name)
	}
	c := h.checkReadCache(t, func() time.Time { return fixedNow.Add(time.Duration(skew.Load())) })
	activitiesJourney(t, h)
	if c.checked < 1000 {
		t.Fatalf("only %d comparisons", c.checked)
	}
}

// TestReadCacheFollowsMoneyWrites checks the cache after the writes the
// journey has not: a receipt shared by two grants (a write on one changes
// the other's duplicate flag), a voided expense, a cancelled session, a
// group's members changed outside the service (there is no API for it: the
// triggers answer for every writer), a draft cancelled by its group.
func TestReadCacheFollowsMoneyWrites(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, pgtest.New(t), moneyOptions)
	g1, g2 := h.fundedGrant(t), h.fundedGrant(t)
	for _, name := range []string{"admin", "verifier", "finance", "auditor", "auditor_out", "chairA", g1.chair, g1.treasurer, g2.treasurer} {
		h.token(name)
	}
	c := h.checkReadCache(t, func() time.Time { return fixedNow })
	c.watch(g1.id)
	c.watch(g2.id)
	c.compare(h, "funding")

	receipt := evidencetest.PNG(t, 5, 8, 6)
	e := h.mustExpense(t, g1, nil, receipt)
	h.mustExpense(t, g2, nil, receipt) // g1's expense is now a duplicate too
	expect(t, h.do("POST", fmt.Sprintf("/api/v1/grants/%d/expenses/%d/void", g1.id, e.ID), h.token(g1.treasurer),
		map[string]any{"reason": "Salah catat."}), 200, "void") // and g2's no longer is
	expect(t, h.do("POST", fmt.Sprintf("/api/v1/grants/%d/activities/%d/cancel", g1.id, g1.acts[len(g1.acts)-1].ID),
		h.token("verifier"), map[string]any{"reason": "Tidak jadi dilaksanakan."}), 200, "cancel activity")

	// The members, as submit's guards read them in a revision.
	d := h.grantIn(t, h.prog, h.groupA, workflow.RevisionRequested)
	c.watch(d.ID)
	c.compare(h, "revision requested")
	if _, err := h.db.SQL().ExecContext(ctxT(t), `UPDATE members SET name = name || ' (ganti)' WHERE group_id = $1 AND seq = 1`, h.groupA.ID); err != nil {
		t.Fatal(err)
	}
	c.compare(h, "a member renamed")
	if _, err := h.db.SQL().ExecContext(ctxT(t), `UPDATE groups SET bank_name = 'Bank Lain' WHERE id = $1`, h.groupA.ID); err != nil {
		t.Fatal(err)
	}
	c.compare(h, "the group's bank changed")
	expect(t, h.act("admin", d.ID, workflow.Cancel, map[string]any{"comment": "Tidak jadi mengajukan."}), 200, "cancel grant")
	if c.checked < 100 {
		t.Fatalf("only %d comparisons", c.checked)
	}
}

// TestReadCacheAcrossInstances: two instances with the read cache on, one
// database. A write through one is seen by the other's next read at once;
// and the other does answer from its cache (a change made with the
// triggers off, which no writer can do, stays unseen until the grant's
// next version).
func TestReadCacheAcrossInstances(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := ctxT(t)
	g := h.draftGrant(t)
	tr := h.actor(g.treasurer)
	instance := func() *grants.Service {
		return grants.New(h.db, grants.Options{Now: func() time.Time { return fixedNow }, ReadCache: true})
	}
	a, b := instance(), instance()
	read := func(s *grants.Service, what string) grants.View {
		t.Helper()
		v, err := s.Grant(ctx, tr, g.id)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	if v := read(b, "b before"); v.Background != "" || len(v.Activities) != 0 {
		t.Fatalf("draft read by b: %+v", v.Proposal)
	}
	p := moneyProposal(h.today().AddDays(5))
	if _, err := a.SaveProposal(ctx, tr, g.id, p); err != nil {
		t.Fatalf("SaveProposal on a: %v", err)
	}
	v := read(b, "b after a's write")
	if v.Background != p.Background || len(v.Activities) != len(p.Activities) || !reflect.DeepEqual(v, read(h.svc, "uncached")) {
		t.Fatalf("b after a saved the proposal: %+v", v.Proposal)
	}

	// Behind the triggers' back: b still answers its cached read, the
	// uncached service the row.
	tx, err := h.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range []string{`SET LOCAL session_replication_role = replica`,
		`UPDATE grants SET background = 'tanpa versi baru' WHERE id = ` + strconv.FormatInt(g.id, 10)} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if v := read(b, "b cached"); v.Background != p.Background {
		t.Fatalf("b did not answer from its cache: background %q", v.Background)
	}
	if v := read(h.svc, "uncached"); v.Background != "tanpa versi baru" {
		t.Fatalf("uncached read: background %q", v.Background)
	}
	// Any write of the grant gives it a new version: b reads anew.
	p.Objectives = "Tujuan yang diperbarui."
	if _, err := a.SaveProposal(ctx, tr, g.id, p); err != nil {
		t.Fatalf("SaveProposal on a: %v", err)
	}
	if v := read(b, "b after the second write"); v.Objectives != p.Objectives || v.Background != p.Background ||
		!reflect.DeepEqual(v, read(h.svc, "uncached")) {
		t.Fatalf("b after a's second write: %+v", v.Proposal)
	}
}
