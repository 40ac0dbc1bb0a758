package web

// HTTP tests of the funded In/On sessions and the accountability loop
// (issue #7): the journey from draft to closed, the In-before-On rule, each
// submit_report guard, writes refused on ended grants, the authorization of
// the activity endpoints, next_steps against the actions' own reasons,
// report_overdue and the session flags of expenses.

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"hash/crc32"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"grantflow/internal/demo"
	"grantflow/internal/evidence"
	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/workflow"
)

// withStore gives h's service an evidence store and a clock that skew moves
// forward from fixedNow (the harness's service has neither): uploads need
// the store and the LPJ deadline needs time to pass. The programme, groups
// and people of h stay as they were: they live in the database.
func withStore(t *testing.T, h *harness) (*harness, *atomic.Int64) {
	t.Helper()
	st, err := evidence.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	skew := new(atomic.Int64)
	h.svc = grants.New(h.db, grants.Options{Store: st, Now: func() time.Time { return fixedNow.Add(time.Duration(skew.Load())) }})
	h.srv = New(h.svc, Options{})
	return h, skew
}

// addPeople creates the chair and treasurer of grp under the names
// prefix+"chair" and prefix+"treasurer", usable with h.token.
func (h *harness) addPeople(t *testing.T, grp workflow.Group, prefix string) {
	t.Helper()
	for _, r := range []workflow.Role{workflow.RoleChair, workflow.RoleTreasurer} {
		name := prefix + string(r)
		v, err := h.svc.CreateUser(context.Background(), grants.System, grants.NewUser{Email: name + "@uji.grantflow.id",
			Name: "Pengurus " + name, Password: testPassword, Roles: []workflow.Role{r}, GroupID: grp.ID})
		if err != nil {
			t.Fatalf("CreateUser %s: %v", name, err)
		}
		h.mu.Lock()
		h.accounts[name] = &account{view: v, actor: workflow.Actor{UserID: v.ID, Name: v.Name, Roles: v.Roles, GroupID: v.GroupID}}
		h.mu.Unlock()
	}
}

// actPhoto is a small distinct PNG standing in for a session photo.
func actPhoto(t testing.TB, seed int) []byte {
	return evidencetest.PNG(t, seed, 64, 48)
}

// actSheet is a real one-page PDF standing in for a scanned attendance
// sheet, minutes or a receipt; text makes it distinct.
func actSheet(t testing.TB, text string) []byte { return evidencetest.Sheet(text, 0) }

// upload posts a multipart form of fields and one file part (none when
// fileField is "").
func (h *harness) upload(t testing.TB, who, path string, fields [][2]string, fileField, fileName string, content []byte) result {
	t.Helper()
	var files []formFile
	if fileField != "" {
		files = append(files, formFile{fileField, fileName, "application/octet-stream", content})
	}
	return h.postForm(t, who, path, fields, files...)
}

// actView is the part of a listed activity the tests read.
type actView struct {
	workflow.Activity
	Realization *workflow.Realization `json:"realization"`
	Attendance  struct {
		Present, Of, Percent int
	} `json:"attendance"`
	Evidence []struct {
		ID           int64     `json:"id"`
		Kind         string    `json:"kind"`
		Size         int64     `json:"size"`
		SHA256       string    `json:"sha256"`
		UploadedBy   int64     `json:"uploaded_by"`
		UploaderName string    `json:"uploader_name"`
		CreatedAt    time.Time `json:"created_at"`
	} `json:"evidence"`
	Spent int64 `json:"spent"`
}

type actList struct {
	GrantID          int64     `json:"grant_id"`
	Members          int       `json:"members"`
	Items            []actView `json:"items"`
	Total            int       `json:"total"`
	MemberAttendance []struct {
		MemberID   int64  `json:"member_id"`
		Name       string `json:"name"`
		Attendance struct {
			Present, Of, Percent int
		} `json:"attendance"`
	} `json:"member_attendance"`
}

func (h *harness) activities(t testing.TB, who string, id int64) actList {
	t.Helper()
	r := h.do("GET", fmt.Sprintf("/api/v1/grants/%d/activities", id), h.token(who), nil)
	expect(t, r, 200, "GET activities as "+who)
	var l actList
	r.decode(t, &l)
	return l
}

// steps is the part of a single-grant answer about what remains.
type steps struct {
	State         workflow.State `json:"state"`
	NextSteps     []string       `json:"next_steps"`
	ReportOverdue bool           `json:"report_overdue"`
	Findings      string         `json:"findings"`
	TranchesPaid  int            `json:"tranches_paid"`
	Balance       int64          `json:"balance"`
}

func (h *harness) steps(t testing.TB, who string, id int64) steps {
	t.Helper()
	r := h.do("GET", fmt.Sprintf("/api/v1/grants/%d", id), h.token(who), nil)
	expect(t, r, 200, "GET grant as "+who)
	var s steps
	r.decode(t, &s)
	return s
}

func messages(e apiError) []string {
	out := make([]string, len(e.Details))
	for i, d := range e.Details {
		out[i] = d.Message
	}
	return out
}

// realizeBody is a realisation of a session held on day by the members ids.
func realizeBody(day string, ids []int64, note string) map[string]any {
	return map[string]any{"held_on": day, "location": "Aula MIN 1 Kota Bandung", "hours": 4,
		"facilitator": "Dra. Hj. Euis Kurniasih, M.Pd. (pengawas madrasah)", "attendee_ids": ids,
		"summary": "Anggota mengkaji modul ajar dan menyusun asesmen formatif. " + note,
		"outputs": "Draf modul ajar per anggota; lembar asesmen formatif."}
}

func (h *harness) realize(who string, id, aid int64, body any) result {
	h.t.Helper()
	return h.do("POST", fmt.Sprintf("/api/v1/grants/%d/activities/%d/realization", id, aid), h.token(who), body)
}

