package web_test

// Handler tests of the money capability (SPEC §3 disburse, §4, §5): the real
// service on a real database per test, a real evidence store, real multipart
// bodies through app.Test. Every identifier here starts with mx so that this
// file never collides with other test files of package web_test.

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/xuri/excelize/v2"

	"grantflow/internal/auth"
	"grantflow/internal/demo"
	"grantflow/internal/evidence"
	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
	"grantflow/internal/web"
	"grantflow/money"
	"grantflow/workflow"
)

// ---------------------------------------------------------------------------
// Fixture

var mxJakarta = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Jakarta"); err == nil {
		return loc
	}
	return time.FixedZone("WIB", 7*3600)
}()

// mxUser is a signed-in person: the identity for service calls and a bearer
// token for HTTP calls.
type mxUser struct {
	workflow.Actor
	token string
}

// mxGrant is one group's grant with its treasurer (the chair only on demand).
type mxGrant struct {
	id        int64
	group     workflow.Group
	treasurer *mxUser
	chair     *mxUser
	lines     map[string]workflow.BudgetLine // by category
	acts      []workflow.Activity
	approved  int64
}

type mxEnv struct {
	db       *postgres.DB
	svc      *grants.Service
	app      *fiber.App
	storeDir string // "" for S3
	prog     workflow.Program
	today    workflow.Date
	users    map[string]*mxUser
	nGroups  int
	nUsers   int
}

func mxCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// mxNewEnv gives t its own database, a programme open for proposals and a
// Local evidence store (or st when not nil).
func mxNewEnv(t *testing.T, st evidence.Store) *mxEnv {
	t.Helper()
	ctx := mxCtx(t)
	e := &mxEnv{db: pgtest.New(t), users: map[string]*mxUser{}}
	// Ten connections still run the concurrency tests' transactions side by
	// side while leaving room on a server shared by parallel test binaries.
	e.db.SQL().SetMaxOpenConns(10)
	if st == nil {
		e.storeDir = t.TempDir()
		local, err := evidence.NewLocal(e.storeDir)
		if err != nil {
			t.Fatal(err)
		}
		st = local
	}
	e.svc = grants.New(e.db, grants.Options{Store: st})
	e.app = web.New(e.svc, web.Options{RequestTimeout: 30 * time.Second}).App()
	e.today = workflow.DateOf(time.Now().In(mxJakarta))
	prog, err := e.svc.CreateProgram(ctx, grants.System, workflow.Program{
		Name: "Program Uji Keuangan", Year: e.today.Time().Year(),
		ProposalOpensOn: e.today.AddDays(-60), ProposalClosesOn: e.today.AddDays(30),
		ActivityEndsOn: e.today.AddDays(200), ReportDueOn: e.today.AddDays(230), BudgetTotal: 1_000_000_000,
	})
	if err != nil {
		t.Fatalf("CreateProgram: %v", err)
	}
	e.prog = prog
	return e
}

// mxStaff are the staff people a test may need, created on first use (each
// costs one argon2 hash).
var mxStaff = map[string]grants.NewUser{
	"verifier":         {Roles: []workflow.Role{workflow.RoleVerifier}, Province: "Jawa Barat"},
	"approver":         {Roles: []workflow.Role{workflow.RoleApprover}},
	"finance":          {Roles: []workflow.Role{workflow.RoleFinance}},
	"approver_finance": {Roles: []workflow.Role{workflow.RoleApprover, workflow.RoleFinance}},
	"auditor":          {Roles: []workflow.Role{workflow.RoleAuditor}, Province: "Jawa Barat"},
	"auditor_out":      {Roles: []workflow.Role{workflow.RoleAuditor}, Province: "Jawa Timur"},
}

