package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"grantflow/internal/grants"
	"grantflow/money"
	"grantflow/workflow"
)

// activityOf reads activity aid of grant id as the API lists it.
func (h *harness) activityOf(t testing.TB, id, aid int64) grants.ActivityView {
	t.Helper()
	list, err := h.svc.Activities(context.Background(), h.actor("verifier"), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range list.Items {
		if v.ID == aid {
			return v
		}
	}
	t.Fatalf("activity %d not on grant %d", aid, id)
	return grants.ActivityView{}
}

// expireSessions ends every session of the named person, as the idle or
// absolute expiry would.
func (h *harness) expireSessions(t testing.TB, who string) {
	t.Helper()
	if _, err := h.db.SQL().ExecContext(context.Background(), `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`, h.user(who).view.ID); err != nil {
		t.Fatal(err)
	}
}

// wantLogin fails unless r sends the browser to the login page.
func wantLogin(t testing.TB, r result) {
	t.Helper()
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Fatalf("want 303 to /login, got %d %q", r.status, r.header.Get("Location"))
	}
}

// TestPageActivityRealize: the treasurer realises a session through the
// page: every refused field comes back beside its field with what was
// typed kept, a forged or expired post records nothing, and a repeat is
// shown as a correction (version 2).
func TestPageActivityRealize(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.fundedGrantFor(t)
	act := g.Activities[0]
	p := h.client(t)
	p.login("treasurerA")
	path := activityPath(g.ID, act.ID)
	want(t, p.get(fmt.Sprintf("/hibah/%d", g.ID)), 200, fmt.Sprintf(`href="%s"`, path))
	members := h.groupA.Members
	want(t, p.get(path), 200, `name="attendee_ids"`, members[0].Name, "(Ketua)", `capture="environment"`, `accept="image/*,application/pdf"`,
		"Catat pelaksanaan", `id="held-on" name="held_on" type="date"`)
	post := func(held, hours string, attendees ...int64) result {
		f := url.Values{"held_on": {held}, "location": {"MI Cibiru"}, "hours": {hours}, "facilitator": {"Drs. Ahmad"},
			"summary": {"Praktik asesmen formatif."}, "outputs": {"Modul ajar"}}
		for _, a := range attendees {
			f.Add("attendee_ids", fmt.Sprint(a))
		}
		return p.post(path+"/pelaksanaan", f)
	}

	// Nothing chosen, too many hours: each reason beside its field, typed values kept.
	r := post(transferDay.String(), "13")
	want(t, r, http.StatusUnprocessableEntity, `id="hours-galat">Jumlah JP harus 1 sampai 12`, `id="attendee-ids-galat">Daftar hadir wajib diisi`,
		`value="MI Cibiru"`, `value="Drs. Ahmad"`, "Praktik asesmen formatif.", `value="13"`)
	// A date that is no date, hours that are no number: the form's own messages.
	r = post("31/02/2026", "dua", members[0].ID)
	want(t, r, http.StatusUnprocessableEntity, `id="held-on-galat">Tanggal tidak valid`, `id="hours-galat">Harus berupa bilangan bulat`,
		fmt.Sprintf(`id="hadir-%d" name="attendee_ids" value="%d" checked`, members[0].ID, members[0].ID))
	// A person not of the group, a day still to come: the service's rules.
	r = post(transferDay.AddDays(1).String(), "3", members[0].ID, 999999)
	want(t, r, http.StatusUnprocessableEntity, `id="attendee-ids-galat">`, "bukan anggota kelompok ini", `id="held-on-galat">`, "belum terjadi")

	// A forged token: 403 and nothing recorded.
	want(t, p.post(path+"/pelaksanaan", url.Values{"_csrf": {"palsu"}, "held_on": {transferDay.String()}, "hours": {"3"},
		"attendee_ids": {fmt.Sprint(members[0].ID)}}), http.StatusForbidden, "Formulir kedaluwarsa")
	if v := h.activityOf(t, g.ID, act.ID); v.Status != workflow.ActivityPlanned {
		t.Fatalf("refused posts realised the session: %s", v.Status)
	}

	p.get(path)
	r = post(transferDay.String(), "3", members[0].ID, members[1].ID, members[2].ID)
	want(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != path+"?tersimpan=pelaksanaan" {
		t.Fatalf("redirect %q", loc)
	}
	want(t, p.get(r.header.Get("Location")), 200, "Pelaksanaan kegiatan tersimpan.", `id="kehadiran">3 dari 16 (18 %)`, "Koreksi pelaksanaan",
		"Koreksi disimpan sebagai versi 2", "Versi 1 (pencatatan awal)")

	// The correction: a new version, shown as such on both pages.
	r = post(transferDay.String(), "4", members[0].ID, members[1].ID)
	want(t, r, http.StatusSeeOther)
	want(t, p.get(path), 200, "dikoreksi, versi 2", "Versi 2 (koreksi)", "Versi 1 (pencatatan awal)", "4 JP", `id="kehadiran">2 dari 16 (12 %)`)
	want(t, p.get(fmt.Sprintf("/hibah/%d", g.ID)), 200, "dikoreksi", "Kehadiran anggota", members[0].Name+`</td><td data-label="Hadir" class="uang">1 dari 1 sesi (100 %)`,
		members[2].Name+`</td><td data-label="Hadir" class="uang">0 dari 1 sesi (0 %)`)
	if v := h.activityOf(t, g.ID, act.ID); v.Realization == nil || v.Realization.Version != 2 || v.Realization.Hours != 4 || v.Attendance.Present != 2 {
		t.Fatalf("after the correction: %+v", v.Realization)
	}

	// An expired session: back to the login page, nothing recorded.
	h.expireSessions(t, "treasurerA")
	wantLogin(t, post(transferDay.String(), "6", members[0].ID))
	if v := h.activityOf(t, g.ID, act.ID); v.Realization.Version != 2 {
		t.Fatalf("an expired session recorded version %d", v.Realization.Version)
	}
}

// TestPageActivityEvidence: a photo uploaded through the page shows as a
// thumbnail served, through the authorised handler, as the EXIF-free
// preview; a refused file keeps the chosen kind; CSRF and expiry hold.
func TestPageActivityEvidence(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.fundedGrantFor(t)
	act := g.Activities[1]
	p := h.client(t)
	p.login("chairA")
	path := activityPath(g.ID, act.ID)
	p.get(path)
	order := []string{"kind"}

	r := p.postFile(path+"/bukti", url.Values{"kind": {"attendance"}}, order, evidenceField, []byte("bukan gambar"), "hadir.txt")
	want(t, r, http.StatusUnsupportedMediaType, `id="file-galat">`, `<option value="attendance" selected>`)
	r = p.postFile(path+"/bukti", url.Values{"kind": {"selfie"}}, order, evidenceField, receiptPNG(t, 3), "foto.png")
	want(t, r, http.StatusUnprocessableEntity, `id="kind-galat">Jenis bukti harus salah satu dari`)
	r = p.postFile(path+"/bukti", url.Values{"kind": {"photo"}}, order, evidenceField, nil, "")
	want(t, r, http.StatusUnprocessableEntity, `id="file-galat">Berkas (JPEG, PNG atau PDF) wajib diunggah`)
	r = p.postFile(path+"/bukti", url.Values{csrfField: {"palsu"}, "kind": {"photo"}}, order, evidenceField, receiptPNG(t, 4), "foto.png")
	want(t, r, http.StatusForbidden, "Formulir kedaluwarsa")
	if v := h.activityOf(t, g.ID, act.ID); len(v.Evidence) != 0 {
		t.Fatalf("refused uploads stored %d files", len(v.Evidence))
	}

	p.get(path)
	r = p.postFile(path+"/bukti", url.Values{"kind": {"photo"}}, order, evidenceField, receiptPNG(t, 5), "foto.png")
	want(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != path+"?tersimpan=bukti#bukti" {
		t.Fatalf("redirect %q", loc)
	}
	v := h.activityOf(t, g.ID, act.ID)
	if len(v.Evidence) != 1 || v.Evidence[0].Kind != "photo" {
		t.Fatalf("evidence %+v", v.Evidence)
	}
	f := v.Evidence[0]
	thumb := fmt.Sprintf("/evidence/%d?preview=1", f.ID)
	want(t, p.get(path+"?tersimpan=bukti"), 200, "Bukti kegiatan tersimpan.", fmt.Sprintf(`src="%s"`, thumb), `alt="Foto kegiatan 1"`)
	want(t, p.get(fmt.Sprintf("/hibah/%d", g.ID)), 200, fmt.Sprintf(`src="%s"`, thumb), "Semua bukti")
	img := p.get(thumb)
	want(t, img, 200)
	if ct := img.header.Get("Content-Type"); !strings.HasPrefix(ct, "image/") {
		t.Fatalf("preview content type %q", ct)
	}
	// Another group's chair sees neither the page nor the file.
	q := h.client(t)
	q.login("chairB")
	want(t, q.get(path), http.StatusNotFound)
	want(t, q.get(thumb), http.StatusNotFound)
	// The group's own LPJ preview, a draft, on the page's session.
	pdf := p.get(fmt.Sprintf("/grants/%d/report.pdf", g.ID))
	want(t, pdf, 200, "%PDF")
	if pdf.header.Get("X-Report-Draft") != "true" {
		t.Fatalf("LPJ of a funded grant is not a draft: %q", pdf.header.Get("X-Report-Draft"))
	}

	h.expireSessions(t, "chairA")
	wantLogin(t, p.postFile(path+"/bukti", url.Values{"kind": {"photo"}}, order, evidenceField, receiptPNG(t, 6), "foto.png"))
	if v := h.activityOf(t, g.ID, act.ID); len(v.Evidence) != 1 {
		t.Fatalf("an expired session stored a file: %d", len(v.Evidence))
	}
}

// TestPageActivityCancel: only the verifier gets the cancel form; an empty
// reason is refused beside the field; a cancelled session takes no
// realisation, and the refusal is shown to the treasurer.
func TestPageActivityCancel(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.fundedGrantFor(t)
	act := g.Activities[3]
	path := activityPath(g.ID, act.ID)
	tr := h.client(t)
	tr.login("treasurerA")
	r := tr.get(path)
	want(t, r, 200)
	if strings.Contains(string(r.body), "/batal") {
		t.Fatal("the treasurer is offered the cancel form")
	}

	v := h.client(t)
	v.login("verifier")
	r = v.get(path)
	want(t, r, 200, "Batalkan kegiatan", `action="`+path+`/batal"`)
	if strings.Contains(string(r.body), "/pelaksanaan") {
		t.Fatal("the verifier is offered the realisation form")
	}
	want(t, v.post(path+"/batal", url.Values{"reason": {"  "}}), http.StatusUnprocessableEntity, `id="reason-galat">Wajib diisi`)
	want(t, v.post(path+"/batal", url.Values{"_csrf": {"palsu"}, "reason": {"Bentrok dengan ujian madrasah."}}), http.StatusForbidden)
	want(t, v.post(path+"/batal", url.Values{"reason": {"Bentrok dengan ujian madrasah."}}), http.StatusSeeOther)
	want(t, v.get(path+"?tersimpan=batal"), 200, "Kegiatan dibatalkan.", "Dibatalkan verifikator: Bentrok dengan ujian madrasah.")

	// The treasurer's page still open: the realisation is refused (409) and said so.
	r = tr.post(path+"/pelaksanaan", url.Values{"held_on": {transferDay.String()}, "hours": {"3"}, "attendee_ids": {fmt.Sprint(h.groupA.Members[0].ID)}})
	want(t, r, http.StatusConflict, `id="galat-form"`, "sudah dibatalkan verifikator")

	h.expireSessions(t, "verifier")
	wantLogin(t, v.post(fmt.Sprintf("/hibah/%d/kegiatan/%d/batal", g.ID, g.Activities[4].ID), url.Values{"reason": {"Tidak jadi."}}))
	if got := h.activityOf(t, g.ID, g.Activities[4].ID).Status; got != workflow.ActivityPlanned {
		t.Fatalf("an expired session cancelled: %s", got)
	}
}

// TestPageDisburseForm: finance records the first tranche through the
// grant page's form, prefilled with the exact share; every refusal comes
// back beside its field, the tranche gate's reasons included.
func TestPageDisburseForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.grantIn(t, h.prog, h.groupA, workflow.Approved)
	prog := h.prog
	prog.ApplyDefaults()
	shares := prog.TrancheAmounts(g.AmountApproved)
	first := strings.TrimPrefix(money.Format(shares[0]), "Rp ")
	p := h.client(t)
	p.login("finance")
	want(t, p.get("/"), 200, fmt.Sprintf(`href="/hibah/%d#salurkan"`, g.ID), "Salurkan dana")
	path := fmt.Sprintf("/hibah/%d", g.ID)
	want(t, p.get(path), 200, `action="`+path+`/penyaluran"`, `id="tranche" name="tranche" type="number" value="1"`, `value="`+first+`"`,
		fmt.Sprintf("(%d %% dari jumlah yang disetujui)", prog.TranchePercents[0]))
	post := func(f url.Values) result { return p.post(path+"/penyaluran", f) }
	base := func() url.Values {
		return url.Values{"tranche": {"1"}, "amount": {first}, "transferred_on": {transferDay.String()}, "reference": {"BSI-77"}, "expected_state": {"approved"}}
	}

	f := base()
	f.Set("reference", "")
	f.Set("transferred_on", "kemarin")
	want(t, post(f), http.StatusUnprocessableEntity, `id="reference-galat">Nomor referensi bank wajib diisi`, `id="transferred-on-galat">Tanggal tidak valid`,
		`value="`+first+`"`, `value="kemarin"`)
	f = base()
	f.Set("amount", "1.000")
	want(t, post(f), http.StatusUnprocessableEntity, `id="amount-galat">Termin 1 harus tepat `+money.Format(shares[0]), `value="BSI-77"`)
	f = base()
	f.Set("tranche", "2")
	want(t, post(f), http.StatusUnprocessableEntity, `id="tranche-galat">Termin berikutnya adalah termin 1, bukan 2`)
	f = base()
	f.Set("_csrf", "palsu")
	want(t, post(f), http.StatusForbidden)
	if v := h.getGrant(t, "finance", g.ID); v.State != workflow.Approved {
		t.Fatalf("refused posts moved the grant to %s", v.State)
	}

	p.get(path)
	want(t, post(base()), http.StatusSeeOther)
	v := h.getGrant(t, "finance", g.ID)
	ds, err := h.svc.Disbursements(context.Background(), h.actor("finance"), g.ID)
	if v.State != workflow.Funded || err != nil || len(ds) != 1 || ds[0].Amount != shares[0] || ds[0].Reference != "BSI-77" {
		t.Fatalf("after the form: %s %+v %v", v.State, ds, err)
	}
	// The next tranche waits for receipts: the gate's reason listed on the form.
	f = base()
	f.Set("tranche", "2")
	f.Set("amount", strings.TrimPrefix(money.Format(shares[1]), "Rp "))
	f.Set("expected_state", "funded")
	r := post(f)
	want(t, r, http.StatusUnprocessableEntity, `id="galat-form"`, "paling sedikit 50% dari dana yang sudah disalurkan")
	if !strings.Contains(string(r.body), `value="2"`) {
		t.Fatal("typed tranche not kept")
	}
	// Nobody else gets the form.
	tr := h.client(t)
	tr.login("treasurerA")
	if r := tr.get(path); strings.Contains(string(r.body), "/penyaluran") {
		t.Fatal("the treasurer is offered the disburse form")
	}
	want(t, tr.post(path+"/penyaluran", base()), http.StatusForbidden)

	h.expireSessions(t, "finance")
	wantLogin(t, post(f))
}

// TestPageAuditorReview: the auditor finds the LPJ with its links, opens
// the LPJ and the dossier on the page's session, sees the grant's evidence
// and returns the LPJ with findings (refused without them), which the
// treasurer then reads on the grant page.
func TestPageAuditorReview(t *testing.T) {
	t.Parallel()
	w := newReportWorld(t)
	w.submitted(t)
	g := w.grant
	p := w.client(t)
	p.login("auditor")
	pdfPath, zipPath := fmt.Sprintf("/grants/%d/report.pdf", g.ID), fmt.Sprintf("/grants/%d/dossier.zip", g.ID)
	want(t, p.get("/lpj"), 200, g.Number, `href="`+pdfPath+`"`, `href="`+zipPath+`"`)
	path := fmt.Sprintf("/hibah/%d", g.ID)
	r := p.get(path)
	want(t, r, 200, "Unduh LPJ (PDF)", "Unduh berkas pemeriksaan (ZIP)", "Semua bukti", "?preview=1", `value="accept_report"`, `value="return_report"`)
	pdf := p.get(pdfPath)
	want(t, pdf, 200, "%PDF")
	if ct := pdf.header.Get("Content-Type"); ct != "application/pdf" {
		t.Fatalf("LPJ content type %q", ct)
	}
	want(t, p.get(zipPath), 200, "PK")

	act := func(f url.Values) result { return p.post(path+"/tindakan", f) }
	want(t, act(url.Values{"action": {"return_report"}, "expected_state": {"report_submitted"}}), http.StatusUnprocessableEntity,
		`id="comment-galat">Temuan wajib diisi`)
	want(t, act(url.Values{"_csrf": {"palsu"}, "action": {"return_report"}, "comment": {"Nota 3 tidak terbaca."}}), http.StatusForbidden)
	p.get(path)
	want(t, act(url.Values{"action": {"return_report"}, "comment": {"Nota 3 tidak terbaca."}, "expected_state": {"report_submitted"}}), http.StatusSeeOther)
	tr := w.client(t)
	tr.login("treasurerA")
	want(t, tr.get(path), 200, `id="temuan"`, "Nota 3 tidak terbaca.", "Pratinjau LPJ (PDF)")

	// An expired session downloads nothing.
	w.expireSessions(t, "auditor")
	wantLogin(t, p.get(zipPath))
}

// TestPageRedFlags: two expenses on one receipt, charged to konsumsi
// without naming a session, are red flags on the grant page for staff;
// the group sees no duplicate flag (staff only).
func TestPageRedFlags(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.fundedGrantFor(t)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		obj, err := h.svc.Ingest(ctx, bytes.NewReader(receiptPNG(t, 9)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.RecordExpense(ctx, h.actor("treasurerA"), g.ID, grants.ExpenseInput{SpentOn: transferDay, BudgetLineID: g.Budget[0].ID,
			Vendor: "Warung Bu Siti", Description: fmt.Sprintf("Konsumsi %d", i+1), Amount: 100_000}, &obj); err != nil {
			t.Fatalf("RecordExpense: %v", err)
		}
	}
	path := fmt.Sprintf("/hibah/%d", g.ID)
	v := h.client(t)
	v.login("verifier")
	want(t, v.get(path), 200, `id="tanda-merah"`, "nota ganda</span> 2 belanja", "tanpa kegiatan</span> 2 belanja", `alt="Nota `)
	tr := h.client(t)
	tr.login("treasurerA")
	r := tr.get(path)
	want(t, r, 200)
	if strings.Contains(string(r.body), "nota ganda") {
		t.Fatal("the group sees the staff-only duplicate flag")
	}
}