func (h *harness) evidence(t testing.TB, who string, id, aid int64, kind string, content []byte, name string) result {
	t.Helper()
	return h.upload(t, who, fmt.Sprintf("/api/v1/grants/%d/activities/%d/evidence", id, aid), [][2]string{{"kind", kind}}, "file", name, content)
}

// expense records a purchase with a PDF receipt; activityID 0 names none.
func (h *harness) expense(t testing.TB, who string, id, lineID, activityID int64, day, desc string, amount, pph int64) result {
	t.Helper()
	fields := [][2]string{{"spent_on", day}, {"budget_line_id", fmt.Sprint(lineID)}, {"vendor", "Toko dan Katering Barokah"},
		{"description", desc}, {"amount", fmt.Sprint(amount)}, {"tax_ppn", "0"}, {"tax_pph", fmt.Sprint(pph)}}
	if activityID != 0 {
		fields = append(fields, [2]string{"activity_id", fmt.Sprint(activityID)})
	}
	// A photographed receipt, as treasurers send them (PNG decodes far
	// faster than a PDF is validated, which keeps the race run short).
	return h.upload(t, who, fmt.Sprintf("/api/v1/grants/%d/expenses", id), fields, "receipt", "nota.png", actPhoto(t, int(crc32.ChecksumIEEE([]byte(desc)))))
}

// memberIDs returns the ids of the group's first n members.
func (h *harness) memberIDs(t testing.TB, groupID int64, n int) []int64 {
	t.Helper()
	g, err := h.svc.Group(context.Background(), grants.System, groupID)
	if err != nil {
		t.Fatal(err)
	}
	out := []int64{}
	for _, m := range g.Members[:n] {
		out = append(out, m.ID)
	}
	return out
}

// fundFirst pays tranche 1 of an approved grant on 1 March 2026 through the
// service (finance) and returns the tranche amounts.
func (h *harness) fundFirst(t testing.TB, prog workflow.Program, v grants.View) []int64 {
	t.Helper()
	shares := prog.TrancheAmounts(v.AmountApproved)
	if _, err := h.svc.Disburse(context.Background(), h.actor("finance"), v.ID, grants.DisbursementInput{Tranche: 1, Amount: shares[0],
		TransferredOn: workflow.MustDate("2026-03-01"), Reference: fmt.Sprintf("BSI-TRF-%d", v.ID)}); err != nil {
		t.Fatalf("Disburse: %v", err)
	}
	return shares
}

// checkSteps asserts that next_steps of the group (who) are exactly the
// reasons the actions give: the finance officer's tranche-2 refusal when a
// next tranche is due, then the treasurer's submit_report refusal. An empty
// list means the action passes, so it is not tried here.
func (h *harness) checkSteps(t *testing.T, who, treasurer string, id int64, tranche2 int64, stage string) []string {
	t.Helper()
	got := h.steps(t, who, id)
	var want []string
	if got.State == workflow.Funded && got.TranchesPaid == 1 {
		fin := h.steps(t, "finance", id).NextSteps
		r := h.do("POST", fmt.Sprintf("/api/v1/grants/%d/disbursements", id), h.token("finance"),
			map[string]any{"tranche": 2, "amount": tranche2, "transferred_on": "2026-03-09", "reference": "BSI-UJI-2"})
		if len(fin) > 0 {
			e := expect(t, r, 422, stage+": tranche 2 with next_steps "+strings.Join(fin, "; "))
			if !slices.Equal(messages(e), fin) {
				t.Fatalf("%s: finance next_steps %q, disburse refused with %q", stage, fin, messages(e))
			}
			want = append(want, fin...)
		} else if r.status != 201 {
			t.Fatalf("%s: finance has no next step but tranche 2 answers %d %s", stage, r.status, truncate(r.body))
		} else {
			// Paid: the money in hand changed, and with it the balance step.
			got = h.steps(t, who, id)
		}
	}
	if got.State == workflow.Funded {
		r := h.act(treasurer, id, workflow.SubmitReport, nil)
		if r.status == 200 {
			t.Fatalf("%s: submit_report passed while probing next_steps %q", stage, got.NextSteps)
		}
		want = append(want, messages(expect(t, r, 422, stage+": submit_report"))...)
	}
	if !slices.Equal(got.NextSteps, want) && !(len(got.NextSteps) == 0 && len(want) == 0) {
		t.Fatalf("%s: next_steps of %s = %q, the actions' reasons %q", stage, who, got.NextSteps, want)
	}
	return got.NextSteps
}

// proposalBody is demo.Proposal as a client writes it.
func proposalBody(k workflow.Kind, from workflow.Date) map[string]any {
	p := demo.Proposal(k, from)
	acts := []map[string]any{}
	for _, a := range p.Activities {
		acts = append(acts, map[string]any{"kind": a.Kind, "title": a.Title, "planned_on": a.PlannedOn.String(), "planned_participants": 30})
	}
	lines := []map[string]any{}
	for _, l := range p.Budget {
		lines = append(lines, map[string]any{"category": l.Category, "description": l.Description, "quantity": l.Quantity, "unit": l.Unit, "unit_price": l.UnitPrice})
	}
	return map[string]any{"background": p.Background, "objectives": p.Objectives, "sustainability_plan": p.SustainabilityPlan,
		"activities": acts, "budget": lines}
}

// TestActivitiesJourney drives one grant of a 30-member KKG through the API
// from draft to closed: five sessions with photos and attendance sheets,
// expenses tied to sessions, two tranches, a refund, a returned LPJ and its
// resubmission. At every state next_steps equals the reasons the actions
// give, and once closed every write is refused.
func TestActivitiesJourney(t *testing.T) {
	t.Parallel()
	h, _ := withStore(t, newHarness(t))
	activitiesJourney(t, h)
}

