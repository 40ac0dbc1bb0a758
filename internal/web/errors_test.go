package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"grantflow/internal/demo"
	"grantflow/internal/grants"
	"grantflow/workflow"
)

// TestDecodeErrors covers the malformed-request paths of SPEC §8: every one
// answers 400 with code invalid, naming the field where there is one.
func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.token("admin")

	for _, c := range []struct {
		name  string
		body  string
		field string // expected detail field, "" for none
	}{
		{"empty", "", ""},
		{"blank", "  \n\t ", ""},
		{"truncated", `{"name":"Program"`, ""},
		{"syntax", `{"name" "Program"}`, ""},
		{"single quotes", `{'name':'x'}`, ""},
		{"not an object", `"program"`, ""},
		{"array", `[{"name":"x"}]`, ""},
		{"number", `42`, ""},
		{"wrong type string for int", `{"year":"2026"}`, "year"},
		{"wrong type int for string", `{"name":2026}`, "name"},
		{"wrong type for list", `{"tranche_percents":"70,30"}`, "tranche_percents"},
		{"wrong type for map", `{"ceilings":[1,2]}`, "ceilings"},
		{"float for int", `{"budget_total":1.5}`, "budget_total"},
		{"overflow", `{"budget_total":99999999999999999999999}`, "budget_total"},
		{"1e400", `{"budget_total":1e400}`, "budget_total"},
		{"unknown field", `{"name":"x","budget":5}`, "budget"},
		{"unknown field case", `{"Nama":"x"}`, "Nama"},
		{"trailing object", `{"name":"x"} {"name":"y"}`, ""},
		{"trailing garbage", `{"name":"x"}garbage`, ""},
		{"trailing bracket", `{"name":"x"}]`, ""},
		{"bad date", `{"proposal_opens_on":"2026-02-30"}`, ""},
		{"date as number", `{"proposal_opens_on":20260201}`, ""},
	} {
		r := h.do("POST", "/api/v1/programs", admin, c.body)
		e := expect(t, r, http.StatusBadRequest, c.name)
		if e.Code != "invalid" {
			t.Errorf("%s: code %q", c.name, e.Code)
		}
		if c.field != "" && !e.hasField(c.field) {
			t.Errorf("%s: details %v do not name %q", c.name, e.Details, c.field)
		}
	}

	// A nested wrong type names the nested field.
	r := h.do("POST", "/api/v1/groups", admin, `{"kind":"KKG","members":[{"name":"A","nip":198001012005011001}]}`)
	e := expect(t, r, http.StatusBadRequest, "nested wrong type")
	if len(e.Details) != 1 || !strings.Contains(e.Details[0].Field, "nip") {
		t.Errorf("nested wrong type: details %v", e.Details)
	}

	// A field of an embedded input is named as the client wrote it, not by
	// the Go type it sits in (was "DisbursementInput.transferred_on").
	g := h.grantIn(t, h.prog, h.groupB, workflow.Draft)
	r = h.do("POST", fmt.Sprintf("/api/v1/grants/%d/actions/disburse", g.ID), h.token("finance"), `{"tranche":1,"transferred_on":20260301}`)
	if e := expect(t, r, http.StatusBadRequest, "embedded wrong type"); len(e.Details) != 1 || e.Details[0].Field != "transferred_on" {
		t.Errorf("embedded wrong type: details %v", e.Details)
	}

	// Whitespace after the one object is not trailing data.
	r = h.do("POST", "/api/v1/grants", h.token("chairA"), fmt.Sprintf("{\"program_id\":%d,\"group_id\":%d}\n\n", h.prog.ID, h.groupA.ID))
	expect(t, r, http.StatusCreated, "object followed by newlines")
	if n := len(h.programs(t)); n != 1 {
		t.Fatalf("bad bodies created programmes: %d", n)
	}
}

