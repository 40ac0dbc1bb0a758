package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"grantflow/internal/demo"
	"grantflow/internal/evidence"
	"grantflow/internal/evidence/evidencetest"
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

	// A scope typed as people type it, matched to Jawa Barat / Kota Bogor.
	"verifier_bogor": {roles: []workflow.Role{workflow.RoleVerifier}, province: "JAWA barat", regency: " kota  bogor"},
	// Two more for the money tests: one person holding approver and finance
	// (segregation of duties), and an auditor outside Jawa Barat.
	"approver_finance": {roles: []workflow.Role{workflow.RoleApprover, workflow.RoleFinance}},
	"auditor_out":      {roles: []workflow.Role{workflow.RoleAuditor}, province: "Jawa Timur"},
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
	// storeDir is the directory of the local evidence store ("" when the
	// harness runs on another store, see newHarnessStore).
	storeDir string

	mu       *sync.Mutex
	accounts map[string]*account

	// readCheck, set by checkReadCache, is a second instance on h's
	// database with the grant read cache on: after every write through h,
	// try compares its GET /grants/{id} with h's uncached one.
	readCheck *readCheck
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
	return newHarnessStore(t, db, o, nil)
}

// newHarnessStore builds a harness on db with server options o and evidence
// store st; nil gives it a local directory of its own (h.storeDir).
func newHarnessStore(t testing.TB, db *postgres.DB, o Options, st evidence.Store) *harness {
	t.Helper()
	dir := ""
	if st == nil {
		dir = t.TempDir()
		local, err := evidence.NewLocal(dir)
		if err != nil {
			t.Fatal(err)
		}
		st = local
	}
	svc := grants.New(db, grants.Options{Now: func() time.Time { return fixedNow }, Store: st})
	h := &harness{t: t, db: db, svc: svc, srv: New(svc, o), storeDir: dir, mu: &sync.Mutex{}, accounts: map[string]*account{}}
	h.prog = h.newProgram(t, 5_000_000_000)
	h.groupA = h.newGroup(t, validGroup(workflow.KKG, "KKG MI Kecamatan Cibiru", "Kota Bandung", 16))
	h.groupB = h.newGroup(t, validGroup(workflow.MGMP, "MGMP Matematika MTs Kabupaten Garut", "Kabupaten Garut", 15))
	return h
}

// moneyOptions are the server options of the money tests: uploads and
// concurrent spending under -race may take longer than the 5 s default.
var moneyOptions = Options{RequestTimeout: 30 * time.Second}

// today is the service clock's day in Jakarta (fixedNow's, unless a test
// moved the clock).
func (h *harness) today() workflow.Date { return h.svc.Today() }

// ctxT is a context for t's service calls, cancelled when t ends.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
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
	// Each group its own SK number, account and members: one group once.
	seq := int(groupSeq.Add(1))
	g := workflow.Group{Kind: kind, Name: name, Level: level, Province: "Jawa Barat", Regency: regency,
		SKNumber: fmt.Sprintf("B-%d/Kk.10.01/PP.00/2026", 1234+seq), BankName: "Bank Syariah Indonesia",
		BankAccountNumber: fmt.Sprintf("71%08d", 23456789+seq), BankAccountName: string(kind) + " " + name}
	if kind == workflow.MGMP {
		g.Subject = "Matematika"
	}
	// Member seeds from 1 000 000 up: tests that build a group by hand use
	// small seeds (demo.Members(9, 30), …), and a harness group sharing more
	// than half of its members with one would be refused as the same group.
	g.Members = demo.Members(1_000_000+seq, n)
	return g
}

// groupSeq numbers the groups validGroup makes.
var groupSeq atomic.Int64

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
	a := &account{view: v, actor: v.Actor()}
	h.accounts[name] = a
	return a
}

// actor is the workflow identity of the named person, for service fixtures.
func (h *harness) actor(name string) workflow.Actor { return h.user(name).actor }

