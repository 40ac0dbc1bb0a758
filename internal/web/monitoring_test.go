package web

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/internal/monitor"
	"grantflow/internal/postgres"
	"grantflow/workflow"
)

// monitoredHarness funds the grants of groups A (Kota Bandung) and B
// (Kabupaten Garut) and scans as of four months after the activity period.
func monitoredHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	ctx := context.Background()
	for _, grp := range []workflow.Group{h.groupA, h.groupB} {
		v := h.grantIn(t, h.prog, grp, workflow.Approved)
		if _, err := h.svc.Disburse(ctx, h.actor("finance"), v.ID, grants.DisbursementInput{Tranche: 1,
			Amount: h.prog.TrancheAmounts(v.AmountApproved)[0], TransferredOn: workflow.DateOf(fixedNow),
			Reference: fmt.Sprintf("TRF-MON-%d", v.ID)}); err != nil {
			t.Fatalf("Disburse: %v", err)
		}
	}
	for _, who := range []string{"chairA", "treasurerA", "chairB", "verifier", "verifier_out", "auditor", "admin"} {
		h.user(who)
	}
	res, err := monitor.New(h.db, monitor.Options{}).Scan(ctx, h.prog.ActivityEndsOn.AddDays(120))
	if err != nil || res.Monitored != 2 {
		t.Fatalf("scan: %+v %v", res, err)
	}
	return h
}

// TestMonitoringAuthorization: chairs and treasurers see no monitoring;
// scoped staff see only their region; filters, pagination and exports.
func TestMonitoringAuthorization(t *testing.T) {
	t.Parallel()
	h := monitoredHarness(t)
	for _, who := range []string{"chairA", "treasurerA"} {
		for _, path := range []string{"/api/v1/monitoring", "/api/v1/monitoring/summary", "/api/v1/monitoring/cohorts"} {
			expect(t, h.do("GET", path, h.token(who), nil), 403, who+" GET "+path)
		}
	}
	list := func(who, query string) (int, []postgres.MonitorRow) {
		t.Helper()
		r := h.do("GET", "/api/v1/monitoring"+query, h.token(who), nil)
		expect(t, r, 200, who+" GET /monitoring"+query)
		var out struct {
			Items []postgres.MonitorRow `json:"items"`
			Total int                   `json:"total"`
		}
		r.decode(t, &out)
		return out.Total, out.Items
	}
	if n, items := list("auditor", ""); n != 1 || len(items) != 1 || items[0].GroupID != h.groupA.ID || items[0].Status != "dormant" ||
		items[0].DaysSilent != 120 || items[0].FundingEndedOn != h.prog.ActivityEndsOn {
		t.Fatalf("Kota Bandung auditor: %d %+v", n, items)
	}
	if n, _ := list("verifier_out", ""); n != 0 {
		t.Fatalf("Jawa Timur verifier sees %d groups of Jawa Barat", n)
	}
	if n, _ := list("verifier", ""); n != 2 {
		t.Fatalf("Jawa Barat verifier sees %d groups, want 2", n)
	}
	if n, items := list("verifier", "?regency=Kabupaten%20Garut&status=dormant&kind=MGMP"); n != 1 || items[0].GroupID != h.groupB.ID {
		t.Fatalf("filtered: %d %+v", n, items)
	}
	if n, items := list("verifier", "?limit=1&offset=1"); n != 2 || len(items) != 1 {
		t.Fatalf("second page: total %d, %d items", n, len(items))
	}
	if n, _ := list("auditor", "?regency=Kabupaten%20Garut"); n != 0 {
		t.Fatal("a filter widened the auditor's scope")
	}
	e := expect(t, h.do("GET", "/api/v1/monitoring?status=tidur", h.token("verifier"), nil), 422, "unknown status")
	if !e.hasField("status") {
		t.Fatalf("unknown status: %+v", e)
	}
	expect(t, h.do("GET", "/api/v1/monitoring?limit=abc", h.token("verifier"), nil), 400, "limit abc")
	expect(t, h.do("GET", "/api/v1/monitoring?format=pdf", h.token("verifier"), nil), 400, "format pdf")
	r := h.do("GET", "/api/v1/monitoring?format=csv", h.token("auditor"), nil)
	expect(t, r, 200, "csv export")
	if !bytes.HasPrefix(r.body, []byte("\ufeffKelompok,")) || !bytes.Contains(r.body, []byte(h.groupA.Name)) || bytes.Contains(r.body, []byte(h.groupB.Name)) {
		t.Fatalf("csv export: %q", r.body)
	}
	r = h.do("GET", "/api/v1/monitoring?format=xlsx", h.token("verifier"), nil)
	expect(t, r, 200, "xlsx export")
	if !bytes.HasPrefix(r.body, []byte("PK")) {
		t.Fatal("xlsx export is not a zip")
	}

	var sum monitor.Summary
	r = h.do("GET", "/api/v1/monitoring/summary", h.token("auditor"), nil)
	expect(t, r, 200, "summary")
	r.decode(t, &sum)
	if len(sum.ByProvince) != 1 || sum.ByProvince[0] != (postgres.SummaryCount{Status: "dormant", Key: "Jawa Barat", Count: 1}) ||
		len(sum.ByKind) != 1 || sum.ByKind[0] != (postgres.SummaryCount{Status: "dormant", Key: "KKG", Count: 1}) {
		t.Fatalf("auditor's summary %+v", sum)
	}
	var cs struct {
		Items []monitor.Cohort `json:"items"`
	}
	r = h.do("GET", "/api/v1/monitoring/cohorts", h.token("verifier"), nil)
	expect(t, r, 200, "cohorts")
	r.decode(t, &cs)
	if len(cs.Items) != 2 || cs.Items[0].Points[2].Eligible != 0 || cs.Items[0].Points[1].Eligible != 1 {
		t.Fatalf("cohorts four months after the end: %+v", cs.Items)
	}
}

