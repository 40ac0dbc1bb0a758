package postgres

import (
	"testing"

	"github.com/lib/pq"

	"grantflow/workflow"
)

// The grant read trusts PostgreSQL to keep each list's arrays aligned, not
// to keep them in seq order: rows sorts what comes out of order, with every
// column of a row moving together.
func TestActivityColsSortBySeqKeepingRowsWhole(t *testing.T) {
	c := activityCols{
		id: pq.Int64Array{12, 11}, seq: pq.Int64Array{2, 1}, participants: pq.Int64Array{20, 10},
		attendees: pq.Int64Array{0, 7}, evidence: pq.Int64Array{0, 3}, version: pq.Int64Array{0, 1},
		kind: pq.StringArray{"on", "in"}, title: pq.StringArray{"Praktik, \"kelas\"", "Sesi 1"},
		plannedOn: pq.StringArray{"2026-03-02", "2026-03-01"}, status: pq.StringArray{"cancelled", "held"},
		heldOn: pq.StringArray{"", "2026-03-01"}, cancelReason: pq.StringArray{"hujan", ""},
	}
	got, err := c.rows()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != 11 || got[1].ID != 12 {
		t.Fatalf("activities %+v, want ids 11, 12 in seq order", got)
	}
	a, b := got[0], got[1]
	if a.Seq != 1 || a.Kind != workflow.In || a.Title != "Sesi 1" || a.PlannedParticipants != 10 || a.AttendeeCount != 7 ||
		a.EvidenceCount != 3 || a.Version != 1 || a.HeldOn.String() != "2026-03-01" || a.CancelReason != "" {
		t.Errorf("first activity %+v", a)
	}
	if b.Seq != 2 || b.Title != "Praktik, \"kelas\"" || b.Status != "cancelled" || !b.HeldOn.IsZero() || b.CancelReason != "hujan" ||
		b.PlannedOn.String() != "2026-03-02" {
		t.Errorf("second activity %+v", b)
	}
}

func TestBudgetColsRows(t *testing.T) {
	var none budgetCols // a grant without lines: every array NULL
	got, err := none.rows()
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("no lines: %v, %v; want an empty non-nil list (JSON [])", got, err)
	}
	c := budgetCols{id: pq.Int64Array{5, 4}, seq: pq.Int64Array{2, 1}, quantity: pq.Int64Array{3, 1},
		unitPrice: pq.Int64Array{1000, 500}, amount: pq.Int64Array{3000, 500}, spent: pq.Int64Array{0, 200},
		category: pq.StringArray{"atk", "konsumsi"}, description: pq.StringArray{"Kertas", "Snack"}, unit: pq.StringArray{"rim", "kotak"}}
	got, err = c.rows()
	if err != nil {
		t.Fatal(err)
	}
	want := []workflow.BudgetLine{
		{ID: 4, Seq: 1, Category: "konsumsi", Description: "Snack", Quantity: 1, Unit: "kotak", UnitPrice: 500, Amount: 500, Spent: 200},
		{ID: 5, Seq: 2, Category: "atk", Description: "Kertas", Quantity: 3, Unit: "rim", UnitPrice: 1000, Amount: 3000},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("lines %+v, want %+v", got, want)
	}
	c.unit = c.unit[:1]
	if _, err := c.rows(); err == nil {
		t.Error("arrays of different lengths read without an error")
	}
}
