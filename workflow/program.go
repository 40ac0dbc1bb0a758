package workflow

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxAmount is the largest amount of money, in rupiah, grantflow accepts in
// any single figure (a budget line, a ceiling, a programme pool). It is far
// above any real grant (10^15 rupiah) and keeps every sum of a few thousand
// figures, and every figure × 100, well inside int64.
const MaxAmount int64 = 1_000_000_000_000_000

// Default monitoring thresholds of SPEC §2, in days without a meeting.
const (
	DefaultAtRiskAfterDays  = 45
	DefaultDormantAfterDays = 90
)

// MaxTranches is the largest number of tranches a programme may split a grant into.
const MaxTranches = 4

var defaultCeilings = map[Kind]int64{
	KKG:      15_000_000,
	MGMP:     30_000_000,
	MGBK:     30_000_000,
	KKM:      30_000_000,
	POKJAWAS: 30_000_000,
}

var defaultRules = map[Kind]ActivityRule{
	KKG:      {In: 3, On: 2},
	MGMP:     {In: 3, On: 2},
	MGBK:     {In: 3, On: 2},
	KKM:      {In: 5, On: 2},
	POKJAWAS: {In: 5, On: 2},
}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// DefaultTranchePercents returns a fresh copy of the default split, [70, 30].
func DefaultTranchePercents() []int { return []int{70, 30} }

// DefaultCategories returns a fresh copy of the SPEC §2 budget categories in
// their RAB order; only honorarium is capped (30 %).
func DefaultCategories() []Category {
	return []Category{
		{Code: "konsumsi", Name: "Konsumsi"},
		{Code: "honorarium", Name: "Honorarium narasumber", CapPercent: 30},
		{Code: "transport", Name: "Transport"},
		{Code: "atk_bahan", Name: "ATK dan bahan"},
		{Code: "penggandaan", Name: "Penggandaan"},
		{Code: "sewa", Name: "Sewa tempat/alat"},
		{Code: "dokumentasi", Name: "Dokumentasi dan pelaporan"},
	}
}

// DefaultTaxRates returns the default withholding rates: PPN 11 %, PPh 21 5 %,
// PPh 22 1.5 %, PPh 23 2 % (in basis points).
func DefaultTaxRates() TaxRates {
	return TaxRates{PPN: 1100, PPh21: 500, PPh22: 150, PPh23: 200}
}

// ApplyDefaults fills every unset setting with its SPEC §2 default. "Unset"
// means: a nil or empty map, slice or list; a TaxRates with every rate zero;
// a zero number of days. Inside a partially given ceilings or activity_rules
// map, each missing kind gets its own default; given values, even invalid
// ones, are kept so that Validate can refuse them. The maps are copied, never
// modified in place, so a Program copied by value may share them safely.
func (p *Program) ApplyDefaults() {
	p.Ceilings = fillKinds(p.Ceilings, defaultCeilings)
	p.ActivityRules = fillKinds(p.ActivityRules, defaultRules)
	if len(p.TranchePercents) == 0 {
		p.TranchePercents = DefaultTranchePercents()
	}
	if len(p.Categories) == 0 {
		p.Categories = DefaultCategories()
	}
	if p.TaxRates == (TaxRates{}) {
		p.TaxRates = DefaultTaxRates()
	}
	if p.AtRiskAfterDays == 0 {
		p.AtRiskAfterDays = DefaultAtRiskAfterDays
	}
	if p.DormantAfterDays == 0 {
		p.DormantAfterDays = DefaultDormantAfterDays
	}
}

