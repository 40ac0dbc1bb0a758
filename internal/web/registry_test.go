package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"grantflow/workflow"
)

func TestPrograms(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.token("admin")

	t.Run("defaults when omitted", func(t *testing.T) {
		h := h.in(t)
		r := h.do("POST", "/api/v1/programs", admin, map[string]any{
			"name": "Bantuan KKG/MGMP 2026", "year": 2026, "proposal_opens_on": "2026-02-01", "proposal_closes_on": "2026-04-30",
			"activity_ends_on": "2026-10-31", "report_due_on": "2026-11-30", "budget_total": 2_000_000_000,
			"ceilings": map[string]int64{"KKG": 20_000_000}, // one kind set, the others default
		})
		expect(t, r, http.StatusCreated, "create programme")
		var p workflow.Program
		r.decode(t, &p)
		if p.ID == 0 || p.Name != "Bantuan KKG/MGMP 2026" || p.BudgetTotal != 2_000_000_000 || p.ProposalOpensOn.String() != "2026-02-01" {
			t.Fatalf("programme = %+v", p)
		}
		wantCeil := map[workflow.Kind]int64{workflow.KKG: 20_000_000, workflow.MGMP: 30_000_000, workflow.MGBK: 30_000_000, workflow.KKM: 30_000_000, workflow.POKJAWAS: 30_000_000}
		for k, v := range wantCeil {
			if p.Ceilings[k] != v {
				t.Errorf("ceiling %s = %d, want %d", k, p.Ceilings[k], v)
			}
		}
		for k, want := range map[workflow.Kind]workflow.ActivityRule{workflow.KKG: {In: 3, On: 2}, workflow.MGMP: {In: 3, On: 2}, workflow.MGBK: {In: 3, On: 2}, workflow.KKM: {In: 5, On: 2}, workflow.POKJAWAS: {In: 5, On: 2}} {
			if p.ActivityRules[k] != want {
				t.Errorf("activity rule %s = %+v, want %+v", k, p.ActivityRules[k], want)
			}
		}
		if !slices.Equal(p.TranchePercents, []int{70, 30}) {
			t.Errorf("tranches %v", p.TranchePercents)
		}
		var codes []string
		for _, c := range p.Categories {
			codes = append(codes, c.Code)
			if c.Code == "honorarium" && c.CapPercent != 30 {
				t.Errorf("honorarium cap %d", c.CapPercent)
			}
		}
		if want := []string{"konsumsi", "honorarium", "transport", "atk_bahan", "penggandaan", "sewa", "dokumentasi"}; !slices.Equal(codes, want) {
			t.Errorf("categories %v, want %v", codes, want)
		}
		if p.TaxRates.PPN != 1100 || p.TaxRates.PPh22 != 150 || p.TaxRates.PPh23 != 200 {
			t.Errorf("tax rates %+v", p.TaxRates)
		}
		if p.AtRiskAfterDays != 45 || p.DormantAfterDays != 90 {
			t.Errorf("monitoring %d/%d", p.AtRiskAfterDays, p.DormantAfterDays)
		}

		// It reads back the same, for every signed-in role.
		for _, who := range []string{"admin", "chairA", "verifier_out"} {
			r := h.do("GET", fmt.Sprintf("/api/v1/programs/%d", p.ID), h.token(who), nil)
			expect(t, r, 200, "read programme as "+who)
			var back workflow.Program
			r.decode(t, &back)
			if back.ID != p.ID || back.Ceilings[workflow.KKG] != 20_000_000 || len(back.Categories) != 7 {
				t.Fatalf("%s reads %+v", who, back)
			}
		}
		r = h.do("GET", "/api/v1/programs", h.token("chairA"), nil)
		expect(t, r, 200, "list")
		var list struct {
			Items []workflow.Program `json:"items"`
			Total int                `json:"total"`
		}
		r.decode(t, &list)
		if list.Total != 2 || len(list.Items) != 2 {
			t.Fatalf("list total %d items %d", list.Total, len(list.Items))
		}
	})

	t.Run("every problem at once", func(t *testing.T) {
		h := h.in(t)
		r := h.do("POST", "/api/v1/programs", admin, map[string]any{
			"name": " ", "year": 1999, "proposal_opens_on": "2026-05-01", "proposal_closes_on": "2026-04-01",
			"budget_total": -1, "tranche_percents": []int{60, 30}, "ceilings": map[string]int64{"KKG": 0, "XYZ": 1},
			"categories": []map[string]any{{"code": "Konsumsi", "name": "K"}, {"code": "sewa", "name": ""}},
			"tax_rates":  map[string]int{"ppn_bps": 20000}, "at_risk_after_days": 100, "dormant_after_days": 50,
		})
		e := expect(t, r, http.StatusUnprocessableEntity, "invalid programme")
		if e.Code != "unprocessable" {
			t.Fatalf("code %q", e.Code)
		}
		for _, f := range []string{"name", "year", "proposal_closes_on", "activity_ends_on", "report_due_on", "budget_total",
			"ceilings.KKG", "ceilings.XYZ", "tranche_percents", "categories[0].code", "categories[1].name", "tax_rates.ppn_bps", "dormant_after_days"} {
			if !e.hasField(f) {
				t.Errorf("no detail for %s in %v", f, e.fields())
			}
		}
	})

	t.Run("admin only", func(t *testing.T) {
		h := h.in(t)
		body := programInput("Program staf", 1_000_000)
		for _, who := range []string{"verifier", "approver", "chairA"} {
			if e := expect(t, h.do("POST", "/api/v1/programs", h.token(who), body), http.StatusForbidden, who+" creates programme"); e.Code != "forbidden" {
				t.Fatalf("code %q", e.Code)
			}
		}
	})
}

