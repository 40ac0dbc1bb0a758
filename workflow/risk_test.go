package workflow

import (
	"slices"
	"testing"
)

// ScoreRisk weighs by the programme's weights over the defaults, drops
// switched-off signals, orders them as RiskCodes; RankRisk orders by score
// then number.
func TestScoreAndRankRisk(t *testing.T) {
	p := Program{RiskWeights: map[string]int{RiskRoundAmount: 50, RiskNoSession: 0, "unknown": 99}}
	w := p.RiskWeightsOrDefault()
	if w[RiskRoundAmount] != 50 || w[RiskNoSession] != 0 || w[RiskDuplicateReceipt] != DefaultRiskWeights()[RiskDuplicateReceipt] {
		t.Fatalf("weights %v", w)
	}
	if _, ok := w["unknown"]; ok {
		t.Fatalf("an unknown code was kept: %v", w)
	}
	if len(DefaultRiskWeights()) != len(RiskCodes) {
		t.Fatalf("%d default weights for %d codes", len(DefaultRiskWeights()), len(RiskCodes))
	}
	for _, c := range RiskCodes {
		if v := DefaultRiskWeights()[c]; v <= 0 || v > MaxRiskWeight {
			t.Errorf("default weight of %s: %d", c, v)
		}
	}

	items := []RiskItem{
		{Number: "KKG-2026-000003", Signals: []RiskSignal{{Code: RiskNoSession}, {Code: RiskRoundAmount}}},
		{Number: "KKG-2026-000002", Signals: []RiskSignal{{Code: RiskLargeRefund}, {Code: RiskDuplicateReceipt}}},
		{Number: "KKG-2026-000001", Signals: []RiskSignal{{Code: RiskOutsidePeriod}, {Code: RiskPhotoReused}, {Code: RiskNoSession}}},
		{Number: "KKG-2026-000004"},
	}
	for i := range items {
		ScoreRisk(&items[i], w)
	}
	if items[0].Score != 50 || len(items[0].Signals) != 1 || items[0].Signals[0].Weight != 50 {
		t.Fatalf("no_session switched off, round_amount 50: %+v", items[0])
	}
	if got := []string{items[1].Signals[0].Code, items[1].Signals[1].Code}; !slices.Equal(got, []string{RiskDuplicateReceipt, RiskLargeRefund}) {
		t.Fatalf("signals not in RiskCodes order: %v", got)
	}
	if items[3].Signals == nil || items[3].Score != 0 {
		t.Fatalf("no signals: %+v", items[3])
	}
	RankRisk(items)
	var got []string
	for _, it := range items {
		got = append(got, it.Number)
	}
	// 50, then 45 (25 + 20) and 45 (30 + 15) by number, then 0.
	want := []string{"KKG-2026-000003", "KKG-2026-000001", "KKG-2026-000002", "KKG-2026-000004"}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}
