package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"grantflow/internal/grants"
	"grantflow/workflow"
)

func TestRegions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	e := expect(t, h.do("GET", "/api/v1/regions", "", nil), http.StatusUnauthorized, "regions without a session")
	if e.Code != "unauthorized" {
		t.Fatalf("code %q", e.Code)
	}

	// Any signed-in person gets the list: a chair fills in forms too.
	r := h.do("GET", "/api/v1/regions", h.token("chairA"), nil)
	expect(t, r, http.StatusOK, "regions")
	var out struct {
		Items []struct {
			Code      string `json:"code"`
			Name      string `json:"name"`
			Regencies []struct {
				Code         string `json:"code"`
				Name         string `json:"name"`
				ProvinceCode string `json:"province_code"`
			} `json:"regencies"`
		} `json:"items"`
		Total int `json:"total"`
	}
	r.decode(t, &out)
	if len(out.Items) != 38 || out.Total != 38 {
		t.Fatalf("%d provinces, total %d; want 38", len(out.Items), out.Total)
	}
	n := 0
	var bogor bool
	for _, p := range out.Items {
		if p.Code == "" || p.Name == "" {
			t.Fatalf("province without code or name: %+v", p)
		}
		for _, g := range p.Regencies {
			n++
			if g.ProvinceCode != p.Code {
				t.Fatalf("regency %s %s under province %s", g.Code, g.Name, p.Code)
			}
			bogor = bogor || (p.Code == "32" && p.Name == "Jawa Barat" && g.Code == "32.71" && g.Name == "Kota Bogor")
		}
	}
	if n != 514 {
		t.Fatalf("%d regencies, want 514", n)
	}
	if !bogor {
		t.Fatal("Kota Bogor (32.71) is not listed under Jawa Barat (32)")
	}
	if cc := r.header.Get("Cache-Control"); cc != "private, max-age=3600" {
		t.Errorf("Cache-Control %q", cc)
	}
}

// A group's region is matched against the official list whatever its case
// and spacing, stored by code and shown as the list spells it; scope checks
// compare codes, so the Kota Bogor verifier sees a group typed "kota bogor".
func TestGroupRegionsByCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.token("admin")
	body := func(province, regency string, n int) map[string]any {
		g := validGroup(workflow.KKG, fmt.Sprintf("KKG MI Kecamatan Bogor Tengah %d", n), "", 15)
		var m map[string]any
		b, _ := json.Marshal(g)
		_ = json.Unmarshal(b, &m)
		delete(m, "id")
		delete(m, "created_at")
		m["province"], m["regency"] = province, regency
		return m
	}
	type region struct {
		ID           int64  `json:"id"`
		Province     string `json:"province"`
		Regency      string `json:"regency"`
		ProvinceCode string `json:"province_code"`
		RegencyCode  string `json:"regency_code"`
	}
	bogor := region{Province: "Jawa Barat", Regency: "Kota Bogor", ProvinceCode: "32", RegencyCode: "32.71"}

	r := h.do("POST", "/api/v1/groups", admin, body("jawa barat ", "kota bogor", 1))
	expect(t, r, http.StatusCreated, "typed region")
	var got region
	r.decode(t, &got)
	if want := (region{ID: got.ID, Province: bogor.Province, Regency: bogor.Regency, ProvinceCode: "32", RegencyCode: "32.71"}); got != want {
		t.Fatalf("stored %+v, want %+v", got, want)
	}
	// The same by codes, in either form.
	r = h.do("POST", "/api/v1/groups", admin, body("32", "3271", 2))
	expect(t, r, http.StatusCreated, "region by code")
	var byCode region
	r.decode(t, &byCode)
	if byCode.Province != "Jawa Barat" || byCode.Regency != "Kota Bogor" || byCode.RegencyCode != "32.71" {
		t.Fatalf("by code %+v", byCode)
	}

	// Scope by code: the Kota Bogor and Jawa Barat verifiers see it, Kota
	// Bandung's auditor and Jawa Timur's verifier do not.
	for who, want := range map[string]int{"verifier_bogor": 200, "verifier": 200, "admin": 200, "auditor": 404, "verifier_out": 404} {
		r := h.do("GET", fmt.Sprintf("/api/v1/groups/%d", got.ID), h.token(who), nil)
		if r.status != want {
			t.Fatalf("%s: GET group %d, want %d: %s", who, r.status, want, truncate(r.body))
		}
		if want == 200 {
			var seen region
			r.decode(t, &seen)
			if seen != got {
				t.Fatalf("%s sees %+v, want %+v", who, seen, got)
			}
		}
	}
	var list struct {
		Items []region `json:"items"`
	}
	h.do("GET", "/api/v1/groups", h.token("verifier_bogor"), nil).decode(t, &list)
	if len(list.Items) != 2 || list.Items[0].RegencyCode != "32.71" || list.Items[1].RegencyCode != "32.71" {
		t.Fatalf("Kota Bogor verifier lists %+v", list.Items)
	}
	if v := h.user("verifier_bogor").view; v.Province != "Jawa Barat" || v.Regency != "Kota Bogor" || v.ProvinceCode != "32" || v.RegencyCode != "32.71" {
		t.Fatalf("verifier scope stored as %+v", v)
	}

	// Anything else is 422 on the field, with a suggestion when one is
	// near, and writes nothing.
	var before int
	if err := h.db.SQL().QueryRow(`SELECT count(*) FROM groups`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		province, regency, field, msg string
	}{
		{"Atlantis", "Kota Bogor", "province", `provinsi "Atlantis" tidak ada dalam daftar Kemendagri`},
		{"Jawa Barta", "Kota Bogor", "province", "maksud Anda: Jawa Barat?"},
		{"Jawa Barat", "Kota Bogr", "regency", "maksud Anda: Kota Bogor?"},
		{"Jawa Tengah", "Kota Bogor", "regency", "tidak berada di provinsi Jawa Tengah, melainkan di provinsi Jawa Barat"},
		{"Jawa Barat", "Kota Atlantis", "regency", `"Kota Atlantis" tidak ada di provinsi Jawa Barat`},
		{"Jawa Barat", "Bogor", "regency", "Kabupaten Bogor atau Kota Bogor"},
		{"", "", "province", "Provinsi wajib diisi"},
	} {
		e := expect(t, h.do("POST", "/api/v1/groups", admin, body(c.province, c.regency, 3)), http.StatusUnprocessableEntity, c.province+"/"+c.regency)
		found := false
		for _, d := range e.Details {
			found = found || d.Field == c.field && strings.Contains(d.Message, c.msg)
		}
		if !found {
			t.Errorf("%s/%s: no %s detail with %q in %+v", c.province, c.regency, c.field, c.msg, e.Details)
		}
	}
	var after int
	if err := h.db.SQL().QueryRow(`SELECT count(*) FROM groups`).Scan(&after); err != nil || after != before {
		t.Fatalf("refused groups wrote rows: %d → %d (%v)", before, after, err)
	}

	// Staff scopes match the same way; a scope outside the list is 422.
	u := h.do("POST", "/api/v1/users", admin, map[string]any{"email": "verif.garut@uji.grantflow.id", "name": "Verifikator Garut",
		"password": "kata-sandi-baru", "roles": []string{"verifier"}, "province": "jawa  BARAT", "regency": "kab. garut"})
	expect(t, u, http.StatusCreated, "scoped user")
	var uv grants.UserView
	u.decode(t, &uv)
	if uv.Province != "Jawa Barat" || uv.Regency != "Kabupaten Garut" || uv.ProvinceCode != "32" || uv.RegencyCode != "32.05" {
		t.Fatalf("user scope %+v", uv)
	}
	e := expect(t, h.do("POST", "/api/v1/users", admin, map[string]any{"email": "verif.x@uji.grantflow.id", "name": "X",
		"password": "kata-sandi-baru", "roles": []string{"verifier"}, "province": "Atlantis"}), http.StatusUnprocessableEntity, "scope Atlantis")
	if !e.hasField("province") {
		t.Fatalf("Atlantis scope: %+v", e.Details)
	}

	// Filters take a name or a code; an unknown one is 422.
	for _, q := range []string{"?province=32", "?province=jawa%20barat", "?province=Jawa%20Barat"} {
		expect(t, h.do("GET", "/api/v1/grants"+q, h.token("verifier"), nil), http.StatusOK, "grants"+q)
	}
	expect(t, h.do("GET", "/api/v1/grants?province=Atlantis", admin, nil), http.StatusUnprocessableEntity, "grants in Atlantis")
	expect(t, h.do("GET", "/api/v1/monitoring?province=32&regency=kota%20bogor", h.token("verifier"), nil), http.StatusOK, "monitoring by region")
	expect(t, h.do("GET", "/api/v1/monitoring?province=Jawa%20Tengah&regency=Kota%20Bogor", h.token("verifier"), nil), http.StatusUnprocessableEntity, "monitoring, regency outside province")
}