// TestMeetingsAPI: only the group's chair or treasurer logs a meeting; bad
// input answers 400/422 and writes nothing; out of scope is 404.
func TestMeetingsAPI(t *testing.T) {
	t.Parallel()
	h := monitoredHarness(t)
	today := workflow.DateOf(time.Now().In(jakartaForTest))
	path := fmt.Sprintf("/api/v1/groups/%d/meetings", h.groupA.ID)
	good := map[string]any{"held_on": today.String(), "topic": "Refleksi modul ajar", "attendees_count": 12}
	r := h.do("POST", path, h.token("chairA"), good)
	expect(t, r, 201, "chair logs a meeting")
	var m postgres.Meeting
	r.decode(t, &m)
	correction := map[string]any{"held_on": today.String(), "topic": "Refleksi modul ajar (koreksi)", "attendees_count": 14, "supersedes": m.ID}
	expect(t, h.do("POST", path, h.token("treasurerA"), correction), 201, "treasurer corrects it")
	expect(t, h.do("POST", path, h.token("treasurerA"), correction), 409, "a second correction of the same row")
	expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/meetings", h.groupB.ID), h.token("chairA"), good), 404, "another group's log")
	expect(t, h.do("POST", path, h.token("verifier"), good), 403, "a verifier logs a meeting")
	expect(t, h.do("POST", path, h.token("chairA"), `{"held_on":`), 400, "broken JSON")
	bad := []struct {
		field string
		body  map[string]any
	}{
		{"held_on", map[string]any{"held_on": today.AddDays(1).String(), "topic": "x", "attendees_count": 3}},
		{"held_on", map[string]any{"held_on": "2020-01-01", "topic": "x", "attendees_count": 3}},
		{"topic", map[string]any{"held_on": today.String(), "topic": "  ", "attendees_count": 3}},
		{"attendees_count", map[string]any{"held_on": today.String(), "topic": "x", "attendees_count": 0}},
		{"attendees_count", map[string]any{"held_on": today.String(), "topic": "x", "attendees_count": 17}}, // group A has 16 members
		{"photo_id", map[string]any{"held_on": today.String(), "topic": "x", "attendees_count": 3, "photo_id": 999}},
	}
	for _, b := range bad {
		e := expect(t, h.do("POST", path, h.token("chairA"), b.body), 422, "bad "+b.field)
		if !e.hasField(b.field) {
			t.Fatalf("bad %s: details %+v", b.field, e.Details)
		}
	}
	var log monitor.MeetingLog
	r = h.do("GET", path, h.token("verifier"), nil)
	expect(t, r, 200, "verifier reads the log")
	r.decode(t, &log)
	if log.Total != 1 || log.Items[0].AttendeesCount != 14 || log.Items[0].Supersedes == nil || *log.Items[0].Supersedes != m.ID {
		t.Fatalf("log as it stands: %+v", log)
	}
	// The scan, as of 120 days after the activity end (a day still to
	// come), found the group dormant; in the group's view today's meeting
	// counts at once: silent since it, as of that scan's day.
	scanDay := h.prog.ActivityEndsOn.AddDays(120)
	if w := log.Monitoring; w == nil || w.ScannedStatus != "dormant" || !w.NewerMeeting || w.AsOf != scanDay ||
		w.DaysSilent != scanDay.DaysSince(today) || *w.LastMeetingOn != today {
		t.Fatalf("the group's monitoring %+v", w)
	}
	// The history the scan kept is read with the log: dormant since the
	// day the dormant threshold passed, still open.
	if len(log.History) != 1 || log.History[0].Status != "dormant" || log.History[0].Until != nil ||
		log.History[0].Since != h.prog.ActivityEndsOn.AddDays(workflow.DefaultDormantAfterDays) || log.History[0].ScannedOn != scanDay {
		t.Fatalf("history %+v", log.History)
	}
	expect(t, h.do("GET", fmt.Sprintf("/api/v1/groups/%d/meetings", h.groupB.ID), h.token("auditor"), nil), 404, "out-of-scope log")
	expect(t, h.do("GET", fmt.Sprintf("/api/v1/groups/%d/meetings", h.groupB.ID), h.token("chairA"), nil), 404, "another group's log")

	// Reminders of the scan, for chair A: the LPJ is overdue, and the
	// group, first seen already dormant, passed its at-risk day unseen.
	var ns struct {
		Items []postgres.Notification `json:"items"`
	}
	r = h.do("GET", "/api/v1/notifications", h.token("chairA"), nil)
	expect(t, r, 200, "notifications")
	r.decode(t, &ns)
	kinds := map[string]int{}
	for _, n := range ns.Items {
		kinds[n.Kind]++
	}
	if len(ns.Items) != 2 || kinds["lpj_overdue"] != 1 || kinds["at_risk"] != 1 || ns.Items[0].ReadAt != nil {
		t.Fatalf("chair A's reminders %+v", ns.Items)
	}
	read := fmt.Sprintf("/api/v1/notifications/%d/read", ns.Items[0].ID)
	expect(t, h.do("POST", read, h.token("chairB"), nil), 404, "another person's reminder")
	r = h.do("POST", read, h.token("chairA"), nil)
	expect(t, r, 200, "mark read")
	var n postgres.Notification
	r.decode(t, &n)
	if n.ReadAt == nil {
		t.Fatal("read_at not set")
	}
}

