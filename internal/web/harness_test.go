package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"grantflow/internal/demo"
	"grantflow/internal/evidence"
	"grantflow/internal/grants"
	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

// fixedNow is the service clock of every test: 10:00 WIB on 10 March 2026,
// inside the proposal window of the programme the harness creates. It is
// deliberately far from the wall clock, so that anything that mixes the
// service clock with the database's now() shows up.
var fixedNow = time.Date(2026, 3, 10, 3, 0, 0, 0, time.UTC)

// testPassword is the password of every user the harness creates.
const testPassword = "rahasia-uji-123"

// proposalStart is the first planned session of the proposals tests write.
var proposalStart = workflow.MustDate("2026-04-01")

// userSpec describes one person the harness can create on demand.
type userSpec struct {
	roles    []workflow.Role
	province string
	regency  string
	group    string // "A" or "B" for chair and treasurer
}

// people are the users a test may ask for by name. They are created lazily:
// argon2id costs tens of milliseconds per hash, so a test pays only for the
// people it uses.
var people = map[string]userSpec{
	"admin":        {roles: []workflow.Role{workflow.RoleAdmin}},
	"verifier":     {roles: []workflow.Role{workflow.RoleVerifier}, province: "Jawa Barat"},
	"verifier_out": {roles: []workflow.Role{workflow.RoleVerifier}, province: "Jawa Timur"},
	"approver":     {roles: []workflow.Role{workflow.RoleApprover}},
	"approver2":    {roles: []workflow.Role{workflow.RoleApprover}, province: "Jawa Barat"},
	"finance":      {roles: []workflow.Role{workflow.RoleFinance}},
	"auditor":      {roles: []workflow.Role{workflow.RoleAuditor}, province: "Jawa Barat", regency: "Kota Bandung"},
	"verapprover":  {roles: []workflow.Role{workflow.RoleVerifier, workflow.RoleApprover}, province: "Jawa Barat"},
	"chairA":       {roles: []workflow.Role{workflow.RoleChair}, group: "A"},
	"treasurerA":   {roles: []workflow.Role{workflow.RoleTreasurer}, group: "A"},
	"chairB":       {roles: []workflow.Role{workflow.RoleChair}, group: "B"},
}

// account is one created user, with its bearer token once logged in.
type account struct {
	view  grants.UserView
	actor workflow.Actor
	token string
}

// harness is one test's world: its own database, the real service and the
// real HTTP app, a programme open for proposals and two groups in Jawa Barat
// (A: a KKG in Kota Bandung, B: an MGMP in Kabupaten Garut).
type harness struct {
	t      testing.TB
	db     *postgres.DB
	svc    *grants.Service
	srv    *Server
	prog   workflow.Program
	groupA workflow.Group
	groupB workflow.Group

	mu       *sync.Mutex
	accounts map[string]*account
}

// in returns h reporting failures to t (a subtest), sharing everything else.
func (h *harness) in(t testing.TB) *harness {
	c := *h
	c.t = t
	return &c
}

// newHarness builds a harness on a fresh database.
func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessOn(t, pgtest.New(t), Options{})
}

// newHarnessOn builds a harness on db with server options o.
func newHarnessOn(t testing.TB, db *postgres.DB, o Options) *harness {
	t.Helper()
	store, err := evidence.NewLocal(t.TempDir()) // receipts uploaded through the pages
	if err != nil {
		t.Fatal(err)
	}
	svc := grants.New(db, grants.Options{Now: func() time.Time { return fixedNow }, Store: store})
	h := &harness{t: t, db: db, svc: svc, srv: New(svc, o), mu: &sync.Mutex{}, accounts: map[string]*account{}}
	h.prog = h.newProgram(t, 5_000_000_000)
	h.groupA = h.newGroup(t, validGroup(workflow.KKG, "KKG MI Kecamatan Cibiru", "Kota Bandung", 16))
	h.groupB = h.newGroup(t, validGroup(workflow.MGMP, "MGMP Matematika MTs Kabupaten Garut", "Kabupaten Garut", 15))
	return h
}

// programInput is a valid programme around fixedNow with budget total pool.
func programInput(name string, pool int64) workflow.Program {
	return workflow.Program{
		Name: name, Year: 2026,
		ProposalOpensOn:  workflow.MustDate("2026-02-01"),
		ProposalClosesOn: workflow.MustDate("2026-04-30"),
		ActivityEndsOn:   workflow.MustDate("2026-10-31"),
		ReportDueOn:      workflow.MustDate("2026-11-30"),
		BudgetTotal:      pool,
	}
}

// newProgram creates a programme through the service.
func (h *harness) newProgram(t testing.TB, pool int64) workflow.Program {
	t.Helper()
	p, err := h.svc.CreateProgram(context.Background(), grants.System, programInput(fmt.Sprintf("Bantuan Kelompok Kerja %d", time.Now().UnixNano()), pool))
	if err != nil {
		t.Fatalf("CreateProgram: %v", err)
	}
	return p
}

