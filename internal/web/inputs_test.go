package web

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/lib/pq"

	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

// Control characters, NUL and out-of-range values in every text, date and
// number field of the JSON and multipart inputs answer 400/422 naming the
// field, and write nothing.
func TestInputsRefuseControlCharactersAndRanges(t *testing.T) {
	t.Parallel()
	h := newHarnessStore(t, pgtest.New(t), moneyOptions, nil)
	g := h.fundedGrant(t)
	admin := "admin"
	finance := "finance"
	before := h.counts(t, g)
	png := evidencetest.PNG(t, 77, 8, 6)

	expenses := []struct{ field, value string }{
		{"vendor", "Toko\x00Sumber"},
		{"vendor", "Toko\x07Sumber"},
		{"description", "Konsumsi\x00"},
		{"description", "Konsumsi\x1b[31m"},
		{"vendor", "Toko \xc3\x28"},
		{"spent_on", "0001-01-01"},
		{"spent_on", "1999-12-31"},
		{"spent_on", "2026-13-45"},
		{"amount", "99999999999999999999"},
		{"amount", "-5"},
		{"tax_ppn", "-1"},
		{"budget_line_id", "9223372036854775808"},
		{"activity_id", "\x00"},
	}
	for _, c := range expenses {
		r := h.postExpense(t, g.treasurer, g, map[string]string{c.field: c.value}, png)
		if r.status != http.StatusBadRequest && r.status != http.StatusUnprocessableEntity {
			t.Fatalf("expense %s=%q: %s", c.field, c.value, r)
		}
		wantErr(t, fmt.Sprintf("expense %s=%q", c.field, c.value), r, r.status, c.field)
	}

	refundPath := fmt.Sprintf("/api/v1/grants/%d/refunds", g.id)
	for _, c := range []struct{ field, value string }{{"ntpn", "AAAABBBB\x00CCDDDD"}, {"paid_on", "0001-01-01"}, {"amount", "1e9"}} {
		fields := map[string]string{"amount": "1000", "paid_on": h.today().String(), "ntpn": "AAAABBBBCCCCDDDD"}
		fields[c.field] = c.value
		var ff [][2]string
		for _, k := range []string{"amount", "paid_on", "ntpn"} {
			ff = append(ff, [2]string{k, fields[k]})
		}
		wantErr(t, "refund form "+c.field, h.postForm(t, g.treasurer, refundPath, ff), http.StatusUnprocessableEntity, c.field)
	}
	wantErr(t, "refund JSON 0001-01-01", h.call(t, g.treasurer, http.MethodPost, refundPath,
		[]byte(`{"amount":1000,"paid_on":"0001-01-01","ntpn":"AAAABBBBCCCCDDDD"}`)), http.StatusBadRequest, "paid_on")
	wantErr(t, "refund JSON NUL", h.call(t, g.treasurer, http.MethodPost, refundPath,
		map[string]any{"amount": 1000, "paid_on": h.today().String(), "ntpn": "AAAA\u0000BBBBCCCCDDDD"}), http.StatusUnprocessableEntity, "ntpn")

	disburse := fmt.Sprintf("/api/v1/grants/%d/disbursements", g.id)
	wantErr(t, "reference with a bell", h.call(t, finance, http.MethodPost, disburse,
		map[string]any{"tranche": 2, "amount": 1, "transferred_on": h.today().String(), "reference": "TRF\u0007"}), http.StatusUnprocessableEntity, "reference")
	wantErr(t, "tranche 2^31", h.call(t, finance, http.MethodPost, disburse,
		map[string]any{"tranche": int64(1) << 31, "amount": 1, "transferred_on": h.today().String(), "reference": "TRF-9"}), http.StatusUnprocessableEntity, "tranche")
	d := wantErr(t, "disburse action comment NUL", h.call(t, finance, http.MethodPost, fmt.Sprintf("/api/v1/grants/%d/actions/disburse", g.id),
		map[string]any{"tranche": 2, "amount": 1, "transferred_on": h.today().String(), "reference": "TRF-9", "comment": "x\u0000"}), http.StatusUnprocessableEntity, "comment")
	if !strings.Contains(d["comment"], "Komentar") {
		t.Fatalf("comment message without its label: %q", d["comment"])
	}

	void := fmt.Sprintf("/api/v1/grants/%d/expenses/1/void", g.id)
	r := h.call(t, g.treasurer, http.MethodPost, void, map[string]any{"reason": "salah\u0000"})
	if r.status != http.StatusUnprocessableEntity && r.status != http.StatusNotFound {
		t.Fatalf("void with NUL: %s", r)
	}
	wantErr(t, "act comment NUL", h.call(t, admin, http.MethodPost, fmt.Sprintf("/api/v1/grants/%d/actions/cancel", g.id),
		map[string]any{"comment": "bubar\u0000"}), http.StatusUnprocessableEntity, "comment")

	wantErr(t, "province query NUL", h.call(t, admin, http.MethodGet, "/api/v1/grants?province=Jawa%00Barat", nil), http.StatusBadRequest, "province")

	if after := h.counts(t, g); after != before {
		t.Fatalf("refused requests wrote: before %+v, after %+v", before, after)
	}

	// Registry inputs: the member's name is named by its JSON path and a
	// label a person understands.
	grp := moneyGroup(900)
	grp.Members[3].Name = "Siti\x00"
	d = wantErr(t, "member name NUL", h.call(t, admin, http.MethodPost, "/api/v1/groups", grp), http.StatusUnprocessableEntity, "members[3].name")
	if !strings.Contains(d["members[3].name"], "Nama anggota") {
		t.Fatalf("member message: %q", d["members[3].name"])
	}
	wantErr(t, "user name NUL", h.call(t, admin, http.MethodPost, "/api/v1/users",
		map[string]any{"email": "baru@example.id", "name": "Baru\u0000", "password": "kata-sandi-yang-panjang-1", "roles": []string{"auditor"}}),
		http.StatusUnprocessableEntity, "name")
	wantErr(t, "login email NUL", h.call(t, "", http.MethodPost, "/api/v1/session",
		map[string]any{"email": "a\u0000@example.id", "password": "x"}), http.StatusUnprocessableEntity, "email")
	prog := h.prog
	prog.ID, prog.Name = 0, "Program \x00"
	wantErr(t, "programme name NUL", h.call(t, admin, http.MethodPost, "/api/v1/programs", prog), http.StatusUnprocessableEntity, "name")
}

