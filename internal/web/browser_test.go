package web

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"grantflow/internal/grants"
	"grantflow/workflow"
)

// axeSource is axe-core (MPL-2.0, testdata/axe/LICENSE), vendored from the
// npm registry so the browser tests need no network.
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// browser is one headless Chromium for a test, on a fresh profile.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string // screenshots
}

// newBrowser starts Debian's chromium against base. A missing chromium
// fails the test rather than skipping it: CI installs it (.ci/run).
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not found (apt-get install -y chromium): %v", err)
	}
	dir := os.Getenv("GRANTFLOW_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "grantflow-screenshots")
	}
	dir = filepath.Join(dir, t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s", dir)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{t: t, ctx: ctx, base: base, dir: dir}
}

// do runs steps with a deadline, failing the test on error.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	// 60 s: the suite shares two cores with other test binaries under -race.
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// text returns the text of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// open navigates to path and waits for the page's heading.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS("h1")))
}

// login signs in through the form, using the keyboard like a person.
func (b *browser) login(email string) {
	b.t.Helper()
	b.open("/login")
	b.do("login "+email,
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword+"\r"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/keluar"]`)),
	)
}

// focused returns the id (or, lacking one, the class) of the focused element.
func (b *browser) focused() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id || document.activeElement.className`))
	if err != nil {
		b.t.Fatalf("focused element: %v", err)
	}
	return s
}

// keyboardLogin signs in with the keyboard alone: the first Tab reaches
// the skip link, further Tabs the email field, then the password field,
// and Enter submits.
func (b *browser) keyboardLogin(email string) {
	b.t.Helper()
	b.open("/login")
	b.do("first tab", chromedp.KeyEvent("\t"))
	if f := b.focused(); f != "lewati" {
		b.t.Fatalf("first Tab focuses %q, want the skip link", f)
	}
	for i := 0; b.focused() != "email"; i++ {
		if i > 5 {
			b.t.Fatalf("Tab never reaches the email field (at %q)", b.focused())
		}
		b.do("tab", chromedp.KeyEvent("\t"))
	}
	b.do("type email", chromedp.KeyEvent(email+"\t"))
	if f := b.focused(); f != "password" {
		b.t.Fatalf("Tab after email focuses %q, want the password field", f)
	}
	b.do("type password", chromedp.KeyEvent(testPassword+"\r"), chromedp.WaitVisible(chromedp.CSS(`form[action="/keluar"]`)))
}

func (b *browser) logout() {
	b.t.Helper()
	b.do("logout", chromedp.Click(chromedp.CSS(`form[action="/keluar"] button`)), chromedp.WaitVisible(chromedp.CSS("#email")))
}

// contains fails unless the main content shows every snippet.
func (b *browser) contains(snippets ...string) {
	b.t.Helper()
	body := b.text("main")
	for _, s := range snippets {
		if !strings.Contains(body, s) {
			b.t.Fatalf("page lacks %q; it shows:\n%s", s, body)
		}
	}
}

// check screenshots the page at 360 and 1280 px and runs axe-core on it,
// failing on serious and critical violations.
func (b *browser) check(name string) {
	b.t.Helper()
	for _, w := range []int64{360, 1280} {
		b.do("viewport", chromedp.EmulateViewport(w, 800))
		ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			b.t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(b.dir, fmt.Sprintf("%s-%d.png", name, w)), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
		if w == 360 {
			// Nothing may stick out sideways on a phone: wide tables scroll
			// inside their own region.
			ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
			over, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
			cancel()
			if err != nil || over {
				b.t.Errorf("%s at 360 px scrolls sideways (err %v)", name, err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axeSource)); err != nil {
		b.t.Fatalf("inject axe: %v", err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe on %s: %v", name, err)
	}
	var vs []struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []struct {
			Target []any `json:"target"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		b.t.Fatalf("axe result: %v", err)
	}
	for _, v := range vs {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target...))
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Errorf("axe %s on %s: %s (%s) at %v", v.Impact, name, v.ID, v.Help, where)
		} else {
			b.t.Logf("axe %s on %s: %s at %v", v.Impact, name, v.ID, where)
		}
	}
}

