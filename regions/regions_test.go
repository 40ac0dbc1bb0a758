package regions

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// The counts of idn-area-data 4.0.1 (Kemendagri, 2024 list).
func TestCounts(t *testing.T) {
	ps := Provinces()
	if len(ps) != 38 {
		t.Fatalf("%d provinces, want 38", len(ps))
	}
	n := 0
	kab, kota := 0, 0
	for _, p := range ps {
		if len(p.Regencies) == 0 {
			t.Errorf("province %s %s has no regencies", p.Code, p.Name)
		}
		for _, r := range p.Regencies {
			n++
			switch {
			case strings.HasPrefix(r.Name, "Kabupaten "):
				kab++
			case strings.HasPrefix(r.Name, "Kota "):
				kota++
			default:
				t.Errorf("regency %s %q has neither prefix", r.Code, r.Name)
			}
			if r.ProvinceCode != p.Code || !strings.HasPrefix(r.Code, p.Code+".") {
				t.Errorf("regency %s %s listed under province %s", r.Code, r.Name, p.Code)
			}
		}
	}
	if n != 514 || RegencyCount() != 514 {
		t.Fatalf("%d regencies listed, %d indexed; want 514", n, RegencyCount())
	}
	if kab != 416 || kota != 98 {
		t.Fatalf("%d kabupaten and %d kota, want 416 and 98", kab, kota)
	}
	if !slices.IsSortedFunc(ps, func(a, b Province) int { return strings.Compare(a.Code, b.Code) }) {
		t.Fatal("provinces not in code order")
	}
}

// Every official name and code finds itself, and no two regencies of one
// province collide once case, spaces and prefixes are ignored.
func TestEveryNameFindsItself(t *testing.T) {
	for _, p := range Provinces() {
		for _, in := range []string{p.Name, p.Code, strings.ToUpper(p.Name)} {
			got, err := FindProvince(in)
			if err != nil || got.Code != p.Code {
				t.Fatalf("FindProvince(%q) = %s, %v; want %s", in, got.Code, err, p.Code)
			}
		}
		for _, r := range p.Regencies {
			for _, in := range []string{r.Name, r.Code, strings.ReplaceAll(r.Code, ".", ""), strings.ToLower(r.Name)} {
				got, err := FindRegency(p.Code, in)
				if err != nil || got != r {
					t.Fatalf("FindRegency(%s, %q) = %+v, %v; want %+v", p.Code, in, got, err, r)
				}
			}
		}
	}
}

// Callers may change what they get without changing the list.
func TestListsAreCopies(t *testing.T) {
	ps := Provinces()
	ps[0].Name = "diubah"
	ps[0].Regencies[0].Name = "diubah"
	p, _ := ProvinceByCode(ps[0].Code)
	p.Regencies[1].Name = "diubah"
	again := Provinces()
	if again[0].Name == "diubah" || again[0].Regencies[0].Name == "diubah" || again[0].Regencies[1].Name == "diubah" {
		t.Fatal("a caller changed the official list")
	}
}