// activitiesJourney is TestActivitiesJourney on h (a harness withStore).
func activitiesJourney(t *testing.T, h *harness) {
	spec := workflow.Group{Kind: workflow.KKG, Name: "KKG MI Kecamatan Arcamanik", Level: "MI", Province: "Jawa Barat", Regency: "Kota Bandung",
		SKNumber: "B-4321/Kk.10.11/PP.00/2026", BankName: "Bank Syariah Indonesia", BankAccountNumber: "7198765432",
		BankAccountName: "KKG MI Kecamatan Arcamanik", Members: demo.Members(9, 30, "MIN 1 Kota Bandung", "MIS Al-Ikhlas Arcamanik")}
	grp := h.newGroup(t, spec)
	h.addPeople(t, grp, "arc")
	chair, treasurer := "arcchair", "arctreasurer"

	r := h.do("POST", "/api/v1/grants", h.token(chair), map[string]any{"program_id": h.prog.ID, "group_id": grp.ID})
	expect(t, r, 201, "open grant")
	var g grantView
	r.decode(t, &g)
	id := g.ID

	// Draft: the steps are submit's reasons; once the proposal is complete
	// there are none and submit passes.
	st := h.steps(t, chair, id).NextSteps
	e := expect(t, h.act(chair, id, workflow.Submit, nil), 422, "submit an empty draft")
	if len(st) == 0 || !slices.Equal(st, messages(e)) {
		t.Fatalf("draft: next_steps %q, submit refused with %q", st, messages(e))
	}
	expect(t, h.do("PUT", fmt.Sprintf("/api/v1/grants/%d/proposal", id), h.token(chair), proposalBody(workflow.KKG, proposalStart)), 200, "proposal")
	if st := h.steps(t, chair, id).NextSteps; len(st) != 0 {
		t.Fatalf("complete proposal: next_steps %q", st)
	}
	expect(t, h.act(chair, id, workflow.Submit, nil), 200, "submit")
	for _, s := range []struct {
		who    string
		action workflow.Action
		body   any
	}{
		{"verifier", workflow.StartReview, nil},
		{"verifier", workflow.Recommend, map[string]any{"comment": "Lengkap dan sesuai juknis.", "approved_amount": 10_725_000}},
		{"approver", workflow.Approve, map[string]any{"comment": "Disetujui."}},
	} {
		for _, who := range []string{chair, treasurer, s.who} {
			if st := h.steps(t, who, id).NextSteps; len(st) != 0 {
				t.Fatalf("before %s: next_steps of %s %q", s.action, who, st)
			}
		}
		expect(t, h.act(s.who, id, s.action, s.body), 200, string(s.action))
	}
	shares := h.prog.TrancheAmounts(10_725_000) // 7 507 500 and 3 217 500
	expect(t, h.do("POST", fmt.Sprintf("/api/v1/grants/%d/disbursements", id), h.token("finance"),
		map[string]any{"tranche": 1, "amount": shares[0], "transferred_on": "2026-03-01", "reference": "BSI-TRF-0301-ARC"}), 201, "tranche 1")

	// Funded, nothing held: the gate and every report guard stand.
	first := h.checkSteps(t, treasurer, treasurer, id, shares[1], "funded, nothing held")
	if len(first) < 6 {
		t.Fatalf("funded with nothing held: only %d steps %q", len(first), first)
	}
	g = h.getGrant(t, chair, id)
	acts := map[string]int64{}
	for _, a := range g.Activities {
		acts[strings.SplitN(a.Title, ":", 2)[0]] = a.ID
	}
	lines := map[string]int64{}
	for _, l := range g.Budget {
		lines[l.Category] = l.ID
	}
	everyone := h.memberIDs(t, grp.ID, 30)

	// An On session before any In is refused and stores nothing.
	e = expect(t, h.realize(chair, id, acts["On-1"], realizeBody("2026-03-02", everyone, "")), 422, "On-1 before any In")
	if !e.hasField("held_on") {
		t.Fatalf("On before In names %v, want held_on", e.fields())
	}

	photo := 0
	hold := func(who, name, day string, ids []int64) {
		t.Helper()
		r := h.realize(who, id, acts[name], realizeBody(day, ids, name))
		expect(t, r, 201, "realize "+name)
		for _, ev := range []struct{ kind, file string }{{"attendance", "daftar-hadir.pdf"}, {"photo", "foto-1.png"}, {"photo", "foto-2.png"}} {
			var b []byte
			if ev.kind == "photo" {
				photo++
				b = actPhoto(t, photo)
			} else {
				b = actSheet(t, "Daftar hadir "+name+" "+day)
			}
			expect(t, h.evidence(t, who, id, acts[name], ev.kind, b, ev.file), 201, "evidence "+name+" "+ev.kind)
		}
	}
	hold(chair, "In-1", "2026-03-02", everyone)
	h.checkSteps(t, chair, treasurer, id, shares[1], "In-1 held, no receipts")

	// Receipts for 4 400 000 of the 7 507 500 received: the gate opens.
	for _, x := range []struct {
		line, act string
		desc      string
		amount    int64
		pph       int64
	}{
		{"konsumsi", "In-1", "Konsumsi In-1 (30 orang)", 1_350_000, 0},
		{"honorarium", "In-1", "Honorarium narasumber In-1", 900_000, 45_000},
		{"atk_bahan", "", "ATK dan bahan praktik", 1_250_000, 0},
		{"penggandaan", "", "Penggandaan modul 60 eksemplar", 900_000, 0},
	} {
		expect(t, h.expense(t, treasurer, id, lines[x.line], acts[x.act], "2026-03-03", x.desc, x.amount, x.pph), 201, x.desc)
	}
	h.checkSteps(t, treasurer, treasurer, id, shares[1], "gate open") // pays tranche 2
	if g := h.getGrant(t, treasurer, id); g.Disbursed != 10_725_000 {
		t.Fatalf("after tranche 2 disbursed %d", g.Disbursed)
	}

	hold(chair, "On-1", "2026-03-03", everyone[:25])
	hold(treasurer, "In-2", "2026-03-04", everyone[:26])
	// A correction: two more members had signed the paper sheet.
	expect(t, h.realize(chair, id, acts["In-2"], realizeBody("2026-03-04", everyone[:28], "koreksi daftar hadir")), 201, "correct In-2")
	hold(chair, "On-2", "2026-03-06", everyone[:27])
	hold(chair, "In-3", "2026-03-08", everyone)
	for _, x := range []struct {
		line, act, desc string
		amount          int64
	}{
		{"konsumsi", "In-3", "Konsumsi In-2 dan In-3", 2_000_000},
		{"honorarium", "In-2", "Honorarium narasumber In-2", 900_000},
		{"honorarium", "In-3", "Honorarium narasumber In-3", 900_000},
		{"transport", "On-1", "Transport peserta On-1", 700_000},
		{"transport", "On-2", "Transport peserta On-2", 700_000},
		{"dokumentasi", "", "Dokumentasi dan penyusunan laporan", 1_000_000},
	} {
		// Paid the day tranche 2 arrives: the BKU is never below zero on any day.
		expect(t, h.expense(t, treasurer, id, lines[x.line], acts[x.act], "2026-03-09", x.desc, x.amount, 0), 201, x.desc)
	}
	// Only the balance remains.
	if st := h.checkSteps(t, treasurer, treasurer, id, shares[1], "balance left"); len(st) != 1 || !strings.Contains(st[0], "Rp 125.000") {
		t.Fatalf("balance left: next_steps %q", st)
	}

	l := h.activities(t, "auditor", id)
	if l.Total != 5 || l.Members != 30 || len(l.MemberAttendance) != 30 {
		t.Fatalf("activities: %d items, %d members, %d member rows", l.Total, l.Members, len(l.MemberAttendance))
	}
	wantPresent := []int{30, 25, 28, 27, 30}
	wantSpent := []int64{2_250_000, 700_000, 900_000, 700_000, 2_900_000}
	for i, a := range l.Items {
		if a.Status != workflow.ActivityHeld || a.Realization == nil || a.Attendance.Present != wantPresent[i] || a.Attendance.Of != 30 ||
			a.Attendance.Percent != wantPresent[i]*100/30 || len(a.Evidence) != 3 || a.Spent != wantSpent[i] {
			t.Fatalf("activity %d: %+v", i, a)
		}
		for _, f := range a.Evidence {
			if f.Size <= 0 || len(f.SHA256) != 64 || f.UploaderName == "" || f.UploadedBy == 0 || f.CreatedAt.IsZero() {
				t.Fatalf("evidence row %+v", f)
			}
		}
	}
	if in2 := l.Items[2]; in2.Version != 2 || in2.Realization.Version != 2 || len(in2.Realization.AttendeeIDs) != 28 {
		t.Fatalf("corrected In-2: %+v", in2)
	}
	// Member 1 came to all five sessions, member 30 to In-1 and In-3.
	if a, z := l.MemberAttendance[0].Attendance, l.MemberAttendance[29].Attendance; a.Present != 5 || a.Of != 5 || z.Present != 2 || z.Percent != 40 {
		t.Fatalf("member attendance %+v and %+v", a, z)
	}
	r = h.do("GET", fmt.Sprintf("/api/v1/grants/%d/activities/%d/realization", id, acts["In-2"]), h.token("verifier"), nil)
	expect(t, r, 200, "In-2 history")
	var hist struct{ Items []workflow.Realization }
	r.decode(t, &hist)
	if len(hist.Items) != 2 || len(hist.Items[0].AttendeeIDs) != 26 || len(hist.Items[1].AttendeeIDs) != 28 || hist.Items[0].EventID == hist.Items[1].EventID {
		t.Fatalf("In-2 history %+v", hist.Items)
	}

	expect(t, h.do("POST", fmt.Sprintf("/api/v1/grants/%d/refunds", id), h.token(treasurer),
		map[string]any{"amount": 125_000, "paid_on": "2026-03-09", "ntpn": "0A1B2C3D4E5F6G7H"}), 201, "refund")
	if st := h.steps(t, treasurer, id).NextSteps; len(st) != 0 {
		t.Fatalf("accounted for: next_steps %q", st)
	}
	expect(t, h.act(treasurer, id, workflow.SubmitReport, nil), 200, "submit_report")
	for _, who := range []string{treasurer, "auditor"} {
		if s := h.steps(t, who, id); s.State != workflow.ReportSubmitted || len(s.NextSteps) != 0 {
			t.Fatalf("report submitted, %s sees %+v", who, s)
		}
	}

	// The auditor returns it with findings; the group sees them, corrects
	// and submits again.
	e = expect(t, h.act("auditor", id, workflow.ReturnReport, nil), 422, "return without findings")
	if !e.hasField("comment") {
		t.Fatalf("return without findings names %v", e.fields())
	}
	findings := "Foto kegiatan On-2 tidak menunjukkan praktik di kelas; lengkapi notulen On-2."
	expect(t, h.act("auditor", id, workflow.ReturnReport, map[string]any{"comment": findings}), 200, "return_report")
	if s := h.steps(t, chair, id); s.State != workflow.Funded || s.Findings != findings || len(s.NextSteps) != 0 {
		t.Fatalf("returned: chair sees %+v", s)
	}
	expect(t, h.evidence(t, chair, id, acts["On-2"], "minutes", actSheet(t, "Notulen On-2"), "notulen.pdf"), 201, "minutes On-2")
	expect(t, h.act(treasurer, id, workflow.SubmitReport, nil), 200, "submit_report again")
	if s := h.steps(t, chair, id); s.State != workflow.ReportSubmitted || s.Findings != "" {
		t.Fatalf("resubmitted: %+v", s)
	}
	expect(t, h.act("auditor", id, workflow.AcceptReport, map[string]any{"comment": "LPJ lengkap."}), 200, "accept_report")
	if s := h.steps(t, treasurer, id); s.State != workflow.Closed || len(s.NextSteps) != 0 || s.Balance != 0 {
		t.Fatalf("closed: %+v", s)
	}

	evs := h.events(t, "auditor", id)
	count := map[string]int{}
	for _, ev := range evs {
		count[ev.Action]++
	}
	if count["realize_activity"] != 5 || count["correct_realization"] != 1 || count["add_evidence"] != 16 || count["record_expense"] != 10 ||
		count["disburse"] != 2 || count["submit_report"] != 2 || count["return_report"] != 1 || count["accept_report"] != 1 {
		t.Fatalf("events by action %v", count)
	}
	if breaks, _, err := h.svc.VerifyChains(context.Background()); err != nil || len(breaks) != 0 {
		t.Fatalf("VerifyChains: %v %v", breaks, err)
	}

	es := h.do("GET", fmt.Sprintf("/api/v1/grants/%d/expenses", id), h.token(treasurer), nil)
	var list struct {
		Items []workflow.Expense `json:"items"`
	}
	es.decode(t, &list)
	h.refusedWrites(t, workflow.Closed, id, acts["In-1"], list.Items[0].ID, chair, treasurer)
}

