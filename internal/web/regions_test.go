package web

import (
	"net/http"
	"testing"
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
