package workflow

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestProposalNormalize(t *testing.T) {
	p := Proposal{
		Background: "  Latar  ",
		Activities: []Activity{
			{ID: 9, Seq: 7, Kind: " IN ", Title: " Sesi pembuka ", PlannedOn: MustDate("2026-04-01"), PlannedParticipants: 20,
				Status: ActivityHeld, HeldOn: MustDate("2026-04-01"), AttendeeCount: 5, EvidenceCount: 2},
			{Kind: On, Title: "Praktik"},
		},
		Budget: []BudgetLine{
			{Category: " konsumsi ", Description: " Makan siang ", Quantity: 3, Unit: " kotak ", UnitPrice: 25_000, Amount: 1, Spent: 99},
		},
	}
	if err := p.Normalize(); err != nil {
		t.Fatal(err)
	}
	want := Proposal{
		Background: "Latar",
		Activities: []Activity{
			{ID: 9, Seq: 1, Kind: In, Title: "Sesi pembuka", PlannedOn: MustDate("2026-04-01"), PlannedParticipants: 20, Status: ActivityPlanned},
			{Seq: 2, Kind: On, Title: "Praktik", Status: ActivityPlanned},
		},
		Budget: []BudgetLine{
			{Seq: 1, Category: "konsumsi", Description: "Makan siang", Quantity: 3, Unit: "kotak", UnitPrice: 25_000, Amount: 75_000},
		},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got %+v\nwant %+v", p, want)
	}
	if p.Total() != 75_000 {
		t.Errorf("total %d", p.Total())
	}

	// An empty draft is fine, and comes back with empty (not nil) lists.
	var empty Proposal
	if err := empty.Normalize(); err != nil || empty.Activities == nil || empty.Budget == nil || empty.Total() != 0 {
		t.Errorf("empty draft: %v %+v", err, empty)
	}
}

// TestProposalNormalizeErrors: every line whose amount overflows is named.
func TestProposalNormalizeErrors(t *testing.T) {
	long := strings.Repeat("a", MaxTextLen+1)
	p := Proposal{
		Background:         long,
		Objectives:         "  " + strings.Repeat("é", MaxTextLen) + "  ", // exactly the limit after trimming
		SustainabilityPlan: long,
		Activities: []Activity{
			{Kind: "offline", Title: " ", PlannedParticipants: -1},
			{Kind: In, Title: strings.Repeat("t", 201)},
		},
		Budget: []BudgetLine{
			{Category: "", Description: "", Quantity: 0, Unit: "", UnitPrice: 0},
			{Category: "konsumsi", Description: strings.Repeat("d", 501), Quantity: -1, Unit: strings.Repeat("u", 51), UnitPrice: 1},
			{Category: "sewa", Description: "Gedung", Quantity: 1_000_000, Unit: "hari", UnitPrice: 1_000_000_001},
			{Category: "sewa", Description: "Overflow", Quantity: math.MaxInt64, Unit: "hari", UnitPrice: 2},
			{Category: "sewa", Description: "Batas", Quantity: 1_000_000, Unit: "hari", UnitPrice: 1_000_000_000}, // exactly MaxAmount
		},
	}
	err := p.Normalize()
	// The field rules are the struct tags (internal/validate tests them);
	// Normalize names only the amounts that overflow.
	wantDetails(t, err,
		"budget[2].amount: melebihi batas Rp 1.000.000.000.000.000",
		"budget[3].amount: melebihi batas",
	)
	// Cleaned even on error, so that the tags see the trimmed text.
	if p.Objectives != strings.Repeat("é", MaxTextLen) || p.Activities[0].Kind != "offline" || p.Budget[4].Amount != MaxAmount {
		t.Errorf("not cleaned on error: %+v", p)
	}

	// At the limits: accepted.
	r := Proposal{}
	for range MaxActivities {
		r.Activities = append(r.Activities, Activity{Kind: On, Title: "x"})
	}
	for range MaxBudgetLines {
		r.Budget = append(r.Budget, BudgetLine{Category: "sewa", Description: "x", Quantity: 1_000_000, Unit: "x", UnitPrice: 1_000_000_000})
	}
	if err := r.Normalize(); err != nil {
		t.Fatalf("at the limits: %v", err)
	}
	if got := r.Total(); got != MaxAmount*MaxBudgetLines || r.Budget[499].Seq != 500 || r.Activities[99].Seq != 100 {
		t.Errorf("total %d", got)
	}
}

func TestTotalSaturates(t *testing.T) {
	p := Proposal{Budget: []BudgetLine{{Amount: math.MaxInt64}, {Amount: 1}}}
	if p.Total() != math.MaxInt64 {
		t.Errorf("total %d", p.Total())
	}
}
