package workflow

import (
	"math"
	"strings"
	"unicode"
)

// Limits on the size of a proposal. They keep a request, the stored rows and
// the LPJ bounded; no real RAB comes near them.
const (
	MaxActivities  = 100    // planned In/On sessions
	MaxBudgetLines = 500    // RAB lines
	MaxTextLen     = 10_000 // characters in background, objectives, sustainability plan, comments
)

// Blank reports whether s says nothing: only spaces and invisible format
// characters (a zero-width space, a byte-order mark), which a form or a
// phone keyboard can put in a field that looks empty.
func Blank(s string) bool {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) }) == ""
}

// Normalize cleans a proposal as written with PUT /grants/{id}/proposal and
// works out what follows from its fields: it trims every text, lower-cases
// the activity kinds, numbers activities and budget lines from 1 in the order
// given (Seq), marks activities planned and clears any realisation data a
// client sent, and sets each line's Amount = Quantity × UnitPrice. Spent is
// derived from expenses, never written by a proposal, so it is reset to 0.
//
// The field rules (required texts, lengths, kinds, ranges, list sizes) are
// the struct tags of Proposal, Activity and BudgetLine, checked at the
// boundary by internal/validate on the cleaned proposal. A draft may be
// incomplete (Apply(Submit) judges completeness). p is cleaned even when
// Normalize fails, so that those checks see the trimmed text.
//
// The one rule left here spans two fields: a line whose Quantity × UnitPrice
// exceeds MaxAmount makes Normalize return an EUnprocessable *Error naming
// budget[i].amount.
func (p *Proposal) Normalize() error {
	var ps Problems
	out := Proposal{
		Background:         strings.TrimSpace(p.Background),
		Objectives:         strings.TrimSpace(p.Objectives),
		SustainabilityPlan: strings.TrimSpace(p.SustainabilityPlan),
		Activities:         make([]Activity, 0, len(p.Activities)),
		Budget:             make([]BudgetLine, 0, len(p.Budget)),
	}
	for i, a := range p.Activities {
		out.Activities = append(out.Activities, Activity{
			ID:                  a.ID,
			Seq:                 i + 1,
			Kind:                ActivityKind(strings.ToLower(strings.TrimSpace(string(a.Kind)))),
			Title:               strings.TrimSpace(a.Title),
			PlannedOn:           a.PlannedOn,
			PlannedParticipants: a.PlannedParticipants,
			Status:              ActivityPlanned,
		})
	}
	for i, l := range p.Budget {
		n := BudgetLine{
			ID:          l.ID,
			Seq:         i + 1,
			Category:    strings.TrimSpace(l.Category),
			Description: strings.TrimSpace(l.Description),
			Quantity:    l.Quantity,
			Unit:        strings.TrimSpace(l.Unit),
			UnitPrice:   l.UnitPrice,
		}
		// A line with no positive quantity or price is the tags' to name;
		// its amount stays 0. Quantity × UnitPrice may overflow int64 long
		// before it reaches MaxAmount's neighbourhood: divide instead.
		if n.Quantity > 0 && n.UnitPrice > 0 {
			if n.Quantity > MaxAmount/n.UnitPrice {
				ps.Add(fieldIndex("budget", i, "amount"), "jumlah (volume × harga satuan) melebihi batas %s", formatRp(MaxAmount))
			} else {
				n.Amount = n.Quantity * n.UnitPrice
			}
		}
		out.Budget = append(out.Budget, n)
	}
	*p = out
	return ps.Err("proposal tidak valid")
}

// Total returns the sum of the budget lines' amounts. Lines come from
// Normalize, so each is at most MaxAmount and the sum cannot overflow; the
// sum saturates at math.MaxInt64 anyway rather than wrap to a negative total.
func (p Proposal) Total() int64 {
	var t int64
	for _, l := range p.Budget {
		t = addSat(t, l.Amount)
	}
	return t
}

// addSat adds with saturation at the int64 limits.
func addSat(a, b int64) int64 {
	s := a + b
	switch {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && s >= 0:
		return math.MinInt64
	}
	return s
}