// refusedWrites posts every write endpoint against grant id (in an ended
// state) as a person who could write there otherwise, and wants 409 from
// each, with the grant unchanged.
func (h *harness) refusedWrites(t *testing.T, state workflow.State, id, aid, eid int64, chair, treasurer string) {
	t.Helper()
	before := len(h.events(t, "admin", id))
	g := fmt.Sprintf("/api/v1/grants/%d", id)
	writes := []struct {
		who, method, path string
		body              any
	}{
		{chair, "PUT", g + "/proposal", proposalBody(workflow.KKG, proposalStart)},
		{"finance", "POST", g + "/disbursements", map[string]any{"tranche": 3, "amount": 1, "transferred_on": "2026-03-09", "reference": "BSI-X"}},
		{treasurer, "POST", g + "/refunds", map[string]any{"amount": 1, "paid_on": "2026-03-09", "ntpn": "9Z8Y7X6W5V4U3T2S"}},
		{treasurer, "POST", fmt.Sprintf("%s/expenses/%d/void", g, eid), map[string]any{"reason": "Salah catat."}},
		{chair, "POST", fmt.Sprintf("%s/activities/%d/realization", g, aid), realizeBody("2026-03-09", h.memberIDs(t, h.grantGroup(t, id), 1), "")},
		{"verifier", "POST", fmt.Sprintf("%s/activities/%d/cancel", g, aid), map[string]any{"reason": "Tidak jadi dilaksanakan."}},
	}
	for _, a := range []struct {
		who    string
		action workflow.Action
		body   any
	}{
		{chair, workflow.Submit, nil},
		{"verifier", workflow.StartReview, nil},
		{"verifier", workflow.RequestRevision, map[string]any{"comment": "Perbaiki."}},
		{"verifier", workflow.Recommend, map[string]any{"comment": "Lengkap.", "approved_amount": 1}},
		{"approver", workflow.Approve, map[string]any{"comment": "Disetujui."}},
		{"verifier", workflow.Reject, map[string]any{"comment": "Ditolak."}},
		{"finance", workflow.Disburse, map[string]any{"tranche": 3, "amount": 1, "transferred_on": "2026-03-09", "reference": "BSI-Y"}},
		{treasurer, workflow.SubmitReport, nil},
		{"auditor", workflow.ReturnReport, map[string]any{"comment": "Temuan."}},
		{"auditor", workflow.AcceptReport, nil},
		{"admin", workflow.Cancel, map[string]any{"comment": "Dibatalkan."}},
	} {
		writes = append(writes, struct {
			who, method, path string
			body              any
		}{a.who, "POST", fmt.Sprintf("%s/actions/%s", g, a.action), a.body})
	}
	for _, c := range writes {
		r := h.do(c.method, c.path, h.token(c.who), c.body)
		expect(t, r, 409, fmt.Sprintf("%s grant: %s %s as %s", state, c.method, c.path, c.who))
	}
	uploads := []struct {
		who, path, file string
		fields          [][2]string
	}{
		{treasurer, g + "/expenses", "receipt", [][2]string{{"spent_on", "2026-03-09"}, {"budget_line_id", "1"}, {"vendor", "Toko"},
			{"description", "Belanja"}, {"amount", "1000"}}},
		{chair, fmt.Sprintf("%s/activities/%d/evidence", g, aid), "file", [][2]string{{"kind", "photo"}}},
		{treasurer, g + "/refunds", "proof", [][2]string{{"amount", "1"}, {"paid_on", "2026-03-09"}, {"ntpn", "1Z8Y7X6W5V4U3T2S"}}},
	}
	for _, u := range uploads {
		r := h.upload(t, u.who, u.path, u.fields, u.file, "bukti.png", actPhoto(t, 99))
		expect(t, r, 409, fmt.Sprintf("%s grant: upload %s as %s", state, u.path, u.who))
	}
	if after := len(h.events(t, "admin", id)); after != before {
		t.Fatalf("%s grant: %d events before the refused writes, %d after", state, before, after)
	}
}