// validGroup returns a group that passes every rule of SPEC §2: n members
// with 18-digit NIPs, exactly one ketua and one bendahara, and a bank
// account in the group's name.
func validGroup(kind workflow.Kind, name, regency string, n int) workflow.Group {
	level := map[workflow.Kind]string{workflow.KKG: "MI", workflow.MGMP: "MTs", workflow.MGBK: "MA", workflow.KKM: "MTs", workflow.POKJAWAS: "MA"}[kind]
	g := workflow.Group{Kind: kind, Name: name, Level: level, Province: "Jawa Barat", Regency: regency,
		SKNumber: "B-1234/Kk.10.01/PP.00/2026", BankName: "Bank Syariah Indonesia", BankAccountNumber: "7123456789",
		BankAccountName: string(kind) + " " + name}
	if kind == workflow.MGMP {
		g.Subject = "Matematika"
	}
	g.Members = demo.Members(0, n)
	return g
}

// newGroup creates a group through the service.
func (h *harness) newGroup(t testing.TB, g workflow.Group) workflow.Group {
	t.Helper()
	out, err := h.svc.CreateGroup(context.Background(), grants.System, g)
	if err != nil {
		t.Fatalf("CreateGroup %s: %v", g.Name, err)
	}
	return out
}

// user returns the named person of people, creating them on first use.
func (h *harness) user(name string) *account {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if a, ok := h.accounts[name]; ok {
		return a
	}
	spec, ok := people[name]
	if !ok {
		h.t.Fatalf("no such person %q", name)
	}
	in := grants.NewUser{Email: strings.ToLower(name) + "@uji.grantflow.id", Name: "Pengguna " + name, Password: testPassword,
		Roles: spec.roles, Province: spec.province, Regency: spec.regency}
	switch spec.group {
	case "A":
		in.GroupID = h.groupA.ID
	case "B":
		in.GroupID = h.groupB.ID
	}
	v, err := h.svc.CreateUser(context.Background(), grants.System, in)
	if err != nil {
		h.t.Fatalf("CreateUser %s: %v", name, err)
	}
	a := &account{view: v, actor: workflow.Actor{UserID: v.ID, Name: v.Name, Roles: v.Roles, GroupID: v.GroupID, Province: v.Province, Regency: v.Regency}}
	h.accounts[name] = a
	return a
}

// actor is the workflow identity of the named person, for service fixtures.
func (h *harness) actor(name string) workflow.Actor { return h.user(name).actor }

// token logs the named person in through POST /api/v1/session (once) and
// returns the bearer token.
func (h *harness) token(name string) string {
	h.t.Helper()
	a := h.user(name)
	h.mu.Lock()
	tok := a.token
	h.mu.Unlock()
	if tok != "" {
		return tok
	}
	r := h.do("POST", "/api/v1/session", "", map[string]string{"email": a.view.Email, "password": testPassword})
	if r.status != http.StatusCreated {
		h.t.Fatalf("login %s: %d %s", name, r.status, r.body)
	}
	var out struct {
		Token string `json:"token"`
	}
	r.decode(h.t, &out)
	h.mu.Lock()
	a.token = out.Token
	h.mu.Unlock()
	return out.Token
}

// listen serves h's app on a real loopback listener, for the browser
// tests, and returns its base URL; the server stops when t ends.
func (h *harness) listen(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- h.srv.App().Listener(ln) }()
	t.Cleanup(func() {
		if err := h.srv.App().ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// result is one answered request.
type result struct {
	status int
	header http.Header
	body   []byte
	took   time.Duration
}

// apiError is the body of every error answer.
type apiError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Details []workflow.Detail `json:"details"`
}

func (r result) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %d %q: %v", r.status, truncate(r.body), err)
	}
}

// apiErr decodes the error body, failing the test unless it has the
// {"error":{"code","message","details"}} shape.
func (r result) apiErr(t testing.TB) apiError {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatalf("error body of %d is not JSON: %q", r.status, truncate(r.body))
	}
	var e struct {
		Error *apiError `json:"error"`
	}
	r.decode(t, &e)
	if e.Error == nil || e.Error.Code == "" || e.Error.Message == "" || e.Error.Details == nil {
		t.Fatalf("error body of %d lacks code/message/details: %s", r.status, truncate(r.body))
	}
	return *e.Error
}

// fields returns the detail fields of an error.
func (e apiError) fields() []string {
	out := make([]string, len(e.Details))
	for i, d := range e.Details {
		out[i] = d.Field
	}
	return out
}

func (e apiError) hasField(f string) bool {
	for _, d := range e.Details {
		if d.Field == f {
			return true
		}
	}
	return false
}

