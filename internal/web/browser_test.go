package web

import (
	"bytes"
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

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"grantflow/internal/postgres/pgtest"
	"grantflow/money"
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
		// Thumbnails arrive after the page: shoot once every image is in.
		b.waitTrue("images of "+name, `Array.from(document.images).every(i => i.complete)`)
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

// TestBrowserJourney drives the whole journey through real pages in
// Chromium: the chair writes and submits a proposal, the verifier
// recommends (after one refused try), the approver approves, finance
// disburses through the disburse form, the verifier cancels one session,
// the treasurer records an expense with its receipt, realises the other
// sessions with photos, returns the balance and submits the LPJ, the
// auditor downloads the LPJ and accepts it, and the dashboard shows the
// group. Every main page is screenshot at two widths and checked with axe-core.
func TestBrowserJourney(t *testing.T) {
	t.Parallel()
	// accept_report renders the final LPJ inside its request: on a loaded
	// two-core machine that can pass the default 5 s deadline.
	h := newHarnessOn(t, pgtest.New(t), Options{RequestTimeout: 30 * time.Second})
	b := newBrowser(t, h.listen(t))

	b.open("/login")
	b.check("masuk")
	// A wrong password shows the message on the page, in Indonesian.
	b.do("wrong password",
		chromedp.SendKeys(chromedp.CSS("#email"), h.user("verifier").view.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), "salah-sekali-1\r"),
		chromedp.WaitVisible(chromedp.CSS("#galat-form")))
	b.contains("Email atau kata sandi salah")
	b.check("masuk-gagal")

	g := browserProposal(t, h, b)
	browserReview(t, h, b, g)
	browserDisburse(t, h, b, g)
	browserCancelSession(t, h, b, g)
	browserMoney(t, h, b, g)
	browserSessions(t, h, b, g)
	browserReport(t, h, b, g)
	browserAudit(t, h, b, g)
	browserMonitoring(t, h, b)
}

