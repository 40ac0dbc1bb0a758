package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"grantflow/internal/grants"
	"grantflow/workflow"
)

// Control characters, NUL and out-of-range values in every text, date and
// number field of the JSON and multipart inputs answer 400/422 naming the
// field, and write nothing.
func TestInputsRefuseControlCharactersAndRanges(t *testing.T) {
	t.Parallel()
	e := mxNewEnv(t, nil)
	g := e.fundedGrant(t)
	admin := e.newUser(t, grants.NewUser{Roles: []workflow.Role{workflow.RoleAdmin}})
	finance := e.user(t, "finance")
	before := e.counts(t, g)
	png := mxPNG(t, 77)

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
		r := e.postExpense(t, g.treasurer, g, map[string]string{c.field: c.value}, png)
		if r.status != http.StatusBadRequest && r.status != http.StatusUnprocessableEntity {
			t.Fatalf("expense %s=%q: %s", c.field, c.value, r)
		}
		mxWantErr(t, fmt.Sprintf("expense %s=%q", c.field, c.value), r, r.status, c.field)
	}

	refundPath := fmt.Sprintf("/api/v1/grants/%d/refunds", g.id)
	for _, c := range []struct{ field, value string }{{"ntpn", "AAAABBBB\x00CCDDDD"}, {"paid_on", "0001-01-01"}, {"amount", "1e9"}} {
		fields := map[string]string{"amount": "1000", "paid_on": e.today.String(), "ntpn": "AAAABBBBCCCCDDDD"}
		fields[c.field] = c.value
		var ff [][2]string
		for _, k := range []string{"amount", "paid_on", "ntpn"} {
			ff = append(ff, [2]string{k, fields[k]})
		}
		mxWantErr(t, "refund form "+c.field, e.multipart(t, g.treasurer, refundPath, ff), http.StatusUnprocessableEntity, c.field)
	}
	mxWantErr(t, "refund JSON 0001-01-01", e.json(t, g.treasurer, http.MethodPost, refundPath,
		[]byte(`{"amount":1000,"paid_on":"0001-01-01","ntpn":"AAAABBBBCCCCDDDD"}`)), http.StatusBadRequest, "paid_on")
	mxWantErr(t, "refund JSON NUL", e.json(t, g.treasurer, http.MethodPost, refundPath,
		map[string]any{"amount": 1000, "paid_on": e.today.String(), "ntpn": "AAAA\u0000BBBBCCCCDDDD"}), http.StatusUnprocessableEntity, "ntpn")

	disburse := fmt.Sprintf("/api/v1/grants/%d/disbursements", g.id)
	mxWantErr(t, "reference with a bell", e.json(t, finance, http.MethodPost, disburse,
		map[string]any{"tranche": 2, "amount": 1, "transferred_on": e.today.String(), "reference": "TRF\u0007"}), http.StatusUnprocessableEntity, "reference")
	mxWantErr(t, "tranche 2^31", e.json(t, finance, http.MethodPost, disburse,
		map[string]any{"tranche": int64(1) << 31, "amount": 1, "transferred_on": e.today.String(), "reference": "TRF-9"}), http.StatusUnprocessableEntity, "tranche")
	d := mxWantErr(t, "disburse action comment NUL", e.json(t, finance, http.MethodPost, fmt.Sprintf("/api/v1/grants/%d/actions/disburse", g.id),
		map[string]any{"tranche": 2, "amount": 1, "transferred_on": e.today.String(), "reference": "TRF-9", "comment": "x\u0000"}), http.StatusUnprocessableEntity, "comment")
	if !strings.Contains(d["comment"], "Komentar") {
		t.Fatalf("comment message without its label: %q", d["comment"])
	}

	void := fmt.Sprintf("/api/v1/grants/%d/expenses/1/void", g.id)
	r := e.json(t, g.treasurer, http.MethodPost, void, map[string]any{"reason": "salah\u0000"})
	if r.status != http.StatusUnprocessableEntity && r.status != http.StatusNotFound {
		t.Fatalf("void with NUL: %s", r)
	}
	mxWantErr(t, "act comment NUL", e.json(t, admin, http.MethodPost, fmt.Sprintf("/api/v1/grants/%d/actions/cancel", g.id),
		map[string]any{"comment": "bubar\u0000"}), http.StatusUnprocessableEntity, "comment")

	mxWantErr(t, "province query NUL", e.json(t, admin, http.MethodGet, "/api/v1/grants?province=Jawa%00Barat", nil), http.StatusBadRequest, "province")

	if after := e.counts(t, g); after != before {
		t.Fatalf("refused requests wrote: before %+v, after %+v", before, after)
	}

	// Registry inputs: the member's name is named by its JSON path and a
	// label a person understands.
	grp := mxGroupSpec(900)
	grp.Members[3].Name = "Siti\x00"
	d = mxWantErr(t, "member name NUL", e.json(t, admin, http.MethodPost, "/api/v1/groups", grp), http.StatusUnprocessableEntity, "members[3].name")
	if !strings.Contains(d["members[3].name"], "Nama anggota") {
		t.Fatalf("member message: %q", d["members[3].name"])
	}
	mxWantErr(t, "user name NUL", e.json(t, admin, http.MethodPost, "/api/v1/users",
		map[string]any{"email": "baru@example.id", "name": "Baru\u0000", "password": "kata-sandi-yang-panjang-1", "roles": []string{"auditor"}}),
		http.StatusUnprocessableEntity, "name")
	mxWantErr(t, "login email NUL", e.json(t, nil, http.MethodPost, "/api/v1/session",
		map[string]any{"email": "a\u0000@example.id", "password": "x"}), http.StatusUnprocessableEntity, "email")
	prog := e.prog
	prog.ID, prog.Name = 0, "Program \x00"
	mxWantErr(t, "programme name NUL", e.json(t, admin, http.MethodPost, "/api/v1/programs", prog), http.StatusUnprocessableEntity, "name")
}