var jakartaForTest = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Jakarta"); err == nil {
		return loc
	}
	return time.FixedZone("WIB", 7*3600)
}()

// TestMeetingPhoto: a meeting's photo uploads with it (multipart) into the
// evidence store and is filed under the group's funded grant; a file that
// is not a whole JPEG/PNG answers 415, one over 10 MiB 413, and neither
// writes a meeting or an evidence row. On the page a refused photo shows
// beside the file input with the typed fields kept.
func TestMeetingPhoto(t *testing.T) {
	t.Parallel()
	h := monitoredHarness(t)
	today := workflow.DateOf(time.Now().In(jakartaForTest)).String()
	path := fmt.Sprintf("/api/v1/groups/%d/meetings", h.groupA.ID)
	fields := [][2]string{{"held_on", today}, {"topic", "Lesson study bersama"}, {"attendees_count", "9"}, {"notes", "Foto di kelas"}}
	rows := func() (meetings, files int) {
		t.Helper()
		err := h.db.SQL().QueryRow(`SELECT (SELECT count(*) FROM meetings), (SELECT count(*) FROM evidence)`).Scan(&meetings, &files)
		if err != nil {
			t.Fatal(err)
		}
		return meetings, files
	}
	jpg := evidencetest.EncodeJPEG(t, evidencetest.Scene(7, 320, 240), 85)
	pdf, _ := evidencetest.PDF(nil)
	m0, f0 := rows()
	for _, c := range []struct {
		name    string
		content []byte
		status  int
	}{
		{"a cut-off JPEG", jpg[:len(jpg)/2], 415},
		{"a text file named .jpg", []byte("bukan foto sama sekali"), 415},
		{"a PDF", pdf, 415},
		{"11 MiB", append(append([]byte{}, jpg...), make([]byte, 11<<20)...), 413},
	} {
		e := expect(t, h.upload(t, "chairA", path, fields, "photo", "rapat.jpg", c.content), c.status, c.name)
		if c.status == 415 && !e.hasField("photo") {
			t.Fatalf("%s: details %+v, want the photo field", c.name, e.Details)
		}
		if m, f := rows(); m != m0 || f != f0 {
			t.Fatalf("%s wrote %d meetings and %d files", c.name, m-m0, f-f0)
		}
	}
	expect(t, h.upload(t, "verifier", path, fields, "photo", "rapat.jpg", jpg), 403, "a verifier uploads a meeting photo")

	r := h.upload(t, "chairA", path, fields, "photo", "rapat.jpg", jpg)
	expect(t, r, 201, "a meeting with its photo")
	var m postgres.Meeting
	r.decode(t, &m)
	if m.PhotoID == nil || m.Topic != "Lesson study bersama" || m.AttendeesCount != 9 {
		t.Fatalf("meeting %+v", m)
	}
	var kind, mime string
	var group int64
	err := h.db.SQL().QueryRow(`SELECT e.kind, e.mime, g.group_id FROM evidence e JOIN grants g ON g.id = e.grant_id WHERE e.id = $1`,
		*m.PhotoID).Scan(&kind, &mime, &group)
	if err != nil || kind != "photo" || mime != "image/jpeg" || group != h.groupA.ID {
		t.Fatalf("photo row: %s %s group %d, %v", kind, mime, group, err)
	}
	// The JSON form takes the photo already uploaded; a new photo and a
	// photo_id together are refused.
	body := map[string]any{"held_on": today, "topic": "Tindak lanjut", "attendees_count": 8, "photo_id": *m.PhotoID}
	expect(t, h.do("POST", path, h.token("treasurerA"), body), 201, "photo_id of the group's photo")
	e := expect(t, h.upload(t, "chairA", path, append(fields, [2]string{"photo_id", fmt.Sprint(*m.PhotoID)}), "photo", "rapat.jpg", jpg),
		422, "photo and photo_id")
	if !e.hasField("photo_id") {
		t.Fatalf("photo and photo_id: %+v", e.Details)
	}

	// The page: a refused photo keeps what was typed.
	p := h.client(t)
	p.login("chairA")
	page := fmt.Sprintf("/kelompok/%d/pertemuan", h.groupA.ID)
	want(t, p.get(page), 200, `accept="image/*" capture="environment"`, `enctype="multipart/form-data"`)
	typed := url.Values{"held_on": {today}, "topic": {"Diskusi asesmen"}, "attendees_count": {"11"}, "notes": {"Catatan tetap ada"}}
	order := []string{"held_on", "topic", "attendees_count", "notes"}
	m1, f1 := rows()
	want(t, p.postFile(page, typed, order, "photo", []byte("bukan foto"), "rapat.jpg"), 415,
		`id="photo-galat"`, "Foto harus berkas JPEG atau PNG yang utuh", `value="Diskusi asesmen"`, `value="11"`, "Catatan tetap ada")
	if m, f := rows(); m != m1 || f != f1 {
		t.Fatalf("a refused page upload wrote %d meetings and %d files", m-m1, f-f1)
	}
	want(t, p.postFile(page, typed, order, "photo", jpg, "rapat.jpg"), 303)
	// The group's view shows its status with the meetings the scan has not
	// seen yet counted (the scan, 120 days after the end, found it dormant).
	want(t, p.get(page), 200, "Diskusi asesmen", "dengan foto", `id="status-pemantauan"`, `id="tanda-dihapus"`, `id="riwayat-status"`)
}

// TestSurvivalChartSkipsUnreached: a checkpoint no grant has reached yet
// (eligible 0) is left off the curve, not drawn at 0 %.
func TestSurvivalChartSkipsUnreached(t *testing.T) {
	t.Parallel()
	lines := survivalChart([]monitor.Cohort{{ProgramName: "P", Kind: "KKG", Province: "Jawa Barat", Points: []monitor.Checkpoint{
		{Months: 1, Eligible: 4, Active: 4, Share: 1}, {Months: 3, Eligible: 4, Active: 2, Share: 0.5},
		{Months: 6, Eligible: 0}, {Months: 12, Eligible: 0}}}})
	if len(lines) != 1 {
		t.Fatalf("%d lines", len(lines))
	}
	// x = 50 + months×520/12, y = 20 + 200 − share×200.
	if got, want := lines[0].Points, "93,20 180,120"; got != want {
		t.Fatalf("points %q, want %q", got, want)
	}
	if len(lines[0].Dots) != 2 {
		t.Fatalf("dots %+v", lines[0].Dots)
	}
}