// The admin pages offer regions by code from the official list and show a
// region the list lacks, or a group registered already, beside its field.
func TestPageAdminRegionsAndRepeats(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.client(t)
	p.login("admin")
	want(t, p.get("/admin/kelompok"), 200, `<option value="32">Jawa Barat</option>`, `<optgroup label="Jawa Barat">`,
		`<option value="32.71">Kota Bogor</option>`, `<option>MTs</option>`)
	want(t, p.get("/admin/pengguna"), 200, `<option value="35">Jawa Timur</option>`, `<option value="35.79">Kota Batu</option>`)

	g := validGroup(workflow.KKG, "KKG MI Kecamatan Tanah Sareal", "", 15)
	var members strings.Builder
	for _, m := range g.Members {
		fmt.Fprintf(&members, "%s; %s; %s; %s\n", m.Name, m.NIP, m.Madrasah, m.Position)
	}
	form := url.Values{"kind": {"KKG"}, "name": {g.Name}, "level": {"MI"}, "province": {"Jawa Tengah"}, "regency": {"32.71"},
		"sk_number": {h.groupA.SKNumber}, "bank_name": {g.BankName}, "bank_account_number": {g.BankAccountNumber},
		"bank_account_name": {g.BankAccountName}, "members": {members.String()}}
	want(t, p.post("/admin/kelompok", form), http.StatusUnprocessableEntity, `aria-describedby="regency-galat"`,
		`<p class="galat" id="regency-galat">Kabupaten/kota &#34;Kota Bogor&#34; tidak berada di provinsi Jawa Tengah, melainkan di provinsi Jawa Barat</p>`,
		`<option value="33" selected>Jawa Tengah</option>`)
	form.Set("province", "32")
	want(t, p.post("/admin/kelompok", form), http.StatusConflict, `id="sk-number-galat"`, "Sudah terdaftar pada kelompok &#34;"+h.groupA.Name,
		`<option value="32" selected>Jawa Barat</option>`, `<option value="32.71" selected>Kota Bogor</option>`)
	form.Set("sk_number", "B-9/Kk.10.71/PP.00/2026")
	want(t, p.post("/admin/kelompok", form), http.StatusSeeOther)
	want(t, p.get("/admin/kelompok"), 200, "Kota Bogor, Jawa Barat")
}