// grantGroup returns the group id of grant id.
func (h *harness) grantGroup(t testing.TB, id int64) int64 {
	t.Helper()
	v, err := h.svc.Grant(context.Background(), grants.System, id)
	if err != nil {
		t.Fatal(err)
	}
	return v.GroupID
}

// TestWritesRefusedOnEndedGrants: a rejected and a cancelled grant refuse
// every write endpoint with 409 like a closed one (TestActivitiesJourney).
func TestWritesRefusedOnEndedGrants(t *testing.T) {
	t.Parallel()
	h, _ := withStore(t, newHarness(t))
	rejected := h.grantIn(t, h.prog, h.groupA, workflow.Rejected)
	aid := rejected.Activities[0].ID
	h.refusedWrites(t, workflow.Rejected, rejected.ID, aid, 1, "chairA", "treasurerA")
	// A second programme: one grant per group per programme, and group A
	// lies inside the scoped auditor's Kota Bandung.
	cancelled := h.grantIn(t, h.newProgram(t, 5_000_000_000), h.groupA, workflow.Cancelled)
	h.refusedWrites(t, workflow.Cancelled, cancelled.ID, cancelled.Activities[0].ID, 1, "chairA", "treasurerA")
}

// fundedA is a grant of group A funded with tranche 1 on 1 March 2026, in
// programme prog, with its activities by title prefix ("In-1", "On-2", …).
func (h *harness) fundedA(t *testing.T, prog workflow.Program) (grants.View, map[string]int64) {
	t.Helper()
	v := h.grantIn(t, prog, h.groupA, workflow.Approved)
	h.fundFirst(t, prog, v)
	acts := map[string]int64{}
	for _, a := range v.Activities {
		acts[strings.SplitN(a.Title, ":", 2)[0]] = a.ID
	}
	return v, acts
}