func truncate(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// request builds a request; body may be nil, a string or []byte (sent as
// is) or anything else (sent as JSON).
func request(method, path, token string, body any) *http.Request {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			panic(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// do sends one request through app.Test.
func (h *harness) do(method, path, token string, body any) result {
	h.t.Helper()
	return h.send(request(method, path, token, body))
}

// send runs req through the app and reads the whole answer.
func (h *harness) send(req *http.Request) result {
	h.t.Helper()
	r, err := h.try(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	return r
}

// try is send for goroutines other than the test's: it returns the error
// instead of failing the test.
func (h *harness) try(req *http.Request) (result, error) {
	start := time.Now()
	resp, err := h.srv.App().Test(req, -1)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, fmt.Errorf("read body: %w", err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: b, took: time.Since(start)}, nil
}

// expect fails the test unless r has status want; for an error status it
// also checks the error body's shape and returns it.
func expect(t testing.TB, r result, want int, what string) apiError {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.status, want, truncate(r.body))
	}
	if want >= 400 {
		return r.apiErr(t)
	}
	return apiError{}
}

// grantView is the part of a grant answer the tests read.
type grantView struct {
	ID              int64             `json:"id"`
	Number          string            `json:"number"`
	State           workflow.State    `json:"state"`
	AmountRequested int64             `json:"amount_requested"`
	AmountApproved  int64             `json:"amount_approved"`
	Disbursed       int64             `json:"disbursed"`
	Spent           int64             `json:"spent"`
	Refunded        int64             `json:"refunded"`
	Balance         *int64            `json:"balance"`
	VerifierID      int64             `json:"verifier_id"`
	ApproverID      int64             `json:"approver_id"`
	AllowedActions  []workflow.Action `json:"allowed_actions"`
	Group           struct {
		ID   int64         `json:"id"`
		Kind workflow.Kind `json:"kind"`
	} `json:"group"`
	Activities []workflow.Activity   `json:"activities"`
	Budget     []workflow.BudgetLine `json:"budget"`
}

// getGrant reads a grant through the API as the named person.
func (h *harness) getGrant(t testing.TB, who string, id int64) grantView {
	t.Helper()
	r := h.do("GET", fmt.Sprintf("/api/v1/grants/%d", id), h.token(who), nil)
	expect(t, r, 200, "GET grant as "+who)
	var g grantView
	r.decode(t, &g)
	return g
}

// act posts an action as the named person.
func (h *harness) act(who string, id int64, action workflow.Action, body any) result {
	h.t.Helper()
	return h.do("POST", fmt.Sprintf("/api/v1/grants/%d/actions/%s", id, action), h.token(who), body)
}

// chairOf returns the name of the chair of group g.
func (h *harness) chairOf(g workflow.Group) string {
	if g.ID == h.groupB.ID {
		return "chairB"
	}
	return "chairA"
}

// grantIn opens a grant for group grp in programme prog through the service
// and drives it, as the real people would, to state target. Reachable
// targets: draft, submitted, in_review, revision_requested, recommended,
// approved, rejected, cancelled.
func (h *harness) grantIn(t testing.TB, prog workflow.Program, grp workflow.Group, target workflow.State) grants.View {
	t.Helper()
	ctx := context.Background()
	chair := h.actor(h.chairOf(grp))
	v, err := h.svc.OpenGrant(ctx, chair, prog.ID, grp.ID)
	if err != nil {
		t.Fatalf("OpenGrant: %v", err)
	}
	if target == workflow.Draft {
		return v
	}
	if v, err = h.svc.SaveProposal(ctx, chair, v.ID, demo.Proposal(grp.Kind, proposalStart)); err != nil {
		t.Fatalf("SaveProposal: %v", err)
	}
	step := func(who workflow.Actor, a workflow.Action, in grants.ActInput) {
		t.Helper()
		if v, err = h.svc.Act(ctx, who, v.ID, a, in); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
	if target == workflow.Cancelled {
		step(h.actor("admin"), workflow.Cancel, grants.ActInput{Comment: "Kelompok mengundurkan diri."})
		return v
	}
	step(chair, workflow.Submit, grants.ActInput{})
	if target == workflow.Submitted {
		return v
	}
	verifier := h.actor("verifier")
	step(verifier, workflow.StartReview, grants.ActInput{})
	switch target {
	case workflow.InReview:
		return v
	case workflow.RevisionRequested:
		step(verifier, workflow.RequestRevision, grants.ActInput{Comment: "Lengkapi rincian honorarium."})
		return v
	case workflow.Rejected:
		step(verifier, workflow.Reject, grants.ActInput{Comment: "SK kelompok kedaluwarsa."})
		return v
	}
	step(verifier, workflow.Recommend, grants.ActInput{Comment: "Sesuai juknis.", ApprovedAmount: v.AmountRequested})
	if target == workflow.Recommended {
		return v
	}
	step(h.actor("approver"), workflow.Approve, grants.ActInput{Comment: "Disetujui."})
	if target != workflow.Approved {
		t.Fatalf("grantIn: unreachable target %s", target)
	}
	return v
}