// A proposal's text, dates and numbers are bounded field by field.
func TestInputsProposalFields(t *testing.T) {
	t.Parallel()
	h := newHarnessStore(t, pgtest.New(t), moneyOptions, nil)
	g := h.draftGrant(t)
	tr := g.treasurer
	path := fmt.Sprintf("/api/v1/grants/%d/proposal", g.id)
	cases := []struct {
		field  string
		change func(p *workflow.Proposal)
	}{
		{"background", func(p *workflow.Proposal) { p.Background = "latar\x00" }},
		{"objectives", func(p *workflow.Proposal) { p.Objectives = "tujuan\x01" }},
		{"sustainability_plan", func(p *workflow.Proposal) { p.SustainabilityPlan = "\x00" }},
		{"activities[0].title", func(p *workflow.Proposal) { p.Activities[0].Title = "In\x00" }},
		{"activities[1].planned_participants", func(p *workflow.Proposal) { p.Activities[1].PlannedParticipants = 1 << 31 }},
		{"activities[0].planned_on", func(p *workflow.Proposal) { p.Activities[0].PlannedOn = workflow.MustDate("1900-01-01") }},
		{"budget[0].description", func(p *workflow.Proposal) { p.Budget[0].Description = "konsumsi\x00" }},
		{"budget[0].unit", func(p *workflow.Proposal) { p.Budget[0].Unit = "\x7f" }},
		{"budget[1].quantity", func(p *workflow.Proposal) { p.Budget[1].Quantity = 1 << 40 }},
	}
	for _, c := range cases {
		p := moneyProposal(h.today())
		c.change(&p)
		wantErr(t, c.field, h.call(t, tr, http.MethodPut, path, p), http.StatusUnprocessableEntity, c.field)
	}
	if got := h.grantAs(t, tr, g); len(got.Budget) != 0 || got.Background != "" {
		t.Fatalf("refused proposals were saved: %+v", got.Proposal)
	}
	// The limit counts the trimmed text, as the stored one is.
	p := moneyProposal(h.today())
	p.Objectives = "  " + strings.Repeat("é", workflow.MaxTextLen) + "  "
	if r := h.call(t, tr, http.MethodPut, path, p); r.status != http.StatusOK {
		t.Fatalf("objectives at the limit with padding: %.300s", r)
	}
}