// TestInBeforeOn: an On session is realised only once an In session was
// held on or before its day, and a correction of the In may not undo that.
func TestInBeforeOn(t *testing.T) {
	t.Parallel()
	h, _ := withStore(t, newHarness(t))
	v, acts := h.fundedA(t, h.prog)
	ids := h.memberIDs(t, h.groupA.ID, 12)
	events := len(h.events(t, "admin", v.ID))

	e := expect(t, h.realize("chairA", v.ID, acts["On-1"], realizeBody("2026-03-03", ids, "")), 422, "On-1 with no In")
	if !e.hasField("held_on") || !strings.Contains(e.Details[0].Message, "belum ada sesi In") {
		t.Fatalf("On before In: %+v", e)
	}
	expect(t, h.realize("chairA", v.ID, acts["In-1"], realizeBody("2026-03-04", ids, "")), 201, "In-1 on 4 March")
	expect(t, h.realize("chairA", v.ID, acts["On-1"], realizeBody("2026-03-03", ids, "")), 422, "On-1 the day before In-1")
	expect(t, h.realize("chairA", v.ID, acts["On-1"], realizeBody("2026-03-04", ids, "")), 201, "On-1 the same day as In-1")
	e = expect(t, h.realize("treasurerA", v.ID, acts["In-1"], realizeBody("2026-03-05", ids, "")), 422, "In-1 moved after On-1")
	if !strings.Contains(e.Details[0].Message, "tidak didahului sesi In") {
		t.Fatalf("correction that strands On-1: %+v", e)
	}
	l := h.activities(t, "chairA", v.ID)
	if l.Items[0].Version != 1 || l.Items[0].HeldOn != workflow.MustDate("2026-03-04") || l.Items[1].Status != workflow.ActivityHeld {
		t.Fatalf("after the refusals: %+v / %+v", l.Items[0], l.Items[1])
	}
	if n := len(h.events(t, "admin", v.ID)); n != events+2 {
		t.Fatalf("%d events, want the 2 accepted realisations on top of %d", n, events)
	}
}

// TestSubmitReportGuards fails each submit_report guard reachable through
// the API alone, then all at once, and passes with none (the two guards no
// API input can break — a held session without attendance, an expense
// without receipt — are covered by the workflow tests). The 422 names
// exactly the failing guards and equals the group's next_steps.
func TestSubmitReportGuards(t *testing.T) {
	t.Parallel()
	h, _ := withStore(t, newHarness(t))
	cases := []struct {
		name      string
		skipOn1   bool // On-1 never held
		bareIn2   bool // In-2 held without evidence
		lateIn3   bool // In-3 held before On-2: On-2 not followed
		noRefund  bool // the balance stays
		wantField []string
	}{
		{name: "accounted"},
		{name: "not held", skipOn1: true, wantField: []string{"activities[1].status"}},
		{name: "no evidence", bareIn2: true, wantField: []string{"activities[2].evidence_count"}},
		{name: "on not followed", lateIn3: true, wantField: []string{"activities[3].held_on"}},
		{name: "balance", noRefund: true, wantField: []string{"balance"}},
		{name: "all", skipOn1: true, bareIn2: true, lateIn3: true, noRefund: true,
			wantField: []string{"activities[1].status", "activities[2].evidence_count", "activities[3].held_on", "balance"}},
	}
	ids := h.memberIDs(t, h.groupA.ID, 15)
	for i, c := range cases {
		prog := h.newProgram(t, 5_000_000_000)
		v, acts := h.fundedA(t, prog)
		days := map[string]string{"In-1": "2026-03-02", "On-1": "2026-03-03", "In-2": "2026-03-04", "On-2": "2026-03-06", "In-3": "2026-03-08"}
		order := []string{"In-1", "On-1", "In-2", "On-2", "In-3"}
		if c.lateIn3 {
			days["In-3"] = "2026-03-05"
		}
		for _, name := range order {
			if name == "On-1" && c.skipOn1 {
				continue
			}
			expect(t, h.realize("chairA", v.ID, acts[name], realizeBody(days[name], ids, c.name)), 201, c.name+": "+name)
			if name == "In-2" && c.bareIn2 {
				continue
			}
			expect(t, h.evidence(t, "chairA", v.ID, acts[name], "attendance", actPhoto(t, 100*i+len(name)+int(name[3])), "hadir.png"), 201, c.name+": evidence "+name)
		}
		lines := map[string]int64{}
		for _, l := range v.Budget {
			lines[l.Category] = l.ID
		}
		expect(t, h.expense(t, "treasurerA", v.ID, lines["atk_bahan"], 0, "2026-03-02", "ATK "+c.name, 1_250_000, 0), 201, c.name+": expense")
		if !c.noRefund {
			bal := *h.getGrant(t, "treasurerA", v.ID).Balance
			expect(t, h.do("POST", fmt.Sprintf("/api/v1/grants/%d/refunds", v.ID), h.token("treasurerA"),
				map[string]any{"amount": bal, "paid_on": "2026-03-09", "ntpn": fmt.Sprintf("NTPN%012d", i)}), 201, c.name+": refund")
		}
		steps := h.steps(t, "chairA", v.ID).NextSteps
		// Tranche 2 is due, so the group's steps start with the gate's
		// reasons: the tranche-1 receipts cover far less than half.
		gate := h.steps(t, "finance", v.ID).NextSteps
		r := h.act("treasurerA", v.ID, workflow.SubmitReport, nil)
		if c.wantField == nil {
			expect(t, r, 200, c.name+": submit_report")
			continue
		}
		e := expect(t, r, 422, c.name+": submit_report")
		got := e.fields()
		sort.Strings(got)
		if !slices.Equal(got, c.wantField) {
			t.Fatalf("%s: submit_report names %v, want %v", c.name, got, c.wantField)
		}
		if want := append(slices.Clone(gate), messages(e)...); !slices.Equal(steps, want) {
			t.Fatalf("%s: next_steps %q, want the gate %q and the refusal %q", c.name, steps, gate, messages(e))
		}
	}
}