// TestBrowserReview drives the review through real pages in Chromium: the
// verifier starts the review and recommends (after one refused try), the
// approver approves, finance and the chair see the result; every main
// page is screenshot at two widths and checked with axe-core.
func TestBrowserReview(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.grantIn(t, h.prog, h.groupA, workflow.Submitted)
	b := newBrowser(t, h.listen(t))
	grantLink := fmt.Sprintf(`a[href="/hibah/%d"]`, g.ID)

	b.open("/login")
	b.check("masuk")
	// A wrong password shows the message on the page, in Indonesian.
	b.do("wrong password",
		chromedp.SendKeys(chromedp.CSS("#email"), h.user("verifier").view.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), "salah-sekali-1\r"),
		chromedp.WaitVisible(chromedp.CSS("#galat-form")))
	b.contains("Email atau kata sandi salah")
	b.check("masuk-gagal")

	b.keyboardLogin(h.user("verifier").view.Email)
	b.contains("Antrean verifikasi", g.Number)
	b.check("beranda-verifikator")
	b.do("open grant", chromedp.Click(chromedp.CSS("main "+grantLink)), chromedp.WaitVisible(chromedp.CSS("#status-hibah")))
	b.contains("Hibah "+g.Number, "Rencana anggaran (RAB)", "Riwayat")
	b.check("hibah-diajukan")
	b.do("start review", chromedp.Click(chromedp.CSS(`button[value="start_review"]`)), chromedp.WaitVisible(chromedp.CSS(`button[value="recommend"]`)))
	if s := b.text("#status-hibah"); s != workflow.InReview.Label() {
		t.Fatalf("state after start_review: %q", s)
	}
	// Recommend without a comment: refused, the message beside the field.
	b.do("recommend without comment", chromedp.Click(chromedp.CSS(`button[value="recommend"]`)), chromedp.WaitVisible(chromedp.CSS("#comment-galat")))
	if s := b.text("#comment-galat"); !strings.Contains(s, "Catatan wajib diisi") {
		t.Fatalf("comment message %q", s)
	}
	b.check("hibah-rekomendasi-ditolak")
	b.do("recommend",
		chromedp.SendKeys(chromedp.CSS("#comment"), "Proposal lengkap dan sesuai juknis."),
		chromedp.Click(chromedp.CSS(`button[value="recommend"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#status-hibah.lencana-recommended`)))
	b.contains("Proposal lengkap dan sesuai juknis.")
	b.logout()

	b.login(h.user("approver").view.Email)
	b.contains("Menunggu persetujuan", g.Number)
	b.check("beranda-penyetuju")
	b.do("open grant", chromedp.Click(chromedp.CSS("main "+grantLink)), chromedp.WaitVisible(chromedp.CSS(`button[value="approve"]`)))
	b.do("approve",
		chromedp.SendKeys(chromedp.CSS("#comment"), "Disetujui."),
		chromedp.Click(chromedp.CSS(`button[value="approve"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#status-hibah.lencana-approved`)))
	b.contains(workflow.Approved.Label(), "Disetujui.")
	b.check("hibah-disetujui")
	b.logout()

	b.login(h.user("finance").view.Email)
	b.contains("Penyaluran dana", g.Number)
	b.check("beranda-keuangan")
	b.logout()

	b.login(h.user("auditor").view.Email)
	b.contains("LPJ untuk diperiksa", "Tidak ada LPJ yang menunggu pemeriksaan.")
	b.check("beranda-auditor")
	b.logout()

	b.login(h.user("chairA").view.Email)
	b.contains("Hibah kelompok Anda", g.Number, workflow.Approved.Label(), "Saldo")
	b.check("beranda-ketua")
	b.open("/hibah/999999")
	b.contains("Halaman tidak ditemukan")
	b.check("galat-404")

	if got := h.getGrant(t, "approver", g.ID).State; got != workflow.Approved {
		t.Fatalf("state in the database: %s", got)
	}
	b.logout()
	browserMoney(t, h, b, g)
	browserProposal(t, h, b)
	browserMonitoring(t, h, b, g)
}

