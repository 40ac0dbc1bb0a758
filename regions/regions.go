// Package regions is the official Kemendagri list of Indonesia's provinces
// and regencies/cities, with their codes, shipped inside the binary (see
// data/README.md for its source and version). It matches free text typed in
// forms and API requests against that list, so that groups and staff scopes
// can store codes and show the names as the list spells them. Standard
// library only: no I/O beyond the embedded files, no database.
package regions

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
)

//go:embed data/provinces.csv data/regencies.csv
var files embed.FS

// Province is one of the 38 provinces, with its regencies and cities in code order.
type Province struct {
	Code      string    `json:"code"` // two digits, e.g. "32"
	Name      string    `json:"name"` // as the list spells it, e.g. "Jawa Barat"
	Regencies []Regency `json:"regencies"`
}

// Regency is one regency (kabupaten) or city (kota).
type Regency struct {
	Code         string `json:"code"`          // province code, dot, two digits, e.g. "32.71"
	ProvinceCode string `json:"province_code"` // e.g. "32"
	Name         string `json:"name"`          // with its prefix, e.g. "Kota Bogor"
}

// list is the parsed data: provinces in code order, each holding its
// regencies in code order, and an index of each kind of code.
type list struct {
	provinces []Province
	province  map[string]int    // province code → index in provinces
	regency   map[string][2]int // regency code → province index, regency index
}

var official = mustLoad()

// mustLoad parses the embedded files. They are part of the source tree and
// checked by the tests, so a failure here is a build defect: panic.
func mustLoad() list {
	l, err := load()
	if err != nil {
		panic("regions: " + err.Error())
	}
	return l
}

func load() (list, error) {
	l := list{province: map[string]int{}, regency: map[string][2]int{}}
	provinces, err := readCSV("data/provinces.csv", "code", "name")
	if err != nil {
		return l, err
	}
	for _, r := range provinces {
		if _, dup := l.province[r[0]]; dup {
			return l, fmt.Errorf("province code %s twice", r[0])
		}
		l.province[r[0]] = len(l.provinces)
		l.provinces = append(l.provinces, Province{Code: r[0], Name: r[1]})
	}
	regencies, err := readCSV("data/regencies.csv", "code", "province_code", "name")
	if err != nil {
		return l, err
	}
	for _, r := range regencies {
		pi, ok := l.province[r[1]]
		if !ok || !strings.HasPrefix(r[0], r[1]+".") {
			return l, fmt.Errorf("regency %s %s: province %s unknown or not its code prefix", r[0], r[2], r[1])
		}
		if _, dup := l.regency[r[0]]; dup {
			return l, fmt.Errorf("regency code %s twice", r[0])
		}
		p := &l.provinces[pi]
		l.regency[r[0]] = [2]int{pi, len(p.Regencies)}
		p.Regencies = append(p.Regencies, Regency{Code: r[0], ProvinceCode: r[1], Name: r[2]})
	}
	slices.SortFunc(l.provinces, func(a, b Province) int { return strings.Compare(a.Code, b.Code) })
	for i := range l.provinces {
		l.province[l.provinces[i].Code] = i
		slices.SortFunc(l.provinces[i].Regencies, func(a, b Regency) int { return strings.Compare(a.Code, b.Code) })
		for j, r := range l.provinces[i].Regencies {
			l.regency[r.Code] = [2]int{i, j}
		}
	}
	return l, nil
}

// readCSV returns the records of an embedded file after checking its header.
func readCSV(name string, header ...string) ([][]string, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], header) {
		return nil, fmt.Errorf("%s: header is not %v", name, header)
	}
	for _, r := range rows[1:] {
		for _, f := range r {
			if strings.TrimSpace(f) == "" {
				return nil, fmt.Errorf("%s: empty field in %v", name, r)
			}
		}
	}
	return rows[1:], nil
}

// Provinces returns every province with its regencies, in code order, for
// forms and the API. The slices are copies: callers may change them.
func Provinces() []Province {
	out := make([]Province, len(official.provinces))
	for i, p := range official.provinces {
		p.Regencies = slices.Clone(p.Regencies)
		out[i] = p
	}
	return out
}

// RegencyCount is the number of regencies and cities in the list.
func RegencyCount() int { return len(official.regency) }

// ProvinceByCode returns the province with code ("32"), false when there is none.
func ProvinceByCode(code string) (Province, bool) {
	i, ok := official.province[strings.TrimSpace(code)]
	if !ok {
		return Province{}, false
	}
	p := official.provinces[i]
	p.Regencies = slices.Clone(p.Regencies)
	return p, true
}

// RegencyByCode returns the regency or city with code ("32.71" or "3271"),
// false when there is none.
func RegencyByCode(code string) (Regency, bool) {
	at, ok := official.regency[regencyCode(code)]
	if !ok {
		return Regency{}, false
	}
	return official.provinces[at[0]].Regencies[at[1]], true
}

// regencyCode writes a four-digit regency code the way the list does ("3271" → "32.71").
func regencyCode(s string) string {
	s = strings.TrimSpace(s)
	if len(s) == 4 && isDigits(s) {
		return s[:2] + "." + s[2:]
	}
	return s
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