func (e *mxEnv) newUser(t *testing.T, in grants.NewUser) *mxUser {
	t.Helper()
	ctx := mxCtx(t)
	e.nUsers++
	in.Email = fmt.Sprintf("mx%d@uji.grantflow.id", e.nUsers)
	if in.Name == "" {
		in.Name = fmt.Sprintf("Pengguna Uji %d", e.nUsers)
	}
	in.Password = "kata-sandi-uji-panjang"
	u, err := e.svc.CreateUser(ctx, grants.System, in)
	if err != nil {
		t.Fatalf("CreateUser %+v: %v", in, err)
	}
	token, hash, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateSession(ctx, hash, u.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return &mxUser{Actor: workflow.Actor{UserID: u.ID, Name: u.Name, Roles: u.Roles, GroupID: u.GroupID,
		Province: u.Province, Regency: u.Regency}, token: token}
}

func (e *mxEnv) user(t *testing.T, key string) *mxUser {
	t.Helper()
	if u, ok := e.users[key]; ok {
		return u
	}
	spec, ok := mxStaff[key]
	if !ok {
		t.Fatalf("no staff fixture %q", key)
	}
	u := e.newUser(t, spec)
	e.users[key] = u
	return u
}

func (e *mxEnv) chairOf(t *testing.T, g *mxGrant) *mxUser {
	t.Helper()
	if g.chair == nil {
		g.chair = e.newUser(t, grants.NewUser{Roles: []workflow.Role{workflow.RoleChair}, GroupID: g.group.ID})
	}
	return g.chair
}

func mxGroupSpec(i int) workflow.Group {
	name := fmt.Sprintf("KKG MI Kecamatan Uji %d", i)
	g := workflow.Group{Kind: workflow.KKG, Name: name, Level: "MI", Province: "Jawa Barat", Regency: "Kota Bandung",
		SKNumber: fmt.Sprintf("B-%d/Kk.10.01/PP.00/2026", 500+i), BankName: "Bank Syariah Indonesia",
		BankAccountNumber: fmt.Sprintf("71%08d", 3000+i), BankAccountName: name}
	g.Members = demo.Members(i, 15)
	return g
}

// mxProposal is the demo proposal with a larger konsumsi line (6 750 000),
// so that a single receipt may pass the meterai threshold. Total 14 100 000.
func mxProposal(from workflow.Date) workflow.Proposal {
	p := demo.Proposal(workflow.KKG, from)
	p.Budget[0].Quantity = 150
	return p
}

// approvedGrant drives a new group's grant to approved through the service:
// treasurer opens, writes and submits; the verifier recommends; approverKey approves.
func (e *mxEnv) approvedGrant(t *testing.T, approverKey string) *mxGrant {
	t.Helper()
	ctx := mxCtx(t)
	e.nGroups++
	grp, err := e.svc.CreateGroup(ctx, grants.System, mxGroupSpec(e.nGroups))
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	g := &mxGrant{group: grp}
	g.treasurer = e.newUser(t, grants.NewUser{Roles: []workflow.Role{workflow.RoleTreasurer}, GroupID: grp.ID})
	tr := g.treasurer.Actor
	v, err := e.svc.OpenGrant(ctx, tr, e.prog.ID, grp.ID)
	if err != nil {
		t.Fatalf("OpenGrant: %v", err)
	}
	g.id = v.ID
	if _, err := e.svc.SaveProposal(ctx, tr, g.id, mxProposal(e.today.AddDays(5))); err != nil {
		t.Fatalf("SaveProposal: %v", err)
	}
	verifier := e.user(t, "verifier").Actor
	approver := e.user(t, approverKey).Actor
	steps := []struct {
		who    workflow.Actor
		action workflow.Action
		in     grants.ActInput
	}{
		{tr, workflow.Submit, grants.ActInput{}},
		{verifier, workflow.StartReview, grants.ActInput{}},
		{verifier, workflow.Recommend, grants.ActInput{Comment: "Lengkap.", ApprovedAmount: 14_100_000}},
		{approver, workflow.Approve, grants.ActInput{Comment: "Disetujui."}},
	}
	for _, s := range steps {
		if v, err = e.svc.Act(ctx, s.who, g.id, s.action, s.in); err != nil {
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
func (e *mxEnv) share(g *mxGrant, n int) int64 { return e.prog.TrancheAmounts(g.approved)[n-1] }

// fund records tranche 1 (transferred 20 days ago) through the service.
func (e *mxEnv) fund(t *testing.T, g *mxGrant) {
	t.Helper()
	_, err := e.svc.Disburse(mxCtx(t), e.user(t, "finance").Actor, g.id, grants.DisbursementInput{
		Tranche: 1, Amount: e.share(g, 1), TransferredOn: e.today.AddDays(-20), Reference: fmt.Sprintf("TRF-%d-1", g.id)})
	if err != nil {
		t.Fatalf("Disburse: %v", err)
	}
}

// fundedGrant is approvedGrant + fund.
func (e *mxEnv) fundedGrant(t *testing.T) *mxGrant {
	t.Helper()
	g := e.approvedGrant(t, "approver")
	e.fund(t, g)
	return g
}

// ---------------------------------------------------------------------------
// HTTP

type mxResp struct {
	status int
	header http.Header
	body   []byte
}

func (r mxResp) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

func (e *mxEnv) send(t *testing.T, u *mxUser, method, path, ctype string, body io.Reader) mxResp {
	t.Helper()
	req := httptest.NewRequest(method, path, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if u != nil {
		req.Header.Set("Authorization", "Bearer "+u.token)
	}
	resp, err := e.app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return mxResp{resp.StatusCode, resp.Header, b}
}

func (e *mxEnv) json(t *testing.T, u *mxUser, method, path string, v any) mxResp {
	t.Helper()
	if v == nil {
		return e.send(t, u, method, path, "", nil)
	}
	b, ok := v.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	return e.send(t, u, method, path, "application/json", bytes.NewReader(b))
}

type mxFile struct {
	field, name, ctype string
	data               []byte
}

// mxMultipart builds a multipart/form-data body with fields in order and files.
func mxMultipart(t *testing.T, fields [][2]string, files ...mxFile) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": f.field, "filename": f.name}))
		if f.ctype != "" {
			h.Set("Content-Type", f.ctype)
		}
		pw, err := w.CreatePart(h)
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

func (e *mxEnv) multipart(t *testing.T, u *mxUser, path string, fields [][2]string, files ...mxFile) mxResp {
	t.Helper()
	body, ctype := mxMultipart(t, fields, files...)
	return e.send(t, u, http.MethodPost, path, ctype, body)
}

const mxOmit = "\x00omit"

// expenseFields returns a valid expense form for g, changed by over (a value
// of mxOmit leaves the field out).
func (e *mxEnv) expenseFields(g *mxGrant, over map[string]string) [][2]string {
	vals := map[string]string{
		"spent_on":       e.today.AddDays(-10).String(),
		"budget_line_id": strconv.FormatInt(g.lines["konsumsi"].ID, 10),
		"vendor":         "Warung Bu Siti",
		"description":    "Konsumsi rapat persiapan In-1",
		"amount":         "100000",
	}
	for k, v := range over {
		vals[k] = v
	}
	var out [][2]string
	for _, k := range []string{"spent_on", "budget_line_id", "activity_id", "vendor", "description", "amount", "tax_ppn", "tax_pph"} {
		if v, ok := vals[k]; ok && v != mxOmit {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

// postExpense records an expense over HTTP with receipt (nil for none).
func (e *mxEnv) postExpense(t *testing.T, u *mxUser, g *mxGrant, over map[string]string, receipt []byte) mxResp {
	t.Helper()
	var files []mxFile
	if receipt != nil {
		files = append(files, mxFile{"receipt", "nota.png", "image/png", receipt})
	}
	return e.multipart(t, u, fmt.Sprintf("/api/v1/grants/%d/expenses", g.id), e.expenseFields(g, over), files...)
}

// mustExpense records a valid expense and returns it.
func (e *mxEnv) mustExpense(t *testing.T, g *mxGrant, over map[string]string, receipt []byte) workflow.Expense {
	t.Helper()
	r := e.postExpense(t, g.treasurer, g, over, receipt)
	if r.status != http.StatusCreated {
		t.Fatalf("expense %v: %s", over, r)
	}
	var ex workflow.Expense
	mxDecode(t, r.body, &ex)
	return ex
}

func mxDecode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

type mxErr struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Details []workflow.Detail `json:"details"`
	} `json:"error"`
}

// mxDetails returns the error's messages by field ("" for an error body
// without details); it fails t when the body is not the error shape.
func mxDetails(t *testing.T, r mxResp) map[string]string {
	t.Helper()
	var eb mxErr
	if err := json.Unmarshal(r.body, &eb); err != nil || eb.Error.Code == "" {
		t.Fatalf("not an error body: %s", r)
	}
	out := map[string]string{}
	for _, d := range eb.Error.Details {
		out[d.Field] += d.Message + "; "
	}
	return out
}

// wantErr checks status and that field (when not "") is named in details.
func mxWantErr(t *testing.T, what string, r mxResp, status int, field string) map[string]string {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: got %s, want %d", what, r, status)
	}
	d := mxDetails(t, r)
	if field != "" {
		if _, ok := d[field]; !ok {
			t.Fatalf("%s: details %v do not name %q: %s", what, d, field, r)
		}
	}
	return d
}

func (e *mxEnv) grantView(t *testing.T, u *mxUser, g *mxGrant) grants.View {
	t.Helper()
	r := e.json(t, u, http.MethodGet, fmt.Sprintf("/api/v1/grants/%d", g.id), nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET grant: %s", r)
	}
	var v grants.View
	mxDecode(t, r.body, &v)
	return v
}

func (e *mxEnv) expensesAs(t *testing.T, u *mxUser, g *mxGrant) []workflow.Expense {
	t.Helper()
	r := e.json(t, u, http.MethodGet, fmt.Sprintf("/api/v1/grants/%d/expenses", g.id), nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET expenses: %s", r)
	}
	var out struct {
		Items []workflow.Expense `json:"items"`
		Total int                `json:"total"`
	}
	mxDecode(t, r.body, &out)
	if out.Total != len(out.Items) {
		t.Fatalf("total %d for %d items", out.Total, len(out.Items))
	}
	return out.Items
}

func (e *mxEnv) events(t *testing.T, u *mxUser, g *mxGrant) []workflow.Event {
	t.Helper()
	r := e.json(t, u, http.MethodGet, fmt.Sprintf("/api/v1/grants/%d/events", g.id), nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET events: %s", r)
	}
	var out struct {
		Items []workflow.Event `json:"items"`
	}
	mxDecode(t, r.body, &out)
	return out.Items
}

// mxCounts is what a refused request must leave unchanged.
type mxCounts struct {
	expenses, events, refunds, disbursements, files int
	spent, balance                                  int64
}

func (e *mxEnv) counts(t *testing.T, g *mxGrant) mxCounts {
	t.Helper()
	ctx := mxCtx(t)
	var c mxCounts
	es, err := e.svc.Expenses(ctx, grants.System, g.id)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := e.svc.Events(ctx, grants.System, g.id)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := e.svc.Refunds(ctx, grants.System, g.id)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := e.svc.Disbursements(ctx, grants.System, g.id)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := e.db.ReferencedFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.svc.Grant(ctx, grants.System, g.id)
	if err != nil {
		t.Fatal(err)
	}
	c.expenses, c.events, c.refunds, c.disbursements, c.files = len(es), len(evs), len(rs), len(ds), len(refs)
	c.spent, c.balance = v.Spent, v.Balance
	return c
}

// ---------------------------------------------------------------------------
// Files

// mxPNG returns a small PNG whose pixels depend on seed, so that different
// seeds give different files (and SHA-256s).
func mxPNG(t *testing.T, seed int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, mxImage(seed, 8, 6)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mxJPEG(t *testing.T, seed, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, mxImage(seed, w, h), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mxImage(seed, w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(seed*37 + x*20), uint8(seed*11 + y*30), uint8(seed >> 8), 255})
		}
	}
	return img
}

// mxJPEGWithExif is a JPEG with an APP1 EXIF segment (orientation 6, and a
// marker string standing for a GPS position) right after SOI.
func mxJPEGWithExif(t *testing.T, seed int) []byte {
	t.Helper()
	raw := mxJPEG(t, seed, 8, 6)
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

// mxPDF is a minimal valid one-page PDF with a correct xref table.
func mxPDF(note string) []byte {
	b, _ := evidencetest.PDF([]byte("% " + note + "\n"))
	return b
}

// mxELF is the head of a Linux executable.
func mxELF() []byte {
	b := make([]byte, 256)
	copy(b, "\x7fELF\x02\x01\x01\x00")
	b[16], b[18] = 2, 0x3e // ET_EXEC, x86-64
	return b
}

var mxSHA = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ---------------------------------------------------------------------------
// 1. Disbursements

func TestMoneyExtDisburse(t *testing.T) {
	t.Parallel()
	e := mxNewEnv(t, nil)
	a := e.approvedGrant(t, "approver")         // approved by a pure approver
	b := e.approvedGrant(t, "approver_finance") // approved by someone who also holds finance
	finance := e.user(t, "finance")
	path := func(g *mxGrant) string { return fmt.Sprintf("/api/v1/grants/%d/disbursements", g.id) }
	share1 := e.share(a, 1)
	if share1 != 9_870_000 || e.share(a, 2) != 4_230_000 {
		t.Fatalf("shares %v", e.prog.TrancheAmounts(a.approved))
	}
	transferred := e.today.AddDays(-20).String()
	body := func(tranche int, amount int64, on, ref string) map[string]any {
		return map[string]any{"tranche": tranche, "amount": amount, "transferred_on": on, "reference": ref}
	}
	good := body(1, share1, transferred, "TRF-0001")
	before := e.counts(t, a)

	t.Run("only finance", func(t *testing.T) {
		for _, who := range []*mxUser{a.treasurer, e.user(t, "approver"), e.user(t, "verifier")} {
			r := e.json(t, who, http.MethodPost, path(a), good)
			mxWantErr(t, fmt.Sprint(who.Roles), r, http.StatusForbidden, "")
		}
	})
	t.Run("approver holding finance is refused on their own grant", func(t *testing.T) {
		r := e.json(t, e.user(t, "approver_finance"), http.MethodPost, path(b), body(1, e.share(b, 1), transferred, "TRF-B"))
		mxWantErr(t, "segregation", r, http.StatusForbidden, "")
		if !strings.Contains(string(r.body), "pemisahan tugas") {
			t.Fatalf("message does not explain segregation: %s", r)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			body  any
			field string
		}{
			{"missing date", body(1, share1, "", "TRF-1"), "transferred_on"},
			{"date absent", map[string]any{"tranche": 1, "amount": share1, "reference": "TRF-1"}, "transferred_on"},
			{"future date", body(1, share1, e.today.AddDays(1).String(), "TRF-1"), "transferred_on"},
			{"empty reference", body(1, share1, transferred, "   "), "reference"},
			{"long reference", body(1, share1, transferred, strings.Repeat("R", 101)), "reference"},
			{"NUL in reference", body(1, share1, transferred, "TRF\x00-1"), "reference"},
			{"zero tranche", body(0, share1, transferred, "TRF-1"), "tranche"},
			{"negative amount", body(1, -5, transferred, "TRF-1"), "amount"},
			{"wrong share", body(1, share1-1, transferred, "TRF-1"), "amount"},
			{"above approved", body(1, a.approved+1, transferred, "TRF-1"), "amount"},
			{"tranche 2 first", body(2, e.share(a, 2), transferred, "TRF-1"), "tranche"},
		} {
			r := e.json(t, finance, http.MethodPost, path(a), tc.body)
			d := mxWantErr(t, tc.name, r, http.StatusUnprocessableEntity, tc.field)
			switch tc.name {
			case "wrong share":
				if !strings.Contains(d["amount"], "Rp 9.870.000") {
					t.Errorf("wrong share: %q does not name the expected share", d["amount"])
				}
			case "above approved":
				if !strings.Contains(d["amount"], money.Format(a.approved)) {
					t.Errorf("above approved: %q does not name the approved amount", d["amount"])
				}
			}
		}
		for _, tc := range []struct{ name, body string }{
			{"amount as text", `{"tranche":1,"amount":"9870000","transferred_on":"` + transferred + `","reference":"X"}`},
			{"unknown field", `{"tranche":1,"amount":9870000,"transferred_on":"` + transferred + `","reference":"X","grant_id":2}`},
			{"not JSON", `tranche=1`},
			{"bad date", `{"tranche":1,"amount":9870000,"transferred_on":"2025-02-30","reference":"X"}`},
		} {
			r := e.json(t, finance, http.MethodPost, path(a), []byte(tc.body))
			mxWantErr(t, tc.name, r, http.StatusBadRequest, "")
		}
		if after := e.counts(t, a); after != before {
			t.Fatalf("refused disbursements changed %+v into %+v", before, after)
		}
		if v := e.grantView(t, finance, a); v.State != workflow.Approved || v.Disbursed != 0 {
			t.Fatalf("grant %s disbursed %d after refusals", v.State, v.Disbursed)
		}
	})
	t.Run("concurrent double submission", func(t *testing.T) {
		const n = 6
		var wg sync.WaitGroup
		results := make([]mxResp, n)
		for i := range n {
			wg.Go(func() { results[i] = e.json(t, finance, http.MethodPost, path(a), good) })
		}
		wg.Wait()
		created := 0
		for _, r := range results {
			switch r.status {
			case http.StatusCreated:
				created++
			case http.StatusConflict, http.StatusUnprocessableEntity:
			default:
				t.Errorf("unexpected answer %s", r)
			}
		}
		if created != 1 {
			t.Fatalf("%d of %d simultaneous tranche-1 posts were recorded, want exactly 1", created, n)
		}
		v := e.grantView(t, finance, a)
		if v.State != workflow.Funded || v.Disbursed != share1 || v.TranchesPaid != 1 || v.Balance != share1 {
			t.Fatalf("after tranche 1: state %s disbursed %d tranches %d balance %d", v.State, v.Disbursed, v.TranchesPaid, v.Balance)
		}
		n1 := 0
		for _, ev := range e.events(t, finance, a) {
			if ev.Action == string(workflow.Disburse) {
				n1++
				if ev.FromState != workflow.Approved || ev.ToState != workflow.Funded || ev.ActorID != finance.UserID {
					t.Errorf("disburse event %+v", ev)
				}
			}
		}
		if n1 != 1 {
			t.Fatalf("%d disburse events, want 1", n1)
		}
		r := e.json(t, finance, http.MethodGet, path(a), nil)
		var list struct {
			Items []workflow.Disbursement `json:"items"`
		}
		mxDecode(t, r.body, &list)
		if len(list.Items) != 1 || list.Items[0].Reference != "TRF-0001" || list.Items[0].TransferredOn.String() != transferred {
			t.Fatalf("disbursements %+v", list.Items)
		}
	})
	t.Run("tranche 2 waits for receipts and an In session", func(t *testing.T) {
		r := e.json(t, finance, http.MethodPost, path(a), body(2, e.share(a, 2), e.today.String(), "TRF-0002"))
		d := mxWantErr(t, "tranche 2", r, http.StatusUnprocessableEntity, "receipts")
		if _, ok := d["activities"]; !ok {
			t.Fatalf("tranche 2 refusal %v does not mention the In session", d)
		}
		// Receipts for a little under half of the money: still refused.
		e.mustExpense(t, a, map[string]string{"amount": "4934999"}, mxPNG(t, 1))
		r = e.json(t, finance, http.MethodPost, path(a), body(2, e.share(a, 2), e.today.String(), "TRF-0002"))
		d = mxWantErr(t, "tranche 2 at 49.99 %", r, http.StatusUnprocessableEntity, "receipts")
		if !strings.Contains(d["receipts"], "Rp 4.934.999") || !strings.Contains(d["receipts"], "Rp 9.870.000") {
			t.Errorf("receipts reason %q lacks the numbers", d["receipts"])
		}
		// Half receipted: only the In session is missing now.
		e.mustExpense(t, a, map[string]string{"amount": "1", "description": "Air mineral"}, mxPNG(t, 2))
		r = e.json(t, finance, http.MethodPost, path(a), body(2, e.share(a, 2), e.today.String(), "TRF-0002"))
		d = mxWantErr(t, "tranche 2 at 50 %", r, http.StatusUnprocessableEntity, "activities")
		if _, ok := d["receipts"]; ok {
			t.Errorf("50 %% receipted still refused for receipts: %v", d)
		}
		if v := e.grantView(t, finance, a); v.Disbursed != share1 || v.Disbursed > v.AmountApproved {
			t.Fatalf("disbursed %d", v.Disbursed)
		}
	})
	t.Run("another finance officer pays the approver's grant", func(t *testing.T) {
		r := e.json(t, finance, http.MethodPost, path(b), body(1, e.share(b, 1), transferred, "TRF-B"))
		if r.status != http.StatusCreated {
			t.Fatalf("finance on b: %s", r)
		}
		var d workflow.Disbursement
		mxDecode(t, r.body, &d)
		if d.ID == 0 || d.Amount != e.share(b, 1) || d.RecordedBy != finance.UserID || d.Tranche != 1 {
			t.Fatalf("disbursement %+v", d)
		}
	})
}

// ---------------------------------------------------------------------------
// 2. Expenses: who may, and what is refused

// mxNoBlobs checks that dir holds exactly want blobs, every one named by its
// SHA-256 and nothing else (no client file names, no staging leftovers).
func mxNoBlobs(t *testing.T, dir string, want int) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !mxSHA.MatchString(d.Name()) {
			t.Errorf("stored file %s is not named by its SHA-256", p)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want >= 0 && n != want {
		t.Fatalf("store holds %d files, want %d", n, want)
	}
}

// mxExpenseAccess checks who may record an expense on a (funded) and b
// (approved, not funded): refused before a byte is stored.
func mxExpenseAccess(t *testing.T, e *mxEnv, a, b *mxGrant) {
	before := e.counts(t, a)
	for _, tc := range []struct {
		name   string
		who    *mxUser
		g      *mxGrant
		status int
	}{
		{"chair", e.chairOf(t, a), a, http.StatusForbidden},
		{"other group's treasurer", b.treasurer, a, http.StatusNotFound},
		{"verifier", e.user(t, "verifier"), a, http.StatusForbidden},
		{"finance", e.user(t, "finance"), a, http.StatusForbidden},
		{"not funded", b.treasurer, b, http.StatusConflict},
	} {
		r := e.multipart(t, tc.who, fmt.Sprintf("/api/v1/grants/%d/expenses", tc.g.id), e.expenseFields(tc.g, nil),
			mxFile{"receipt", "nota.png", "image/png", mxPNG(t, 7)})
		mxWantErr(t, tc.name, r, tc.status, "")
	}
	r := e.multipart(t, nil, fmt.Sprintf("/api/v1/grants/%d/expenses", a.id), e.expenseFields(a, nil),
		mxFile{"receipt", "nota.png", "image/png", mxPNG(t, 7)})
	mxWantErr(t, "anonymous", r, http.StatusUnauthorized, "")
	if after := e.counts(t, a); after != before {
		t.Fatalf("refused uploads changed %+v into %+v", before, after)
	}
	if after := e.counts(t, b); after.expenses != 0 {
		t.Fatalf("expense recorded on a grant that is not funded")
	}
	// Refused before a byte is stored: the store holds nothing but the
	// directories (no orphan blob from the refused people).
	mxNoBlobs(t, e.storeDir, 0)
}

func TestMoneyExtExpenseValidation(t *testing.T) {
	t.Parallel()
	e := mxNewEnv(t, nil)
	g := e.fundedGrant(t)
	other := e.approvedGrant(t, "approver")
	t.Run("who may", func(t *testing.T) { mxExpenseAccess(t, e, g, other) })
	tr := g.treasurer
	path := fmt.Sprintf("/api/v1/grants/%d/expenses", g.id)
	receipt := mxFile{"receipt", "nota.png", "image/png", mxPNG(t, 1)}
	before := e.counts(t, g)

	t.Run("fields", func(t *testing.T) {
		long := strings.Repeat("x", 64<<10+1)
		for _, tc := range []struct {
			name   string
			over   map[string]string
			status int
			field  string
		}{
			{"spent_on missing", map[string]string{"spent_on": mxOmit}, 422, "spent_on"},
			{"spent_on empty", map[string]string{"spent_on": ""}, 422, "spent_on"},
			{"spent_on not a date", map[string]string{"spent_on": "kemarin"}, 422, "spent_on"},
			{"spent_on impossible", map[string]string{"spent_on": "2026-02-30"}, 422, "spent_on"},
			{"spent_on future", map[string]string{"spent_on": e.today.AddDays(1).String()}, 422, "spent_on"},
			{"spent_on absurd", map[string]string{"spent_on": strings.Repeat("2026-01-01", 1000)}, 422, "spent_on"},
			{"budget line missing", map[string]string{"budget_line_id": mxOmit}, 422, "budget_line_id"},
			{"budget line text", map[string]string{"budget_line_id": "konsumsi"}, 422, "budget_line_id"},
			{"budget line negative", map[string]string{"budget_line_id": "-1"}, 422, "budget_line_id"},
			{"budget line overflow", map[string]string{"budget_line_id": "99999999999999999999"}, 422, "budget_line_id"},
			{"budget line of another grant", map[string]string{"budget_line_id": strconv.FormatInt(other.lines["konsumsi"].ID, 10)}, 422, "budget_line_id"},
			{"activity text", map[string]string{"activity_id": "In-1"}, 422, "activity_id"},
			{"activity of another grant", map[string]string{"activity_id": strconv.FormatInt(other.acts[0].ID, 10)}, 422, "activity_id"},
			{"vendor missing", map[string]string{"vendor": mxOmit}, 422, "vendor"},
			{"vendor blank", map[string]string{"vendor": "  \t "}, 422, "vendor"},
			{"vendor too long", map[string]string{"vendor": strings.Repeat("v", 201)}, 422, "vendor"},
			{"vendor NUL", map[string]string{"vendor": "Toko\x00Buku"}, 422, "vendor"},
			{"vendor invalid UTF-8", map[string]string{"vendor": "Toko \xff\xfe Buku"}, 422, "vendor"},
			{"description missing", map[string]string{"description": mxOmit}, 422, "description"},
			{"description too long", map[string]string{"description": strings.Repeat("d", 1001)}, 422, "description"},
			{"description NUL", map[string]string{"description": "rapat\x00"}, 422, "description"},
			{"field over 64 KiB", map[string]string{"description": long}, 400, "description"},
			{"amount missing", map[string]string{"amount": mxOmit}, 422, "amount"},
			{"amount empty", map[string]string{"amount": ""}, 422, "amount"},
			{"amount negative", map[string]string{"amount": "-5"}, 422, "amount"},
			{"amount decimal", map[string]string{"amount": "1,5"}, 422, "amount"},
			{"amount letters", map[string]string{"amount": "abc"}, 422, "amount"},
			{"amount overflow", map[string]string{"amount": "99999999999999999999"}, 422, "amount"},
			{"amount zero", map[string]string{"amount": "0"}, 422, "amount"},
			{"amount zero with another problem", map[string]string{"amount": "0", "vendor": mxOmit}, 422, "amount"},
			{"tax letters", map[string]string{"tax_ppn": "sebelas persen"}, 422, "tax_ppn"},
			{"tax above amount", map[string]string{"tax_ppn": "60000", "tax_pph": "50000"}, 422, "tax_pph"},
			{"tax overflow", map[string]string{"tax_ppn": "9223372036854775807", "tax_pph": "1"}, 422, "tax_pph"},
		} {
			r := e.postExpense(t, tr, g, tc.over, receipt.data)
			d := mxWantErr(t, tc.name, r, tc.status, tc.field)
			if tc.name == "amount zero with another problem" {
				if _, ok := d["vendor"]; !ok {
					t.Errorf("%s: %v", tc.name, d)
				}
			}
		}
		fields := e.expenseFields(g, nil)
		with := func(extra [2]string) [][2]string { return append(slices.Clone(fields), extra) }
		for _, tc := range []struct {
			name   string
			fields [][2]string
			files  []mxFile
			status int
			field  string
		}{
			{"receipt missing", fields, nil, 422, "receipt"},
			{"receipt as a text field", with([2]string{"receipt", "nota.png"}), nil, 400, "receipt"},
			{"two receipts", fields, []mxFile{receipt, {"receipt", "b.png", "image/png", mxPNG(t, 2)}}, 400, "receipt"},
			{"unknown field", with([2]string{"grant_id", "1"}), []mxFile{receipt}, 400, "grant_id"},
			{"repeated field", with([2]string{"amount", "5"}), []mxFile{receipt}, 400, "amount"},
			{"file under another name", fields, []mxFile{{"file", "nota.png", "image/png", mxPNG(t, 3)}}, 400, "file"},
			{"empty receipt", fields, []mxFile{{"receipt", "nota.png", "image/png", nil}}, 415, "receipt"},
			{"HTML named .jpg", fields, []mxFile{{"receipt", "nota.jpg", "image/jpeg", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")}}, 415, "receipt"},
			{"ELF named .jpg", fields, []mxFile{{"receipt", "nota.jpg", "image/jpeg", mxELF()}}, 415, "receipt"},
			{"text named .pdf", fields, []mxFile{{"receipt", "nota.pdf", "application/pdf", []byte("just text, not a PDF")}}, 415, "receipt"},
			{"10 MiB + 1", fields, []mxFile{{"receipt", "nota.pdf", "application/pdf", append(mxPDF("big"), make([]byte, 10<<20+1-len(mxPDF("big")))...)}}, 413, "receipt"},
		} {
			r := e.multipart(t, tr, path, tc.fields, tc.files...)
			mxWantErr(t, tc.name, r, tc.status, tc.field)
		}
		// Not multipart at all, or cut off in the middle.
		r := e.json(t, tr, http.MethodPost, path, map[string]string{"amount": "5"})
		mxWantErr(t, "JSON body", r, http.StatusBadRequest, "")
		body, ctype := mxMultipart(t, fields, receipt)
		r = e.send(t, tr, http.MethodPost, path, ctype, bytes.NewReader(body.Bytes()[:body.Len()-60]))
		if r.status < 400 || r.status >= 500 {
			t.Fatalf("truncated multipart: %s", r)
		}
		if after := e.counts(t, g); after != before {
			t.Fatalf("refused expenses changed %+v into %+v", before, after)
		}
	})

	t.Run("accepted amounts and hostile text", func(t *testing.T) {
		x1 := e.mustExpense(t, g, map[string]string{"amount": "1.250.000"}, mxPNG(t, 11))
		x2 := e.mustExpense(t, g, map[string]string{"amount": "1250000"}, mxPNG(t, 12))
		if x1.Amount != 1_250_000 || x2.Amount != 1_250_000 {
			t.Fatalf("amounts %d %d", x1.Amount, x2.Amount)
		}
		html := `<script>alert("x")</script><img src=x onerror=alert(1)> & "kutip"`
		for _, name := range []string{"../../../../etc/passwd.png", `..\..\windows\nota.png`, "/abs/path/nota.png"} {
			r := e.multipart(t, tr, path, e.expenseFields(g, map[string]string{"description": html, "amount": "1000"}),
				mxFile{"receipt", name, "image/png", mxPNG(t, 1000+len(name))})
			if r.status != http.StatusCreated {
				t.Fatalf("file name %q: %s", name, r)
			}
			var ex workflow.Expense
			mxDecode(t, r.body, &ex)
			if ex.Description != html || !mxSHA.MatchString(ex.ReceiptSHA256) {
				t.Fatalf("stored %q / %q", ex.Description, ex.ReceiptSHA256)
			}
		}
		// Every stored file is named by its content, never by the client.
		mxNoBlobs(t, e.storeDir, -1)
		for _, x := range e.expensesAs(t, tr, g) {
			if x.Amount == 1000 && x.Description != html {
				t.Fatalf("listing changed the description: %q", x.Description)
			}
		}
	})

	t.Run("limits with the numbers", func(t *testing.T) {
		dok := g.lines["dokumentasi"] // 1 000 000
		r := e.postExpense(t, tr, g, map[string]string{"budget_line_id": strconv.FormatInt(dok.ID, 10), "amount": "1000001"}, mxPNG(t, 20))
		d := mxWantErr(t, "over the line", r, http.StatusUnprocessableEntity, "amount")
		for _, want := range []string{"Rp 1.000.000", "Rp 1.000.001"} {
			if !strings.Contains(d["amount"], want) {
				t.Errorf("over the line: %q lacks %s", d["amount"], want)
			}
		}
		// Spend the money down (konsumsi to its 6 750 000, honorarium 2 700 000)
		// so that the next expense fits its line but not the money in hand.
		v := e.grantView(t, tr, g)
		kons := g.lines["konsumsi"]
		rest := kons.Amount - v.Budget[0].Spent
		e.mustExpense(t, g, map[string]string{"amount": strconv.FormatInt(rest, 10)}, mxPNG(t, 21))
		e.mustExpense(t, g, map[string]string{"budget_line_id": strconv.FormatInt(g.lines["honorarium"].ID, 10), "amount": "2700000"}, mxPNG(t, 22))
		v = e.grantView(t, tr, g)
		if v.Balance != 9_870_000-6_750_000-2_700_000 {
			t.Fatalf("balance %d", v.Balance)
		}
		ask := v.Balance + 1
		r = e.postExpense(t, tr, g, map[string]string{"budget_line_id": strconv.FormatInt(g.lines["transport"].ID, 10),
			"amount": strconv.FormatInt(ask, 10)}, mxPNG(t, 23))
		d = mxWantErr(t, "over the balance", r, http.StatusUnprocessableEntity, "amount")
		for _, want := range []string{money.Format(v.Balance), money.Format(ask), money.Format(v.Disbursed), money.Format(v.Spent)} {
			if !strings.Contains(d["amount"], want) {
				t.Errorf("over the balance: %q lacks %s", d["amount"], want)
			}
		}
		// Exactly the balance is fine.
		e.mustExpense(t, g, map[string]string{"budget_line_id": strconv.FormatInt(g.lines["transport"].ID, 10),
			"amount": strconv.FormatInt(v.Balance, 10)}, mxPNG(t, 24))
		if v := e.grantView(t, tr, g); v.Balance != 0 {
			t.Fatalf("balance %d after spending it all", v.Balance)
		}
	})
}

func TestMoneyExtExpenseConcurrency(t *testing.T) {
	t.Parallel()
	e := mxNewEnv(t, nil)
	g := e.fundedGrant(t)
	line := g.lines["konsumsi"] // 6 750 000 of a balance of 9 870 000
	const n, each = 20, 400_000 // 8 000 000 together; 16 fit
	receipts := make([][]byte, n)
	for i := range receipts {
		receipts[i] = mxPNG(t, 100+i)
	}
	var wg sync.WaitGroup
	results := make([]mxResp, n)
	for i := range n {
		wg.Go(func() {
			results[i] = e.postExpense(t, g.treasurer, g, map[string]string{"amount": strconv.Itoa(each)}, receipts[i])
		})
	}
	wg.Wait()
	ok := 0
	for _, r := range results {
		switch r.status {
		case http.StatusCreated:
			ok++
		case http.StatusUnprocessableEntity:
			mxWantErr(t, "refused", r, http.StatusUnprocessableEntity, "amount")
		default:
			t.Errorf("unexpected %s", r)
		}
	}
	if ok*each > int(line.Amount) || ok != int(line.Amount)/each {
		t.Fatalf("%d accepted (%d rupiah) on a line of %d", ok, ok*each, line.Amount)
	}
	v := e.grantView(t, g.treasurer, g)
	if v.Spent != int64(ok*each) || v.Budget[0].Spent != v.Spent || v.Spent > line.Amount {
		t.Fatalf("spent %d, line spent %d, accepted %d", v.Spent, v.Budget[0].Spent, ok)
	}
	if got := len(e.expensesAs(t, g.treasurer, g)); got != ok {
		t.Fatalf("%d expense rows for %d accepted", got, ok)
	}
}

// ---------------------------------------------------------------------------
// 2b. Flags and voids

func mxHas(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestMoneyExtFlagsAndVoid(t *testing.T) {
	t.Parallel()
	e := mxNewEnv(t, nil)
	a := e.fundedGrant(t)
	b := e.fundedGrant(t)
	auditor, verifier := e.user(t, "auditor"), e.user(t, "verifier")

	big := e.mustExpense(t, a, map[string]string{"amount": "5000001"}, mxPNG(t, 1))
	edge := e.mustExpense(t, a, map[string]string{"amount": "5000", "budget_line_id": strconv.FormatInt(a.lines["atk_bahan"].ID, 10)}, mxPNG(t, 2))
	shared := mxPNG(t, 3)
	dupA := e.mustExpense(t, a, map[string]string{"amount": "10000", "budget_line_id": strconv.FormatInt(a.lines["transport"].ID, 10)}, shared)
	dupB := e.mustExpense(t, b, map[string]string{"amount": "20000"}, shared)
	// Spending before the first transfer is refused since #8 item 6, no
	// longer recorded with the outside_period flag.
	if r := e.postExpense(t, a.treasurer, a, map[string]string{"amount": "30000", "spent_on": e.today.AddDays(-21).String(),
		"budget_line_id": strconv.FormatInt(a.lines["penggandaan"].ID, 10)}, mxPNG(t, 4)); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(r.body), `"spent_on"`) {
		t.Fatalf("expense before the first transfer: %d %s", r.status, r.body)
	}

	t.Run("flags on creation", func(t *testing.T) {
		if !mxHas(big.Flags, workflow.FlagMeterai) || len(big.Flags) != 1 {
			t.Errorf("5 000 001: flags %v", big.Flags)
		}
		if len(edge.Flags) != 0 {
			t.Errorf("plain expense: flags %v", edge.Flags)
		}
		// The treasurer who records never learns that the receipt is a duplicate.
		if mxHas(dupA.Flags, workflow.FlagDuplicate) || mxHas(dupB.Flags, workflow.FlagDuplicate) {
			t.Errorf("treasurer sees duplicate_receipt: %v %v", dupA.Flags, dupB.Flags)
		}
	})
	t.Run("flags by viewer", func(t *testing.T) {
		flagsOf := func(u *mxUser, g *mxGrant) map[int64][]string {
			m := map[int64][]string{}
			for _, x := range e.expensesAs(t, u, g) {
				m[x.ID] = x.Flags
			}
			return m
		}
		for _, staff := range []*mxUser{auditor, verifier} {
			fa, fb := flagsOf(staff, a), flagsOf(staff, b)
			if !mxHas(fa[dupA.ID], workflow.FlagDuplicate) || !mxHas(fb[dupB.ID], workflow.FlagDuplicate) {
				t.Errorf("%v does not see the duplicate in both grants: %v / %v", staff.Roles, fa[dupA.ID], fb[dupB.ID])
			}
			for id, f := range fa {
				if id != dupA.ID && mxHas(f, workflow.FlagDuplicate) {
					t.Errorf("expense %d wrongly flagged duplicate: %v", id, f)
				}
			}
			if !mxHas(fa[big.ID], workflow.FlagMeterai) || mxHas(fa[edge.ID], workflow.FlagMeterai) {
				t.Errorf("staff flags %v", fa)
			}
		}
		for _, g := range []*mxGrant{a, b} {
			for id, f := range flagsOf(g.treasurer, g) {
				if mxHas(f, workflow.FlagDuplicate) {
					t.Errorf("treasurer sees duplicate_receipt on %d", id)
				}
			}
		}
		// The ledger shows nothing of it to the group either, and staff see the same rows.
		r := e.json(t, a.treasurer, http.MethodGet, fmt.Sprintf("/api/v1/grants/%d/ledger", a.id), nil)
		if r.status != http.StatusOK || strings.Contains(string(r.body), workflow.FlagDuplicate) {
			t.Errorf("ledger: %s", r)
		}
	})
	t.Run("void", func(t *testing.T) {
		vpath := fmt.Sprintf("/api/v1/grants/%d/expenses/%d/void", a.id, big.ID)
		before := e.counts(t, a)
		for _, tc := range []struct {
			name   string
			who    *mxUser
			body   any
			status int
			field  string
		}{
			{"no reason", a.treasurer, map[string]string{"reason": "  "}, 422, "reason"},
			{"reason too long", a.treasurer, map[string]string{"reason": strings.Repeat("r", 1001)}, 422, "reason"},
			{"NUL in reason", a.treasurer, map[string]string{"reason": "salah\x00input"}, 422, "reason"},
			{"empty body", a.treasurer, nil, 400, ""},
			{"chair", e.chairOf(t, a), map[string]string{"reason": "salah input"}, 403, ""},
			{"auditor", auditor, map[string]string{"reason": "salah input"}, 403, ""},
			{"other treasurer", b.treasurer, map[string]string{"reason": "salah input"}, 404, ""},
		} {
			r := e.json(t, tc.who, http.MethodPost, vpath, tc.body)
			mxWantErr(t, tc.name, r, tc.status, tc.field)
		}
		r := e.json(t, a.treasurer, http.MethodPost, fmt.Sprintf("/api/v1/grants/%d/expenses/%d/void", a.id, dupB.ID), map[string]string{"reason": "x"})
		mxWantErr(t, "expense of another grant", r, http.StatusNotFound, "")
		if after := e.counts(t, a); after != before {
			t.Fatalf("refused voids changed %+v into %+v", before, after)
		}

		v0 := e.grantView(t, a.treasurer, a)
		r = e.json(t, a.treasurer, http.MethodPost, vpath, map[string]string{"reason": "Nota ganda, salah input"})
		if r.status != http.StatusOK {
			t.Fatalf("void: %s", r)
		}
		var voided workflow.Expense
		mxDecode(t, r.body, &voided)
		if voided.VoidedAt == nil || voided.VoidReason != "Nota ganda, salah input" {
			t.Fatalf("voided %+v", voided)
		}
		r = e.json(t, a.treasurer, http.MethodPost, vpath, map[string]string{"reason": "lagi"})
		mxWantErr(t, "void twice", r, http.StatusConflict, "")

		v1 := e.grantView(t, a.treasurer, a)
		if v1.Spent != v0.Spent-big.Amount || v1.Balance != v0.Balance+big.Amount {
			t.Fatalf("spent %d→%d, balance %d→%d after voiding %d", v0.Spent, v1.Spent, v0.Balance, v1.Balance, big.Amount)
		}
		if v1.Budget[0].Spent != v0.Budget[0].Spent-big.Amount {
			t.Fatalf("line spent %d→%d", v0.Budget[0].Spent, v1.Budget[0].Spent)
		}
		// The row stays, listed as voided.
		found := false
		for _, x := range e.expensesAs(t, auditor, a) {
			if x.ID == big.ID {
				found = x.VoidedAt != nil
			}
		}
		if !found {
			t.Fatal("voided expense missing from the listing")
		}
		// The audit chain records it, and stays a chain.
		evs := e.events(t, auditor, a)
		last := evs[len(evs)-1]
		if last.Action != "void_expense" || last.Comment != "Nota ganda, salah input" || last.ActorID != a.treasurer.UserID {
			t.Fatalf("last event %+v", last)
		}
		if id, _ := last.Data["expense_id"].(float64); int64(id) != big.ID {
			t.Fatalf("void event data %v", last.Data)
		}
		for i, ev := range evs {
			if ev.Seq != i+1 || (i > 0 && ev.PrevHash != evs[i-1].Hash) || ev.Hash == "" {
				t.Fatalf("chain broken at %d: %+v", i, ev)
			}
		}
		// The ledger shows the expense and its reversal.
		var led struct {
			Items []workflow.LedgerEntry `json:"items"`
		}
		r = e.json(t, auditor, http.MethodGet, fmt.Sprintf("/api/v1/grants/%d/ledger", a.id), nil)
		mxDecode(t, r.body, &led)
		ref := fmt.Sprintf("BL-%d", big.ID)
		var out, in int64
		for _, row := range led.Items {
			if row.Ref != ref {
				continue
			}
			switch row.Kind {
			case workflow.EntryExpense:
				out += row.Out
			case workflow.EntryVoid:
				in += row.In
				if row.Date.String() != e.today.String() || !strings.Contains(row.Description, "Nota ganda") {
					t.Errorf("void row %+v", row)
				}
			}
		}
		if out != big.Amount || in != big.Amount {
			t.Fatalf("ledger for %s: out %d, reversal %d", ref, out, in)
		}
	})
}

// ---------------------------------------------------------------------------
// 3–5. Refunds, amounts, ledger

func TestMoneyExtRefundsAmountsLedger(t *testing.T) {
	t.Parallel()
	e := mxNewEnv(t, nil)
	g := e.fundedGrant(t)
	tr := g.treasurer
	auditor := e.user(t, "auditor")
	rpath := fmt.Sprintf("/api/v1/grants/%d/refunds", g.id)
	line := func(cat string) string { return strconv.FormatInt(g.lines[cat].ID, 10) }

	// A mix: plain, taxed, formula-looking, voided.
	e.mustExpense(t, g, map[string]string{"amount": "750000", "spent_on": e.today.AddDays(-15).String()}, mxPNG(t, 1))
	taxed := e.mustExpense(t, g, map[string]string{"amount": "1110000", "tax_ppn": "110000", "tax_pph": "15000",
		"budget_line_id": line("atk_bahan"), "spent_on": e.today.AddDays(-12).String()}, mxPNG(t, 2))
	formula := e.mustExpense(t, g, map[string]string{"amount": "300000", "description": "=cmd|' /C calc'!A0",
		"vendor": "@SUM(1+1)", "budget_line_id": line("penggandaan"), "spent_on": e.today.AddDays(-11).String()}, mxPNG(t, 3))
	gone := e.mustExpense(t, g, map[string]string{"amount": "200000", "budget_line_id": line("transport"),
		"spent_on": e.today.AddDays(-9).String()}, mxPNG(t, 4))
	if taxed.TaxPPN != 110000 || taxed.TaxPPh != 15000 {
		t.Fatalf("taxes %+v", taxed)
	}
	if r := e.json(t, tr, http.MethodPost, fmt.Sprintf("/api/v1/grants/%d/expenses/%d/void", g.id, gone.ID), map[string]string{"reason": "batal"}); r.status != 200 {
		t.Fatalf("void: %s", r)
	}

	t.Run("refunds refused", func(t *testing.T) {
		before := e.counts(t, g)
		bal := before.balance
		for _, tc := range []struct {
			name   string
			body   any
			status int
			field  string
		}{
			{"NTPN short", map[string]any{"amount": 1000, "paid_on": e.today.String(), "ntpn": "ABC123"}, 422, "ntpn"},
			{"NTPN symbols", map[string]any{"amount": 1000, "paid_on": e.today.String(), "ntpn": "0123-4567-89AB-CD"}, 422, "ntpn"},
			{"NTPN 17", map[string]any{"amount": 1000, "paid_on": e.today.String(), "ntpn": "0123456789ABCDEFG"}, 422, "ntpn"},
			{"NTPN missing", map[string]any{"amount": 1000, "paid_on": e.today.String()}, 422, "ntpn"},
			{"above balance", map[string]any{"amount": bal + 1, "paid_on": e.today.String(), "ntpn": "0123456789ABCDEF"}, 422, "amount"},
			{"zero", map[string]any{"amount": 0, "paid_on": e.today.String(), "ntpn": "0123456789ABCDEF"}, 422, "amount"},
			{"negative", map[string]any{"amount": -1, "paid_on": e.today.String(), "ntpn": "0123456789ABCDEF"}, 422, "amount"},
			{"no date", map[string]any{"amount": 1000, "ntpn": "0123456789ABCDEF"}, 422, "paid_on"},
			{"future date", map[string]any{"amount": 1000, "paid_on": e.today.AddDays(2).String(), "ntpn": "0123456789ABCDEF"}, 422, "paid_on"},
			{"amount as text", []byte(`{"amount":"1000","paid_on":"` + e.today.String() + `","ntpn":"0123456789ABCDEF"}`), 400, "amount"},
		} {
			r := e.json(t, tr, http.MethodPost, rpath, tc.body)
			d := mxWantErr(t, tc.name, r, tc.status, tc.field)
			if tc.name == "above balance" && !strings.Contains(d["amount"], money.Format(bal)) {
				t.Errorf("above balance: %q lacks %s", d["amount"], money.Format(bal))
			}
		}
		r := e.json(t, e.user(t, "finance"), http.MethodPost, rpath, map[string]any{"amount": 1000, "paid_on": e.today.String(), "ntpn": "0123456789ABCDEF"})
		mxWantErr(t, "finance records a refund", r, http.StatusForbidden, "")
		r = e.multipart(t, tr, rpath, [][2]string{{"amount", "1000"}, {"paid_on", e.today.String()}, {"ntpn", "bad"}},
			mxFile{"proof", "bukti.pdf", "application/pdf", mxPDF("setoran")})
		mxWantErr(t, "multipart bad NTPN", r, http.StatusUnprocessableEntity, "ntpn")
		r = e.multipart(t, tr, rpath, [][2]string{{"amount", "1000"}, {"paid_on", e.today.String()}, {"ntpn", "0123456789ABCDEF"}},
			mxFile{"proof", "bukti.jpg", "image/jpeg", []byte("<html>not a slip</html>")})
		mxWantErr(t, "multipart HTML proof", r, http.StatusUnsupportedMediaType, "proof")
		if after := e.counts(t, g); after != before {
			t.Fatalf("refused refunds changed %+v into %+v", before, after)
		}
	})

	var proofID int64
	t.Run("refunds recorded", func(t *testing.T) {
		v0 := e.grantView(t, tr, g)
		r := e.json(t, tr, http.MethodPost, rpath, map[string]any{"amount": 100000, "paid_on": e.today.AddDays(-1).String(), "ntpn": "0123 4567 89ab cdef"})
		if r.status != http.StatusCreated {
			t.Fatalf("JSON refund: %s", r)
		}
		var rf workflow.Refund
		mxDecode(t, r.body, &rf)
		if rf.NTPN != "0123456789ABCDEF" || rf.Amount != 100000 {
			t.Fatalf("refund %+v", rf)
		}
		pdf := mxPDF("bukti setor NTPN")
		r = e.multipart(t, tr, rpath, [][2]string{{"amount", "Rp 50.000"}, {"paid_on", e.today.String()}, {"ntpn", "FEDCBA9876543210"}},
			mxFile{"proof", "bukti setor.pdf", "application/pdf", pdf})
		if r.status != http.StatusCreated {
			t.Fatalf("multipart refund: %s", r)
		}
		mxDecode(t, r.body, &rf)
		if rf.ProofID == 0 || rf.Amount != 50000 {
			t.Fatalf("refund %+v", rf)
		}
		proofID = rf.ProofID
		got := e.send(t, auditor, http.MethodGet, fmt.Sprintf("/api/v1/evidence/%d", proofID), "", nil)
		if got.status != 200 || !bytes.Equal(got.body, pdf) || got.header.Get("Content-Type") != evidence.MIMEPDF {
			t.Fatalf("proof download: %d %s", got.status, got.header)
		}
		v1 := e.grantView(t, tr, g)
		if v1.Refunded != v0.Refunded+150000 || v1.Balance != v0.Balance-150000 {
			t.Fatalf("refunded %d→%d balance %d→%d", v0.Refunded, v1.Refunded, v0.Balance, v1.Balance)
		}
		rl := e.json(t, auditor, http.MethodGet, rpath, nil)
		var list struct {
			Items []workflow.Refund `json:"items"`
		}
		mxDecode(t, rl.body, &list)
		if len(list.Items) != 2 {
			t.Fatalf("refunds %+v", list.Items)
		}
	})

	t.Run("amounts agree with the rows", func(t *testing.T) {
		ctx := mxCtx(t)
		v := e.grantView(t, auditor, g)
		ds, _ := e.svc.Disbursements(ctx, grants.System, g.id)
		rs, _ := e.svc.Refunds(ctx, grants.System, g.id)
		xs := e.expensesAs(t, auditor, g)
		var disbursed, spent, refunded int64
		perLine := map[int64]int64{}
		for _, d := range ds {
			disbursed += d.Amount
		}
		for _, x := range xs {
			if x.VoidedAt == nil {
				spent += x.Amount
				perLine[x.BudgetLineID] += x.Amount
			}
		}
		for _, r := range rs {
			refunded += r.Amount
		}
		if v.Disbursed != disbursed || v.Spent != spent || v.Refunded != refunded || v.Balance != disbursed-spent-refunded {
			t.Fatalf("grant says disbursed %d spent %d refunded %d balance %d; rows say %d %d %d",
				v.Disbursed, v.Spent, v.Refunded, v.Balance, disbursed, spent, refunded)
		}
		if spent != 750000+1110000+300000 || refunded != 150000 {
			t.Fatalf("spent %d refunded %d", spent, refunded)
		}
		for _, b := range v.Budget {
			if b.Spent != perLine[b.ID] {
				t.Errorf("line %s spent %d, rows say %d", b.Category, b.Spent, perLine[b.ID])
			}
		}
	})

	t.Run("ledger", func(t *testing.T) {
		v := e.grantView(t, auditor, g)
		r := e.json(t, auditor, http.MethodGet, fmt.Sprintf("/api/v1/grants/%d/ledger", g.id), nil)
		if r.status != 200 {
			t.Fatalf("ledger: %s", r)
		}
		var led struct {
			Items   []workflow.LedgerEntry `json:"items"`
			Balance int64                  `json:"balance"`
			Total   int                    `json:"total"`
		}
		mxDecode(t, r.body, &led)
		// 1 disbursement, 4 expenses, 2 tax withheld + 2 deposited, 1 void, 2 refunds.
		if len(led.Items) != 12 || led.Total != 12 {
			t.Fatalf("%d ledger rows: %+v", len(led.Items), led.Items)
		}
		var bal int64
		kinds := map[string]int{}
		for i, row := range led.Items {
			if i > 0 && row.Date.Before(led.Items[i-1].Date) {
				t.Errorf("row %d dated %s after %s", i, row.Date, led.Items[i-1].Date)
			}
			bal += row.In - row.Out
			if row.Balance != bal {
				t.Errorf("row %d balance %d, running %d", i, row.Balance, bal)
			}
			kinds[row.Kind]++
		}
		if led.Items[0].Kind != workflow.EntryDisbursement || led.Items[0].In != e.share(g, 1) {
			t.Errorf("first row %+v", led.Items[0])
		}
		if bal != v.Balance || led.Balance != v.Balance {
			t.Fatalf("ledger ends at %d (says %d), grant balance %d", bal, led.Balance, v.Balance)
		}
		want := map[string]int{workflow.EntryDisbursement: 1, workflow.EntryExpense: 4, workflow.EntryTaxWithheld: 2,
			workflow.EntryTaxDeposited: 2, workflow.EntryVoid: 1, workflow.EntryRefund: 2}
		for k, n := range want {
			if kinds[k] != n {
				t.Errorf("%d rows of %s, want %d", kinds[k], k, n)
			}
		}
		var withheld, deposited int64
		for _, row := range led.Items {
			switch row.Kind {
			case workflow.EntryTaxWithheld:
				withheld += row.In
			case workflow.EntryTaxDeposited:
				deposited += row.Out
			default:
				continue
			}
			if row.Ref != fmt.Sprintf("BL-%d", taxed.ID) || row.Date.String() != taxed.SpentOn.String() {
				t.Errorf("tax row %+v", row)
			}
		}
		if withheld != 125000 || deposited != 125000 {
			t.Errorf("taxes withheld %d, deposited %d; want 125000 each", withheld, deposited)
		}

		// CSV: same rows, formula cells neutralised.
		c := e.send(t, auditor, http.MethodGet, fmt.Sprintf("/api/v1/grants/%d/ledger?format=csv", g.id), "", nil)
		if c.status != 200 || !strings.HasPrefix(c.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv: %d %s", c.status, c.header)
		}
		mxAttachment(t, c, ".csv")
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(c.body, []byte("\ufeff")))).ReadAll()
		if err != nil {
			t.Fatalf("csv does not parse: %v", err)
		}
		if len(recs) != len(led.Items)+1 || recs[0][0] != "Tanggal" || len(recs[0]) != 7 {
			t.Fatalf("csv %d records, header %v", len(recs), recs[0])
		}
		for i, row := range led.Items {
			rec := recs[i+1]
			if rec[0] != row.Date.String() || rec[4] != strconv.FormatInt(row.In, 10) || rec[5] != strconv.FormatInt(row.Out, 10) || rec[6] != strconv.FormatInt(row.Balance, 10) {
				t.Errorf("csv row %d %v, json %+v", i, rec, row)
			}
			for _, cell := range rec {
				if cell != "" && strings.ContainsRune("=+@", rune(cell[0])) {
					t.Errorf("csv cell %q would run as a formula", cell)
				}
			}
			if row.Ref == fmt.Sprintf("BL-%d", formula.ID) && row.Kind == workflow.EntryExpense && rec[3] != "'"+row.Description {
				t.Errorf("formula description %q → %q", row.Description, rec[3])
			}
		}

		// XLSX: opens, and has the numbers.
		x := e.send(t, auditor, http.MethodGet, fmt.Sprintf("/api/v1/grants/%d/ledger?format=xlsx", g.id), "", nil)
		if x.status != 200 || !strings.Contains(x.header.Get("Content-Type"), "spreadsheetml") {
			t.Fatalf("xlsx: %d %s", x.status, x.header)
		}
		mxAttachment(t, x, ".xlsx")
		f, err := excelize.OpenReader(bytes.NewReader(x.body))
		if err != nil {
			t.Fatalf("xlsx does not open: %v", err)
		}
		defer f.Close()
		rows, err := f.GetRows("BKU", excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(led.Items)+3 || !strings.Contains(rows[0][0], v.Number) {
			t.Fatalf("xlsx has %d rows: %v", len(rows), rows)
		}
		for i, row := range led.Items {
			xr := rows[i+3]
			if xr[0] != row.Date.String() || xr[4] != strconv.FormatInt(row.In, 10) || xr[5] != strconv.FormatInt(row.Out, 10) || xr[6] != strconv.FormatInt(row.Balance, 10) {
				t.Errorf("xlsx row %d %v, json %+v", i, xr, row)
			}
		}
		last := fmt.Sprintf("G%d", len(led.Items)+3)
		if typ, _ := f.GetCellType("BKU", last); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
			t.Errorf("balance cell %s has type %v, want a number", last, typ)
		}

		p := e.send(t, auditor, http.MethodGet, fmt.Sprintf("/api/v1/grants/%d/ledger?format=pdf", g.id), "", nil)
		mxWantErr(t, "pdf", p, http.StatusBadRequest, "format")
		o := e.send(t, e.user(t, "auditor_out"), http.MethodGet, fmt.Sprintf("/api/v1/grants/%d/ledger", g.id), "", nil)
		mxWantErr(t, "out of scope", o, http.StatusNotFound, "")
	})
}

func mxAttachment(t *testing.T, r mxResp, ext string) {
	t.Helper()
	disp, params, err := mime.ParseMediaType(r.header.Get("Content-Disposition"))
	if err != nil || disp != "attachment" || !strings.HasSuffix(params["filename"], ext) {
		t.Errorf("Content-Disposition %q", r.header.Get("Content-Disposition"))
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("no nosniff: %v", r.header)
	}
}

// ---------------------------------------------------------------------------
// 6. Evidence

func TestMoneyExtEvidence(t *testing.T) {
	t.Parallel()
	e := mxNewEnv(t, nil)
	mxEvidence(t, e)
}

// TestMoneyExtEvidenceS3 runs the same uploads and downloads against the
// S3-compatible store (gofakes3 in memory).
func TestMoneyExtEvidenceS3(t *testing.T) {
	t.Parallel()
	faker := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog()))
	ts := httptest.NewServer(faker.Server())
	t.Cleanup(ts.Close)
	u, err := url.Parse(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	st, err := evidence.NewS3(context.Background(), evidence.S3Config{Endpoint: u.Host, Region: "us-east-1", Bucket: "evidence",
		AccessKey: "test", SecretKey: "test-secret", Prefix: "blobs", TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	e := mxNewEnv(t, st)
	mxEvidence(t, e)
}

func mxEvidence(t *testing.T, e *mxEnv) {
	g := e.fundedGrant(t)
	other := e.fundedGrant(t)
	tr := g.treasurer
	auditor := e.user(t, "auditor")
	get := func(u *mxUser, id int64, q string) mxResp {
		return e.send(t, u, http.MethodGet, fmt.Sprintf("/api/v1/evidence/%d%s", id, q), "", nil)
	}

	t.Run("receipt download", func(t *testing.T) {
		receipt := mxPNG(t, 42)
		x := e.mustExpense(t, g, nil, receipt)
		for _, u := range []*mxUser{tr, auditor} {
			r := get(u, x.ReceiptID, "")
			if r.status != 200 || !bytes.Equal(r.body, receipt) {
				t.Fatalf("download by %v: %d, %d bytes", u.Roles, r.status, len(r.body))
			}
			if r.header.Get("Content-Type") != evidence.MIMEPNG {
				t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
			}
			mxAttachment(t, r, ".png")
		}
		for _, u := range []*mxUser{e.user(t, "auditor_out"), other.treasurer} {
			mxWantErr(t, "out of scope", get(u, x.ReceiptID, ""), http.StatusNotFound, "")
		}
		mxWantErr(t, "missing id", get(tr, 999999, ""), http.StatusNotFound, "")
		mxWantErr(t, "bad id", e.send(t, tr, http.MethodGet, "/api/v1/evidence/abc", "", nil), http.StatusNotFound, "")
		mxWantErr(t, "anonymous", get(nil, x.ReceiptID, ""), http.StatusUnauthorized, "")
		// A PNG has a preview, converted to JPEG.
		p := get(tr, x.ReceiptID, "?preview=1")
		if p.status != 200 || p.header.Get("Content-Type") != evidence.MIMEJPEG {
			t.Fatalf("png preview: %d %s", p.status, p.header)
		}
		if _, err := jpeg.Decode(bytes.NewReader(p.body)); err != nil {
			t.Fatalf("png preview is not a JPEG: %v", err)
		}
	})

	t.Run("activity evidence and EXIF-free preview", func(t *testing.T) {
		aid := g.acts[0].ID
		path := fmt.Sprintf("/api/v1/grants/%d/activities/%d/evidence", g.id, aid)
		photo := mxJPEGWithExif(t, 5)
		if !bytes.Contains(photo, []byte("Exif")) {
			t.Fatal("fixture lacks EXIF")
		}
		before := e.counts(t, g)
		for _, tc := range []struct {
			name   string
			who    *mxUser
			path   string
			fields [][2]string
			files  []mxFile
			status int
			field  string
		}{
			{"bad kind", tr, path, [][2]string{{"kind", "selfie"}}, []mxFile{{"file", "a.jpg", "image/jpeg", photo}}, 422, "kind"},
			{"no kind", tr, path, nil, []mxFile{{"file", "a.jpg", "image/jpeg", photo}}, 422, "kind"},
			{"no file", tr, path, [][2]string{{"kind", "photo"}}, nil, 422, "file"},
			{"HTML as photo", tr, path, [][2]string{{"kind", "photo"}}, []mxFile{{"file", "a.jpg", "image/jpeg", []byte("<html><body>x</body></html>")}}, 415, "file"},
			{"activity of another grant", tr, fmt.Sprintf("/api/v1/grants/%d/activities/%d/evidence", g.id, other.acts[0].ID),
				[][2]string{{"kind", "photo"}}, []mxFile{{"file", "a.jpg", "image/jpeg", photo}}, 404, ""},
			{"auditor", auditor, path, [][2]string{{"kind", "photo"}}, []mxFile{{"file", "a.jpg", "image/jpeg", photo}}, 403, ""},
			{"other group", other.treasurer, path, [][2]string{{"kind", "photo"}}, []mxFile{{"file", "a.jpg", "image/jpeg", photo}}, 404, ""},
		} {
			r := e.multipart(t, tc.who, tc.path, tc.fields, tc.files...)
			mxWantErr(t, tc.name, r, tc.status, tc.field)
		}
		if after := e.counts(t, g); after != before {
			t.Fatalf("refused evidence changed %+v into %+v", before, after)
		}

		chair := e.chairOf(t, g)
		r := e.multipart(t, chair, path, [][2]string{{"kind", "photo"}}, mxFile{"file", "foto kegiatan.jpg", "application/octet-stream", photo})
		if r.status != http.StatusCreated {
			t.Fatalf("photo: %s", r)
		}
		var f postgres.File
		mxDecode(t, r.body, &f)
		if f.Kind != "photo" || f.ActivityID != aid || f.MIME != evidence.MIMEJPEG || f.Size != int64(len(photo)) {
			t.Fatalf("evidence row %+v", f)
		}
		orig := get(auditor, f.ID, "")
		if orig.status != 200 || !bytes.Equal(orig.body, photo) || orig.header.Get("Content-Type") != evidence.MIMEJPEG {
			t.Fatalf("original: %d %s", orig.status, orig.header)
		}
		mxAttachment(t, orig, ".jpg")
		p := get(auditor, f.ID, "?preview=1")
		if p.status != 200 || p.header.Get("Content-Type") != evidence.MIMEJPEG {
			t.Fatalf("preview: %s", p)
		}
		mxAttachment(t, p, ".jpg")
		if bytes.Contains(p.body, []byte("Exif")) || bytes.Contains(p.body, []byte("GPS-SECRET")) {
			t.Fatal("preview still carries the EXIF segment")
		}
		img, err := jpeg.Decode(bytes.NewReader(p.body))
		if err != nil {
			t.Fatalf("preview is not a JPEG: %v", err)
		}
		if b := img.Bounds(); b.Dx() != 6 || b.Dy() != 8 {
			t.Errorf("preview %v; orientation 6 should turn 8×6 into 6×8", b)
		}
		// A PDF has no preview.
		pdf := mxPDF("notulen")
		r = e.multipart(t, tr, path, [][2]string{{"kind", "minutes"}}, mxFile{"file", "notulen.pdf", "application/pdf", pdf})
		if r.status != http.StatusCreated {
			t.Fatalf("minutes: %s", r)
		}
		mxDecode(t, r.body, &f)
		if got := get(tr, f.ID, ""); !bytes.Equal(got.body, pdf) {
			t.Fatal("pdf bytes differ")
		}
		mxWantErr(t, "pdf preview", get(tr, f.ID, "?preview=1"), http.StatusNotFound, "")
		// The upload is in the audit chain and counts on the activity.
		evs := e.events(t, tr, g)
		if last := evs[len(evs)-1]; last.Action != "add_evidence" || last.Data["kind"] != "minutes" {
			t.Errorf("last event %+v", last)
		}
		if v := e.grantView(t, tr, g); v.Activities[0].EvidenceCount != 2 {
			t.Errorf("evidence count %d", v.Activities[0].EvidenceCount)
		}
	})
}