// programs lists the programmes through the service.
func (h *harness) programs(t testing.TB) []workflow.Program {
	t.Helper()
	ps, err := h.svc.Programs(t.Context(), grants.System)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.token("admin")

	// Above 12 MiB: refused with 413 whatever the route.
	big := bytes.Repeat([]byte(" "), MaxBody+1)
	copy(big, `{"name":"`)
	for _, path := range []string{"/api/v1/programs", "/api/v1/session"} {
		r := h.do("POST", path, admin, big)
		if e := expect(t, r, http.StatusRequestEntityTooLarge, "12 MiB + 1 to "+path); e.Code != "too_large" {
			t.Fatalf("code %q", e.Code)
		}
	}
	// A JSON body is bounded more tightly (MaxJSON): one byte over is 413…
	over := `{"name":"` + strings.Repeat("a", MaxJSON) + `"}`
	r := h.do("POST", "/api/v1/programs", admin, over)
	expect(t, r, http.StatusRequestEntityTooLarge, "JSON over MaxJSON")
	// …and one just under it is read and judged on its content.
	under := `{"name":"` + strings.Repeat("a", MaxJSON-100) + `"}`
	r = h.do("POST", "/api/v1/programs", admin, under)
	e := expect(t, r, http.StatusUnprocessableEntity, "huge name")
	if !e.hasField("name") {
		t.Fatalf("details %v", e.Details)
	}
}

// TestOversizedHeaders: a request line or headers beyond the read buffer
// is bad input (400 with the error shape), never a 500; headers a browser
// with a few large cookies sends (8 KiB) are read. Through a real listener:
// app.Test reports fasthttp's refusal as its own error, the server answers it.
func TestOversizedHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.token("admin")
	base := h.listen(t)

	get := func(path string, header map[string]string) (int, errorBody) {
		t.Helper()
		req, err := http.NewRequest("GET", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+admin)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		defer resp.Body.Close()
		var body errorBody
		if resp.StatusCode != http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("%s: %d, body not the error shape: %v", path, resp.StatusCode, err)
			}
		}
		return resp.StatusCode, body
	}
	if st, _ := get("/api/v1/grants", map[string]string{"Cookie": "a=" + strings.Repeat("x", 8<<10)}); st != http.StatusOK {
		t.Fatalf("8 KiB of cookies: %d", st)
	}
	for name, c := range map[string]struct {
		path   string
		header map[string]string
	}{
		"17 KiB header": {"/api/v1/grants", map[string]string{"X-Padding": strings.Repeat("x", 17<<10)}},
		"17 KiB query":  {"/api/v1/monitoring?province=" + strings.Repeat("a", 17<<10), nil},
		"17 KiB page":   {"/hibah/" + strings.Repeat("1", 17<<10), nil},
	} {
		st, body := get(c.path, c.header)
		if st != http.StatusBadRequest || body.Error.Code != workflow.EInvalid || body.Error.Message == "" {
			t.Errorf("%s: %d %+v", name, st, body)
		}
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, chair := h.token("admin"), h.token("chairA")
	g := h.grantIn(t, h.prog, h.groupA, workflow.Draft)

	for _, c := range []struct {
		method, path, token string
		body                any
	}{
		{"GET", "/api/v1/grants/999999", admin, nil},
		{"GET", "/api/v1/grants/999999/events", admin, nil},
		{"GET", "/api/v1/programs/999999", admin, nil},
		{"GET", "/api/v1/groups/999999", admin, nil},
		{"POST", "/api/v1/grants/999999/actions/cancel", admin, `{"comment":"x"}`},
		{"POST", "/api/v1/grants/999999/actions/submit", chair, nil},
		{"PUT", "/api/v1/grants/999999/proposal", chair, demo.Proposal(workflow.KKG, proposalStart)},
		// Ids that are no ids at all.
		{"GET", "/api/v1/grants/abc", admin, nil},
		{"GET", "/api/v1/grants/0", admin, nil},
		{"GET", "/api/v1/grants/-1", admin, nil},
		{"GET", "/api/v1/grants/1.5", admin, nil},
		{"GET", "/api/v1/grants/1e3", admin, nil},
		{"GET", "/api/v1/grants/99999999999999999999999", admin, nil},
		{"GET", "/api/v1/grants/0x10", admin, nil},
		{"GET", "/api/v1/programs/abc", admin, nil},
		{"GET", "/api/v1/groups/%20", admin, nil},
		{"GET", "/api/v1/grants/abc/events", admin, nil},
		{"PUT", "/api/v1/grants/abc/proposal", chair, `{}`},
		{"POST", "/api/v1/grants/abc/actions/submit", chair, nil},
		// Unknown routes, methods and actions.
		{"GET", "/api/v1/nothing-here", admin, nil},
		{"GET", "/nothing-here", "", nil},
		{"GET", "/api/v2/grants", "", nil},
		{"DELETE", "/api/v1/programs", admin, nil},
		{"PATCH", fmt.Sprintf("/api/v1/grants/%d", g.ID), admin, `{}`},
		{"POST", fmt.Sprintf("/api/v1/grants/%d/actions/fly", g.ID), admin, `{}`},
		{"POST", fmt.Sprintf("/api/v1/grants/%d/actions/SUBMIT", g.ID), chair, nil},
		{"POST", fmt.Sprintf("/api/v1/grants/%d/actions/", g.ID), chair, nil},
		{"POST", fmt.Sprintf("/api/v1/grants/%d/actions/submit/extra", g.ID), chair, nil},
	} {
		r := h.do(c.method, c.path, c.token, c.body)
		e := expect(t, r, http.StatusNotFound, c.method+" "+c.path)
		if e.Code != "not_found" {
			t.Errorf("%s %s: code %q", c.method, c.path, e.Code)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s %s: content type %q", c.method, c.path, ct)
		}
	}
	// The draft was not touched by any of it.
	if got := h.getGrant(t, "admin", g.ID); got.State != workflow.Draft {
		t.Fatalf("state %s", got.State)
	}

	// Bad query parameters are 400 naming the parameter.
	for _, c := range []struct{ query, field string }{
		{"program_id=abc", "program_id"},
		{"program_id=-4", "program_id"},
		{"state=flying", "state"},
	} {
		e := expect(t, h.do("GET", "/api/v1/grants?"+c.query, admin, nil), http.StatusBadRequest, c.query)
		if !e.hasField(c.field) {
			t.Errorf("%s: details %v", c.query, e.Details)
		}
	}
}

