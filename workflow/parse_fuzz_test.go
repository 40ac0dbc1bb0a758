package workflow

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzInputs feeds arbitrary JSON, as a client might send it, through the
// decoders and validators of proposals, groups and programmes: none may
// panic, every refusal is an *Error, and what passes is consistent.
func FuzzInputs(f *testing.F) {
	f.Add([]byte(`{"background":"a","activities":[{"kind":"in","title":"t","planned_on":"2026-05-01","planned_participants":15}],"budget":[{"category":"konsumsi","description":"d","quantity":3,"unit":"u","unit_price":1000}]}`))
	f.Add([]byte(`{"budget":[{"category":"x","description":"d","quantity":9223372036854775807,"unit":"u","unit_price":2}]}`))
	f.Add([]byte(`{"kind":"KKG","name":"KKG A","level":"MI","members":[{"name":"n","nip":"198001012005011001","madrasah":"m","position":"ketua"}]}`))
	f.Add([]byte(`{"name":"P","year":2026,"tranche_percents":[50,30,20],"ceilings":{"KKG":-1}}`))
	f.Add([]byte(`{"activities":[{"planned_on":"2026-02-30"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Proposal
		if json.Unmarshal(b, &p) == nil {
			err := p.Normalize()
			checkRefusal(t, err)
			if err == nil {
				var sum int64
				for _, l := range p.Budget {
					// A line without a positive quantity and price is the
					// tags' to refuse; Normalize leaves its amount 0.
					positive := l.Quantity > 0 && l.UnitPrice > 0
					if positive && (l.Amount != l.Quantity*l.UnitPrice || l.Amount > MaxAmount) || !positive && l.Amount != 0 {
						t.Fatalf("normalized line %+v", l)
					}
					sum += l.Amount
				}
				if p.Total() != sum {
					t.Fatalf("Total %d, lines add up to %d", p.Total(), sum)
				}
			}
		}
		var g Group
		if json.Unmarshal(b, &g) == nil {
			g.Normalize()
			err := g.Validate()
			checkRefusal(t, err)
			if err == nil {
				if lo, hi := MembershipLimits(g.Kind, g.Remote); len(g.Members) < lo || len(g.Members) > hi {
					t.Fatalf("valid group with %d members outside %d..%d", len(g.Members), lo, hi)
				}
			}
		}
		var pr Program
		if json.Unmarshal(b, &pr) == nil {
			pr.ApplyDefaults()
			err := pr.Validate()
			checkRefusal(t, err)
			if err == nil {
				sum := 0
				for _, pc := range pr.TranchePercents {
					sum += pc
				}
				if sum != 100 {
					t.Fatalf("valid programme with tranche percents %v", pr.TranchePercents)
				}
				var total int64
				for _, a := range pr.TrancheAmounts(pr.BudgetTotal) {
					total += a
				}
				if total != pr.BudgetTotal {
					t.Fatalf("tranches of %d add up to %d", pr.BudgetTotal, total)
				}
			}
		}
	})
}

func checkRefusal(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != EUnprocessable || len(e.Details) == 0 {
		t.Fatalf("refusal %v is not an unprocessable *Error with details", err)
	}
}
