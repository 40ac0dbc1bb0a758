package web

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"grantflow/internal/grants"
	"grantflow/money"
	"grantflow/workflow"
)

// transferDay is the first transfer and the spending day of the funded
// grants these tests make: the service clock's own day (fixedNow).
var transferDay = workflow.DateOf(fixedNow.In(workflow.Jakarta))

// fundedGrantFor drives a grant of group A to funded: approved through
// the service as the real people would, then the first tranche recorded
// by finance.
func (h *harness) fundedGrantFor(t testing.TB) grants.View {
	t.Helper()
	g := h.grantIn(t, h.prog, h.groupA, workflow.Approved)
	prog := h.prog
	prog.ApplyDefaults()
	amt := prog.TrancheAmounts(g.AmountApproved)[0]
	if _, err := h.svc.Disburse(context.Background(), h.actor("finance"), g.ID, grants.DisbursementInput{
		Tranche: 1, Amount: amt, TransferredOn: transferDay, Reference: "BSI-UJI-0001"}); err != nil {
		t.Fatalf("Disburse: %v", err)
	}
	v, err := h.svc.Grant(context.Background(), h.actor("treasurerA"), g.ID)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// receiptPNG is a small real PNG, different for each seed (so no two
// receipts are flagged as the same file).
func receiptPNG(t testing.TB, seed int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 12, 9))
	for y := range 9 {
		for x := range 12 {
			img.Set(x, y, color.RGBA{uint8(seed*41 + x*19), uint8(seed*13 + y*29), uint8(seed), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// postMultipart sends the expense form as a browser does: the fields in
// order (the CSRF token first unless fields sets _csrf), then the file.
func (p *pageClient) postMultipart(path string, fields url.Values, order []string, file []byte, fileName string) result {
	p.t.Helper()
	return p.postFile(path, fields, order, receiptField, file, fileName)
}

// postFile is postMultipart with the file in the part named fileField.
func (p *pageClient) postFile(path string, fields url.Values, order []string, fileField string, file []byte, fileName string) result {
	p.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if _, ok := fields[csrfField]; !ok {
		_ = w.WriteField(csrfField, p.csrf)
	}
	for _, k := range order {
		for _, v := range fields[k] {
			_ = w.WriteField(k, v)
		}
	}
	if fileName != "" {
		fw, err := w.CreateFormFile(fileField, fileName)
		if err != nil {
			p.t.Fatal(err)
		}
		_, _ = fw.Write(file)
	}
	_ = w.Close()
	req := request("POST", path, "", b.Bytes())
	req.Header.Set("Content-Type", w.FormDataContentType())
	return p.send(req)
}

// TestPageProposalEditor: the chair adds rows without a script, sees the
// server's total against the ceiling and the caps, gets every refused
// field back with its message beside it, then saves and submits.
func TestPageProposalEditor(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.grantIn(t, h.prog, h.groupA, workflow.Draft)
	p := h.client(t)
	p.login("chairA")
	path := fmt.Sprintf("/hibah/%d/proposal", g.ID)

	r := p.get(path)
	want(t, r, 200, "Proposal "+g.Number, `name="activities[0].title"`, `name="budget[1].unit_price"`, "Pagu KKG", "Rp 15.000.000", "Tambah baris anggaran")

	// Without the CSRF token nothing is stored.
	bad := p.post(path, url.Values{"_csrf": {"palsu"}, "op": {"save"}, "background": {"Latar"}})
	want(t, bad, http.StatusForbidden, "Formulir kedaluwarsa")
	if v := h.getGrant(t, "chairA", g.ID); v.AmountRequested != 0 {
		t.Fatalf("a forged post changed the proposal: %+v", v)
	}

	// "Tambah baris" gives one more blank budget row and keeps what was typed.
	form := url.Values{"n_activities": {"2"}, "n_budget": {"2"}, "background": {"Guru perlu asesmen formatif."},
		"budget[0].category": {"honorarium"}, "budget[0].description": {"Narasumber"}, "budget[0].quantity": {"2"},
		"budget[0].unit": {"OJ"}, "budget[0].unit_price": {"600.000"}, "op": {"add_budget"}}
	add := p.post(path, form)
	want(t, add, 200, `name="budget[3].unit_price"`, "Guru perlu asesmen formatif.", `value="600.000"`, "Rp 1.200.000",
		"Honorarium narasumber: Rp 1.200.000 dari batas 30 %", "melebihi batas")

	// A price that is not a number and a line without a unit: 422, each
	// message beside its field, every typed value kept, nothing stored.
	form.Set("op", "save")
	form.Set("budget[0].unit", "")
	form.Set("budget[1].category", "konsumsi")
	form.Set("budget[1].description", "Konsumsi")
	form.Set("budget[1].quantity", "40")
	form.Set("budget[1].unit", "orang")
	form.Set("budget[1].unit_price", "empat puluh ribu")
	bad = p.post(path, form)
	want(t, bad, http.StatusUnprocessableEntity, `id="budget-1-unit-price-galat"`, `value="empat puluh ribu"`, "Guru perlu asesmen formatif.")
	form.Set("budget[1].unit_price", "40000")
	bad = p.post(path, form)
	want(t, bad, http.StatusUnprocessableEntity, `id="budget-0-unit-galat">`, `value="Narasumber"`)
	if v := h.getGrant(t, "chairA", g.ID); v.AmountRequested != 0 {
		t.Fatalf("a refused save stored the proposal: %d", v.AmountRequested)
	}

	// Save: 303 back to the editor, the total stored as the budget adds up.
	form.Set("budget[0].unit", "OJ")
	ok := p.post(path, form)
	want(t, ok, http.StatusSeeOther)
	if v := h.getGrant(t, "chairA", g.ID); v.AmountRequested != 1_200_000+1_600_000 || v.State != workflow.Draft {
		t.Fatalf("after save: %d %s", v.AmountRequested, v.State)
	}
	// Submitting this incomplete proposal is refused with the guard's reasons, shown on the page.
	form.Set("op", "submit")
	sub := p.post(path, form)
	want(t, sub, http.StatusUnprocessableEntity, "Proposal sudah disimpan, tetapi belum dapat diajukan.", `id="objectives-galat">Tujuan wajib diisi`)
	if v := h.getGrant(t, "chairA", g.ID); v.State != workflow.Draft {
		t.Fatalf("a refused submit moved the grant to %s", v.State)
	}

	// A verifier (not of the group) may not save.
	q := h.client(t)
	q.login("verifier")
	want(t, q.get(fmt.Sprintf("/hibah/%d", g.ID)), 200)
	res := q.post(path, url.Values{"op": {"save"}, "n_activities": {"0"}, "n_budget": {"0"}})
	want(t, res, http.StatusForbidden)
}

// TestPageExpenseForm: the treasurer's expense form refuses with the
// messages beside the fields and keeps what was typed, also after a
// refused upload; the check step shows the suggested taxes and the
// meterai warning; the stored receipt is kept across the re-render; a
// post without the CSRF token records nothing; void needs a reason.
func TestPageExpenseForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.fundedGrantFor(t)
	p := h.client(t)
	p.login("treasurerA")
	path := fmt.Sprintf("/hibah/%d/belanja", g.ID)
	want(t, p.get(path), 200, `capture="environment"`, `accept="image/*,application/pdf"`, `enctype="multipart/form-data"`)
	order := []string{"spent_on", "budget_line_id", "activity_id", "vendor", "description", "amount", "tax_ppn", "tax_pph", "op"}
	line := g.Budget[0]
	fields := url.Values{"spent_on": {transferDay.String()}, "budget_line_id": {fmt.Sprint(line.ID)}, "vendor": {""},
		"description": {"Konsumsi In-1"}, "amount": {"5.500.000"}, "op": {"save"}}

	// A file that is not a picture nor a PDF: 415 beside the file input, the text kept.
	r := p.postMultipart(path, fields, order, []byte("bukan gambar"), "nota.txt")
	want(t, r, http.StatusUnsupportedMediaType, `id="receipt-galat"`, `value="Konsumsi In-1"`, `value="5.500.000"`)

	// No vendor and no receipt: 422 beside both fields.
	r = p.postMultipart(path, fields, order, nil, "")
	want(t, r, http.StatusUnprocessableEntity, `id="vendor-galat">`, `id="receipt-galat">`, `value="Konsumsi In-1"`)

	// Without the CSRF token: 403 and nothing recorded.
	forged := url.Values{csrfField: {"palsu"}}
	for k, v := range fields {
		forged[k] = v
	}
	forged.Set("vendor", "Warung Bu Siti")
	r = p.postMultipart(path, forged, order, receiptPNG(t, 1), "nota.png")
	want(t, r, http.StatusForbidden, "Formulir kedaluwarsa")
	if es, _ := h.svc.Expenses(context.Background(), h.actor("treasurerA"), g.ID); len(es) != 0 {
		t.Fatalf("a forged post recorded %d expenses", len(es))
	}

	// The check step: the taxes from the programme's rates (11 % PPN,
	// 1,5 % PPh 22) and the meterai warning, nothing saved, the receipt kept.
	p.get(path)
	fields.Set("vendor", "Warung Bu Siti")
	fields.Set("op", "check")
	r = p.postMultipart(path, fields, order, receiptPNG(t, 2), "nota.png")
	want(t, r, 200, `id="peringatan-meterai"`, "PPN Rp 605.000", "PPh 22 Rp 82.500", `value="605.000"`, `id="nota-tersimpan"`, `name="receipt_token"`)
	if es, _ := h.svc.Expenses(context.Background(), h.actor("treasurerA"), g.ID); len(es) != 0 {
		t.Fatal("the check step recorded an expense")
	}
	tok := string(bytes.SplitN(bytes.SplitN(r.body, []byte(`name="receipt_token" value="`), 2)[1], []byte(`"`), 2)[0])

	// Saving more than the budget line holds is refused with the numbers,
	// the receipt still kept; with the amount corrected and the receipt
	// already uploaded: 303, recorded.
	fields.Set("op", "save")
	fields.Set("receipt_token", tok)
	order = append(order, "receipt_token")
	r = p.postMultipart(path, fields, order, nil, "")
	want(t, r, http.StatusUnprocessableEntity, `id="amount-galat">Melebihi pagu baris anggaran`, "sisa Rp 3.375.000", `id="nota-tersimpan"`)
	fields.Set("amount", "3.000.000")
	fields.Set("tax_ppn", "330.000")
	fields.Set("tax_pph", "45.000")
	r = p.postMultipart(path, fields, order, nil, " ") // an input left empty still sends its (empty) part
	want(t, r, http.StatusSeeOther)
	es, err := h.svc.Expenses(context.Background(), h.actor("treasurerA"), g.ID)
	if err != nil || len(es) != 1 || es[0].Amount != 3_000_000 || es[0].TaxPPN != 330_000 || es[0].ReceiptID == 0 {
		t.Fatalf("expenses %+v %v", es, err)
	}
	// A token from another session is refused as no receipt at all.
	q := h.client(t)
	q.login("treasurerA")
	q.get(path)
	r = q.postMultipart(path, fields, order, nil, "")
	want(t, r, http.StatusUnprocessableEntity, `id="receipt-galat">`)

	// Void: an empty reason is refused beside the field; with one, 303.
	voidPath := fmt.Sprintf("/hibah/%d/belanja/%d/batal", g.ID, es[0].ID)
	p.get(path)
	v := p.post(voidPath, url.Values{"reason": {"  "}})
	want(t, v, http.StatusUnprocessableEntity, fmt.Sprintf(`id="void-%d-reason-galat">`, es[0].ID), "Alasan pembatalan wajib diisi")
	want(t, p.post(voidPath, url.Values{"_csrf": {"palsu"}, "reason": {"Salah input."}}), http.StatusForbidden)
	want(t, p.post(voidPath, url.Values{"reason": {"Salah input."}}), http.StatusSeeOther)
	if es, _ := h.svc.Expenses(context.Background(), h.actor("treasurerA"), g.ID); !es[0].Voided() || es[0].VoidReason != "Salah input." {
		t.Fatalf("not voided: %+v", es[0])
	}
}

// TestPageRefundForm: a wrong NTPN and more than the balance are refused
// beside their fields with the typed values kept; CSRF is checked; a
// valid refund answers 303 and lowers the balance.
func TestPageRefundForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.fundedGrantFor(t)
	p := h.client(t)
	p.login("treasurerA")
	path := fmt.Sprintf("/hibah/%d/setoran", g.ID)
	want(t, p.get(path), 200, "Setor sisa dana "+g.Number, `name="ntpn"`, strings.TrimPrefix(money.Format(g.Balance), "Rp "))

	r := p.post(path, url.Values{"amount": {"1.000"}, "paid_on": {transferDay.String()}, "ntpn": {"SALAH"}})
	want(t, r, http.StatusUnprocessableEntity, `id="ntpn-galat">`, `value="SALAH"`, `value="1.000"`)
	r = p.post(path, url.Values{"amount": {"dua juta"}, "paid_on": {"kemarin"}, "ntpn": {"0A1B2C3D4E5F6G7H"}})
	want(t, r, http.StatusUnprocessableEntity, `id="amount-galat">`, `id="paid-on-galat">`, `value="0A1B2C3D4E5F6G7H"`)
	want(t, p.post(path, url.Values{"_csrf": {""}, "amount": {"1000"}, "paid_on": {transferDay.String()}, "ntpn": {"0A1B2C3D4E5F6G7H"}}), http.StatusForbidden)
	want(t, p.post(path, url.Values{"amount": {"1.000"}, "paid_on": {transferDay.String()}, "ntpn": {"0A1B2C3D4E5F6G7H"}}), http.StatusSeeOther)
	if v := h.getGrant(t, "treasurerA", g.ID); v.Refunded != 1000 {
		t.Fatalf("refunded %d", v.Refunded)
	}
}

// TestPageMeetingsAndNotifications: the meeting form refuses an empty
// topic beside its field; a logged meeting is listed; the header shows the
// unread count on every page; the staff pages render for staff.
func TestPageMeetingsAndNotifications(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.client(t)
	p.login("chairA")
	path := fmt.Sprintf("/kelompok/%d/pertemuan", h.groupA.ID)
	want(t, p.get(path), 200, "Riwayat pertemuan", `name="topic"`)
	today := h.srv.today().String()
	r := p.post(path, url.Values{"held_on": {today}, "topic": {""}, "attendees_count": {"12"}, "notes": {"Catatan rapat"}})
	want(t, r, http.StatusUnprocessableEntity, `id="topic-galat">`, `value="12"`, "Catatan rapat")
	want(t, p.post(path, url.Values{"_csrf": {"x"}, "held_on": {today}, "topic": {"Rapat"}, "attendees_count": {"12"}}), http.StatusForbidden)
	want(t, p.post(path, url.Values{"held_on": {today}, "topic": {"Rapat rutin bulanan"}, "attendees_count": {"12"}}), http.StatusSeeOther)
	want(t, p.get(path), 200, "Rapat rutin bulanan", "12 hadir")

	// A reminder (the LPJ falls due: the scan tells chair and treasurer)
	// shows in the header of any page; marking it read clears the count.
	ctx := context.Background()
	h.fundedGrantFor(t)
	if _, err := h.srv.mon.Scan(ctx, h.prog.ReportDueOn.AddDays(-3)); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	home := p.get("/")
	want(t, home, 200, `aria-label="1 belum dibaca">1</span>`)
	list := p.get("/notifikasi")
	want(t, list, 200, "LPJ", "Tandai sudah dibaca")
	ns, err := h.srv.mon.Notifications(ctx, h.actor("chairA"))
	if err != nil || len(ns) != 1 {
		t.Fatalf("notifications %v %v", ns, err)
	}
	want(t, p.post(fmt.Sprintf("/notifikasi/%d/baca", ns[0].ID), url.Values{"_csrf": {"x"}}), http.StatusForbidden)
	want(t, p.post(fmt.Sprintf("/notifikasi/%d/baca", ns[0].ID), url.Values{}), http.StatusSeeOther)
	want(t, p.get("/"), 200, `aria-label="0 belum dibaca">0</span>`)

	// The chair has no dashboard; staff do, and the auditor has a queue.
	want(t, p.get("/pemantauan"), http.StatusForbidden)
	s := h.client(t)
	s.login("verifier")
	want(t, s.get("/pemantauan?status=tidak-ada"), http.StatusUnprocessableEntity, "galat-form")
	want(t, s.get("/pemantauan"), 200, "Per provinsi", "Unduh CSV")
	csv := s.get("/pemantauan/ekspor?format=csv")
	if csv.status != 200 || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", csv.status, csv.header.Get("Content-Type"))
	}
	a := h.client(t)
	a.login("auditor")
	want(t, a.get("/lpj"), 200, "LPJ untuk diperiksa")
}

// TestPageAdmin: programmes (defaults shown; bad dates refused beside the
// field), groups (regions from the official list; members one per line;
// member problems named by line) and users (roles ticked, password never
// sent back); every post checks CSRF and only admins get in.
func TestPageAdmin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.client(t)
	p.login("admin")

	want(t, p.get("/admin/program"), 200, "Pengaturan bawaan juknis", "KKG Rp 15.000.000", "3 In + 2 On", "70 % / 30 %", "Honorarium narasumber (≤ 30 %)", "PPN 11 %")
	prog := url.Values{"name": {"Bantuan KKG 2027"}, "year": {"dua ribu"}, "proposal_opens_on": {"2027-02-01"}, "proposal_closes_on": {"31/03/2027"},
		"activity_ends_on": {"2027-10-31"}, "report_due_on": {"2027-11-30"}, "budget_total": {"1.000.000.000"}}
	r := p.post("/admin/program", prog)
	want(t, r, http.StatusUnprocessableEntity, `id="year-galat">`, `id="proposal-closes-on-galat">`, `value="Bantuan KKG 2027"`, `value="1.000.000.000"`)
	want(t, p.post("/admin/program", url.Values{"_csrf": {"x"}, "name": {"X"}}), http.StatusForbidden)
	prog.Set("year", "2027")
	prog.Set("proposal_closes_on", "2027-03-31")
	want(t, p.post("/admin/program", prog), http.StatusSeeOther)
	want(t, p.get("/admin/program"), 200, "Bantuan KKG 2027", "Rp 1.000.000.000")

	page := p.get("/admin/kelompok")
	want(t, page, 200, `<optgroup label="Jawa Barat">`, "<option>Kota Bandung</option>", h.groupA.Name)
	var members strings.Builder
	for i := range 16 {
		pos := "anggota"
		switch i {
		case 0:
			pos = "ketua"
		case 1:
			pos = "bendahara"
		}
		fmt.Fprintf(&members, "Guru %d; 19800101200501%04d; MIN 2 Kota Cimahi; %s\n", i+1, 2000+i, pos)
	}
	grp := url.Values{"kind": {"KKG"}, "name": {"KKG MI Kota Cimahi"}, "level": {"MI"}, "province": {"Jawa Barat"}, "regency": {"Kota Cimahi"},
		"sk_number": {"B-77/Kk.10.02/2026"}, "bank_name": {"Bank Syariah Indonesia"}, "bank_account_number": {"7000111222"},
		"bank_account_name": {"KKG MI Kota Cimahi"}, "members": {"Guru Satu; 123; MIN 2; ketua\n"}}
	r = p.post("/admin/kelompok", grp)
	want(t, r, http.StatusUnprocessableEntity, `id="members-galat">`, "Guru Satu; 123; MIN 2; ketua", `<option selected>Kota Cimahi</option>`)
	want(t, p.post("/admin/kelompok", url.Values{"_csrf": {""}}), http.StatusForbidden)
	grp.Set("members", members.String())
	r = p.post("/admin/kelompok", grp)
	if r.status != http.StatusSeeOther {
		t.Fatalf("register group: %d %s", r.status, truncate(r.body))
	}
	want(t, p.get("/admin/kelompok"), 200, "KKG MI Kota Cimahi")

	want(t, p.get("/admin/pengguna"), 200, `name="role_verifier"`, "Kota Bandung")
	usr := url.Values{"email": {"verif.cimahi@uji.grantflow.id"}, "name": {"Verifikator Cimahi"}, "password": {"pendek"},
		"role_verifier": {"1"}, "province": {"Jawa Barat"}, "regency": {"Kota Cimahi"}}
	r = p.post("/admin/pengguna", usr)
	want(t, r, http.StatusUnprocessableEntity, `id="password-galat">`, `value="verif.cimahi@uji.grantflow.id"`, `id="role-verifier" name="role_verifier" value="1" checked`)
	if strings.Contains(string(r.body), `value="pendek"`) {
		t.Fatal("the password was sent back to the page")
	}
	want(t, p.post("/admin/pengguna", url.Values{"_csrf": {"x"}}), http.StatusForbidden)
	usr.Set("password", "kata-sandi-panjang-1")
	want(t, p.post("/admin/pengguna", usr), http.StatusSeeOther)
	q := h.client(t)
	q.login("verifier")
	want(t, q.get("/admin/pengguna"), http.StatusForbidden)
	want(t, q.post("/admin/pengguna", usr), http.StatusForbidden)
}