// token logs the named person in through POST /api/v1/session (once) and
// returns the bearer token; nobody ("") has none: an anonymous request.
func (h *harness) token(name string) string {
	h.t.Helper()
	if name == "" {
		return ""
	}
	a := h.user(name)
	// One login per person even when goroutines ask at once: the login
	// throttle would refuse a burst of them.
	h.mu.Lock()
	defer h.mu.Unlock()
	if a.token != "" {
		return a.token
	}
	r := h.do("POST", "/api/v1/session", "", map[string]string{"email": a.view.Email, "password": testPassword})
	if r.status != http.StatusCreated {
		h.t.Fatalf("login %s: %d %s", name, r.status, r.body)
	}
	var out struct {
		Token string `json:"token"`
	}
	r.decode(h.t, &out)
	a.token = out.Token
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

// byField returns the error's messages by field, joined with "; ".
func (e apiError) byField() map[string]string {
	out := map[string]string{}
	for _, d := range e.Details {
		out[d.Field] += d.Message + "; "
	}
	return out
}

// String shows the status and the body, for failure messages.
func (r result) String() string { return fmt.Sprintf("%d %s", r.status, truncate(r.body)) }

// wantErr fails t unless r is an error answer with status and, when field
// is not "", a detail on field; it returns the messages by field.
func wantErr(t testing.TB, what string, r result, status int, field string) map[string]string {
	t.Helper()
	e := expect(t, r, status, what)
	if field != "" && !e.hasField(field) {
		t.Fatalf("%s: details %v do not name %q: %s", what, e.fields(), field, r)
	}
	return e.byField()
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
	r, err := h.tryOn(h.srv, req)
	// Grant writes only: a login (h.token) runs under h.mu, which the check takes.
	if err == nil && h.readCheck != nil && req.Method != http.MethodGet && strings.HasPrefix(req.URL.Path, "/api/v1/grants") {
		h.readCheck.after(h, req, r)
	}
	return r, err
}

// tryOn sends req through srv's app and reads the whole answer.
func (h *harness) tryOn(srv *Server, req *http.Request) (result, error) {
	start := time.Now()
	resp, err := srv.App().Test(req, -1)
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

// call sends one JSON request (see request) as the named person ("" for
// nobody), failing t, not h's test, on error: for subtests.
func (h *harness) call(t testing.TB, who, method, path string, body any) result {
	t.Helper()
	h = h.in(t)
	return h.do(method, path, h.token(who), body)
}

// sendAs sends body of content type ctype ("" for none) as the named person.
func (h *harness) sendAs(t testing.TB, who, method, path, ctype string, body io.Reader) result {
	t.Helper()
	h = h.in(t)
	req := httptest.NewRequest(method, path, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if tok := h.token(who); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return h.send(req)
}

// formFile is one file part of a multipart form.
type formFile struct {
	field, name, ctype string
	data               []byte
}

// multipartBody builds a multipart/form-data body with fields in order,
// then files, and returns it with its content type.
func multipartBody(t testing.TB, fields [][2]string, files ...formFile) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		hd := textproto.MIMEHeader{}
		hd.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": f.field, "filename": f.name}))
		if f.ctype != "" {
			hd.Set("Content-Type", f.ctype)
		}
		pw, err := w.CreatePart(hd)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, w.FormDataContentType()
}

// postForm posts a multipart form as the named person.
func (h *harness) postForm(t testing.TB, who, path string, fields [][2]string, files ...formFile) result {
	t.Helper()
	body, ctype := multipartBody(t, fields, files...)
	return h.sendAs(t, who, http.MethodPost, path, ctype, body)
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

// ---------------------------------------------------------------------------
// Money fixtures: a group of its own per grant, so that a test may hold many
// grants in one programme, and the expense form.

// moneyGrant is one group's grant with the names of its chair and treasurer
// (usable with h.token and h.actor) and what its proposal planned.
type moneyGrant struct {
	id        int64
	group     workflow.Group
	chair     string
	treasurer string
	lines     map[string]workflow.BudgetLine // by category
	acts      []workflow.Activity
	approved  int64
}

// moneyGroup is validGroup for a KKG in Kota Bandung named by i (validGroup
// gives it its own SK number, bank account and members).
func moneyGroup(i int) workflow.Group {
	g := validGroup(workflow.KKG, fmt.Sprintf("KKG MI Kecamatan Uji %d", i), "Kota Bandung", 15)
	g.BankAccountName = g.Name
	return g
}

// moneyProposal is the demo proposal with a larger konsumsi line (6 750 000),
// so that a single receipt may pass the meterai threshold. Total 14 100 000.
func moneyProposal(from workflow.Date) workflow.Proposal {
	p := demo.Proposal(workflow.KKG, from)
	p.Budget[0].Quantity = 150
	return p
}

// draftGrant makes a new group with its chair and treasurer and opens its
// grant in h.prog as the treasurer.
func (h *harness) draftGrant(t *testing.T) *moneyGrant {
	t.Helper()
	grp := h.newGroup(t, moneyGroup(int(groupSeq.Add(1))))
	prefix := fmt.Sprintf("g%d", grp.ID)
	h.addPeople(t, grp, prefix)
	g := &moneyGrant{group: grp, chair: prefix + string(workflow.RoleChair), treasurer: prefix + string(workflow.RoleTreasurer)}
	v, err := h.svc.OpenGrant(ctxT(t), h.actor(g.treasurer), h.prog.ID, grp.ID)
	if err != nil {
		t.Fatalf("OpenGrant: %v", err)
	}
	g.id = v.ID
	return g
}

// approvedGrant drives a new group's grant to approved through the service:
// its treasurer opens, writes and submits; the verifier recommends; the
// named approver approves.
func (h *harness) approvedGrant(t *testing.T, approver string) *moneyGrant {
	t.Helper()
	ctx := ctxT(t)
	g := h.draftGrant(t)
	tr := h.actor(g.treasurer)
	var v grants.View
	var err error
	if _, err := h.svc.SaveProposal(ctx, tr, g.id, moneyProposal(h.today().AddDays(5))); err != nil {
		t.Fatalf("SaveProposal: %v", err)
	}
	verifier := h.actor("verifier")
	for _, s := range []struct {
		who    workflow.Actor
		action workflow.Action
		in     grants.ActInput
	}{
		{tr, workflow.Submit, grants.ActInput{}},
		{verifier, workflow.StartReview, grants.ActInput{}},
		{verifier, workflow.Recommend, grants.ActInput{Comment: "Lengkap.", ApprovedAmount: 14_100_000}},
		{h.actor(approver), workflow.Approve, grants.ActInput{Comment: "Disetujui."}},
	} {
		if v, err = h.svc.Act(ctx, s.who, g.id, s.action, s.in); err != nil {
			t.Fatalf("%s: %v", s.action, err)
		}
	}
	if v.State != workflow.Approved {
		t.Fatalf("state %s, want approved", v.State)
	}
	g.approved = v.AmountApproved
	g.lines = map[string]workflow.BudgetLine{}
	for _, b := range v.Budget {
		g.lines[b.Category] = b
	}
	g.acts = v.Activities
	return g
}

// share returns the amount of tranche n (1-based) of g.
func (h *harness) share(g *moneyGrant, n int) int64 { return h.prog.TrancheAmounts(g.approved)[n-1] }

// fund records tranche 1 (transferred 20 days ago) through the service.
func (h *harness) fund(t *testing.T, g *moneyGrant) {
	t.Helper()
	_, err := h.svc.Disburse(ctxT(t), h.actor("finance"), g.id, grants.DisbursementInput{
		Tranche: 1, Amount: h.share(g, 1), TransferredOn: h.today().AddDays(-20), Reference: fmt.Sprintf("TRF-%d-1", g.id)})
	if err != nil {
		t.Fatalf("Disburse: %v", err)
	}
}

// fundedGrant is approvedGrant + fund.
func (h *harness) fundedGrant(t *testing.T) *moneyGrant {
	t.Helper()
	g := h.approvedGrant(t, "approver")
	h.fund(t, g)
	return g
}

// omitField as a value in expenseFields leaves the field out.
const omitField = "\x00omit"

// expenseFields returns a valid expense form for g, changed by over.
func (h *harness) expenseFields(g *moneyGrant, over map[string]string) [][2]string {
	vals := map[string]string{
		"spent_on":       h.today().AddDays(-10).String(),
		"budget_line_id": strconv.FormatInt(g.lines["konsumsi"].ID, 10),
		"vendor":         "Warung Bu Siti",
		"description":    "Konsumsi rapat persiapan In-1",
		"amount":         "100000",
	}
	maps.Copy(vals, over)
	var out [][2]string
	for _, k := range []string{"spent_on", "budget_line_id", "activity_id", "vendor", "description", "amount", "tax_ppn", "tax_pph"} {
		if v, ok := vals[k]; ok && v != omitField {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

// postExpense records an expense over HTTP as who with receipt (nil for none).
func (h *harness) postExpense(t *testing.T, who string, g *moneyGrant, over map[string]string, receipt []byte) result {
	t.Helper()
	var files []formFile
	if receipt != nil {
		files = append(files, formFile{"receipt", "nota.png", "image/png", receipt})
	}
	return h.postForm(t, who, fmt.Sprintf("/api/v1/grants/%d/expenses", g.id), h.expenseFields(g, over), files...)
}

// mustExpense records a valid expense as g's treasurer and returns it.
func (h *harness) mustExpense(t *testing.T, g *moneyGrant, over map[string]string, receipt []byte) workflow.Expense {
	t.Helper()
	r := h.postExpense(t, g.treasurer, g, over, receipt)
	if r.status != http.StatusCreated {
		t.Fatalf("expense %v: %s", over, r)
	}
	var ex workflow.Expense
	r.decode(t, &ex)
	return ex
}

// grantAs reads g through the API as who, with every field of the answer.
func (h *harness) grantAs(t *testing.T, who string, g *moneyGrant) grants.View {
	t.Helper()
	r := h.call(t, who, http.MethodGet, fmt.Sprintf("/api/v1/grants/%d", g.id), nil)
	expect(t, r, http.StatusOK, "GET grant as "+who)
	var v grants.View
	r.decode(t, &v)
	return v
}

// expensesAs lists g's expenses through the API as who.
func (h *harness) expensesAs(t *testing.T, who string, g *moneyGrant) []workflow.Expense {
	t.Helper()
	r := h.call(t, who, http.MethodGet, fmt.Sprintf("/api/v1/grants/%d/expenses", g.id), nil)
	expect(t, r, http.StatusOK, "GET expenses as "+who)
	var out struct {
		Items []workflow.Expense `json:"items"`
		Total int                `json:"total"`
	}
	r.decode(t, &out)
	if out.Total != len(out.Items) {
		t.Fatalf("total %d for %d items", out.Total, len(out.Items))
	}
	return out.Items
}

// moneyCounts is what a refused request must leave unchanged.
type moneyCounts struct {
	expenses, events, refunds, disbursements, files int
	spent, balance                                  int64
}

// counts reads g's money rows, events and the referenced files.
func (h *harness) counts(t *testing.T, g *moneyGrant) moneyCounts {
	t.Helper()
	ctx := ctxT(t)
	var c moneyCounts
	es, err := h.svc.Expenses(ctx, grants.System, g.id)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := h.svc.Events(ctx, grants.System, g.id)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := h.svc.Refunds(ctx, grants.System, g.id)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := h.svc.Disbursements(ctx, grants.System, g.id)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := h.db.ReferencedFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, err := h.svc.Grant(ctx, grants.System, g.id)
	if err != nil {
		t.Fatal(err)
	}
	c.expenses, c.events, c.refunds, c.disbursements, c.files = len(es), len(evs), len(rs), len(ds), len(refs)
	c.spent, c.balance = v.Spent, v.Balance
	return c
}

// ---------------------------------------------------------------------------
// Files the upload tests send that evidencetest does not make.

// exifJPEG is a JPEG with an APP1 EXIF segment (orientation 6, and a
// marker string standing for a GPS position) right after SOI.
func exifJPEG(t *testing.T, seed int) []byte {
	t.Helper()
	raw := evidencetest.JPEG(t, seed, 8, 6)
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08" + // big-endian TIFF, IFD0 at 8
		"\x00\x01" + // one entry
		"\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00" + // Orientation SHORT 1 = 6
		"\x00\x00\x00\x00" + // no next IFD
		"GPS-SECRET-LOCATION")
	seg := append([]byte("Exif\x00\x00"), tiff...)
	out := []byte{0xFF, 0xD8, 0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}
	out = append(out, seg...)
	return append(out, raw[2:]...)
}

// elfHead is the head of a Linux executable.
func elfHead() []byte {
	b := make([]byte, 256)
	copy(b, "\x7fELF\x02\x01\x01\x00")
	b[16], b[18] = 2, 0x3e // ET_EXEC, x86-64
	return b
}

// sha256Name matches the name of a stored blob: its SHA-256 in hex.
var sha256Name = regexp.MustCompile(`^[0-9a-f]{64}$`)
