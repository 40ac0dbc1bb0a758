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
// map, each missing kind gets its own default, and inside a kind's rule a
// count its JSON left out (unsetCount) the kind's default count (a JSON
// tax_rates object is read over the default rates: TaxRates.UnmarshalJSON); given values, even invalid
// ones, are kept so that Validate can refuse them. The maps are copied, never
// modified in place, so a Program copied by value may share them safely.
func (p *Program) ApplyDefaults() {
	p.Ceilings = fillKinds(p.Ceilings, defaultCeilings)
	p.ActivityRules = fillKinds(p.ActivityRules, defaultRules)
	for k, r := range p.ActivityRules {
		if r.In == unsetCount {
			r.In = defaultRules[k].In
		}
		if r.On == unsetCount {
			r.On = defaultRules[k].On
		}
		p.ActivityRules[k] = r
	}
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

// Validate checks the rules of a programme that join several fields (call
// ApplyDefaults first when settings may be omitted): the four dates in
// order, a ceiling and an activity rule for every kind, In and On sessions
// a proposal can hold, tranches adding up to 100, category codes used once
// and dormancy after the at-risk threshold. The rules of each field alone
// (required, ranges, formats, known kinds) are the validate tags on
// Program, run by internal/validate at the boundary. It returns nil, or an
// EUnprocessable *Error listing every problem at once with the JSON field
// it belongs to (proposal_closes_on, ceilings.KKG, …).
func (p Program) Validate() error {
	var ps Problems

	// Each later date is compared with the closest earlier date that is
	// set, so one missing date does not hide an ordering problem between
	// the others.
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
			continue
		}
		if last >= 0 && x.d.Before(dates[last].d) {
			ps.Add(x.field, "tidak boleh sebelum %s (%s)", dates[last].label, dates[last].d)
		}
		last = i
	}

	for _, k := range Kinds {
		if _, ok := p.Ceilings[k]; !ok {
			ps.Add("ceilings."+string(k), "wajib diisi")
		}
		r, ok := p.ActivityRules[k]
		if !ok {
			ps.Add("activity_rules."+string(k), "wajib diisi")
			continue
		}
		// A pattern no proposal can hold (see MaxActivities) would block
		// every submission of that kind.
		if r.In+r.On > MaxActivities {
			ps.Add("activity_rules."+string(k), "jumlah sesi In dan On paling banyak %d", MaxActivities)
		}
	}

	if len(p.TranchePercents) <= MaxTranches {
		sum := 0
		for _, v := range p.TranchePercents {
			if v <= 0 || v > 100 {
				sum = -1 // the tag names that tranche
				break
			}
			sum += v
		}
		if sum > 0 && sum != 100 {
			ps.Add("tranche_percents", "jumlah persentase harus tepat 100 (sekarang %d)", sum)
		}
	}

	seen := map[string]int{}
	for i, c := range p.Categories {
		if c.Code == "" {
			continue
		}
		if j, dup := seen[c.Code]; dup {
			ps.Add(fieldIndex("categories", i, "code"), "kode %q sudah dipakai kategori nomor %d", c.Code, j+1)
		} else {
			seen[c.Code] = i
		}
	}

	if p.AtRiskAfterDays > 0 && p.DormantAfterDays <= p.AtRiskAfterDays {
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
