package regions

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error reports input that names no province or regency of the list, or a
// regency outside the province given. Its message is Indonesian and safe to
// show; callers map it to their own error type (422 on the field named).
type Error struct {
	Field string // "province" or "regency"
	Input string // the text as given
	// Suggestions are the nearest official names, best first (several when
	// they are equally near, as "Kabupaten Bogor" and "Kota Bogor" for
	// "Bogor"); empty when nothing is near enough to be a typing slip.
	Suggestions []string
	// Province, for a regency that exists in another province, is the
	// name of the province it belongs to.
	Province string
	// in is the province a regency was looked for in.
	in string
}

// Suggestion returns the best suggestion, "" when there is none.
func (e *Error) Suggestion() string {
	if len(e.Suggestions) == 0 {
		return ""
	}
	return e.Suggestions[0]
}

// Error returns the message, ending in "maksud Anda: …?" when there is a suggestion.
func (e *Error) Error() string {
	what := "provinsi"
	if e.Field == "regency" {
		what = "kabupaten/kota"
	}
	var msg string
	shown := strings.TrimSpace(e.Input)
	if r := []rune(shown); len(r) > 60 {
		shown = string(r[:60]) + "…"
	}
	switch {
	case shown == "":
		return what + " wajib diisi"
	case e.Province != "":
		msg = fmt.Sprintf("%s %q tidak berada di provinsi %s, melainkan di provinsi %s", what, shown, e.in, e.Province)
	case len(e.Suggestions) > 1 && e.ambiguous():
		msg = fmt.Sprintf("%s %q ada lebih dari satu di provinsi %s", what, shown, e.in)
	case e.in != "":
		msg = fmt.Sprintf("%s %q tidak ada di provinsi %s menurut daftar Kemendagri", what, shown, e.in)
	default:
		msg = fmt.Sprintf("%s %q tidak ada dalam daftar Kemendagri", what, shown)
	}
	if len(e.Suggestions) > 0 {
		msg += "; maksud Anda: " + strings.Join(e.Suggestions, " atau ") + "?"
	}
	return msg
}

// ambiguous reports whether every suggestion shares the input's name
// without its prefix ("Bogor" for Kabupaten Bogor and Kota Bogor).
func (e *Error) ambiguous() bool {
	_, core := splitPrefix(normalize(e.Input))
	for _, s := range e.Suggestions {
		if _, c := splitPrefix(normalize(s)); c != core {
			return false
		}
	}
	return true
}

// FindProvince returns the province named by s: its code ("32") or its
// name in any case and spacing, with or without a "Provinsi" prefix, or
// one of the common short forms (DKI Jakarta, DIY, NTB, NTT). Otherwise it
// returns an *Error, with the nearest names as suggestions.
func FindProvince(s string) (Province, error) {
	if p, ok := ProvinceByCode(s); ok {
		return p, nil
	}
	key := provinceKey(s)
	if key == "" {
		return Province{}, &Error{Field: "province", Input: s}
	}
	if code, ok := provinceAliases[key]; ok {
		p, _ := ProvinceByCode(code)
		return p, nil
	}
	if utf8.RuneCountInString(key) > maxName {
		return Province{}, &Error{Field: "province", Input: s}
	}
	var near []string
	best := -1
	for _, p := range official.provinces {
		d := distance(key, squash(normalize(p.Name)))
		if d == 0 {
			p.Regencies = append([]Regency(nil), p.Regencies...)
			return p, nil
		}
		near, best = nearer(near, best, p.Name, d)
	}
	return Province{}, &Error{Field: "province", Input: s, Suggestions: closeEnough(near, best, key)}
}