func TestFindProvince(t *testing.T) {
	for _, c := range []struct {
		in, code string
	}{
		{"Jawa Barat", "32"},
		{"jawa barat ", "32"},    // the case of issue 8
		{"  JAWA   barat", "32"}, // runs of spaces
		{"JawaBarat", "32"},
		{"32", "32"},
		{" 32 ", "32"},
		{"Provinsi Jawa Barat", "32"},
		{"prov. jawa timur", "35"},
		{"DKI Jakarta", "31"},
		{"Daerah Khusus Ibukota Jakarta", "31"},
		{"DIY", "34"},
		{"di yogyakarta", "34"},
		{"NTT", "53"},
		{"papua barat daya", "96"},
	} {
		p, err := FindProvince(c.in)
		if err != nil || p.Code != c.code {
			t.Errorf("FindProvince(%q) = %s %s, %v; want %s", c.in, p.Code, p.Name, err, c.code)
		}
	}

	for _, c := range []struct {
		in      string
		suggest []string
	}{
		{"Jawa Barar", []string{"Jawa Barat"}},
		{"jawa brat", []string{"Jawa Barat"}},
		{"Sulawesi Utama", []string{"Sulawesi Utara"}},
		{"Atlantis", nil}, // nothing near: no misleading suggestion
		{"", nil},
		{"   ", nil},
		{"99", nil},
		{strings.Repeat("jawa ", 100_000), nil}, // long input answers fast, message stays short
	} {
		_, err := FindProvince(c.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("FindProvince(%.20q) = %v, want *Error", c.in, err)
		}
		if e.Field != "province" || !slices.Equal(e.Suggestions, c.suggest) {
			t.Errorf("FindProvince(%.20q): field %q, suggestions %q; want province, %q", c.in, e.Field, e.Suggestions, c.suggest)
		}
		if len(e.Error()) > 300 {
			t.Errorf("message of %d bytes", len(e.Error()))
		}
		if len(c.suggest) > 0 && !strings.HasSuffix(e.Error(), "maksud Anda: "+c.suggest[0]+"?") {
			t.Errorf("FindProvince(%q) message %q lacks the suggestion", c.in, e.Error())
		}
	}
	if _, err := FindProvince(" "); err == nil || err.Error() != "provinsi wajib diisi" {
		t.Errorf("blank province: %v", err)
	}
	if _, err := FindProvince("Atlantis"); err == nil || err.Error() != `provinsi "Atlantis" tidak ada dalam daftar Kemendagri` {
		t.Errorf("unknown province: %v", err)
	}
}

func TestFindRegency(t *testing.T) {
	const jabar, jatim, dki, sulteng, kalsel = "32", "35", "31", "72", "63"
	for _, c := range []struct {
		province, in, code string
	}{
		{jabar, "Kota Bogor", "32.71"},
		{jabar, "kota bogor", "32.71"},       // the case of issue 8
		{jabar, "  KOTA    Bogor ", "32.71"}, // runs of spaces
		{jabar, "Kabupaten Bogor", "32.01"},
		{jabar, "Kab. Bogor", "32.01"},
		{jabar, "kab bogor", "32.01"},
		{jabar, "KAB.BOGOR", "32.01"},
		{jabar, "Kotamadya Bogor", "32.71"},
		{jabar, "Garut", "32.05"}, // no prefix, unique in the province
		{jabar, "Kabupaten Garut", "32.05"},
		{jabar, "32.71", "32.71"},
		{jabar, "3271", "32.71"},
		{dki, "Jakarta Pusat", "31.71"},
		{dki, "Kota Jakarta Pusat", "31.71"},
		{dki, "Kota Administrasi Jakarta Pusat", "31.71"},
		{dki, "kab. kepulauan seribu", "31.01"},
		{sulteng, "Kabupaten Toli Toli", "72.04"},
		{sulteng, "tolitoli", "72.04"},
		{kalsel, "Kota Baru", "63.02"}, // Kabupaten Kotabaru: a name that starts like a prefix
	} {
		r, err := FindRegency(c.province, c.in)
		if err != nil || r.Code != c.code {
			t.Errorf("FindRegency(%s, %q) = %s %s, %v; want %s", c.province, c.in, r.Code, r.Name, err, c.code)
		}
	}

	for _, c := range []struct {
		name, province, in string
		suggest            []string
		elsewhere          string
		message            string
	}{
		{name: "typo", province: jabar, in: "Kota Bogr", suggest: []string{"Kota Bogor"},
			message: `kabupaten/kota "Kota Bogr" tidak ada di provinsi Jawa Barat menurut daftar Kemendagri; maksud Anda: Kota Bogor?`},
		{name: "wrong prefix", province: jabar, in: "Kota Garut", suggest: []string{"Kabupaten Garut"}},
		{name: "wrong prefix, short form", province: jabar, in: "kab. tasikmalaya x", suggest: []string{"Kabupaten Tasikmalaya"}},
		{name: "ambiguous without prefix", province: jabar, in: "Bogor", suggest: []string{"Kabupaten Bogor", "Kota Bogor"},
			message: `kabupaten/kota "Bogor" ada lebih dari satu di provinsi Jawa Barat; maksud Anda: Kabupaten Bogor atau Kota Bogor?`},
		{name: "wrong province", province: jatim, in: "Kota Bogor", elsewhere: "Jawa Barat",
			message: `kabupaten/kota "Kota Bogor" tidak berada di provinsi Jawa Timur, melainkan di provinsi Jawa Barat`},
		{name: "wrong province without prefix", province: jatim, in: "Bogor", elsewhere: "Jawa Barat"},
		{name: "wrong province by code", province: jatim, in: "32.71", elsewhere: "Jawa Barat"},
		{name: "unknown code", province: jabar, in: "32.99"},
		{name: "unknown", province: jabar, in: "Atlantis"},
		{name: "blank", province: jabar, in: "  ", message: "kabupaten/kota wajib diisi"},
		{name: "long", province: jabar, in: strings.Repeat("kota ", 100_000)},
	} {
		_, err := FindRegency(c.province, c.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: FindRegency = %v, want *Error", c.name, err)
		}
		if e.Field != "regency" || !slices.Equal(e.Suggestions, c.suggest) || e.Province != c.elsewhere {
			t.Errorf("%s: field %q, suggestions %q, elsewhere %q; want regency, %q, %q", c.name, e.Field, e.Suggestions, e.Province, c.suggest, c.elsewhere)
		}
		if c.message != "" && e.Error() != c.message {
			t.Errorf("%s: message\n %q, want\n %q", c.name, e.Error(), c.message)
		}
		if len(e.Error()) > 300 {
			t.Errorf("%s: message of %d bytes", c.name, len(e.Error()))
		}
	}

	var e *Error
	if _, err := FindRegency("99", "Kota Bogor"); !errors.As(err, &e) || e.Field != "province" {
		t.Errorf("unknown province code: %v", err)
	}
}