// TestHostileBodies throws bodies no client should send at every write
// endpoint: none may answer 500, every refusal has the error shape, and
// nothing is created.
func TestHostileBodies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, chair, verifier := h.token("admin"), h.token("chairA"), h.token("verifier")
	draft := h.grantIn(t, h.prog, h.groupA, workflow.Draft)
	review := h.grantIn(t, h.prog, h.groupB, workflow.InReview)

	mb := strings.Repeat("ä", 1<<19) // 1 MiB of UTF-8
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	deepObj := strings.Repeat(`{"a":`, 20_000) + "1" + strings.Repeat("}", 20_000)
	generic := []string{
		`null`, `[]`, `[[[[[[]]]]]]`, deep, deepObj, `"text"`, `-1`, `1e400`, `true`, `{}`,
		`{"":""}`, `{"a":` + mb + `}`, `{"name":"` + mb + `"}`, "\xff\xfe\x00\x01", `{"name":"\u0000"}`,
		`{"name":"` + "\xc3\x28" + `"}`, `{"id":-1}`, `{"id":1e400}`, `{"__proto__":{}}`,
		`{"name":null,"year":null,"budget_total":null}`,
	}
	// program returns a valid programme with the fields of patch replaced.
	program := func(patch string) string {
		b, _ := json.Marshal(programInput("Program uji", 1_000_000_000))
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		var p map[string]json.RawMessage
		if err := json.Unmarshal([]byte(`{`+patch+`}`), &p); err != nil {
			// Not valid JSON on its own (1e400 is, overflow is): splice as text.
			return `{` + patch + `,` + string(b[1:])
		}
		for k, v := range p {
			m[k] = v
		}
		out, _ := json.Marshal(m)
		return string(out)
	}
	group := func(mut func(*workflow.Group)) string {
		g := validGroup(workflow.KKG, "KKG MI Kecamatan Hostile", "Kota Bandung", 15)
		mut(&g)
		b, _ := json.Marshal(g)
		return string(b)
	}
	proposal := func(mut func(*workflow.Proposal)) string {
		p := demo.Proposal(workflow.KKG, proposalStart)
		mut(&p)
		b, _ := json.Marshal(p)
		return string(b)
	}

	type target struct {
		method, path, token string
		bodies              []string
		mayAccept           func(body string) bool // a draft may be saved empty
	}
	targets := []target{
		{"POST", "/api/v1/session", "", []string{
			`{"email":"\u0000","password":"\u0000"}`, `{"email":"` + mb + `","password":"x"}`,
			`{"email":"a@b.c","password":"` + strings.Repeat("p", 100_000) + `"}`, `{"email":["a"],"password":{}}`,
		}, nil},
		{"POST", "/api/v1/programs", admin, []string{
			program(`"budget_total":-5`), program(`"budget_total":9223372036854775807`),
			program(`"budget_total":1e400`), program(`"year":-2026`), program(`"year":99999999999`),
			program(`"ceilings":{"KKG":-1,"XYZ":5,"":0}`), program(`"ceilings":{"KKG":9223372036854775807}`),
			program(`"tranche_percents":[100,100,-100,1e400]`), program(`"tranche_percents":[1,1,1,1,1,1,1,1,1,1]`),
			program(`"activity_rules":{"KKG":{"in":-1,"on":2147483648}}`),
			program(`"activity_rules":{"KKG":{"in":9223372036854775807,"on":9223372036854775807}}`),
			program(`"categories":[{"code":"\u0000","name":"\u0000","cap_percent":-1}]`),
			program(`"categories":[{"code":"ok","name":"Nama \u0000 kategori","cap_percent":10}]`),
			program(`"tax_rates":{"ppn_bps":-1,"pph21_bps":99999999}`),
			program(`"at_risk_after_days":-1,"dormant_after_days":9223372036854775807`),
			program(`"proposal_opens_on":"0000-01-01"`), program(`"report_due_on":"2025-01-01","activity_ends_on":"0001-01-01"`),
			program(`"name":"Program \u0000 NUL"`),
			program(`"name":"` + mb + `"`),
		}, nil},
		{"POST", "/api/v1/groups", admin, []string{
			group(func(g *workflow.Group) { g.Members = nil }),
			group(func(g *workflow.Group) { g.Members = append(g.Members, g.Members...) }),
			group(func(g *workflow.Group) {
				for len(g.Members) < 5000 {
					g.Members = append(g.Members, g.Members[len(g.Members)-1])
				}
			}),
			group(func(g *workflow.Group) { g.Name = "KKG \u0000 nol" }),
			group(func(g *workflow.Group) { g.Members[3].Name = "Nama\u0000" }),
			group(func(g *workflow.Group) { g.Members[3].NIP = strings.Repeat("9", 5000) }),
			group(func(g *workflow.Group) { g.Kind = "kkg"; g.Level = "mi"; g.Members[0].Position = "KETUA" }),
			group(func(g *workflow.Group) { g.BankAccountNumber = "-1"; g.NPWP = "1e400" }),
			group(func(g *workflow.Group) { g.Name = mb; g.BankAccountName = "KKG " + mb }),
			`{"members":[[[]]]}`, `{"members":{"0":{}}}`, `{"remote":"yes"}`,
		}, nil},
		{"POST", "/api/v1/users", admin, []string{
			`{"email":"x@y.z","name":"X","password":"rahasia-123","roles":["superuser"]}`,
			`{"email":"x@y.z","name":"X","password":"rahasia-123","roles":[]}`,
			`{"email":"x@y.z","name":"X","password":"rahasia-123","roles":[null]}`,
			`{"email":"x@y.z","name":"X","password":"rahasia-123","roles":["chair"],"group_id":-9223372036854775808}`,
			`{"email":"x@y.z","name":"X","password":"rahasia-123","roles":["chair"],"group_id":999999999}`,
			`{"email":"x\u0000@y.z","name":"X\u0000","password":"rahasia-\u0000-123","roles":["admin"]}`,
			`{"email":"x@y.z","name":"X","password":"` + strings.Repeat("p", 10_000) + `","roles":["admin"]}`,
			`{"email":"x@y.z","name":"X","password":"rahasia-123","roles":["verifier"],"province":"\u0000"}`,
			`{"email":"` + mb + `","name":"X","password":"rahasia-123","roles":["admin"]}`,
		}, nil},
		{"POST", "/api/v1/grants", chair, []string{
			`{"program_id":-1,"group_id":-1}`, `{"program_id":1e400}`, `{"program_id":9223372036854775807,"group_id":9223372036854775807}`,
			fmt.Sprintf(`{"program_id":%d,"group_id":%d}`, h.prog.ID, h.groupB.ID),
			`{"program_id":"1","group_id":"1"}`,
		}, nil},
		{"PUT", fmt.Sprintf("/api/v1/grants/%d/proposal", draft.ID), chair, []string{
			proposal(func(p *workflow.Proposal) {
				p.Budget[0].Quantity, p.Budget[0].UnitPrice = 9223372036854775807, 9223372036854775807
			}),
			proposal(func(p *workflow.Proposal) { p.Budget[0].Quantity, p.Budget[0].UnitPrice = -1, -9223372036854775808 }),
			proposal(func(p *workflow.Proposal) { p.Budget[0].Category = "tidak_ada" }),
			proposal(func(p *workflow.Proposal) { p.Budget[0].Category = "\u0000" }),
			proposal(func(p *workflow.Proposal) { p.Background = "latar \u0000 belakang" }),
			proposal(func(p *workflow.Proposal) { p.Activities[0].Title = "In \u0000" }),
			proposal(func(p *workflow.Proposal) { p.Background = mb }),
			proposal(func(p *workflow.Proposal) {
				p.Activities[0].Kind = "sideways"
				p.Activities[1].PlannedParticipants = -5
			}),
			proposal(func(p *workflow.Proposal) { p.Activities[0].PlannedParticipants = 2147483647 * 4 }),
			proposal(func(p *workflow.Proposal) { p.Activities[0].PlannedOn = workflow.MustDate("0000-01-01") }),
			proposal(func(p *workflow.Proposal) {
				for len(p.Activities) < 1000 {
					p.Activities = append(p.Activities, p.Activities[0])
				}
			}),
			proposal(func(p *workflow.Proposal) {
				for len(p.Budget) < 5000 {
					p.Budget = append(p.Budget, p.Budget[0])
				}
			}),
			`{"activities":[{"kind":"in","planned_on":"2026-13-01"}]}`,
			`{"budget":[{"quantity":1e400}]}`,
			`{"budget":[[["konsumsi"]]]}`,
			`{"activities":null,"budget":null,"background":null}`,
		}, func(body string) bool { return body == `{}` || strings.HasPrefix(body, `{"activities":null`) }},
		{"POST", fmt.Sprintf("/api/v1/grants/%d/actions/recommend", review.ID), verifier, []string{
			`{"comment":"ok","approved_amount":-1}`,
			`{"comment":"ok","approved_amount":9223372036854775807}`,
			`{"comment":"ok","approved_amount":-9223372036854775808}`,
			`{"comment":"ok","approved_amount":1e400}`,
			`{"comment":"ok","approved_amount":1000.5}`,
			`{"comment":"ok","approved_amount":"1000"}`,
			`{"comment":"` + mb + `","approved_amount":1000}`,
			`{"comment":"\u0000","approved_amount":1000000000}`,
			`{"comment":"ok","approved_amount":1000,"expected_state":"\u0000"}`,
			`{"comment":"ok","approved_amount":1000,"expected_state":"` + mb + `"}`,
		}, nil},
	}
	for _, tg := range targets {
		for i, body := range append(slices.Clone(generic), tg.bodies...) {
			what := fmt.Sprintf("%s %s body %d (%s)", tg.method, tg.path, i, truncateString(body, 60))
			r := h.do(tg.method, tg.path, tg.token, body)
			if r.status >= 500 {
				t.Errorf("%s: status %d %s", what, r.status, truncate(r.body))
				continue
			}
			if r.status < 400 && (tg.mayAccept == nil || !tg.mayAccept(body)) {
				t.Errorf("%s: accepted with %d: %s", what, r.status, truncate(r.body))
				continue
			}
			if r.status >= 400 {
				r.apiErr(t)
			}
		}
	}

	// Nothing was created or changed by any of it.
	if n := len(h.programs(t)); n != 1 {
		t.Errorf("programmes: %d, want 1", n)
	}
	gs, err := h.svc.Groups(t.Context(), grants.System)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 2 {
		t.Errorf("groups: %d, want 2", len(gs))
	}
	if got := h.getGrant(t, "admin", draft.ID); got.State != workflow.Draft || len(got.Budget) != 0 || len(got.Activities) != 0 {
		t.Errorf("draft changed: %+v", got)
	}
	if got := h.getGrant(t, "admin", review.ID); got.State != workflow.InReview || got.AmountApproved != 0 {
		t.Errorf("grant in review changed: %+v", got)
	}
	// The server still answers normally afterwards.
	expect(t, h.do("GET", "/api/v1/grants", admin, nil), 200, "after the storm")
}

func truncateString(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