// FindRegency returns the regency or city named by s inside the province
// with code provinceCode: its code ("32.71" or "3271") or its name in any
// case and spacing, with its prefix written out ("Kabupaten", "Kota"),
// shortened ("Kab.", "Kab", "Kodya") or left out when the rest is unique in
// the province ("Garut", but not "Bogor"). A regency of another province,
// an ambiguous or an unknown name returns an *Error; an unknown
// provinceCode returns an *Error on the province.
func FindRegency(provinceCode, s string) (Regency, error) {
	pi, ok := official.province[strings.TrimSpace(provinceCode)]
	if !ok {
		return Regency{}, &Error{Field: "province", Input: provinceCode}
	}
	p := official.provinces[pi]
	fail := &Error{Field: "regency", Input: s, in: p.Name}
	if strings.TrimSpace(s) == "" {
		return Regency{}, fail
	}
	if isCode(s) {
		r, ok := RegencyByCode(s)
		if !ok {
			return Regency{}, fail
		}
		if r.ProvinceCode != p.Code {
			// Named as a person knows it: a code chosen from a list
			// means nothing to whoever reads the message.
			fail.Input = r.Name
			fail.Province = official.provinces[official.province[r.ProvinceCode]].Name
			return Regency{}, fail
		}
		return r, nil
	}
	in := normalize(s)
	kind, core := splitPrefix(in)
	if found := matching(p.Regencies, kind, core); len(found) == 1 {
		return found[0], nil
	} else if len(found) > 1 {
		for _, r := range found {
			fail.Suggestions = append(fail.Suggestions, r.Name)
		}
		return Regency{}, fail
	}
	// A name that starts like a prefix ("Kota Baru" for Kabupaten Kotabaru).
	if found := matching(p.Regencies, "", squash(in)); len(found) == 1 {
		return found[0], nil
	}
	if utf8.RuneCountInString(in) > maxName {
		return Regency{}, fail
	}
	// The same name in exactly one other province: say where it is.
	var elsewhere []string
	for _, q := range official.provinces {
		if q.Code != p.Code && len(matching(q.Regencies, kind, core)) > 0 {
			elsewhere = append(elsewhere, q.Name)
		}
	}
	if len(elsewhere) == 1 {
		fail.Province = elsewhere[0]
		return Regency{}, fail
	}
	var near []string
	best := -1
	for _, r := range p.Regencies {
		rk, rc := splitPrefix(normalize(r.Name))
		d := distance(core, rc)
		if kind != "" && kind != rk {
			d++ // "Kota Garut" is one step from Kabupaten Garut
		}
		d = min(d, distance(squash(in), squash(normalize(r.Name))))
		near, best = nearer(near, best, r.Name, d)
	}
	fail.Suggestions = closeEnough(near, best, core)
	return Regency{}, fail
}

// Find resolves a province and, when regency is not blank, a regency inside
// it, as a group or a staff scope names them. The error is the first
// *Error met: the province's when it is unknown, else the regency's.
func Find(province, regency string) (Province, Regency, error) {
	p, err := FindProvince(province)
	if err != nil {
		return Province{}, Regency{}, err
	}
	if strings.TrimSpace(regency) == "" {
		return p, Regency{}, nil
	}
	r, err := FindRegency(p.Code, regency)
	return p, r, err
}

// matching returns the regencies whose name without prefix is core and,
// when kind is not "", whose prefix is kind; core is compared without spaces.
func matching(rs []Regency, kind, core string) []Regency {
	var out []Regency
	for _, r := range rs {
		rk, rc := splitPrefix(normalize(r.Name))
		if squash(rc) == squash(core) && (kind == "" || kind == rk) {
			out = append(out, r)
		}
	}
	return out
}

// maxName bounds the input that is compared by edit distance: the longest
// official name has under 50 letters, and a megabyte of text must not cost
// seconds of work.
const maxName = 100

// provinceAliases maps the squashed short forms people write to codes.
var provinceAliases = map[string]string{
	"dkijakarta": "31", "jakarta": "31", "daerahkhususjakarta": "31", "dkj": "31",
	"diyogyakarta": "34", "diy": "34", "yogyakarta": "34",
	"bangkabelitung": "19", "babel": "19",
	"ntb": "52", "ntt": "53",
}