func TestFind(t *testing.T) {
	p, r, err := Find("jawa barat ", "kota bogor")
	if err != nil || p.Code != "32" || p.Name != "Jawa Barat" || r.Code != "32.71" || r.Name != "Kota Bogor" {
		t.Fatalf("Find = %s %s, %s %s, %v", p.Code, p.Name, r.Code, r.Name, err)
	}
	// A scope on a province alone.
	if p, r, err = Find("Jawa Timur", ""); err != nil || p.Code != "35" || r != (Regency{}) {
		t.Fatalf("Find province only = %+v, %+v, %v", p.Code, r, err)
	}
	var e *Error
	if _, _, err = Find("Atlantis", "Kota Bogor"); !errors.As(err, &e) || e.Field != "province" {
		t.Fatalf("unknown province: %v", err)
	}
	if _, _, err = Find("Jawa Tengah", "Kota Bogor"); !errors.As(err, &e) || e.Field != "regency" || e.Province != "Jawa Barat" {
		t.Fatalf("regency outside its province: %v", err)
	}
}

// A regency named alone finds its province when the list has it once.
func TestFindRegencyAnywhere(t *testing.T) {
	for in, want := range map[string]string{"kab. garut": "32.05", "KOTA  BOGOR": "32.71", "3271": "32.71", "32.71": "32.71", "Kota Batu": "35.79"} {
		if r, err := FindRegencyAnywhere(in); err != nil || r.Code != want {
			t.Errorf("FindRegencyAnywhere(%q) = %+v, %v; want %s", in, r, err, want)
		}
	}
	var e *Error
	_, err := FindRegencyAnywhere("Bogor")
	if !errors.As(err, &e) || e.Field != "regency" || !slices.Equal(e.Suggestions, []string{"Kabupaten Bogor (Jawa Barat)", "Kota Bogor (Jawa Barat)"}) {
		t.Fatalf("ambiguous: %v", err)
	}
	for _, in := range []string{"", "Kota Atlantis", "99.99", strings.Repeat("x", 200)} {
		if _, err := FindRegencyAnywhere(in); !errors.As(err, &e) || e.Field != "regency" {
			t.Errorf("FindRegencyAnywhere(%q): %v", in, err)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"bogor", "bogor", 0}, {"bogr", "bogor", 1}, {"", "abc", 3},
		{"kitten", "sitting", 3}, {"garüt", "garut", 1},
	} {
		if got := distance(c.a, c.b); got != c.d || distance(c.b, c.a) != c.d {
			t.Errorf("distance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
