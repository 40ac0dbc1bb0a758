package web

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

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
	var log struct {
		Items []postgres.Meeting `json:"items"`
		Total int                `json:"total"`
	}
	r = h.do("GET", path, h.token("verifier"), nil)
	expect(t, r, 200, "verifier reads the log")
	r.decode(t, &log)
	if log.Total != 1 || log.Items[0].AttendeesCount != 14 || log.Items[0].Supersedes == nil || *log.Items[0].Supersedes != m.ID {
		t.Fatalf("log as it stands: %+v", log)
	}
	expect(t, h.do("GET", fmt.Sprintf("/api/v1/groups/%d/meetings", h.groupB.ID), h.token("auditor"), nil), 404, "out-of-scope log")
	expect(t, h.do("GET", fmt.Sprintf("/api/v1/groups/%d/meetings", h.groupB.ID), h.token("chairA"), nil), 404, "another group's log")

	// Reminders of the scan: the LPJ is overdue for chair A.
	var ns struct {
		Items []postgres.Notification `json:"items"`
	}
	r = h.do("GET", "/api/v1/notifications", h.token("chairA"), nil)
	expect(t, r, 200, "notifications")
	r.decode(t, &ns)
	if len(ns.Items) != 1 || ns.Items[0].Kind != "lpj_overdue" || ns.Items[0].ReadAt != nil {
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