// A proposal's text, dates and numbers are bounded field by field.
func TestInputsProposalFields(t *testing.T) {
	t.Parallel()
	e := mxNewEnv(t, nil)
	ctx := mxCtx(t)
	e.nGroups++
	grp, err := e.svc.CreateGroup(ctx, grants.System, mxGroupSpec(e.nGroups))
	if err != nil {
		t.Fatal(err)
	}
	tr := e.newUser(t, grants.NewUser{Roles: []workflow.Role{workflow.RoleTreasurer}, GroupID: grp.ID})
	v, err := e.svc.OpenGrant(ctx, tr.Actor, e.prog.ID, grp.ID)
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/v1/grants/%d/proposal", v.ID)
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
		p := mxProposal(e.today)
		c.change(&p)
		mxWantErr(t, c.field, e.json(t, tr, http.MethodPut, path, p), http.StatusUnprocessableEntity, c.field)
	}
	if got := e.grantView(t, tr, &mxGrant{id: v.ID}); len(got.Budget) != 0 || got.Background != "" {
		t.Fatalf("refused proposals were saved: %+v", got.Proposal)
	}
	// The limit counts the trimmed text, as the stored one is.
	p := mxProposal(e.today)
	p.Objectives = "  " + strings.Repeat("é", workflow.MaxTextLen) + "  "
	if r := e.json(t, tr, http.MethodPut, path, p); r.status != http.StatusOK {
		t.Fatalf("objectives at the limit with padding: %.300s", r)
	}
}

// An error lists at most 50 details and then how many more there were; a
// form of 20 000 unknown fields answers a small 400.
func TestInputsBoundedErrors(t *testing.T) {
	t.Parallel()
	e := mxNewEnv(t, nil)
	g := e.fundedGrant(t)
	fields := make([][2]string, 20_000)
	for i := range fields {
		fields[i] = [2]string{fmt.Sprintf("x%d", i), "1"}
	}
	r := e.multipart(t, g.treasurer, fmt.Sprintf("/api/v1/grants/%d/expenses", g.id), fields)
	if r.status != http.StatusBadRequest {
		t.Fatalf("20 000 unknown fields: %d %.300s", r.status, r.body)
	}
	if len(r.body) > 8<<10 {
		t.Fatalf("answer of %d bytes", len(r.body))
	}
	var eb mxErr
	mxDecode(t, r.body, &eb)
	n := len(eb.Error.Details)
	if n != 51 || !strings.HasPrefix(eb.Error.Details[n-1].Message, "… dan ") {
		t.Fatalf("%d details, last %+v", n, eb.Error.Details[n-1])
	}
}
