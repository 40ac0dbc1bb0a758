package grants_test

// Service tests of the money capability that the HTTP tests cannot reach:
// garbage collection of the evidence store with a moved clock, a second
// tranche (its In session has no API yet), and concurrent spending bounded by
// the money in hand. Every identifier starts with mx so that this file never
// collides with other test files of package grants_test.

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"grantflow/internal/demo"
	"grantflow/internal/evidence"
	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

var mxJakarta = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Jakarta"); err == nil {
		return loc
	}
	return time.FixedZone("WIB", 7*3600)
}()

// mxFix is a database with a programme, the staff a grant needs, and a
// service whose clock a test may move forward.
type mxFix struct {
	db       *postgres.DB
	svc      *grants.Service
	store    evidence.Store
	prog     workflow.Program
	today    workflow.Date
	skew     atomic.Int64 // nanoseconds added to the service clock
	verifier workflow.Actor
	approver workflow.Actor
	finance  workflow.Actor
	n        int
}

func mxCtxOf(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func mxNewFix(t *testing.T, st evidence.Store) *mxFix {
	t.Helper()
	ctx := mxCtxOf(t)
	f := &mxFix{db: pgtest.New(t), store: st}
	// Ten connections still run the concurrency tests' transactions side by
	// side while leaving room on a server shared by parallel test binaries.
	f.db.SQL().SetMaxOpenConns(10)
	f.svc = grants.New(f.db, grants.Options{Store: st, Now: func() time.Time {
		return time.Now().Add(time.Duration(f.skew.Load()))
	}})
	f.today = workflow.DateOf(time.Now().In(mxJakarta))
	var err error
	f.prog, err = f.svc.CreateProgram(ctx, grants.System, workflow.Program{
		Name: "Program Uji Layanan Keuangan", Year: f.today.Time().Year(),
		ProposalOpensOn: f.today.AddDays(-60), ProposalClosesOn: f.today.AddDays(30),
		ActivityEndsOn: f.today.AddDays(200), ReportDueOn: f.today.AddDays(230), BudgetTotal: 1_000_000_000,
	})
	if err != nil {
		t.Fatalf("CreateProgram: %v", err)
	}
	f.verifier = f.user(t, grants.NewUser{Roles: []workflow.Role{workflow.RoleVerifier}})
	f.approver = f.user(t, grants.NewUser{Roles: []workflow.Role{workflow.RoleApprover}})
	f.finance = f.user(t, grants.NewUser{Roles: []workflow.Role{workflow.RoleFinance}})
	return f
}

func mxLocal(t *testing.T) evidence.Store {
	st, err := evidence.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func mxS3(t *testing.T) evidence.Store {
	faker := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog()))
	ts := httptest.NewServer(faker.Server())
	t.Cleanup(ts.Close)
	u, err := url.Parse(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	st, err := evidence.NewS3(context.Background(), evidence.S3Config{Endpoint: u.Host, Region: "us-east-1", Bucket: "evidence",
		AccessKey: "test", SecretKey: "test-secret", Prefix: "gc", TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (f *mxFix) user(t *testing.T, in grants.NewUser) workflow.Actor {
	t.Helper()
	f.n++
	in.Email = fmt.Sprintf("mxsvc%d@uji.grantflow.id", f.n)
	in.Name = fmt.Sprintf("Pengguna Layanan %d", f.n)
	in.Password = "kata-sandi-uji-panjang"
	u, err := f.svc.CreateUser(mxCtxOf(t), grants.System, in)
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return workflow.Actor{UserID: u.ID, Name: u.Name, Roles: u.Roles, GroupID: u.GroupID, Province: u.Province, Regency: u.Regency}
}

type mxFunded struct {
	id        int64
	treasurer workflow.Actor
	view      grants.View
	lines     map[string]workflow.BudgetLine
}

// draftGrant opens a grant for a new group and returns it with its treasurer.
func (f *mxFix) draftGrant(t *testing.T) *mxFunded {
	t.Helper()
	ctx := mxCtxOf(t)
	f.n++
	name := fmt.Sprintf("KKG MI Kecamatan Layanan %d", f.n)
	spec := workflow.Group{Kind: workflow.KKG, Name: name, Level: "MI", Province: "Jawa Barat", Regency: "Kota Bandung",
		SKNumber: fmt.Sprintf("B-%d/Kk.10.01/PP.00/2026", 700+f.n), BankName: "Bank Syariah Indonesia",
		BankAccountNumber: fmt.Sprintf("72%08d", 5000+f.n), BankAccountName: name}
	spec.Members = demo.Members(f.n, 15, "MIN 2 Kota Bandung")
	grp, err := f.svc.CreateGroup(ctx, grants.System, spec)
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	g := &mxFunded{treasurer: f.user(t, grants.NewUser{Roles: []workflow.Role{workflow.RoleTreasurer}, GroupID: grp.ID})}
	v, err := f.svc.OpenGrant(ctx, g.treasurer, f.prog.ID, grp.ID)
	if err != nil {
		t.Fatalf("OpenGrant: %v", err)
	}
	g.id = v.ID
	return g
}

// recommendedGrant takes a new draft through proposal, submission and
// review to recommended (10 725 000 requested and recommended).
func (f *mxFix) recommendedGrant(t *testing.T) *mxFunded {
	t.Helper()
	ctx := mxCtxOf(t)
	g := f.draftGrant(t)
	p := demo.Proposal(workflow.KKG, f.today.AddDays(5)) // total 10 725 000
	if _, err := f.svc.SaveProposal(ctx, g.treasurer, g.id, p); err != nil {
		t.Fatalf("SaveProposal: %v", err)
	}
	for _, s := range []struct {
		who    workflow.Actor
		action workflow.Action
		in     grants.ActInput
	}{
		{g.treasurer, workflow.Submit, grants.ActInput{}},
		{f.verifier, workflow.StartReview, grants.ActInput{}},
		{f.verifier, workflow.Recommend, grants.ActInput{Comment: "Lengkap.", ApprovedAmount: 10_725_000}},
	} {
		if _, err := f.svc.Act(ctx, s.who, g.id, s.action, s.in); err != nil {
			t.Fatalf("%s: %v", s.action, err)
		}
	}
	return g
}

// fundedGrant drives a new group's grant to funded (tranche 1 transferred 20
// days ago) through the service, the way people do.
func (f *mxFix) fundedGrant(t *testing.T) *mxFunded {
	t.Helper()
	ctx := mxCtxOf(t)
	g := f.recommendedGrant(t)
	if _, err := f.svc.Act(ctx, f.approver, g.id, workflow.Approve, grants.ActInput{Comment: "Disetujui."}); err != nil {
		t.Fatalf("approve: %v", err)
	}
	if _, err := f.svc.Disburse(ctx, f.finance, g.id, grants.DisbursementInput{Tranche: 1, Amount: 7_507_500,
		TransferredOn: f.today.AddDays(-20), Reference: fmt.Sprintf("TRF-%d", g.id)}); err != nil {
		t.Fatalf("Disburse: %v", err)
	}
	g.view = f.grant(t, g)
	g.lines = map[string]workflow.BudgetLine{}
	for _, b := range g.view.Budget {
		g.lines[b.Category] = b
	}
	return g
}

func (f *mxFix) grant(t *testing.T, g *mxFunded) grants.View {
	t.Helper()
	v, err := f.svc.Grant(mxCtxOf(t), grants.System, g.id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mxImg(seed int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 8, 6))
	for y := 0; y < 6; y++ {
		for x := 0; x < 8; x++ {
			img.Set(x, y, color.RGBA{uint8(seed*37 + x*20), uint8(seed*11 + y*30), uint8(seed >> 8), 255})
		}
	}
	return img
}

func mxPNGOf(t *testing.T, seed int) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, mxImg(seed)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mxJPEGOf(t *testing.T, seed int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, mxImg(seed), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mxPDFOf(note string) []byte {
	b, _ := evidencetest.PDF([]byte("% " + note + "\n"))
	return b
}

func (f *mxFix) ingest(t *testing.T, b []byte) *evidence.Object {
	t.Helper()
	obj, err := f.svc.Ingest(mxCtxOf(t), bytes.NewReader(b))
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	return &obj
}

func (f *mxFix) spend(t *testing.T, g *mxFunded, category string, amount int64, receipt *evidence.Object) (workflow.Expense, error) {
	return f.svc.RecordExpense(mxCtxOf(t), g.treasurer, g.id, grants.ExpenseInput{
		SpentOn: f.today.AddDays(-5), BudgetLineID: g.lines[category].ID,
		Vendor: "Toko Sumber Rejeki", Description: "Belanja " + category, Amount: amount}, receipt)
}

func mxCode(t *testing.T, what string, err error, code workflow.Code, field string) {
	t.Helper()
	if got := workflow.ErrorCode(err); got != code {
		t.Fatalf("%s: %v (code %q), want %q", what, err, got, code)
	}
	if field == "" {
		return
	}
	we, _ := err.(*workflow.Error)
	for _, d := range we.Details {
		if d.Field == field {
			return
		}
	}
	t.Fatalf("%s: %v does not name %q", what, err, field)
}

// ---------------------------------------------------------------------------
// 7. gc

func TestMoneyExtCollectGarbage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		store func(*testing.T) evidence.Store
	}{{"local", mxLocal}, {"s3", mxS3}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := mxCtxOf(t)
			f := mxNewFix(t, tc.store(t))
			g := f.fundedGrant(t)

			// Referenced: a PNG receipt (+ preview), a JPEG photo (+ preview), a PDF refund proof.
			receipt := f.ingest(t, mxPNGOf(t, 1))
			if _, err := f.spend(t, g, "konsumsi", 100_000, receipt); err != nil {
				t.Fatal(err)
			}
			photo := f.ingest(t, mxJPEGOf(t, 2))
			if _, err := f.svc.AddActivityEvidence(ctx, g.treasurer, g.id, g.view.Activities[0].ID, "photo", photo); err != nil {
				t.Fatal(err)
			}
			proof := f.ingest(t, mxPDFOf("bukti setor"))
			if _, err := f.svc.RecordRefund(ctx, g.treasurer, g.id, grants.RefundInput{Amount: 1000, PaidOn: f.today,
				NTPN: "0123456789ABCDEF"}, proof); err != nil {
				t.Fatal(err)
			}
			// Previews are made when first viewed (no background worker here).
			previews := map[string]string{}
			files, err := f.svc.DB().Files(ctx, g.id)
			if err != nil {
				t.Fatal(err)
			}
			for _, file := range files {
				if _, rc, err := f.svc.OpenEvidence(ctx, g.treasurer, file.ID, true); err == nil {
					rc.Close()
				}
			}
			if files, err = f.svc.DB().Files(ctx, g.id); err != nil {
				t.Fatal(err)
			}
			for _, file := range files {
				previews[file.SHA256] = file.PreviewSHA256
			}
			if previews[receipt.SHA256] == "" || previews[photo.SHA256] == "" || previews[proof.SHA256] != "" {
				t.Fatalf("previews: %v", previews)
			}
			kept := []string{receipt.SHA256, previews[receipt.SHA256], photo.SHA256, previews[photo.SHA256], proof.SHA256}

			// Orphans: stored straight into the store with no row, as an upload
			// whose request failed after the file was written leaves them.
			orphanPDF, err := evidence.Ingest(ctx, f.store, bytes.NewReader(mxPDFOf("yatim")), 0)
			if err != nil {
				t.Fatal(err)
			}
			orphanPNG, err := evidence.Ingest(ctx, f.store, bytes.NewReader(mxPNGOf(t, 3)), 0)
			if err != nil {
				t.Fatal(err)
			}
			orphans := []string{orphanPDF.SHA256, orphanPNG.SHA256, orphanPNG.Preview.SHA256}

			// Staging files of interrupted uploads: one stale, one fresh, one not ours.
			tmp := f.store.TempDir()
			stale, fresh, foreign := filepath.Join(tmp, "upload-stale"), filepath.Join(tmp, "upload-fresh"), filepath.Join(tmp, "bukan-milik-kita")
			for _, p := range []string{stale, fresh, foreign} {
				if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			old := time.Now().Add(-3 * time.Hour)
			for _, p := range []string{stale, foreign} {
				if err := os.Chtimes(p, old, old); err != nil {
					t.Fatal(err)
				}
			}

			exists := func(key string) bool {
				ok, err := f.store.Exists(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
			fileExists := func(p string) bool { _, err := os.Stat(p); return err == nil }

			// Within the grace nothing stored is swept: those rows may be about to commit.
			res, err := f.svc.CollectGarbage(ctx, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if res.Removed != 0 || res.Kept != len(kept)+len(orphans) || res.Temp != 1 {
				t.Fatalf("within the grace: %+v", res)
			}
			for _, k := range append(append([]string{}, kept...), orphans...) {
				if !exists(k) {
					t.Fatalf("%s swept within the grace", k)
				}
			}
			if fileExists(stale) || !fileExists(fresh) || !fileExists(foreign) {
				t.Fatalf("staging sweep: stale %v fresh %v foreign %v", fileExists(stale), fileExists(fresh), fileExists(foreign))
			}

			// Two hours later the orphans go, and only they.
			f.skew.Store(int64(2 * time.Hour))
			res, err = f.svc.CollectGarbage(ctx, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if res.Removed != len(orphans) || res.Kept != len(kept) {
				t.Fatalf("beyond the grace: %+v", res)
			}
			for _, k := range orphans {
				if exists(k) {
					t.Errorf("orphan %s kept", k)
				}
			}
			for _, k := range kept {
				if !exists(k) {
					t.Errorf("referenced %s removed", k)
				}
			}
			if !fileExists(foreign) {
				t.Error("a file that is not a staging file was removed")
			}
			// Every referenced file still opens through the service.
			es, err := f.svc.Expenses(ctx, grants.System, g.id)
			if err != nil || len(es) != 1 {
				t.Fatalf("expenses %v %v", es, err)
			}
			for _, preview := range []bool{false, true} {
				_, rc, err := f.svc.OpenEvidence(ctx, g.treasurer, es[0].ReceiptID, preview)
				if err != nil {
					t.Fatalf("open receipt (preview %v): %v", preview, err)
				}
				rc.Close()
			}
			// Again: nothing left to do.
			if res, err = f.svc.CollectGarbage(ctx, time.Hour); err != nil || res.Removed != 0 || res.Kept != len(kept) {
				t.Fatalf("second run: %+v %v", res, err)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Service rules

func TestMoneyExtServiceRules(t *testing.T) {
	t.Parallel()
	ctx := mxCtxOf(t)
	f := mxNewFix(t, mxLocal(t))
	g := f.fundedGrant(t)
	receipt := f.ingest(t, mxPNGOf(t, 9))

	t.Run("every problem at once", func(t *testing.T) {
		_, err := f.svc.RecordExpense(ctx, g.treasurer, g.id, grants.ExpenseInput{}, nil)
		for _, field := range []string{"spent_on", "budget_line_id", "vendor", "description", "amount", "receipt"} {
			mxCode(t, "empty form, amount 0", err, workflow.EUnprocessable, field)
		}
		_, err = f.svc.RecordExpense(ctx, g.treasurer, g.id, grants.ExpenseInput{SpentOn: f.today,
			BudgetLineID: g.lines["konsumsi"].ID, Vendor: "V", Description: "D", Amount: 1000,
			TaxPPN: math.MaxInt64, TaxPPh: math.MaxInt64}, receipt)
		mxCode(t, "taxes overflowing int64", err, workflow.EUnprocessable, "tax_pph")
		_, err = f.svc.RecordExpense(ctx, g.treasurer, g.id, grants.ExpenseInput{SpentOn: f.today,
			BudgetLineID: g.lines["konsumsi"].ID, Vendor: "Toko \xc3\x28", Description: "D", Amount: 1000}, receipt)
		mxCode(t, "invalid UTF-8", err, workflow.EUnprocessable, "vendor")
		_, err = f.svc.RecordRefund(ctx, g.treasurer, g.id, grants.RefundInput{NTPN: "x"}, nil)
		for _, field := range []string{"amount", "paid_on", "ntpn"} {
			mxCode(t, "empty refund", err, workflow.EUnprocessable, field)
		}
		_, err = f.svc.Disburse(ctx, f.finance, g.id, grants.DisbursementInput{Tranche: 2, Amount: 3_217_500,
			TransferredOn: f.today, Reference: "TRF\x00"})
		mxCode(t, "NUL reference", err, workflow.EUnprocessable, "reference")
		if es, _ := f.svc.Expenses(ctx, grants.System, g.id); len(es) != 0 {
			t.Fatalf("%d expenses recorded by refused calls", len(es))
		}
		if err := f.svc.CanUpload(ctx, g.treasurer, g.id, workflow.RoleTreasurer); err != nil {
			t.Fatalf("CanUpload treasurer: %v", err)
		}
		mxCode(t, "CanUpload finance", f.svc.CanUpload(ctx, f.finance, g.id, workflow.RoleTreasurer), workflow.EForbidden, "")
	})

	t.Run("concurrent expenses never exceed the money in hand", func(t *testing.T) {
		// 7 507 500 in hand; spend it down to 1 000 000.
		if _, err := f.spend(t, g, "konsumsi", 3_375_000, receipt); err != nil {
			t.Fatal(err)
		}
		if _, err := f.spend(t, g, "honorarium", 2_700_000, receipt); err != nil {
			t.Fatal(err)
		}
		if _, err := f.spend(t, g, "penggandaan", 432_500, receipt); err != nil {
			t.Fatal(err)
		}
		if v := f.grant(t, g); v.Balance != 1_000_000 {
			t.Fatalf("balance %d", v.Balance)
		}
		// 20 × 100 000 across two lines with room for all: the balance binds.
		const n, each = 20, 100_000
		objs := make([]*evidence.Object, n)
		for i := range objs {
			objs[i] = f.ingest(t, mxPNGOf(t, 200+i))
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			cat := []string{"transport", "atk_bahan"}[i%2]
			wg.Go(func() { _, errs[i] = f.spend(t, g, cat, each, objs[i]) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch workflow.ErrorCode(err) {
			case "":
				ok++
			case workflow.EUnprocessable:
				mxCode(t, "refused", err, workflow.EUnprocessable, "amount")
			default:
				t.Errorf("unexpected %v", err)
			}
		}
		v := f.grant(t, g)
		if ok != 10 || v.Balance != 0 || v.Spent != v.Disbursed {
			t.Fatalf("%d accepted; spent %d of %d, balance %d", ok, v.Spent, v.Disbursed, v.Balance)
		}
	})

	t.Run("second tranche and the approved total", func(t *testing.T) {
		in2 := grants.DisbursementInput{Tranche: 2, Amount: 3_217_500, TransferredOn: f.today, Reference: "TRF-2"}
		_, err := f.svc.Disburse(ctx, f.finance, g.id, in2)
		mxCode(t, "tranche 2 without an In session", err, workflow.EUnprocessable, "activities")
		// Realising activities has no service yet; mark the first In held
		// directly, as that future use case will.
		var inID int64
		for _, a := range g.view.Activities {
			if a.Kind == workflow.In {
				inID = a.ID
				break
			}
		}
		if _, err := f.db.SQL().ExecContext(ctx, `UPDATE activities SET status = 'held', held_on = $2 WHERE id = $1`, inID, f.today.AddDays(-3)); err != nil {
			t.Fatal(err)
		}
		bad := in2
		bad.Amount++
		_, err = f.svc.Disburse(ctx, f.finance, g.id, bad)
		mxCode(t, "tranche 2 above the approved total", err, workflow.EUnprocessable, "amount")
		_, err = f.svc.Disburse(ctx, f.approver, g.id, in2)
		mxCode(t, "approver", err, workflow.EForbidden, "")
		d, err := f.svc.Disburse(ctx, f.finance, g.id, in2)
		if err != nil {
			t.Fatalf("tranche 2: %v", err)
		}
		v := f.grant(t, g)
		if d.Amount != 3_217_500 || v.Disbursed != v.AmountApproved || v.TranchesPaid != 2 || v.State != workflow.Funded {
			t.Fatalf("after tranche 2: %+v / disbursed %d of %d", d, v.Disbursed, v.AmountApproved)
		}
		// Tranche 2 again is a double entry (409); tranche 3 does not exist (422).
		_, err = f.svc.Disburse(ctx, f.finance, g.id, grants.DisbursementInput{Tranche: 2, Amount: 1, TransferredOn: f.today, Reference: "TRF-X"})
		mxCode(t, "tranche 2 again", err, workflow.EConflict, "")
		_, err = f.svc.Disburse(ctx, f.finance, g.id, grants.DisbursementInput{Tranche: 3, Amount: 1, TransferredOn: f.today, Reference: "TRF-X"})
		mxCode(t, "tranche 3 after the last", err, workflow.EUnprocessable, "tranche")
		if v := f.grant(t, g); v.Disbursed != v.AmountApproved {
			t.Fatalf("disbursed %d of %d", v.Disbursed, v.AmountApproved)
		}
	})

	t.Run("concurrent refunds of the whole balance", func(t *testing.T) {
		bal := f.grant(t, g).Balance
		if bal != 3_217_500 {
			t.Fatalf("balance %d", bal)
		}
		const n = 5
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				_, errs[i] = f.svc.RecordRefund(ctx, g.treasurer, g.id, grants.RefundInput{Amount: bal,
					PaidOn: f.today, NTPN: fmt.Sprintf("NTPN%012d", i)}, nil)
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				mxCode(t, "second refund", err, workflow.EUnprocessable, "amount")
			}
		}
		if v := f.grant(t, g); ok != 1 || v.Refunded != bal || v.Balance != 0 {
			t.Fatalf("%d refunds accepted; refunded %d, balance %d", ok, v.Refunded, v.Balance)
		}
	})
}