// groupJSON marshals g after mut changes it.
func groupJSON(g workflow.Group, mut func(*workflow.Group)) workflow.Group {
	b, _ := json.Marshal(g)
	var c workflow.Group
	_ = json.Unmarshal(b, &c)
	if mut != nil {
		mut(&c)
	}
	return c
}

func TestGroups(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.token("admin")

	base := func(kind workflow.Kind, n int) workflow.Group {
		return validGroup(kind, fmt.Sprintf("%s Uji %d", kind, n), "Kota Bandung", n)
	}
	cases := []struct {
		name   string
		g      workflow.Group
		want   int
		fields []string // detail fields expected on 422
	}{
		{"KKG 15", base(workflow.KKG, 15), 201, nil},
		{"KKG 30", base(workflow.KKG, 30), 201, nil},
		{"KKG 14", base(workflow.KKG, 14), 422, []string{"members"}},
		{"KKG 31", base(workflow.KKG, 31), 422, []string{"members"}},
		{"KKG remote 10", groupJSON(base(workflow.KKG, 10), func(g *workflow.Group) { g.Remote = true }), 201, nil},
		{"MGBK remote 9", groupJSON(base(workflow.MGBK, 9), func(g *workflow.Group) { g.Remote = true }), 422, []string{"members"}},
		{"KKM 10", base(workflow.KKM, 10), 201, nil},
		{"KKM 9", base(workflow.KKM, 9), 422, []string{"members"}},
		{"POKJAWAS 10", base(workflow.POKJAWAS, 10), 201, nil},
		{"MGMP 14", base(workflow.MGMP, 14), 422, []string{"members"}},
		{"NIP format", groupJSON(base(workflow.KKG, 15), func(g *workflow.Group) {
			g.Members[4].NIP = "12345678901234567"              // 17 digits
			g.Members[5].NIP = "19800101200501100X"             // not digits
			g.Members[6].NIP = g.Members[7].NIP                 // duplicate
			g.Members[8].NIP, g.Members[8].SimpatikaID = "", "" // no identity at all
		}), 422, []string{"members[4].nip", "members[5].nip", "members[7].nip", "members[8].simpatika_id"}},
		{"NIP written with dots and spaces", groupJSON(base(workflow.KKG, 15), func(g *workflow.Group) {
			g.Members[4].NIP = "19800101 200501 1 004"
		}), 201, nil},
		{"two ketua, no bendahara", groupJSON(base(workflow.KKG, 15), func(g *workflow.Group) {
			g.Members[1].Position = workflow.PosKetua
			g.Members[2].Position = workflow.PosAnggota
		}), 422, []string{"members"}},
		{"bank account in a person's name", groupJSON(base(workflow.KKG, 15), func(g *workflow.Group) {
			g.BankAccountName = "Ahmad Hidayat"
			g.BankAccountNumber = "12ab"
		}), 422, []string{"bank_account_name", "bank_account_number"}},
		{"everything missing", workflow.Group{}, 422, []string{"kind", "name", "level", "province", "regency", "sk_number", "bank_name", "bank_account_number", "bank_account_name", "members"}},
	}
	for _, c := range cases {
		r := h.do("POST", "/api/v1/groups", admin, c.g)
		if r.status != c.want {
			t.Errorf("%s: status %d, want %d: %s", c.name, r.status, c.want, truncate(r.body))
			continue
		}
		if c.want == 201 {
			var g workflow.Group
			r.decode(t, &g)
			if g.ID == 0 || len(g.Members) != len(c.g.Members) {
				t.Errorf("%s: created %+v", c.name, g)
			}
			for i, m := range g.Members {
				if m.ID == 0 {
					t.Errorf("%s: member %d has no id", c.name, i)
				}
			}
			continue
		}
		e := r.apiErr(t)
		for _, f := range c.fields {
			if !e.hasField(f) {
				t.Errorf("%s: no detail for %s in %v", c.name, f, e.fields())
			}
		}
		if c.name == "two ketua, no bendahara" {
			msgs := fmt.Sprint(e.Details)
			if !strings.Contains(msgs, "ketua") || !strings.Contains(msgs, "bendahara") {
				t.Errorf("ketua/bendahara not both reported: %v", e.Details)
			}
		}
	}

	// A verifier may register groups inside their region only.
	inside := validGroup(workflow.KKG, "KKG MI Kecamatan Lembang", "Kabupaten Bandung Barat", 15)
	expect(t, h.do("POST", "/api/v1/groups", h.token("verifier"), inside), http.StatusCreated, "verifier inside scope")
	outside := groupJSON(inside, func(g *workflow.Group) {
		g.Province, g.Regency, g.Name, g.BankAccountName = "Jawa Timur", "Kota Batu", "KKG MI Kecamatan Batu", "KKG MI Kecamatan Batu"
	})
	if e := expect(t, h.do("POST", "/api/v1/groups", h.token("verifier"), outside), http.StatusForbidden, "verifier outside scope"); e.Code != "forbidden" {
		t.Fatalf("code %q", e.Code)
	}
	for _, who := range []string{"approver", "chairA", "finance"} {
		expect(t, h.do("POST", "/api/v1/groups", h.token(who), inside), http.StatusForbidden, who+" creates a group")
	}

	// Reading: a chair sees only their own group; scoped staff only theirs.
	expect(t, h.do("GET", fmt.Sprintf("/api/v1/groups/%d", h.groupA.ID), h.token("chairA"), nil), 200, "own group")
	expect(t, h.do("GET", fmt.Sprintf("/api/v1/groups/%d", h.groupB.ID), h.token("chairA"), nil), http.StatusNotFound, "other group")
	expect(t, h.do("GET", fmt.Sprintf("/api/v1/groups/%d", h.groupA.ID), h.token("verifier_out"), nil), http.StatusNotFound, "out of scope")
	var list struct {
		Items []workflow.Group `json:"items"`
		Total int              `json:"total"`
	}
	r := h.do("GET", "/api/v1/groups", h.token("chairA"), nil)
	expect(t, r, 200, "chair lists groups")
	r.decode(t, &list)
	if list.Total != 1 || list.Items[0].ID != h.groupA.ID {
		t.Fatalf("chair sees %+v", list)
	}
	r = h.do("GET", "/api/v1/groups", h.token("verifier_out"), nil)
	r.decode(t, &list)
	if list.Total != 0 {
		t.Fatalf("verifier of Jawa Timur sees %d groups", list.Total)
	}
}

