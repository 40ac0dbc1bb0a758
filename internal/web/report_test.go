package web

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"grantflow/internal/evidence"
	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

// reportWorld is a harness whose service has an evidence store and a
// public URL, with group A's grant driven to report_submitted or closed.
type reportWorld struct {
	*harness
	store   evidence.Store
	dataDir string
	grant   grants.View
}

const reportPublicURL = "https://hibah.example.id"

func newReportWorld(t *testing.T) *reportWorld {
	t.Helper()
	db := pgtest.New(t)
	h := newHarnessOn(t, db, Options{})
	dir := t.TempDir()
	st, err := evidence.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	h.svc = grants.New(db, grants.Options{Now: func() time.Time { return fixedNow }, Store: st, PublicURL: reportPublicURL + "/"})
	// accept_report renders and validates the LPJ inside its request: under
	// -race on a loaded 2-core machine that can pass the default 5 s.
	h.srv = New(h.svc, Options{RequestTimeout: 30 * time.Second})
	return &reportWorld{harness: h, store: st, dataDir: dir}
}

func reportJPEG(t *testing.T, seed int) []byte {
	return evidencetest.JPEG(t, seed, 64, 48)
}

// submitted takes group A's grant through funding, one held In session
// with a photo, the other sessions cancelled by the verifier, one expense
// of Rp 1.000.000 with its receipt and the rest refunded, to
// report_submitted. Sessions have no service yet (#7): they are recorded
// through workflow and postgres exactly as activities_test does.
func (w *reportWorld) submitted(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	v := w.grantIn(t, w.prog, w.groupA, workflow.Approved)
	id := v.ID
	tranche := v.AmountApproved * 70 / 100
	if _, err := w.svc.Disburse(ctx, w.actor("finance"), id, grants.DisbursementInput{Tranche: 1, Amount: tranche,
		TransferredOn: workflow.MustDate("2026-03-02"), Reference: "BSI-LPJ-1"}); err != nil {
		t.Fatalf("Disburse: %v", err)
	}
	chair, treasurer, verifier := w.actor("chairA"), w.actor("treasurerA"), w.actor("verifier")
	g, err := w.db.Grant(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	first := g.Activities[0]
	err = w.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, err := tx.GrantForUpdate(ctx, id)
		if err != nil {
			return err
		}
		grp, err := tx.Group(ctx, g.GroupID)
		if err != nil {
			return err
		}
		ds, err := tx.Disbursements(ctx, id)
		if err != nil {
			return err
		}
		r := workflow.Realization{HeldOn: workflow.MustDate("2026-03-05"), Location: "MIN 1 Kota Bandung", Hours: 8,
			Facilitator: "Dra. Siti Aminah, M.Pd.", AttendeeIDs: []int64{grp.Members[0].ID, grp.Members[1].ID, grp.Members[2].ID},
			Summary: "Lokakarya modul ajar.", Outputs: "Dua belas modul ajar berdiferensiasi"}
		rz, ev, err := workflow.Realize(&g, workflow.RealizeRequest{Actor: chair, Now: fixedNow, ActivityID: first.ID, Realization: r,
			Program: w.prog, FirstTransfer: workflow.FirstTransfer(ds), Members: grp.Members})
		if err != nil {
			return err
		}
		if ev, err = tx.AppendEvent(ctx, ev); err != nil {
			return err
		}
		rz.EventID = ev.ID
		if _, err = tx.InsertRealization(ctx, rz); err != nil {
			return err
		}
		for _, a := range g.Activities[1:] {
			ev, err := workflow.CancelActivity(&g, workflow.CancelActivityRequest{Actor: verifier, Now: fixedNow, ActivityID: a.ID,
				Reason: "Dialihkan ke program daerah."})
			if err != nil {
				return err
			}
			if ev, err = tx.AppendEvent(ctx, ev); err != nil {
				return err
			}
			if _, err := tx.InsertCancellation(ctx, postgres.Cancellation{ActivityID: a.ID, GrantID: id, Reason: ev.Comment,
				CancelledBy: verifier.UserID, EventID: ev.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("sessions: %v", err)
	}
	photo, err := w.svc.Ingest(ctx, bytes.NewReader(reportJPEG(t, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.AddActivityEvidence(ctx, chair, id, first.ID, "photo", &photo); err != nil {
		t.Fatalf("AddActivityEvidence: %v", err)
	}
	receipt, err := w.svc.Ingest(ctx, bytes.NewReader(reportJPEG(t, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.RecordExpense(ctx, treasurer, id, grants.ExpenseInput{SpentOn: workflow.MustDate("2026-03-06"),
		BudgetLineID: g.Budget[0].ID, ActivityID: first.ID, Vendor: "Warung Bu Siti", Description: "Konsumsi In-1",
		Amount: 1_000_000}, &receipt); err != nil {
		t.Fatalf("RecordExpense: %v", err)
	}
	if _, err := w.svc.RecordRefund(ctx, treasurer, id, grants.RefundInput{Amount: tranche - 1_000_000,
		PaidOn: workflow.MustDate("2026-03-09"), NTPN: "0A1B2C3D4E5F6G7H"}, nil); err != nil {
		t.Fatalf("RecordRefund: %v", err)
	}
	if w.grant, err = w.svc.Act(ctx, treasurer, id, workflow.SubmitReport, grants.ActInput{}); err != nil {
		t.Fatalf("submit_report: %v", err)
	}
}

// closed is submitted and then accepted by the auditor through the API.
func (w *reportWorld) closed(t *testing.T) {
	t.Helper()
	w.submitted(t)
	r := w.act("auditor", w.grant.ID, workflow.AcceptReport, map[string]any{"comment": "LPJ lengkap."})
	expect(t, r, 200, "accept_report")
	r.decode(t, &w.grant)
	if w.grant.Report == nil || len(w.grant.Report.Code) != 16 || len(w.grant.Report.SHA256) != 64 {
		t.Fatalf("accept_report answered report %+v, want a 16-character code and a SHA-256", w.grant.Report)
	}
}

func (w *reportWorld) get(t *testing.T, who, path string) result {
	t.Helper()
	tok := ""
	if who != "" {
		tok = w.token(who)
	}
	return w.do("GET", path, tok, nil)
}

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "lpj.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// The draft LPJ of a real grant, read back from the database: its numbers,
// names and watermark; Content-Disposition through mime.FormatMediaType.
func TestReportDraftFromDatabase(t *testing.T) {
	t.Parallel()
	w := newReportWorld(t)
	w.submitted(t)
	r := w.get(t, "chairA", fmt.Sprintf("/api/v1/grants/%d/report.pdf", w.grant.ID))
	expect(t, r, 200, "draft report.pdf")
	if cd := r.header.Get("Content-Disposition"); cd != "attachment; filename="+reportFileNameOf(w.grant.Number, true) {
		t.Errorf("Content-Disposition = %q", cd)
	}
	if r.header.Get("X-Report-Draft") != "true" || !bytes.HasPrefix(r.body, []byte("%PDF-")) {
		t.Fatalf("not a draft PDF: %q %q", r.header.Get("X-Report-Draft"), truncate(r.body))
	}
	text := pdfText(t, r.body)
	tranche := w.grant.AmountApproved * 70 / 100
	for _, want := range []string{"DRAF", w.grant.Number, "KKG MI Kecamatan Cibiru", "Kota Bandung", "Warung Bu Siti",
		"Rp 1.000.000", rupiah(tranche), rupiah(tranche - 1_000_000), "0A1B2C3D4E5F6G7H", "Aminah",
		"Dialihkan ke program daerah.", "kegiatan-1/foto-01.jpg", "belanja/0001-nota.jpg", "Halaman 1 dari", "satu juta rupiah"} {
		if !strings.Contains(text, want) {
			t.Errorf("the LPJ text lacks %q", want)
		}
	}
	// Out of scope answers 404 like a missing grant.
	expect(t, w.get(t, "chairB", fmt.Sprintf("/api/v1/grants/%d/report.pdf", w.grant.ID)), 404, "report.pdf of another group")
}

// A voided expense in the LPJ: the void is dated (the Jakarta day it was
// voided, from the database, as GET /ledger dates it) and its taxes are not
// the grant's taxes. The void's date was left unset in the report's rows,
// so the PDF printed "DIBATALKAN -" and a ledger that began with the void,
// before any money arrived.
func TestReportVoidedExpense(t *testing.T) {
	t.Parallel()
	w := newReportWorld(t)
	ctx := context.Background()
	v := w.grantIn(t, w.prog, w.groupA, workflow.Approved)
	w.fundFirst(t, w.prog, v)
	record := func(desc string, amount, pph int64) workflow.Expense {
		t.Helper()
		var e workflow.Expense
		r := w.expense(t, "treasurerA", v.ID, v.Budget[0].ID, 0, "2026-03-06", desc, amount, pph)
		expect(t, r, 201, desc)
		r.decode(t, &e)
		return e
	}
	wrong := record("Konsumsi salah catat", 500_000, 8_325)
	record("Konsumsi In-1", 1_000_000, 15_000)
	treasurer := w.actor("treasurerA")
	if _, err := w.svc.VoidExpense(ctx, treasurer, v.ID, wrong.ID, "salah catat"); err != nil {
		t.Fatalf("VoidExpense: %v", err)
	}
	es, err := w.svc.Expenses(ctx, treasurer, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	var on workflow.Date
	for _, e := range es {
		if e.ID == wrong.ID {
			on = e.VoidedOn
		}
	}
	if on.IsZero() {
		t.Fatal("the voided expense has no void day")
	}
	r := w.get(t, "treasurerA", fmt.Sprintf("/api/v1/grants/%d/report.pdf", v.ID))
	expect(t, r, 200, "draft report.pdf")
	// Cells wrap over lines: compare with every run of spaces as one.
	text := strings.Join(strings.Fields(pdfText(t, r.body)), " ")
	day := on.Time()
	months := []string{"Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"}
	// Cells wrap beside their neighbours: a neighbouring cell's words may
	// come between the lines of one.
	void := regexp.MustCompile(fmt.Sprintf(`DIBATALKAN %d (?:\S+ ){0,3}%s (?:\S+ ){0,3}%d: salah catat`, day.Day(), months[day.Month()-1], day.Year()))
	if !void.MatchString(text) {
		t.Errorf("the LPJ lacks the void dated %s", on)
	}
	if strings.Contains(text, "DIBATALKAN -") {
		t.Error("a void without its date")
	}
	// Taxes: the standing expense's PPh 15 000 only, not the voided one's 8 325.
	if !strings.Contains(text, "Pajak dipungut : Rp 15.000 (") || !strings.Contains(text, "Pajak disetor : Rp 15.000 (") {
		t.Error("the LPJ's taxes are not those of the standing expense (Rp 15.000)")
	}
}

func reportFileNameOf(number string, draft bool) string {
	if draft {
		return "LPJ-" + number + "-DRAF.pdf"
	}
	return "LPJ-" + number + ".pdf"
}

// rupiah formats like the report: Rp 7.507.500.
func rupiah(v int64) string {
	s := fmt.Sprint(v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	return "Rp " + b.String()
}

// Once closed, every download is the frozen file: the same bytes with the
// recorded SHA-256, though the rows it was made from change afterwards.
func TestReportFrozenAfterClosing(t *testing.T) {
	t.Parallel()
	w := newReportWorld(t)
	w.closed(t)
	path := fmt.Sprintf("/api/v1/grants/%d/report.pdf", w.grant.ID)
	first := w.get(t, "auditor", path)
	expect(t, first, 200, "frozen report.pdf")
	if got := sum(first.body); got != w.grant.Report.SHA256 || first.header.Get("X-Report-SHA256") != got {
		t.Fatalf("served sha256 %s, recorded %s", got, w.grant.Report.SHA256)
	}
	text := pdfText(t, first.body)
	if strings.Contains(text, "DRAF ") || !strings.Contains(text, w.grant.Report.Code) || !strings.Contains(text, reportPublicURL+"/verify/"+w.grant.Report.Code) {
		t.Errorf("the frozen LPJ should carry no DRAF mark and its code and link:\n%s", text[:min(len(text), 600)])
	}
	if g := w.getGrant(t, "chairA", w.grant.ID); g.State != workflow.Closed {
		t.Fatalf("state %s", g.State)
	}
	// The rows change behind the service's back.
	if _, err := w.db.SQL().Exec(`UPDATE groups SET name = 'Nama Yang Diubah' WHERE id = $1`, w.groupA.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.SQL().Exec(`UPDATE grants SET background = 'diubah' WHERE id = $1`, w.grant.ID); err != nil {
		t.Fatal(err)
	}
	// gc keeps the frozen file: grant_reports points to it. The service
	// clock stands in March 2026, before the files' real modification
	// times, so a negative grace makes every file old enough to sweep.
	if _, err := w.svc.CollectGarbage(context.Background(), -400*24*time.Hour); err != nil {
		t.Fatalf("CollectGarbage: %v", err)
	}
	again := w.get(t, "chairA", path)
	expect(t, again, 200, "frozen report.pdf after the rows changed")
	if !bytes.Equal(first.body, again.body) {
		t.Fatal("the frozen report changed with the rows")
	}
	var v struct {
		Report *grants.ReportRef `json:"report"`
	}
	w.get(t, "chairA", fmt.Sprintf("/api/v1/grants/%d", w.grant.ID)).decode(t, &v)
	if v.Report == nil || *v.Report != *w.grant.Report {
		t.Errorf("GET grant report = %+v, want %+v", v.Report, w.grant.Report)
	}
}

type verifyAnswer struct {
	Number        string `json:"number"`
	State         string `json:"state"`
	ReportSHA256  string `json:"report_sha256"`
	ReportMatches bool   `json:"report_matches"`
	ChainValid    bool   `json:"chain_valid"`
	Group         struct {
		Name string `json:"name"`
	} `json:"group"`
	Totals struct {
		Spent    int64 `json:"spent"`
		Refunded int64 `json:"refunded"`
	} `json:"totals"`
}

// Verification without a login; a replaced stored file and a chain broken
// behind disabled triggers are both reported; unknown codes are 404.
func TestReportVerification(t *testing.T) {
	t.Parallel()
	w := newReportWorld(t)
	w.closed(t)
	code := w.grant.Report.Code
	verify := func(what string) verifyAnswer {
		t.Helper()
		r := w.get(t, "", "/api/v1/verify/"+code)
		expect(t, r, 200, what)
		var v verifyAnswer
		r.decode(t, &v)
		return v
	}
	v := verify("verify")
	if v.Number != w.grant.Number || v.State != "closed" || v.ReportSHA256 != w.grant.Report.SHA256 || !v.ReportMatches || !v.ChainValid ||
		v.Group.Name != "KKG MI Kecamatan Cibiru" || v.Totals.Spent != 1_000_000 || v.Totals.Refunded != w.grant.Refunded {
		t.Fatalf("verify = %+v", v)
	}
	page := w.do("GET", "/verify/"+code, "", nil)
	expect(t, page, 200, "verify page")
	if !strings.Contains(string(page.body), "Sah: berkas laporan dan rantai peristiwa utuh") || !strings.Contains(string(page.body), w.grant.Report.SHA256) {
		t.Errorf("verify page: %s", truncate(page.body))
	}
	for _, bad := range []string{"AAAAAAAAAAAAAAAA", "x", strings.ToLower(code)} {
		expect(t, w.get(t, "", "/api/v1/verify/"+bad), 404, "unknown code "+bad)
	}

	// Replace the stored file with other bytes under the same name.
	blob := findBlob(t, w.dataDir, w.grant.Report.SHA256)
	if err := os.Chmod(blob, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blob, []byte("%PDF-1.4 palsu"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v := verify("verify after the file was replaced"); v.ReportMatches || !v.ChainValid {
		t.Errorf("replaced file: report_matches %v chain_valid %v, want false true", v.ReportMatches, v.ChainValid)
	}
	// The download refuses the altered bytes rather than serve them under
	// the recorded hash.
	r := w.get(t, "auditor", fmt.Sprintf("/api/v1/grants/%d/report.pdf", w.grant.ID))
	if r.status != 500 || bytes.Contains(r.body, []byte("palsu")) || r.header.Get("X-Report-SHA256") != "" {
		t.Errorf("replaced file downloaded: %d %q %q", r.status, r.header.Get("X-Report-SHA256"), truncate(r.body))
	}
	// So does the dossier, whose manifest would otherwise vouch for them.
	if r := w.get(t, "auditor", fmt.Sprintf("/api/v1/grants/%d/dossier.zip", w.grant.ID)); r.status != 500 {
		t.Errorf("dossier with the replaced LPJ: %d", r.status)
	}
	// Change an event's comment with the append-only trigger disabled.
	pgtest.TamperEvents(t, w.db.SQL(), `UPDATE grant_events SET comment = 'diubah' WHERE grant_id = $1 AND seq = 2`, w.grant.ID)
	if v := verify("verify after the chain was broken"); v.ChainValid {
		t.Error("broken chain: chain_valid true")
	}
}

func findBlob(t *testing.T, dir, key string) string {
	t.Helper()
	var found string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && info.Name() == key {
			found = p
		}
		return nil
	})
	if found == "" {
		t.Fatalf("blob %s not under %s", key, dir)
	}
	return found
}

// The public verification answers 429 past its per-address limit.
func TestReportVerifyRateLimit(t *testing.T) {
	t.Parallel()
	w := newReportWorld(t)
	for i := 0; i < verifyLimit; i++ {
		expect(t, w.get(t, "", "/api/v1/verify/AAAAAAAAAAAAAAAA"), 404, "unknown code within the limit")
	}
	r := w.get(t, "", "/api/v1/verify/AAAAAAAAAAAAAAAA")
	expect(t, r, 429, "verification past the limit")
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if p := w.do("GET", "/verify/AAAAAAAAAAAAAAAA", "", nil); p.status != 429 || !strings.Contains(string(p.body), "Terlalu banyak permintaan") {
		t.Errorf("verify page past the limit: %d %s", p.status, truncate(p.body))
	}
}

// The dossier unzipped: every file under its readable name, the manifest
// checked against the content, staff only.
func TestReportDossier(t *testing.T) {
	t.Parallel()
	w := newReportWorld(t)
	w.closed(t)
	path := fmt.Sprintf("/api/v1/grants/%d/dossier.zip", w.grant.ID)
	expect(t, w.get(t, "chairA", path), 403, "dossier for the chair")
	r := w.get(t, "auditor", path)
	expect(t, r, 200, "dossier")
	if ct := r.header.Get("Content-Type"); ct != "application/zip" {
		t.Errorf("Content-Type %q", ct)
	}
	zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if err != nil {
		t.Fatalf("unzip: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		files[f.Name] = b
	}
	lpj := reportFileNameOf(w.grant.Number, false)
	for _, name := range []string{lpj, "kegiatan-1/foto-01.jpg", "belanja/0001-nota.jpg", "bku.csv", "bku.xlsx", "peristiwa.jsonl", "MANIFEST.sha256"} {
		if _, ok := files[name]; !ok {
			t.Errorf("dossier lacks %s (has %d files)", name, len(files))
		}
	}
	if sum(files[lpj]) != w.grant.Report.SHA256 {
		t.Error("the dossier's LPJ is not the frozen file")
	}
	lines := strings.Split(strings.TrimSpace(string(files["MANIFEST.sha256"])), "\n")
	if len(lines) != len(files)-1 {
		t.Errorf("manifest lists %d files, the dossier holds %d besides it", len(lines), len(files)-1)
	}
	for _, l := range lines {
		h, name, ok := strings.Cut(l, "  ")
		if !ok || sum(files[name]) != h {
			t.Errorf("manifest line %q does not match the content", l)
		}
	}
	events := strings.Count(string(files["peristiwa.jsonl"]), "\n")
	var all struct {
		Total int `json:"total"`
	}
	w.get(t, "auditor", fmt.Sprintf("/api/v1/grants/%d/events", w.grant.ID)).decode(t, &all)
	if events != all.Total || events == 0 {
		t.Errorf("peristiwa.jsonl has %d lines, the grant %d events", events, all.Total)
	}
}

// The activities and attendance exports parsed back.
func TestReportActivitiesExport(t *testing.T) {
	t.Parallel()
	w := newReportWorld(t)
	w.submitted(t)
	base := fmt.Sprintf("/api/v1/grants/%d/activities", w.grant.ID)
	r := w.get(t, "chairA", base+"?format=csv")
	expect(t, r, 200, "activities csv")
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatalf("parse csv: %v", err)
	}
	if len(rows) != 1+len(w.grant.Activities) || rows[1][2] != w.grant.Activities[0].Title || rows[1][8] != "Dra. Siti Aminah, M.Pd." || rows[1][9] != "3" {
		t.Fatalf("activities csv: %q", rows)
	}
	r = w.get(t, "chairA", base+"?format=csv&part=attendance")
	expect(t, r, 200, "attendance csv")
	rows, err = csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatalf("parse csv: %v", err)
	}
	present := 0
	for _, row := range rows[1:] {
		if row[7] == "Ya" {
			present++
		}
	}
	if len(rows) != 1+len(w.groupA.Members) || present != 3 {
		t.Errorf("attendance csv: %d rows, %d present", len(rows), present)
	}
	r = w.get(t, "auditor", base+"?format=xlsx")
	expect(t, r, 200, "activities xlsx")
	x, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("open xlsx: %v", err)
	}
	defer x.Close()
	sheet, err := x.GetRows("Kegiatan")
	if err != nil || len(sheet) != 1+len(w.grant.Activities) {
		t.Errorf("Kegiatan sheet: %d rows, %v", len(sheet), err)
	}
	if att, err := x.GetRows("Kehadiran"); err != nil || len(att) != 1+len(w.groupA.Members) {
		t.Errorf("Kehadiran sheet: %d rows, %v", len(att), err)
	}
	expect(t, w.get(t, "chairA", base+"?format=pdf"), 400, "unknown format")
	expect(t, w.get(t, "chairB", base+"?format=csv"), 404, "another group's export")
}