// TestActivityEndpointsAuthorization: who may read, realise, cancel and add
// evidence to a funded grant of group A, and that everyone else gets 403
// (in scope) or 404 (another group, out of scope).
func TestActivityEndpointsAuthorization(t *testing.T) {
	t.Parallel()
	h, _ := withStore(t, newHarness(t))
	v, acts := h.fundedA(t, h.prog)
	other := h.grantIn(t, h.prog, h.groupB, workflow.Draft) // Kabupaten Garut: outside the auditor's Kota Bandung
	ids := h.memberIDs(t, h.groupA.ID, 10)
	g := fmt.Sprintf("/api/v1/grants/%d", v.ID)
	readers := map[string]int{"chairA": 200, "treasurerA": 200, "chairB": 404, "verifier": 200, "verifier_out": 404,
		"approver": 200, "finance": 200, "auditor": 200, "admin": 200}
	for who, want := range readers {
		expect(t, h.do("GET", g+"/activities", h.token(who), nil), want, "GET activities as "+who)
		expect(t, h.do("GET", fmt.Sprintf("%s/activities/%d/realization", g, acts["In-1"]), h.token(who), nil), want, "GET history as "+who)
	}
	expect(t, h.do("GET", fmt.Sprintf("/api/v1/grants/%d/activities", other.ID), h.token("auditor"), nil), 404, "auditor out of scope")
	expect(t, h.do("GET", fmt.Sprintf("/api/v1/grants/%d/activities", other.ID), h.token("chairA"), nil), 404, "another group's grant")

	staff := []string{"verifier", "approver", "finance", "auditor", "admin"}
	for _, who := range append([]string{"chairB", "verifier_out"}, staff...) {
		want := 403
		if who == "chairB" || who == "verifier_out" {
			want = 404
		}
		expect(t, h.realize(who, v.ID, acts["In-1"], realizeBody("2026-03-02", ids, "")), want, "realize as "+who)
		expect(t, h.evidence(t, who, v.ID, acts["In-1"], "photo", actPhoto(t, 1), "foto.png"), want, "evidence as "+who)
	}
	for _, who := range []string{"chairA", "treasurerA", "chairB", "verifier_out", "approver", "finance", "auditor", "admin"} {
		want := 403
		if who == "chairB" || who == "verifier_out" {
			want = 404
		}
		expect(t, h.do("POST", fmt.Sprintf("%s/activities/%d/cancel", g, acts["On-2"]), h.token(who), map[string]any{"reason": "Jadwal bentrok."}), want, "cancel as "+who)
	}
	if l := h.activities(t, "admin", v.ID); l.Items[0].Status != workflow.ActivityPlanned || l.Items[3].Status != workflow.ActivityPlanned || len(l.Items[0].Evidence) != 0 {
		t.Fatalf("refused calls changed the activities: %+v", l.Items)
	}

	expect(t, h.realize("chairA", v.ID, acts["In-1"], realizeBody("2026-03-02", ids, "")), 201, "realize as the chair")
	expect(t, h.realize("treasurerA", v.ID, acts["In-1"], realizeBody("2026-03-02", ids[:9], "")), 201, "correct as the treasurer")
	expect(t, h.evidence(t, "chairA", v.ID, acts["In-1"], "photo", actPhoto(t, 2), "foto.png"), 201, "evidence as the chair")
	expect(t, h.evidence(t, "treasurerA", v.ID, acts["In-1"], "attendance", actSheet(t, "hadir"), "hadir.pdf"), 201, "evidence as the treasurer")
	e := expect(t, h.do("POST", fmt.Sprintf("%s/activities/%d/cancel", g, acts["On-2"]), h.token("verifier"), map[string]any{"reason": " "}), 422, "cancel without a reason")
	if !e.hasField("reason") {
		t.Fatalf("cancel without reason names %v", e.fields())
	}
	r := h.do("POST", fmt.Sprintf("%s/activities/%d/cancel", g, acts["On-2"]), h.token("verifier"), map[string]any{"reason": "Madrasah anggota libur semester."})
	expect(t, r, 200, "cancel as the verifier")
	var c actView
	r.decode(t, &c)
	if c.Status != workflow.ActivityCancelled || c.CancelReason != "Madrasah anggota libur semester." {
		t.Fatalf("cancelled activity %+v", c)
	}
	expect(t, h.do("POST", fmt.Sprintf("%s/activities/%d/cancel", g, acts["On-2"]), h.token("verifier"), map[string]any{"reason": "Lagi."}), 409, "cancel twice")
	expect(t, h.do("POST", fmt.Sprintf("%s/activities/%d/cancel", g, acts["In-1"]), h.token("verifier"), map[string]any{"reason": "Sudah terlaksana."}), 409, "cancel a held session")
	expect(t, h.realize("chairA", v.ID, acts["On-2"], realizeBody("2026-03-03", ids, "")), 409, "realize a cancelled session")
	expect(t, h.realize("chairA", v.ID, 999999, realizeBody("2026-03-03", ids, "")), 404, "realize an unknown activity")
	e = expect(t, h.realize("chairA", v.ID, acts["In-2"], map[string]any{"held_on": "2026-03-11", "hours": 13, "attendee_ids": []int64{ids[0], ids[0], other.GroupID * 1000},
		"location": "Aula\x00", "summary": "", "outputs": "x", "facilitator": "y"}), 422, "a bad realisation")
	for _, f := range []string{"held_on", "hours", "attendee_ids[1]", "attendee_ids[2]", "location", "summary"} {
		if !e.hasField(f) {
			t.Errorf("bad realisation: %v lacks %s", e.fields(), f)
		}
	}
}