func TestUsers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.token("admin")

	r := h.do("POST", "/api/v1/users", admin, map[string]any{"email": "Staf.Baru@Uji.Grantflow.ID", "name": "Staf Baru",
		"password": "kata-sandi-baru", "roles": []string{"verifier", "auditor"}, "province": "Jawa Barat", "regency": "Kota Bandung"})
	expect(t, r, http.StatusCreated, "create user")
	var u map[string]any
	r.decode(t, &u)
	if u["email"] != "staf.baru@uji.grantflow.id" || u["province"] != "Jawa Barat" || u["id"] == nil {
		t.Fatalf("user = %v", u)
	}
	if strings.Contains(string(r.body), "password") || strings.Contains(string(r.body), "argon2") {
		t.Fatalf("answer shows the password: %s", r.body)
	}

	// The same address in another spelling is taken.
	r = h.do("POST", "/api/v1/users", admin, map[string]any{"email": "staf.baru@uji.grantflow.id", "name": "Lain",
		"password": "kata-sandi-lain", "roles": []string{"approver"}})
	if e := expect(t, r, http.StatusConflict, "duplicate email"); e.Code != "conflict" {
		t.Fatalf("code %q", e.Code)
	}

	for _, c := range []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"chair and verifier", map[string]any{"email": "campur@uji.id", "name": "Campur", "password": "kata-sandi-123",
			"roles": []string{"chair", "verifier"}, "group_id": h.groupA.ID}, []string{"roles"}},
		{"treasurer and admin", map[string]any{"email": "campur2@uji.id", "name": "Campur", "password": "kata-sandi-123",
			"roles": []string{"treasurer", "admin"}, "group_id": h.groupA.ID}, []string{"roles"}},
		{"chair and treasurer", map[string]any{"email": "campur3@uji.id", "name": "Campur", "password": "kata-sandi-123",
			"roles": []string{"chair", "treasurer"}, "group_id": h.groupA.ID}, []string{"roles"}},
		{"chair without group", map[string]any{"email": "ketua@uji.id", "name": "Ketua", "password": "kata-sandi-123",
			"roles": []string{"chair"}}, []string{"group_id"}},
		{"chair of a missing group", map[string]any{"email": "ketua@uji.id", "name": "Ketua", "password": "kata-sandi-123",
			"roles": []string{"chair"}, "group_id": 999999}, []string{"group_id"}},
		{"staff with a group", map[string]any{"email": "staf@uji.id", "name": "Staf", "password": "kata-sandi-123",
			"roles": []string{"verifier"}, "group_id": h.groupA.ID}, []string{"group_id"}},
		{"everything wrong", map[string]any{"email": "bukan email", "name": "", "password": "pendek",
			"roles": []string{"superuser", "admin", "admin"}, "regency": "Kota Bandung"}, []string{"email", "name", "password", "roles", "regency"}},
	} {
		r := h.do("POST", "/api/v1/users", admin, c.body)
		e := expect(t, r, http.StatusUnprocessableEntity, c.name)
		for _, f := range c.fields {
			if !e.hasField(f) {
				t.Errorf("%s: no detail for %s in %v", c.name, f, e.fields())
			}
		}
	}

	// Only an admin creates users.
	body := map[string]any{"email": "x@uji.id", "name": "X", "password": "kata-sandi-123", "roles": []string{"admin"}}
	for _, who := range []string{"verifier", "approver", "chairA"} {
		if e := expect(t, h.do("POST", "/api/v1/users", h.token(who), body), http.StatusForbidden, who+" creates a user"); e.Code != "forbidden" {
			t.Fatalf("code %q", e.Code)
		}
	}

	// The created person can log in with their roles.
	r = h.do("POST", "/api/v1/session", "", map[string]string{"email": "staf.baru@uji.grantflow.id", "password": "kata-sandi-baru"})
	expect(t, r, http.StatusCreated, "new user logs in")
}

