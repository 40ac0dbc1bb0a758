package workflow

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"testing"
)

func TestApplyDefaults(t *testing.T) {
	var p Program
	p.ApplyDefaults()
	want := map[Kind]int64{KKG: 15_000_000, MGMP: 30_000_000, MGBK: 30_000_000, KKM: 30_000_000, POKJAWAS: 30_000_000}
	if !reflect.DeepEqual(p.Ceilings, want) {
		t.Errorf("ceilings %v", p.Ceilings)
	}
	wantRules := map[Kind]ActivityRule{KKG: {3, 2}, MGMP: {3, 2}, MGBK: {3, 2}, KKM: {5, 2}, POKJAWAS: {5, 2}}
	if !reflect.DeepEqual(p.ActivityRules, wantRules) {
		t.Errorf("rules %v", p.ActivityRules)
	}
	if !slices.Equal(p.TranchePercents, []int{70, 30}) {
		t.Errorf("tranches %v", p.TranchePercents)
	}
	wantCats := []Category{
		{"konsumsi", "Konsumsi", 0}, {"honorarium", "Honorarium narasumber", 30}, {"transport", "Transport", 0},
		{"atk_bahan", "ATK dan bahan", 0}, {"penggandaan", "Penggandaan", 0}, {"sewa", "Sewa tempat/alat", 0},
		{"dokumentasi", "Dokumentasi dan pelaporan", 0},
	}
	if !slices.Equal(p.Categories, wantCats) {
		t.Errorf("categories %v", p.Categories)
	}
	if p.TaxRates != (TaxRates{PPN: 1100, PPh21: 500, PPh22: 150, PPh23: 200}) {
		t.Errorf("tax %v", p.TaxRates)
	}
	if p.AtRiskAfterDays != 45 || p.DormantAfterDays != 90 {
		t.Errorf("days %d %d", p.AtRiskAfterDays, p.DormantAfterDays)
	}

	// Partial maps: given kinds kept (even invalid values), missing ones
	// filled, the caller's map untouched.
	given := map[Kind]int64{MGMP: 25_000_000, KKG: 0}
	q := Program{Ceilings: given, ActivityRules: map[Kind]ActivityRule{KKM: {In: 6, On: 3}}, TranchePercents: []int{100}, AtRiskAfterDays: 30}
	q.ApplyDefaults()
	if q.Ceilings[MGMP] != 25_000_000 || q.Ceilings[KKG] != 0 || q.Ceilings[KKM] != 30_000_000 || len(q.Ceilings) != 5 {
		t.Errorf("partial ceilings %v", q.Ceilings)
	}
	if len(given) != 2 {
		t.Errorf("caller's map modified: %v", given)
	}
	if q.ActivityRules[KKM] != (ActivityRule{6, 3}) || q.ActivityRules[POKJAWAS] != (ActivityRule{5, 2}) {
		t.Errorf("partial rules %v", q.ActivityRules)
	}
	if !slices.Equal(q.TranchePercents, []int{100}) || q.AtRiskAfterDays != 30 || q.DormantAfterDays != 90 {
		t.Errorf("kept settings %v %d %d", q.TranchePercents, q.AtRiskAfterDays, q.DormantAfterDays)
	}
	// Defaults are fresh copies.
	q.Categories[0].Name = "X"
	q.TranchePercents[0] = 1
	if DefaultCategories()[0].Name != "Konsumsi" || DefaultTranchePercents()[0] != 70 {
		t.Error("defaults share memory")
	}
}

// TestProgramJSONPartialSettings: a JSON programme that gives part of a
// kind's rule or of the tax rates keeps the defaults of what it leaves out,
// and an explicit zero stays zero.
func TestProgramJSONPartialSettings(t *testing.T) {
	var p Program
	in := `{"activity_rules":{"KKM":{"in":6},"KKG":{"on":0},"MGMP":{}},"tax_rates":{"ppn_bps":1200,"pph21_bps":0}}`
	if err := json.Unmarshal([]byte(in), &p); err != nil {
		t.Fatal(err)
	}
	p.ApplyDefaults()
	for k, want := range map[Kind]ActivityRule{KKM: {6, 2}, KKG: {3, 0}, MGMP: {3, 2}, POKJAWAS: {5, 2}} {
		if got := p.ActivityRules[k]; got != want {
			t.Errorf("rule %s: %+v, want %+v", k, got, want)
		}
	}
	if want := (TaxRates{PPN: 1200, PPh21: 0, PPh22: 150, PPh23: 200}); p.TaxRates != want {
		t.Errorf("tax %+v, want %+v", p.TaxRates, want)
	}
	// A stored programme reads back as written.
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back Program
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.ActivityRules, p.ActivityRules) || back.TaxRates != p.TaxRates {
		t.Errorf("round trip %+v %+v", back.ActivityRules, back.TaxRates)
	}
}