// browserProposal: the chair of group A writes a proposal in the editor,
// adding rows with "Tambah baris" (no script), and submits it.
func browserProposal(t *testing.T, h *harness, b *browser) grantView {
	t.Helper()
	g := h.grantIn(t, h.prog, h.groupA, workflow.Draft)
	b.login(h.user("chairA").view.Email)
	b.open(fmt.Sprintf("/hibah/%d", g.ID))
	b.do("open editor", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/hibah/%d/proposal"]`, g.ID))), chromedp.WaitVisible(chromedp.CSS("#background")))
	b.check("proposal-kosong")
	for i := 0; i < 3; i++ { // 2 blank rows + 3 = the 3 In + 2 On a KKG needs
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
	v := h.getGrant(t, "chairA", g.ID)
	if v.State != workflow.Submitted || v.AmountRequested != 3_000_000 || len(v.Activities) != 5 {
		t.Fatalf("after submit through the editor: %s %d %d", v.State, v.AmountRequested, len(v.Activities))
	}
	b.logout()
	return v
}

// browserReview: the verifier starts the review and recommends (after one
// refused try), the approver approves; finance, the auditor and the chair
// see the result on their home pages.
func browserReview(t *testing.T, h *harness, b *browser, g grantView) {
	t.Helper()
	grantLink := fmt.Sprintf(`a[href="/hibah/%d"]`, g.ID)
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
	b.logout()
}

// browserDisburse: finance opens the grant from the "to disburse" queue
// and records the first tranche through the form, which proposes the
// tranche and its exact amount; a post without the bank reference is
// refused beside that field first.
func browserDisburse(t *testing.T, h *harness, b *browser, g grantView) {
	t.Helper()
	prog := h.prog
	prog.ApplyDefaults()
	first := prog.TrancheAmounts(g.AmountRequested)[0]
	b.login(h.user("finance").view.Email)
	b.contains("Penyaluran dana", g.Number, "Salurkan dana")
	b.check("beranda-keuangan")
	b.do("open disburse form", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/hibah/%d#salurkan"]`, g.ID))), chromedp.WaitVisible(chromedp.CSS("#reference")))
	if v := b.value("#amount"); v != strings.TrimPrefix(money.Format(first), "Rp ") {
		t.Fatalf("prefilled amount %q, want the first tranche %d", v, first)
	}
	if v := b.value("#tranche"); v != "1" {
		t.Fatalf("prefilled tranche %q", v)
	}
	b.do("disburse without reference",
		chromedp.SetValue(chromedp.CSS("#transferred-on"), transferDay.String()),
		chromedp.Click(chromedp.CSS(`#salurkan button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#reference-galat")))
	b.check("hibah-salurkan-ditolak")
	b.do("disburse",
		chromedp.SendKeys(chromedp.CSS("#reference"), "BSI-UJI-0002"),
		chromedp.Click(chromedp.CSS(`#salurkan button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#status-hibah.lencana-funded")))
	b.contains("Penyaluran dana", money.Format(first))
	b.check("hibah-disalurkan")
	if v := h.getGrant(t, "finance", g.ID); v.State != workflow.Funded {
		t.Fatalf("after the disburse form: %s", v.State)
	}
	b.logout()
}

// browserCancelSession: the verifier cancels the second On session with a
// reason, after an empty reason is refused beside the field.
func browserCancelSession(t *testing.T, h *harness, b *browser, g grantView) {
	t.Helper()
	act := g.Activities[3]
	b.login(h.user("verifier").view.Email)
	b.open(fmt.Sprintf("/hibah/%d", g.ID))
	b.do("open session", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="%s"]`, activityPath(g.ID, act.ID)))), chromedp.WaitVisible(chromedp.CSS("#reason")))
	b.do("cancel without reason", chromedp.Click(chromedp.CSS(`form[action$="/batal"] button`)), chromedp.WaitVisible(chromedp.CSS("#reason-galat")))
	b.do("cancel",
		chromedp.SendKeys(chromedp.CSS("#reason"), "Bentrok dengan asesmen madrasah."),
		chromedp.Click(chromedp.CSS(`form[action$="/batal"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#status-kegiatan.lencana-k-cancelled")))
	b.contains("Dibatalkan verifikator: Bentrok dengan asesmen madrasah.")
	b.check("kegiatan-dibatalkan")
	b.logout()
}

// browserMoney: the treasurer records an expense with its receipt
// uploaded through the form (after the check step shows the taxes).
func browserMoney(t *testing.T, h *harness, b *browser, g grantView) {
	t.Helper()
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
		chromedp.SetValue(chromedp.CSS("#budget-line-id"), fmt.Sprint(g.Budget[0].ID)),
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
	b.logout()
}

// browserSessions: the treasurer realises every session not cancelled
// through the session page, each with a photo; the first after one
// refused try (nobody ticked present) and then corrected once.
func browserSessions(t *testing.T, h *harness, b *browser, g grantView) {
	t.Helper()
	b.login(h.user("treasurerA").view.Email)
	members := h.groupA.Members
	for n, i := range []int{0, 1, 2, 4} {
		act := g.Activities[i]
		photo := filepath.Join(t.TempDir(), fmt.Sprintf("foto-%d.png", i))
		if err := os.WriteFile(photo, receiptPNG(t, 20+i), 0o644); err != nil {
			t.Fatal(err)
		}
		b.open(fmt.Sprintf("/hibah/%d", g.ID))
		b.do("open session", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="%s"]`, activityPath(g.ID, act.ID)))),
			chromedp.WaitVisible(chromedp.CSS("#daftar-hadir")))
		if n == 0 {
			b.check("kegiatan")
		}
		b.do("fill session",
			chromedp.SetValue(chromedp.CSS("#held-on"), transferDay.String()),
			chromedp.SendKeys(chromedp.CSS("#location"), "MI Cibiru"),
			chromedp.SendKeys(chromedp.CSS("#hours"), "3"),
			chromedp.SendKeys(chromedp.CSS("#facilitator"), "Drs. Ahmad Fauzi"),
			chromedp.SendKeys(chromedp.CSS("#summary"), fmt.Sprintf("Sesi %d: praktik asesmen formatif.", i+1)),
			chromedp.SendKeys(chromedp.CSS("#outputs"), "Modul ajar kelas 4"))
		if n == 0 {
			// Nobody ticked: refused beside the list, every typed field kept.
			b.do("realise without attendance", chromedp.Click(chromedp.CSS(`form[action$="/pelaksanaan"] button`)),
				chromedp.WaitVisible(chromedp.CSS("#attendee-ids-galat")))
			if v := b.value("#location"); v != "MI Cibiru" {
				t.Fatalf("location after the refusal %q", v)
			}
			b.check("kegiatan-ditolak")
		}
		var ticks []chromedp.Action[chromedp.Void]
		for _, m := range members[:10] {
			ticks = append(ticks, chromedp.Click(chromedp.CSS(fmt.Sprintf("#hadir-%d", m.ID))))
		}
		b.do("tick attendance", ticks...)
		b.do("realise", chromedp.Click(chromedp.CSS(`form[action$="/pelaksanaan"] button`)), chromedp.WaitVisible(chromedp.CSS("#tersimpan")))
		b.contains("10 dari 16 (62 %)")
		b.do("upload photo",
			chromedp.SetValue(chromedp.CSS("#kind"), "photo"),
			chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{photo}),
			chromedp.Click(chromedp.CSS(`form[action$="/bukti"] button`)),
			chromedp.WaitVisible(chromedp.CSS(".galeri img")))
		// The thumbnail really arrives: the preview through the authorised handler.
		b.waitTrue("thumbnail loaded", `document.querySelector(".galeri img").complete && document.querySelector(".galeri img").naturalWidth > 0`)
		if n == 0 {
			// A correction: a new version, shown as such.
			b.do("correct", chromedp.Click(chromedp.CSS("#koreksi summary")), chromedp.WaitVisible(chromedp.CSS("#hours")),
				chromedp.Clear(chromedp.CSS("#hours")), chromedp.SendKeys(chromedp.CSS("#hours"), "4"),
				// #tersimpan is on the page already: wait for the second version instead.
				chromedp.Click(chromedp.CSS(`form[action$="/pelaksanaan"] button`)), chromedp.WaitVisible(chromedp.CSS("#versi li:nth-child(2)")))
			b.contains("dikoreksi, versi 2", "Versi 2 (koreksi)", "4 JP")
			b.check("kegiatan-terlaksana")
		}
	}
	v := h.getGrant(t, "treasurerA", g.ID)
	for i, a := range v.Activities {
		want := workflow.ActivityHeld
		if i == 3 {
			want = workflow.ActivityCancelled
		}
		if a.Status != want || (want == workflow.ActivityHeld && (a.AttendeeCount != 10 || a.EvidenceCount != 1)) {
			t.Fatalf("session %d after the pages: %s, %d present, %d files", i, a.Status, a.AttendeeCount, a.EvidenceCount)
		}
	}
	b.logout()
}

// browserReport: the treasurer returns the whole balance with its NTPN
// (the refund form proposes it), opens the meeting log and the
// notifications, and submits the LPJ.
func browserReport(t *testing.T, h *harness, b *browser, g grantView) {
	t.Helper()
	b.login(h.user("treasurerA").view.Email)
	b.open(fmt.Sprintf("/hibah/%d/setoran", g.ID))
	b.check("setoran")
	b.do("refund",
		chromedp.SetValue(chromedp.CSS("#paid-on"), transferDay.String()),
		chromedp.SendKeys(chromedp.CSS("#ntpn"), "0A1B2C3D4E5F6G7H"),
		chromedp.Submit(chromedp.CSS("#ntpn")),
		chromedp.WaitVisible(chromedp.CSS("#status-hibah")))
	b.contains("Setor sisa dana", "0A1B2C3D4E5F6G7H")
	if v := h.getGrant(t, "treasurerA", g.ID); v.Refunded != 1_000_000 || v.Spent != 1_100_000 {
		t.Fatalf("after the refund: spent %d refunded %d", v.Spent, v.Refunded)
	}
	b.open(fmt.Sprintf("/kelompok/%d/pertemuan", h.groupA.ID))
	b.check("pertemuan")
	b.open("/notifikasi")
	b.check("notifikasi")
	b.open(fmt.Sprintf("/hibah/%d", g.ID))
	b.do("submit LPJ", chromedp.Click(chromedp.CSS(`button[value="submit_report"]`)), chromedp.WaitVisible(chromedp.CSS("#status-hibah.lencana-report_submitted")))
	b.logout()
}

// download clicks the download link sel as a person does, waits for the
// browser to finish saving the file and returns its bytes.
func (b *browser) download(sel string) []byte {
	b.t.Helper()
	dir := b.t.TempDir()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	progress := chromedp.Events(ctx, cdpbrowser.DownloadProgress)
	events := true
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &events})
		return err
	}), chromedp.Click(chromedp.CSS(sel))); err != nil {
		b.t.Fatalf("download %s: %v", sel, err)
	}
	for ev, err := range progress {
		if err != nil {
			b.t.Fatalf("download %s: %v", sel, err)
		}
		switch ev.State {
		case cdpbrowser.DownloadProgressStateCompleted:
			body, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				b.t.Fatal(err)
			}
			return body
		case cdpbrowser.DownloadProgressStateCanceled:
			b.t.Fatalf("download %s cancelled", sel)
		}
	}
	b.t.Fatalf("download %s: no completion", sel)
	return nil
}

// waitTrue waits until the JavaScript expression js is true.
func (b *browser) waitTrue(what, js string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js)); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// value returns the current value of the form control sel.
func (b *browser) value(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("value of %s: %v", sel, err)
	}
	return s
}

// browserAudit: the auditor finds the LPJ in the queue with its red flag
// (the konsumsi expense names no session), downloads the LPJ and the
// dossier from the grant page, sees every piece of evidence, and accepts.
func browserAudit(t *testing.T, h *harness, b *browser, g grantView) {
	t.Helper()
	b.login(h.user("auditor").view.Email)
	b.contains("LPJ untuk diperiksa", g.Number)
	b.open("/lpj")
	b.contains(g.Number, "tanpa kegiatan")
	b.check("lpj")
	b.open(fmt.Sprintf("/hibah/%d", g.ID))
	b.contains("Tanda merah", "tanpa kegiatan", "Semua bukti", "Unduh LPJ (PDF)")
	b.check("hibah-audit")
	if pdf := b.download(`main a[href$="/report.pdf"]`); !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatalf("LPJ download is no PDF: %q", truncate(pdf))
	}
	if zip := b.download(`main a[href$="/dossier.zip"]`); !bytes.HasPrefix(zip, []byte("PK")) {
		t.Fatalf("dossier download is no ZIP: %q", truncate(zip))
	}
	b.do("accept",
		chromedp.SendKeys(chromedp.CSS("#comment"), "LPJ lengkap dan sesuai."),
		chromedp.Click(chromedp.CSS(`button[value="accept_report"]`)),
		chromedp.WaitVisible(chromedp.CSS("#status-hibah.lencana-closed")))
	b.contains("Kode verifikasi")
	b.check("hibah-selesai")
	if v := h.getGrant(t, "auditor", g.ID); v.State != workflow.Closed {
		t.Fatalf("after acceptance: %s", v.State)
	}
	b.logout()
}

// browserMonitoring: once the activity period is over and the scan has
// run, the dashboard shows the group.
func browserMonitoring(t *testing.T, h *harness, b *browser) {
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
}