// One group once: the same SK number, the same bank account or more than
// half of the same members (same kind) is 409 naming the group registered
// first to staff who may see it, and only that it exists to anyone else;
// nothing is written.
func TestGroupOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.token("admin")
	first := h.groupA // KKG in Kota Bandung, 16 members
	count := func() int {
		var n int
		if err := h.db.SQL().QueryRow(`SELECT count(*) FROM groups`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// again is a new group (own SK number, account and members) with one
	// thing taken from the first.
	again := func(edit func(*workflow.Group)) workflow.Group {
		g := validGroup(workflow.KKG, "KKG MI Kecamatan Cibiru Lagi", "Kota Bandung", 16)
		edit(&g)
		return g
	}
	before := count()
	for _, c := range []struct {
		name, field string
		g           workflow.Group
	}{
		{"same SK, spaced and lower case", "sk_number", again(func(g *workflow.Group) {
			g.SKNumber = strings.ToLower(strings.ReplaceAll(first.SKNumber, "/", " / "))
		})},
		{"same account, written with dots", "bank_account_number", again(func(g *workflow.Group) {
			a := first.BankAccountNumber
			g.BankAccountNumber = a[:3] + "." + a[3:6] + "-" + a[6:]
		})},
		{"9 of 16 members by NIP", "members", again(func(g *workflow.Group) {
			for i := range 9 {
				g.Members[i+3].NIP = first.Members[i+3].NIP
			}
		})},
		// Half of the new group's 30, but 15 of the first's 16.
		{"15 of the first's 16 in a group of 30", "members", func() workflow.Group {
			g := validGroup(workflow.KKG, "KKG MI Kecamatan Cibiru Raya", "Kota Bandung", 30)
			for i := range 15 {
				g.Members[i+3].NIP = first.Members[i].NIP
			}
			return g
		}()},
	} {
		r := h.do("POST", "/api/v1/groups", admin, c.g)
		e := expect(t, r, http.StatusConflict, c.name)
		if e.Code != "conflict" || !strings.Contains(e.Message, first.Name) || !e.hasField(c.field) {
			t.Errorf("%s: %+v, want the first group named and field %s", c.name, e, c.field)
		}
	}
	if n := count(); n != before {
		t.Fatalf("refused registrations wrote %d groups", n-before)
	}

	// Members known by SIMPATIKA id count the same; a member matching by
	// both ids counts once (7 of 15 twice would be 14).
	bySimpatika := validGroup(workflow.MGBK, "MGBK MA Kota Bandung", "Kota Bandung", 15)
	for i := range bySimpatika.Members {
		bySimpatika.Members[i].SimpatikaID = fmt.Sprintf("32730000%08d", i)
	}
	bySimpatika = h.newGroup(t, bySimpatika)
	twin := validGroup(workflow.MGBK, "MGBK MA Kota Bandung Kembar", "Kota Bandung", 15)
	for i := range 7 {
		twin.Members[i].NIP, twin.Members[i].SimpatikaID = bySimpatika.Members[i].NIP, bySimpatika.Members[i].SimpatikaID
	}
	expect(t, h.do("POST", "/api/v1/groups", admin, twin), http.StatusCreated, "7 of 15 by both ids")
	twin = validGroup(workflow.MGBK, "MGBK MA Kota Bandung Kembar Lagi", "Kota Bandung", 15)
	for i := range 8 {
		twin.Members[i].NIP, twin.Members[i].SimpatikaID = "", bySimpatika.Members[i].SimpatikaID
	}
	e := expect(t, h.do("POST", "/api/v1/groups", admin, twin), http.StatusConflict, "8 of 15 by SIMPATIKA id")
	if !strings.Contains(e.Message, bySimpatika.Name) || !strings.Contains(e.Message, "8 anggota yang sama") {
		t.Fatalf("by SIMPATIKA id: %+v", e)
	}

	// Half the members is not more than half; the same members in a group
	// of another kind are another group.
	half := again(func(g *workflow.Group) {
		for i := range 8 {
			g.Members[i+3].NIP = first.Members[i+3].NIP
		}
	})
	expect(t, h.do("POST", "/api/v1/groups", admin, half), http.StatusCreated, "8 of 16 members")
	kkm := validGroup(workflow.KKM, "KKM MI Kecamatan Cibiru", "Kota Bandung", 16)
	kkm.Members = first.Members
	expect(t, h.do("POST", "/api/v1/groups", admin, kkm), http.StatusCreated, "same members, another kind")

	// A verifier who cannot see the first group learns only that it exists.
	hidden := validGroup(workflow.KKG, "KKG MI Kecamatan Batu", "", 15)
	hidden.Province, hidden.Regency, hidden.SKNumber = "Jawa Timur", "Kota Batu", first.SKNumber
	e = expect(t, h.do("POST", "/api/v1/groups", h.token("verifier_out"), hidden), http.StatusConflict, "duplicate outside scope")
	if strings.Contains(e.Message, first.Name) || strings.Contains(string(mustJSON(t, e)), fmt.Sprint(first.ID)) ||
		!strings.Contains(e.Message, "sudah terdaftar") || !e.hasField("sk_number") {
		t.Fatalf("outside scope: %+v", e)
	}
	// The Jawa Barat verifier may see it, so is told which group.
	seen := validGroup(workflow.KKG, "KKG MI Kecamatan Cibiru Kembar", "Kota Bandung", 15)
	seen.BankAccountNumber = first.BankAccountNumber
	if e := expect(t, h.do("POST", "/api/v1/groups", h.token("verifier"), seen), http.StatusConflict, "duplicate in scope"); !strings.Contains(e.Message, first.Name) {
		t.Fatalf("in scope: %+v", e)
	}
}

// Two registrations of the same group at once: one is 201, the other 409
// (the check and the insert run under one advisory lock).
func TestGroupOnceConcurrent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.token("admin")
	for round := range 3 {
		g := validGroup(workflow.KKG, fmt.Sprintf("KKG MI Kecamatan Serentak %d", round), "Kota Bandung", 15)
		statuses := make(chan int, 2)
		var start sync.WaitGroup
		start.Add(1)
		for range 2 {
			go func() {
				start.Wait()
				statuses <- h.do("POST", "/api/v1/groups", admin, g).status
			}()
		}
		start.Done()
		got := []int{<-statuses, <-statuses}
		slices.Sort(got)
		if got[0] != http.StatusCreated || got[1] != http.StatusConflict {
			t.Fatalf("round %d: statuses %v, want one 201 and one 409", round, got)
		}
	}
	var n int
	if err := h.db.SQL().QueryRow(`SELECT count(*) FROM groups WHERE name LIKE 'KKG MI Kecamatan Serentak %'`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d groups registered (%v), want 3", n, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An e-mail address is one account however its accents were typed: the
// composed "é" and e + U+0301 are the same address (409), and either
// logs in.
func TestUserEmailUnicodeForms(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.token("admin")
	nfc, nfd := "jos\u00e9@uji.grantflow.id", "jose\u0301@uji.grantflow.id"
	body := func(email string) map[string]any {
		return map[string]any{"email": email, "name": "José", "password": "kata-sandi-123", "roles": []string{"auditor"}}
	}
	expect(t, h.do("POST", "/api/v1/users", admin, body(nfc)), 201, "composed é")
	expect(t, h.do("POST", "/api/v1/users", admin, body(nfd)), 409, "decomposed é, the same address")
	expect(t, h.do("POST", "/api/v1/session", "", map[string]string{"email": nfd, "password": "kata-sandi-123"}), 201, "login typed decomposed")
}