// TestReportOverdueFlag: once the programme's LPJ due date has passed, a
// funded grant is flagged report_overdue on the grant, in the list and its
// ?flag=report_overdue filter, and in the CSV export; a grant not funded is not.
func TestReportOverdueFlag(t *testing.T) {
	t.Parallel()
	h, skew := withStore(t, newHarness(t))
	funded, _ := h.fundedA(t, h.prog)
	approved := h.grantIn(t, h.prog, h.groupB, workflow.Approved)
	list := func(q string) map[int64]bool {
		r := h.do("GET", "/api/v1/grants"+q, h.token("admin"), nil)
		expect(t, r, 200, "GET /grants"+q)
		var l struct {
			Items []struct {
				ID            int64 `json:"id"`
				ReportOverdue bool  `json:"report_overdue"`
			} `json:"items"`
		}
		r.decode(t, &l)
		out := map[int64]bool{}
		for _, g := range l.Items {
			out[g.ID] = g.ReportOverdue
		}
		return out
	}
	if got := list("?flag=report_overdue"); len(got) != 0 {
		t.Fatalf("before the due date: overdue %v", got)
	}
	if h.steps(t, "treasurerA", funded.ID).ReportOverdue {
		t.Fatal("before the due date the grant is overdue")
	}
	// 1 December 2026, the day after the LPJ was due (30 November).
	skew.Store(int64(workflow.MustDate("2026-12-01").Time().Sub(workflow.MustDate("2026-03-10").Time())))
	if got := list("?flag=report_overdue"); len(got) != 1 || !got[funded.ID] {
		t.Fatalf("after the due date: overdue %v, want only %d", got, funded.ID)
	}
	if got := list(""); !got[funded.ID] || got[approved.ID] {
		t.Fatalf("list flags %v", got)
	}
	if !h.steps(t, "treasurerA", funded.ID).ReportOverdue {
		t.Fatal("GET grant: report_overdue false after the due date")
	}
	r := h.do("GET", "/api/v1/grants?format=csv", h.token("admin"), nil)
	expect(t, r, 200, "CSV")
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	flags := map[string]string{}
	for _, rec := range recs[1:] {
		flags[rec[0]] = rec[len(rec)-1]
	}
	if recs[0][len(recs[0])-1] != "Penanda" || flags[funded.Number] != "report_overdue" || flags[approved.Number] != "" {
		t.Fatalf("CSV flags %v (header %v)", flags, recs[0])
	}
	expect(t, h.do("GET", "/api/v1/grants?flag=late", h.token("admin"), nil), 400, "unknown flag")
}

// TestExpenseSessionFlags: staff see no_session on a session cost naming no
// activity and session_not_held on one naming a session not held or
// cancelled; the group sees neither; the activity list sums the money per session.
func TestExpenseSessionFlags(t *testing.T) {
	t.Parallel()
	h, _ := withStore(t, newHarness(t))
	v, acts := h.fundedA(t, h.prog)
	ids := h.memberIDs(t, h.groupA.ID, 16)
	expect(t, h.realize("chairA", v.ID, acts["In-1"], realizeBody("2026-03-02", ids, "")), 201, "In-1")
	expect(t, h.do("POST", fmt.Sprintf("/api/v1/grants/%d/activities/%d/cancel", v.ID, acts["On-2"]), h.token("verifier"),
		map[string]any{"reason": "Digabung dengan On-1."}), 200, "cancel On-2")
	lines := map[string]int64{}
	for _, l := range v.Budget {
		lines[l.Category] = l.ID
	}
	want := map[string][]string{}
	for _, x := range []struct {
		line, act, desc string
		amount          int64
		staff           []string
	}{
		{"konsumsi", "", "Konsumsi tanpa sesi", 300_000, []string{workflow.FlagNoSession}},
		{"konsumsi", "In-1", "Konsumsi In-1", 700_000, nil},
		{"transport", "On-1", "Transport On-1 (belum terlaksana)", 400_000, []string{workflow.FlagSessionNotHeld}},
		{"honorarium", "On-2", "Honorarium On-2 (dibatalkan)", 500_000, []string{workflow.FlagSessionNotHeld}},
		{"atk_bahan", "", "ATK", 200_000, nil},
	} {
		expect(t, h.expense(t, "treasurerA", v.ID, lines[x.line], acts[x.act], "2026-03-03", x.desc, x.amount, 0), 201, x.desc)
		want[x.desc] = x.staff
	}
	for _, who := range []string{"verifier", "auditor", "treasurerA"} {
		r := h.do("GET", fmt.Sprintf("/api/v1/grants/%d/expenses", v.ID), h.token(who), nil)
		expect(t, r, 200, "expenses as "+who)
		var l struct {
			Items []workflow.Expense `json:"items"`
		}
		r.decode(t, &l)
		for _, e := range l.Items {
			var session []string
			for _, f := range e.Flags {
				if f == workflow.FlagNoSession || f == workflow.FlagSessionNotHeld {
					session = append(session, f)
				}
			}
			w := want[e.Description]
			if who == "treasurerA" {
				w = nil
			}
			if !slices.Equal(session, w) {
				t.Errorf("%s sees %q with session flags %v, want %v", who, e.Description, session, w)
			}
		}
	}
	l := h.activities(t, "verifier", v.ID)
	if l.Items[0].Spent != 700_000 || l.Items[1].Spent != 400_000 || l.Items[3].Spent != 500_000 || l.Items[2].Spent != 0 {
		t.Fatalf("money per activity: %d %d %d %d", l.Items[0].Spent, l.Items[1].Spent, l.Items[2].Spent, l.Items[3].Spent)
	}
}
