package workflow

import (
	"math"
	"strings"
)

// Limits on the size of a proposal. They keep a request, the stored rows and
// the LPJ bounded; no real RAB comes near them.
const (
	MaxActivities  = 100    // planned In/On sessions
	MaxBudgetLines = 500    // RAB lines
	MaxTextLen     = 10_000 // characters in background, objectives, sustainability plan, comments
)

// Normalize cleans and checks the shape of a proposal as written with PUT
// /grants/{id}/proposal. A draft may be incomplete (empty texts, too few
// sessions, no budget: Apply(Submit) judges completeness); what is given must
// be well formed. Normalize trims every text, numbers activities and budget
// lines from 1 in the order given (Seq), marks activities planned and clears
// any realisation data a client sent, and computes each line's Amount =
// Quantity × UnitPrice. Spent is derived from expenses, never written by a
// proposal, so it is reset to 0.
//
// On failure it returns an EUnprocessable *Error with every problem (fields
// such as activities[0].title or budget[2].unit_price) and leaves p unchanged.
func (p *Proposal) Normalize() error {
	var ps Problems
	out := Proposal{
		Background:         strings.TrimSpace(p.Background),
		Objectives:         strings.TrimSpace(p.Objectives),
		SustainabilityPlan: strings.TrimSpace(p.SustainabilityPlan),
		Activities:         []Activity{},
		Budget:             []BudgetLine{},
	}
	maxText(&ps, "background", out.Background, MaxTextLen)
	maxText(&ps, "objectives", out.Objectives, MaxTextLen)
	maxText(&ps, "sustainability_plan", out.SustainabilityPlan, MaxTextLen)

	// Over the limit, the list itself is the one problem; checking each of
	// thousands of items would only bury it.
	if len(p.Activities) > MaxActivities {
		ps.Add("activities", "paling banyak %d kegiatan", MaxActivities)
	} else {
		for i, a := range p.Activities {
			f := func(name string) string { return fieldIndex("activities", i, name) }
			n := Activity{
				ID:                  a.ID,
				Seq:                 i + 1,
				Kind:                ActivityKind(strings.ToLower(strings.TrimSpace(string(a.Kind)))),
				Title:               strings.TrimSpace(a.Title),
				PlannedOn:           a.PlannedOn,
				PlannedParticipants: a.PlannedParticipants,
				Status:              ActivityPlanned,
			}
			if n.Kind != In && n.Kind != On {
				ps.Add(f("kind"), `harus "in" atau "on"`)
			}
			requireText(&ps, f("title"), n.Title, 200)
			if n.PlannedParticipants < 0 {
				ps.Add(f("planned_participants"), "tidak boleh negatif")
			}
			out.Activities = append(out.Activities, n)
		}
	}

	if len(p.Budget) > MaxBudgetLines {
		ps.Add("budget", "paling banyak %d baris anggaran", MaxBudgetLines)
	} else {
		for i, l := range p.Budget {
			f := func(name string) string { return fieldIndex("budget", i, name) }
			n := BudgetLine{
				ID:          l.ID,
				Seq:         i + 1,
				Category:    strings.TrimSpace(l.Category),
				Description: strings.TrimSpace(l.Description),
				Quantity:    l.Quantity,
				Unit:        strings.TrimSpace(l.Unit),
				UnitPrice:   l.UnitPrice,
			}
			if n.Category == "" {
				ps.Add(f("category"), "wajib diisi")
			} else {
				maxText(&ps, f("category"), n.Category, 50)
			}
			requireText(&ps, f("description"), n.Description, 500)
			requireText(&ps, f("unit"), n.Unit, 50)
			okQty, okPrice := n.Quantity > 0, n.UnitPrice > 0
			if !okQty {
				ps.Add(f("quantity"), "harus lebih besar dari 0")
			}
			if !okPrice {
				ps.Add(f("unit_price"), "harus lebih besar dari 0")
			}
			if okQty && okPrice {
				// Quantity × UnitPrice may overflow int64 long before it
				// reaches MaxAmount's neighbourhood; divide instead.
				if n.Quantity > MaxAmount/n.UnitPrice {
					ps.Add(f("amount"), "jumlah (volume × harga satuan) melebihi batas %s", formatRp(MaxAmount))
				} else {
					n.Amount = n.Quantity * n.UnitPrice
				}
			}
			out.Budget = append(out.Budget, n)
		}
	}

	if err := ps.Err("proposal tidak valid"); err != nil {
		return err
	}
	*p = out
	return nil
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