// browserMoney continues the journey once finance has transferred the
// first tranche: the treasurer records an expense with its receipt
// uploaded through the form (after the check step shows the taxes), then
// returns part of the balance with its NTPN, and opens the meeting log.
func browserMoney(t *testing.T, h *harness, b *browser, g grants.View) {
	t.Helper()
	prog := h.prog
	prog.ApplyDefaults()
	if _, err := h.svc.Disburse(context.Background(), h.actor("finance"), g.ID, grants.DisbursementInput{
		Tranche: 1, Amount: prog.TrancheAmounts(g.AmountRequested)[0], TransferredOn: transferDay, Reference: "BSI-UJI-0002"}); err != nil {
		t.Fatalf("Disburse: %v", err)
	}
	view := h.getGrant(t, "treasurerA", g.ID)
	receipt := filepath.Join(t.TempDir(), "nota.png")
	if err := os.WriteFile(receipt, receiptPNG(t, 7), 0o644); err != nil {
		t.Fatal(err)
	}

	b.login(h.user("treasurerA").view.Email)
	b.open(fmt.Sprintf("/hibah/%d", g.ID))
	b.contains("Langkah berikutnya", "Catat belanja", "Setor sisa dana")
	b.check("hibah-didanai")
	b.do("open expense form", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/hibah/%d/belanja"]`, g.ID))), chromedp.WaitVisible(chromedp.CSS("#receipt")))
	b.check("belanja")
	b.do("fill expense",
		chromedp.SetValue(chromedp.CSS("#spent-on"), transferDay.String()),
		chromedp.SetValue(chromedp.CSS("#budget-line-id"), fmt.Sprint(view.Budget[0].ID)),
		chromedp.SendKeys(chromedp.CSS("#vendor"), "Warung Bu Siti"),
		chromedp.SendKeys(chromedp.CSS("#description"), "Konsumsi In-1"),
		chromedp.SendKeys(chromedp.CSS("#amount"), "1.100.000"),
		chromedp.SetUploadFiles(chromedp.CSS("#receipt"), []string{receipt}),
		chromedp.Click(chromedp.CSS(`button[value="check"]`)),
		chromedp.WaitVisible(chromedp.CSS("#pemeriksaan")))
	b.contains("PPN Rp 121.000", "tidak memerlukan meterai", "Nota sudah diunggah")
	b.check("belanja-periksa")
	b.do("save expense", chromedp.Click(chromedp.CSS(`button[value="save"]`)), chromedp.WaitVisible(chromedp.CSS(`form[action$="/batal"]`)))
	b.contains("Warung Bu Siti", "Rp 1.100.000")
	es, err := h.svc.Expenses(context.Background(), h.actor("treasurerA"), g.ID)
	if err != nil || len(es) != 1 || es[0].Amount != 1_100_000 || es[0].TaxPPN != 121_000 || es[0].ReceiptID == 0 {
		t.Fatalf("expense recorded through the browser: %+v %v", es, err)
	}

	b.open(fmt.Sprintf("/hibah/%d/setoran", g.ID))
	b.check("setoran")
	b.do("refund",
		chromedp.Clear(chromedp.CSS("#amount")),
		chromedp.SendKeys(chromedp.CSS("#amount"), "500.000"),
		chromedp.SetValue(chromedp.CSS("#paid-on"), transferDay.String()),
		chromedp.SendKeys(chromedp.CSS("#ntpn"), "0A1B2C3D4E5F6G7H"),
		chromedp.Submit(chromedp.CSS("#ntpn")),
		chromedp.WaitVisible(chromedp.CSS("#status-hibah")))
	b.contains("Setor sisa dana", "0A1B2C3D4E5F6G7H")
	if v := h.getGrant(t, "treasurerA", g.ID); v.Refunded != 500_000 || v.Spent != 1_100_000 {
		t.Fatalf("after the refund: spent %d refunded %d", v.Spent, v.Refunded)
	}
	b.open(fmt.Sprintf("/kelompok/%d/pertemuan", h.groupA.ID))
	b.check("pertemuan")
	b.open("/notifikasi")
	b.check("notifikasi")
	b.logout()
}

// browserProposal: the chair of group B writes a proposal in the editor,
// adding rows with "Tambah baris" (no script), and submits it.
func browserProposal(t *testing.T, h *harness, b *browser) {
	t.Helper()
	g := h.grantIn(t, h.prog, h.groupB, workflow.Draft)
	b.login(h.user("chairB").view.Email)
	b.open(fmt.Sprintf("/hibah/%d", g.ID))
	b.do("open editor", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/hibah/%d/proposal"]`, g.ID))), chromedp.WaitVisible(chromedp.CSS("#background")))
	b.check("proposal-kosong")
	for i := 0; i < 3; i++ { // 2 blank rows + 3 = the 3 In + 2 On an MGMP needs
		b.do("add activity row", chromedp.Click(chromedp.CSS(`button[value="add_activity"]`)),
			chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf("#activities-%d-title", 2+i))))
	}
	b.do("texts",
		chromedp.SendKeys(chromedp.CSS("#background"), "Guru matematika perlu asesmen formatif."),
		chromedp.SendKeys(chromedp.CSS("#objectives"), "Modul ajar dipraktikkan di kelas."),
		chromedp.SendKeys(chromedp.CSS("#sustainability-plan"), "Pertemuan bulanan bergilir."))
	kinds := []string{"in", "on", "in", "on", "in"}
	for i, k := range kinds {
		p := fmt.Sprintf("#activities-%d-", i)
		b.do("activity row",
			chromedp.SetValue(chromedp.CSS(p+"kind"), k),
			chromedp.SendKeys(chromedp.CSS(p+"title"), fmt.Sprintf("Sesi %d", i+1)),
			chromedp.SetValue(chromedp.CSS(p+"planned-on"), proposalStart.AddDays(14*i).String()),
			chromedp.SendKeys(chromedp.CSS(p+"planned-participants"), "15"))
	}
	b.do("budget row",
		chromedp.SetValue(chromedp.CSS("#budget-0-category"), "konsumsi"),
		chromedp.SendKeys(chromedp.CSS("#budget-0-description"), "Konsumsi peserta"),
		chromedp.SendKeys(chromedp.CSS("#budget-0-quantity"), "75"),
		chromedp.SendKeys(chromedp.CSS("#budget-0-unit"), "orang-kali"),
		chromedp.SendKeys(chromedp.CSS("#budget-0-unit-price"), "40.000"),
		chromedp.Click(chromedp.CSS(`button[value="calc"]`)),
		// Typing sets no value attribute: this matches only the page the server re-rendered.
		chromedp.WaitVisible(chromedp.CSS(`#budget-0-description[value="Konsumsi peserta"]`)))
	if s := b.text("#total-rab"); s != "Rp 3.000.000" {
		t.Fatalf("server total %q", s)
	}
	b.check("proposal-terisi")
	b.do("submit", chromedp.Click(chromedp.CSS(`button[value="submit"]`)), chromedp.WaitVisible(chromedp.CSS("#status-hibah.lencana-submitted")))
	if v := h.getGrant(t, "chairB", g.ID); v.State != workflow.Submitted || v.AmountRequested != 3_000_000 || len(v.Activities) != 5 {
		t.Fatalf("after submit through the editor: %s %d %d", v.State, v.AmountRequested, len(v.Activities))
	}
	b.logout()
}