// provinceKey is s normalized, without a "Provinsi"/"Prov." prefix, squashed.
func provinceKey(s string) string {
	n := normalize(s)
	for _, pre := range []string{"provinsi ", "prov "} {
		if rest, ok := strings.CutPrefix(n, pre); ok {
			n = rest
			break
		}
	}
	return squash(n)
}

// prefixes are the ways the kind of a regency is written, longest first;
// the official names use "Kabupaten", "Kota" and, in Jakarta, "… Administrasi".
var prefixes = []struct{ text, kind string }{
	{"kabupaten administrasi ", "kab"}, {"kab adm ", "kab"},
	{"kota administrasi ", "kota"}, {"kota adm ", "kota"},
	{"kabupaten ", "kab"}, {"kab ", "kab"},
	{"kotamadya ", "kota"}, {"kodya ", "kota"}, {"kota ", "kota"},
}

// splitPrefix splits a normalized name into its kind ("kab", "kota" or ""
// when not written) and the rest.
func splitPrefix(n string) (kind, core string) {
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(n, p.text); ok && rest != "" {
			return p.kind, rest
		}
	}
	return "", n
}

// normalize lowercases s, reads dots, commas and hyphens as spaces
// ("Kab. Toli-Toli"), trims it and collapses runs of spaces to one.
func normalize(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '.', ',', '-', '_':
			return ' '
		}
		return unicode.ToLower(r)
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// squash drops the spaces of a normalized name, so "Jawa Barat",
// "JawaBarat" and "Toli-Toli"/"Tolitoli" compare equal.
func squash(n string) string { return strings.ReplaceAll(n, " ", "") }

// isCode reports whether s looks like a regency code ("32.71", "3271").
func isCode(s string) bool {
	s = strings.TrimSpace(s)
	a, b, dotted := strings.Cut(s, ".")
	if dotted {
		return len(a) == 2 && len(b) == 2 && isDigits(a) && isDigits(b)
	}
	return len(s) == 4 && isDigits(s)
}

// nearer keeps the names at the smallest distance seen so far.
func nearer(near []string, best int, name string, d int) ([]string, int) {
	switch {
	case best < 0 || d < best:
		return []string{name}, d
	case d == best:
		return append(near, name), best
	}
	return near, best
}

// closeEnough returns near when its distance could be a typing slip in
// input: at most a third of its letters, and at least 2. Farther names
// ("Atlantis" against every province) would only mislead.
func closeEnough(near []string, best int, input string) []string {
	if best < 0 || best > max(2, utf8.RuneCountInString(input)/3) || len(near) > 3 {
		return nil
	}
	return near
}

// distance is the Levenshtein distance between a and b, in runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// FindRegencyAnywhere returns the regency or city named by s in whichever
// province holds it, for a filter that names a regency alone: its code, or
// a name that exactly one regency of the whole list has. A name several
// share once the prefix is left out ("Bogor": Kabupaten Bogor and Kota
// Bogor) is an *Error suggesting each with its province.
func FindRegencyAnywhere(s string) (Regency, error) {
	fail := &Error{Field: "regency", Input: s}
	if strings.TrimSpace(s) == "" {
		return Regency{}, fail
	}
	if isCode(s) {
		if r, ok := RegencyByCode(s); ok {
			return r, nil
		}
		return Regency{}, fail
	}
	in := normalize(s)
	if utf8.RuneCountInString(in) > maxName {
		return Regency{}, fail
	}
	kind, core := splitPrefix(in)
	var found []Regency
	for _, p := range official.provinces {
		found = append(found, matching(p.Regencies, kind, core)...)
	}
	if len(found) == 1 {
		return found[0], nil
	}
	for _, r := range found {
		p := official.provinces[official.province[r.ProvinceCode]]
		fail.Suggestions = append(fail.Suggestions, r.Name+" ("+p.Name+")")
	}
	return Regency{}, fail
}