func fillKinds[V any](m map[Kind]V, def map[Kind]V) map[Kind]V {
	out := make(map[Kind]V, len(Kinds)+len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, k := range Kinds {
		if _, ok := out[k]; !ok {
			out[k] = def[k]
		}
	}
	return out
}

// Validate checks the programme as it would be stored (call ApplyDefaults
// first when settings may be omitted). It returns nil, or an EUnprocessable
// *Error listing every problem at once with the JSON field it belongs to
// (name, proposal_closes_on, ceilings.KKG, tranche_percents[1], …).
func (p Program) Validate() error {
	var ps Problems
	requireText(&ps, "name", p.Name, 200)
	if p.Year < 2000 || p.Year > 2100 {
		ps.Add("year", "harus antara 2000 dan 2100")
	}

	// The four dates must be set and follow each other; each later date is
	// compared with the closest earlier date that is set, so one missing date
	// does not hide an ordering problem between the others.
	dates := []struct {
		field, label string
		d            Date
	}{
		{"proposal_opens_on", "tanggal pembukaan proposal", p.ProposalOpensOn},
		{"proposal_closes_on", "tanggal penutupan proposal", p.ProposalClosesOn},
		{"activity_ends_on", "tanggal akhir kegiatan", p.ActivityEndsOn},
		{"report_due_on", "batas LPJ", p.ReportDueOn},
	}
	last := -1
	for i, x := range dates {
		if x.d.IsZero() {
			ps.Add(x.field, "wajib diisi")
			continue
		}
		if last >= 0 && x.d.Before(dates[last].d) {
			ps.Add(x.field, "tidak boleh sebelum %s (%s)", dates[last].label, dates[last].d)
		}
		last = i
	}

	checkAmount(&ps, "budget_total", p.BudgetTotal)

	for _, k := range Kinds {
		f := "ceilings." + string(k)
		v, ok := p.Ceilings[k]
		if !ok {
			ps.Add(f, "wajib diisi")
			continue
		}
		checkAmount(&ps, f, v)
	}
	for _, k := range unknownKinds(p.Ceilings) {
		ps.Add("ceilings."+string(k), "jenis kelompok tidak dikenal")
	}

	for _, k := range Kinds {
		f := "activity_rules." + string(k)
		r, ok := p.ActivityRules[k]
		if !ok {
			ps.Add(f, "wajib diisi")
			continue
		}
		if r.In < 1 {
			ps.Add(f+".in", "paling sedikit 1")
		}
		if r.On < 0 {
			ps.Add(f+".on", "tidak boleh negatif")
		}
		// A pattern no proposal can hold (see MaxActivities) would block
		// every submission of that kind.
		if r.In > MaxActivities || r.On > MaxActivities || r.In+r.On > MaxActivities {
			ps.Add(f, "jumlah sesi In dan On paling banyak %d", MaxActivities)
		}
	}
	for _, k := range unknownKinds(p.ActivityRules) {
		ps.Add("activity_rules."+string(k), "jenis kelompok tidak dikenal")
	}

	switch n := len(p.TranchePercents); {
	case n == 0:
		ps.Add("tranche_percents", "wajib diisi")
	case n > MaxTranches:
		ps.Add("tranche_percents", "paling banyak %d termin", MaxTranches)
	default:
		sum, each := 0, true
		for i, v := range p.TranchePercents {
			if v <= 0 || v > 100 {
				ps.Add(fieldIndex("tranche_percents", i, ""), "harus lebih besar dari 0 dan paling besar 100")
				each = false
				continue
			}
			sum += v
		}
		if each && sum != 100 {
			ps.Add("tranche_percents", "jumlah persentase harus tepat 100 (sekarang %d)", sum)
		}
	}

	if len(p.Categories) == 0 {
		ps.Add("categories", "wajib diisi")
	}
	seen := map[string]int{}
	for i, c := range p.Categories {
		switch {
		case c.Code == "":
			ps.Add(fieldIndex("categories", i, "code"), "wajib diisi")
		case !isCategoryCode(c.Code):
			ps.Add(fieldIndex("categories", i, "code"), "hanya huruf kecil a-z dan garis bawah, paling banyak 50 karakter")
		default:
			if j, dup := seen[c.Code]; dup {
				ps.Add(fieldIndex("categories", i, "code"), "kode %q sudah dipakai kategori nomor %d", c.Code, j+1)
			} else {
				seen[c.Code] = i
			}
		}
		requireText(&ps, fieldIndex("categories", i, "name"), c.Name, 200)
		if c.CapPercent < 0 || c.CapPercent > 100 {
			ps.Add(fieldIndex("categories", i, "cap_percent"), "harus antara 0 dan 100")
		}
	}

	for _, t := range []struct {
		field string
		bps   int
	}{
		{"tax_rates.ppn_bps", p.TaxRates.PPN},
		{"tax_rates.pph21_bps", p.TaxRates.PPh21},
		{"tax_rates.pph22_bps", p.TaxRates.PPh22},
		{"tax_rates.pph23_bps", p.TaxRates.PPh23},
	} {
		if t.bps < 0 || t.bps > 10000 {
			ps.Add(t.field, "harus antara 0 dan 10000 basis poin")
		}
	}

	if p.AtRiskAfterDays <= 0 {
		ps.Add("at_risk_after_days", "harus lebih besar dari 0")
	}
	switch {
	case p.DormantAfterDays > 3650:
		ps.Add("dormant_after_days", "paling banyak 3650")
	case p.DormantAfterDays <= p.AtRiskAfterDays:
		ps.Add("dormant_after_days", "harus lebih besar dari at_risk_after_days (%d)", p.AtRiskAfterDays)
	}

	return ps.Err("data program tidak valid")
}

// TrancheAmounts splits approved rupiah into the programme's tranches:
// floor(approved × pct / 100) for each tranche but the last, which takes the
// remainder so the tranches always add up to approved exactly. It never
// overflows (for 0 ≤ pct ≤ 100). With no tranche percents set it uses the
// default split; it never returns nil.
func (p Program) TrancheAmounts(approved int64) []int64 {
	pcts := p.TranchePercents
	if len(pcts) == 0 {
		pcts = DefaultTranchePercents()
	}
	out := make([]int64, len(pcts))
	rest := approved
	for i, pct := range pcts[:len(pcts)-1] {
		out[i] = percentOf(approved, pct)
		rest -= out[i]
	}
	out[len(out)-1] = rest
	return out
}

// percentOf returns floor(v × pct / 100) for v ≥ 0 without forming v × pct:
// with v = 100q + r it is q·pct + floor(r·pct/100).
func percentOf(v int64, pct int) int64 {
	return v/100*int64(pct) + v%100*int64(pct)/100
}

// Category returns the programme's category with the given code, and false
// when the programme has none.
func (p Program) Category(code string) (Category, bool) {
	for _, c := range p.Categories {
		if c.Code == code {
			return c, true
		}
	}
	return Category{}, false
}

func unknownKinds[V any](m map[Kind]V) []Kind {
	var out []Kind
	for k := range m {
		if !k.Valid() {
			out = append(out, k)
		}
	}
	slices.Sort(out) // map order is random; details must not be
	return out
}

func isCategoryCode(s string) bool {
	if s == "" || len(s) > 50 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

// requireText records "wajib diisi" for a blank s and a length problem for an
// s longer than max characters (runes, after trimming).
func requireText(ps *Problems, field, s string, max int) {
	s = strings.TrimSpace(s)
	if s == "" {
		ps.Add(field, "wajib diisi")
		return
	}
	maxText(ps, field, s, max)
}

// maxText records a problem when s has more than max characters.
func maxText(ps *Problems, field, s string, max int) {
	if utf8.RuneCountInString(s) > max {
		ps.Add(field, "paling banyak %d karakter", max)
	}
}

func checkAmount(ps *Problems, field string, v int64) {
	switch {
	case v <= 0:
		ps.Add(field, "harus lebih besar dari 0")
	case v > MaxAmount:
		ps.Add(field, "paling besar %s", formatRp(MaxAmount))
	}
}