// browserMonitoring: once the activity period is over and the scan has
// run, the dashboard shows the funded group, and the auditor's queue its grant.
func browserMonitoring(t *testing.T, h *harness, b *browser, g grants.View) {
	t.Helper()
	// 40 days after the period: a month on, so the cohort has its first checkpoint.
	if _, err := h.srv.mon.Scan(context.Background(), h.prog.ActivityEndsOn.AddDays(40)); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	b.login(h.user("verifier").view.Email)
	b.open("/pemantauan")
	b.contains("Per provinsi", "Jawa Barat", h.groupA.Name, "Bertahan setelah hibah berakhir")
	if s := b.text("#tabel-kohort tbody tr"); !strings.Contains(s, "1 dari 1 (100 %)") {
		t.Fatalf("cohort table row %q", s)
	}
	b.do("chart drawn", chromedp.WaitVisible(chromedp.CSS("figure.grafik svg polyline")))
	b.check("pemantauan")
	b.do("filter", chromedp.SetValue(chromedp.CSS("#f-kind"), "MGMP"), chromedp.Submit(chromedp.CSS("#f-kind")),
		chromedp.WaitVisible(chromedp.CSS("#tidak-cocok"))) // only on the filtered answer
	b.contains("Tidak ada kelompok yang cocok.")
	b.logout()
	b.login(h.user("auditor").view.Email)
	b.open("/lpj")
	b.contains(g.Number)
	b.check("lpj")
	b.logout()
}