// Validate keeps the rules across fields; each field's own rules are tags,
// tested in internal/validate.
func TestProgramValidate(t *testing.T) {
	if err := testProgram().Validate(); err != nil {
		t.Fatalf("valid programme: %v", err)
	}

	p := testProgram()
	p.ProposalOpensOn, p.ProposalClosesOn, p.ActivityEndsOn, p.ReportDueOn = MustDate("2026-03-01"), MustDate("2026-02-01"), Date{}, MustDate("2026-01-15")
	p.Ceilings = map[Kind]int64{KKG: 1, MGMP: 1, MGBK: 1, KKM: 1}
	p.ActivityRules = map[Kind]ActivityRule{KKG: {3, 2}, MGMP: {3, 2}, MGBK: {3, 2}, KKM: {90, 20}}
	p.TranchePercents = []int{60, 30}
	p.Categories = append(p.Categories, Category{Code: "konsumsi", Name: "Konsumsi 2"})
	p.AtRiskAfterDays, p.DormantAfterDays = 60, 45
	wantDetails(t, p.Validate(),
		"proposal_closes_on: tidak boleh sebelum tanggal pembukaan proposal (2026-03-01)",
		"report_due_on: tidak boleh sebelum tanggal penutupan proposal (2026-02-01)",
		"ceilings.POKJAWAS: wajib diisi",
		"activity_rules.KKM: paling banyak 100",
		"activity_rules.POKJAWAS: wajib diisi",
		"tranche_percents: harus tepat 100 (sekarang 90)",
		"categories[7].code: sudah dipakai kategori nomor 1",
		"dormant_after_days: lebih besar dari at_risk_after_days (60)",
	)

	cases := []struct {
		edit func(*Program)
		want []string
	}{
		// A tranche out of range is the tag's to name: no sum then, and
		// wrapping sums must not pass as 100.
		{func(p *Program) { p.TranchePercents = []int{100, 0} }, nil},
		{func(p *Program) { p.TranchePercents = []int{math.MaxInt, math.MinInt + 101} }, nil},
		{func(p *Program) { p.TranchePercents = []int{25, 25, 25, 25} }, nil},
		{func(p *Program) { p.TranchePercents = []int{20, 20, 20, 20, 19} }, nil}, // too many: the tag's
		{func(p *Program) { p.AtRiskAfterDays, p.DormantAfterDays = 90, 90 }, []string{"dormant_after_days: lebih besar dari at_risk_after_days (90)"}},
		{func(p *Program) { p.AtRiskAfterDays, p.DormantAfterDays = 1, 3650 }, nil},
		{func(p *Program) { p.ReportDueOn = p.ActivityEndsOn; p.ProposalClosesOn = p.ProposalOpensOn }, nil},
		{func(p *Program) { p.ProposalClosesOn = Date{}; p.ActivityEndsOn = MustDate("2025-12-01") }, []string{
			"activity_ends_on: tidak boleh sebelum tanggal pembukaan proposal"}},
		{func(p *Program) { p.Ceilings = nil; p.ActivityRules = nil }, []string{
			"ceilings.KKG: wajib diisi", "ceilings.MGMP: wajib diisi", "ceilings.MGBK: wajib diisi", "ceilings.KKM: wajib diisi", "ceilings.POKJAWAS: wajib diisi",
			"activity_rules.KKG: wajib diisi", "activity_rules.MGMP: wajib diisi", "activity_rules.MGBK: wajib diisi", "activity_rules.KKM: wajib diisi", "activity_rules.POKJAWAS: wajib diisi"}},
	}
	for i, c := range cases {
		p := testProgram()
		c.edit(&p)
		err := p.Validate()
		if c.want == nil {
			if err != nil {
				t.Errorf("case %d: %v%s", i, err, dumpDetails(asError(t, err).Details))
			}
			continue
		}
		wantDetails(t, err, c.want...)
	}
}

func TestTrancheAmounts(t *testing.T) {
	p := testProgram()
	cases := []struct {
		pcts     []int
		approved int64
		want     []int64
	}{
		{[]int{70, 30}, 15_000_001, []int64{10_500_000, 4_500_001}},
		{[]int{70, 30}, 15_000_000, []int64{10_500_000, 4_500_000}},
		{[]int{70, 30}, 99, []int64{69, 30}},
		{[]int{70, 30}, 0, []int64{0, 0}},
		{[]int{33, 33, 34}, 100_000_001, []int64{33_000_000, 33_000_000, 34_000_001}},
		{[]int{33, 33, 34}, 2, []int64{0, 0, 2}},
		{[]int{100}, 12_345, []int64{12_345}},
		{nil, 10, []int64{7, 3}}, // no split configured: the default
		// No overflow at the int64 limit: 70 % of MaxInt64 is formed
		// without MaxInt64 × 70.
		{[]int{70, 30}, math.MaxInt64, []int64{6456360425798343064, 2767011611056432743}},
	}
	for _, c := range cases {
		p.TranchePercents = c.pcts
		got := p.TrancheAmounts(c.approved)
		if !slices.Equal(got, c.want) {
			t.Errorf("TrancheAmounts(%v, %d) = %v, want %v", c.pcts, c.approved, got, c.want)
		}
		var sum int64
		for _, v := range got {
			sum += v
		}
		if sum != c.approved {
			t.Errorf("TrancheAmounts(%v, %d) sums to %d", c.pcts, c.approved, sum)
		}
	}
}

func TestCategoryLookup(t *testing.T) {
	p := testProgram()
	c, ok := p.Category("honorarium")
	if !ok || c.CapPercent != 30 || c.Name != "Honorarium narasumber" {
		t.Errorf("honorarium: %v %v", c, ok)
	}
	if _, ok := p.Category("Honorarium"); ok {
		t.Error("codes are case-sensitive")
	}
	if c, ok := p.Category(""); ok || c != (Category{}) {
		t.Error("empty code found")
	}
}