// An error lists at most 50 details and then how many more there were; a
// form of 20 000 unknown fields answers a small 400.
func TestInputsBoundedErrors(t *testing.T) {
	t.Parallel()
	h := newHarnessStore(t, pgtest.New(t), moneyOptions, nil)
	g := h.fundedGrant(t)
	fields := make([][2]string, 20_000)
	for i := range fields {
		fields[i] = [2]string{fmt.Sprintf("x%d", i), "1"}
	}
	r := h.postForm(t, g.treasurer, fmt.Sprintf("/api/v1/grants/%d/expenses", g.id), fields)
	if r.status != http.StatusBadRequest {
		t.Fatalf("20 000 unknown fields: %d %.300s", r.status, r.body)
	}
	if len(r.body) > 8<<10 {
		t.Fatalf("answer of %d bytes", len(r.body))
	}
	e := r.apiErr(t)
	n := len(e.Details)
	if n != 51 || !strings.HasPrefix(e.Details[n-1].Message, "… dan ") {
		t.Fatalf("%d details, last %+v", n, e.Details[n-1])
	}
}

// rowCounts counts the rows of every table a request could write, so that a
// test can show a refused request wrote nothing anywhere. Sessions and the
// login counters change with logging in, which is not what is tested.
func rowCounts(t *testing.T, h *harness) map[string]int {
	t.Helper()
	rows, err := h.db.SQL().Query(`SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
		AND table_name NOT IN ('sessions', 'login_throttle', 'goose_db_version')`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	out := map[string]int{}
	for _, name := range tables {
		var n int
		if err := h.db.SQL().QueryRow(`SELECT count(*) FROM ` + pq.QuoteIdentifier(name)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[name] = n
	}
	return out
}

// TestInputsEveryField walks the text and number fields of the JSON and
// multipart inputs not covered above (realisations, activity cancellations,
// meetings, void reasons, evidence kinds, users, members, groups, grants):
// a NUL byte, a control character or a number out of range answers 400 or
// 422 naming the field, never the database's nameless refusal, and no table
// gains or loses a row.
func TestInputsEveryField(t *testing.T) {
	t.Parallel()
	h := newHarnessStore(t, pgtest.New(t), moneyOptions, nil)
	g := h.fundedGrant(t)
	x := h.mustExpense(t, g, nil, evidencetest.PNG(t, 5, 8, 6))
	aid := g.acts[0].ID
	for _, who := range []string{"admin", "verifier", g.chair, g.treasurer} {
		h.token(who) // log in before counting: a login writes a session
	}
	before := rowCounts(t, h)

	realize := fmt.Sprintf("/api/v1/grants/%d/activities/%d/realization", g.id, aid)
	good := func() map[string]any {
		return map[string]any{"held_on": h.today().String(), "location": "Aula MIN 1", "hours": 4, "facilitator": "Pengawas",
			"attendee_ids": []int64{g.group.Members[0].ID}, "summary": "Ringkasan.", "outputs": "Modul ajar."}
	}
	type jsonCase struct {
		who, method, path string
		body              any
		field             string
	}
	with := func(base map[string]any, k string, v any) map[string]any { base[k] = v; return base }
	group := func(change func(*workflow.Group)) workflow.Group {
		grp := moneyGroup(int(groupSeq.Add(1)))
		change(&grp)
		return grp
	}
	cases := []jsonCase{
		{g.chair, "POST", realize, with(good(), "location", "Aula\x00"), "location"},
		{g.chair, "POST", realize, with(good(), "facilitator", "Pengawas\x1b[1m"), "facilitator"},
		{g.chair, "POST", realize, with(good(), "summary", "\x00"), "summary"},
		{g.chair, "POST", realize, with(good(), "outputs", "modul\x07"), "outputs"},
		{g.chair, "POST", realize, with(good(), "hours", int64(1)<<31), "hours"},
		{g.chair, "POST", realize, with(good(), "held_on", "0001-01-01"), "held_on"},
		{g.chair, "POST", realize, with(good(), "attendee_ids", []int64{1 << 62}), "attendee_ids[0]"},
		{"verifier", "POST", fmt.Sprintf("/api/v1/grants/%d/activities/%d/cancel", g.id, aid), map[string]any{"reason": "batal\x00"}, "reason"},
		{g.chair, "POST", fmt.Sprintf("/api/v1/groups/%d/meetings", g.group.ID),
			map[string]any{"held_on": h.today().String(), "topic": "Rapat\x00", "attendees_count": 10}, "topic"},
		{g.chair, "POST", fmt.Sprintf("/api/v1/groups/%d/meetings", g.group.ID),
			map[string]any{"held_on": h.today().String(), "topic": "Rapat", "attendees_count": 10, "notes": "catatan\x00"}, "notes"},
		{g.chair, "POST", fmt.Sprintf("/api/v1/groups/%d/meetings", g.group.ID),
			map[string]any{"held_on": h.today().String(), "topic": "Rapat", "attendees_count": int64(1) << 31}, "attendees_count"},
		{g.chair, "POST", fmt.Sprintf("/api/v1/groups/%d/meetings", g.group.ID),
			map[string]any{"held_on": "0001-01-01", "topic": "Rapat", "attendees_count": 10}, "held_on"},
		{g.treasurer, "POST", fmt.Sprintf("/api/v1/grants/%d/expenses/%d/void", g.id, x.ID), map[string]any{"reason": "salah\x00"}, "reason"},
		{g.treasurer, "POST", fmt.Sprintf("/api/v1/grants/%d/expenses/%d/void", g.id, x.ID), map[string]any{"reason": "salah\x1f"}, "reason"},
		{"verifier", "POST", fmt.Sprintf("/api/v1/grants/%d/actions/request_revision", g.id), map[string]any{"comment": "perbaiki\x00"}, "comment"},
		{"admin", "POST", "/api/v1/users", map[string]any{"email": "baru\x00@contoh.id", "name": "Baru", "password": "kata-sandi-yang-panjang-1", "roles": []string{"auditor"}}, "email"},
		{"admin", "POST", "/api/v1/users", map[string]any{"email": "baru@contoh.id", "name": "Baru", "password": "kata-sandi-yang-panjang-1", "roles": []string{"auditor"}, "province": "Jawa\x00Barat"}, "province"},
		{"admin", "POST", "/api/v1/users", map[string]any{"email": "baru@contoh.id", "name": "Baru", "password": "kata-sandi-yang-panjang-1", "roles": []string{"auditor"}, "regency": "Kota\x07"}, "regency"},
		{"admin", "POST", "/api/v1/users", map[string]any{"email": "baru@contoh.id", "name": "Baru", "password": "kata-sandi-yang-panjang-1", "roles": []string{"chair"}, "group_id": int64(1) << 62}, "group_id"},
		{"admin", "POST", "/api/v1/groups", group(func(g *workflow.Group) { g.Members[1].NIP = "19800101200501\x001" }), "members[1].nip"},
		{"admin", "POST", "/api/v1/groups", group(func(g *workflow.Group) { g.Members[2].Madrasah = "MIN\x00" }), "members[2].madrasah"},
		{"admin", "POST", "/api/v1/groups", group(func(g *workflow.Group) { g.SKNumber = "B-1\x00" }), "sk_number"},
		{"admin", "POST", "/api/v1/groups", group(func(g *workflow.Group) { g.BankAccountName = "KKG\x1b" }), "bank_account_name"},
		{g.chair, "POST", "/api/v1/grants", map[string]any{"program_id": int64(1) << 62, "group_id": g.group.ID}, "program_id"},
	}
	for _, c := range cases {
		what := fmt.Sprintf("%s %s %s", c.method, c.path, c.field)
		r := h.call(t, c.who, c.method, c.path, c.body)
		if r.status != http.StatusBadRequest && r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %s", what, r)
			continue
		}
		if e := r.apiErr(t); !e.hasField(c.field) {
			t.Errorf("%s: details %v do not name the field: %s", what, e.fields(), r)
		}
	}

	// Multipart: the evidence kind and the expense's text fields.
	evidencePath := fmt.Sprintf("/api/v1/grants/%d/activities/%d/evidence", g.id, aid)
	photo := formFile{"file", "foto.png", "image/png", evidencetest.PNG(t, 6, 8, 6)}
	for _, kind := range []string{"photo\x00", "foto\x07", strings.Repeat("p", 100)} {
		wantErr(t, fmt.Sprintf("evidence kind %q", kind), h.postForm(t, g.chair, evidencePath, [][2]string{{"kind", kind}}, photo),
			http.StatusUnprocessableEntity, "kind")
	}
	for _, over := range []map[string]string{{"tax_pph": "\x00"}, {"amount": "1\x00"}, {"budget_line_id": "1\x07"}} {
		r := h.postExpense(t, g.treasurer, g, over, evidencetest.PNG(t, 7, 8, 6))
		for field := range over {
			if r.status != http.StatusBadRequest && r.status != http.StatusUnprocessableEntity {
				t.Fatalf("expense %s: %s", field, r)
			}
			wantErr(t, "expense "+field, r, r.status, field)
		}
	}

	if after := rowCounts(t, h); !maps.Equal(after, before) {
		t.Fatalf("refused requests wrote rows: before %v, after %v", before, after)
	}
}
