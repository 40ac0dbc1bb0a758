package workflow

import (
	"testing"
	"time"
)

// ledgerDay is day n of a fixed month, for ledger fixtures.
func ledgerDay(n int) Date { return MustDate("2026-03-01").AddDays(n - 1) }

// ledgerAt is a fixed instant n minutes into 2026-03-01 UTC (entry time).
func ledgerAt(n int) time.Time { return time.Date(2026, 3, 1, 0, n, 0, 0, time.UTC) }

func TestLedgerOrderAndBalance(t *testing.T) {
	voidedAt := ledgerAt(500)
	ds := []Disbursement{
		{ID: 1, Tranche: 1, Amount: 7_000_000, TransferredOn: ledgerDay(1), Reference: "TRF-1", CreatedAt: ledgerAt(1)},
		{ID: 2, Tranche: 2, Amount: 3_000_000, TransferredOn: ledgerDay(20), Reference: "TRF-2", CreatedAt: ledgerAt(2)},
	}
	es := []Expense{
		// Entered first but dated day 5, with both taxes withheld.
		{ID: 10, SpentOn: ledgerDay(5), Vendor: "Toko A", Description: "ATK", Amount: 1_110_000, TaxPPN: 110_000, TaxPPh: 15_000, CreatedAt: ledgerAt(30)},
		// Dated earlier (day 3) but entered later; voided on day 8.
		{ID: 11, SpentOn: ledgerDay(3), Vendor: "Warung B", Description: "Konsumsi", Amount: 500_000, CreatedAt: ledgerAt(40),
			VoidedAt: &voidedAt, VoidedOn: ledgerDay(8), VoidReason: "salah input"},
		// Same day as 10 but entered before it: listed before it.
		{ID: 12, SpentOn: ledgerDay(5), Vendor: "Percetakan C", Description: "Penggandaan", Amount: 200_000, CreatedAt: ledgerAt(20)},
	}
	rs := []Refund{{ID: 1, Amount: 100_000, PaidOn: ledgerDay(25), NTPN: "0123456789ABCDEF", CreatedAt: ledgerAt(60)}}

	got := Ledger(ds, es, rs)
	want := []struct {
		day     int
		kind    string
		ref     string
		in, out int64
	}{
		{1, EntryDisbursement, "TRF-1", 7_000_000, 0},
		{3, EntryExpense, "BL-11", 0, 500_000},
		{5, EntryExpense, "BL-12", 0, 200_000},
		{5, EntryExpense, "BL-10", 0, 1_110_000},
		{5, EntryTaxWithheld, "BL-10", 110_000, 0},
		{5, EntryTaxDeposited, "BL-10", 0, 110_000},
		{5, EntryTaxWithheld, "BL-10", 15_000, 0},
		{5, EntryTaxDeposited, "BL-10", 0, 15_000},
		{8, EntryVoid, "BL-11", 500_000, 0},
		{20, EntryDisbursement, "TRF-2", 3_000_000, 0},
		{25, EntryRefund, "0123456789ABCDEF", 0, 100_000},
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(got), len(want), got)
	}
	var bal int64
	for i, w := range want {
		r := got[i]
		bal += w.in - w.out
		if r.Date != ledgerDay(w.day) || r.Kind != w.kind || r.Ref != w.ref || r.In != w.in || r.Out != w.out || r.Balance != bal {
			t.Errorf("row %d = %s %s %s in %d out %d bal %d; want day %d %s %s in %d out %d bal %d",
				i, r.Date, r.Kind, r.Ref, r.In, r.Out, r.Balance, w.day, w.kind, w.ref, w.in, w.out, bal)
		}
	}
	// The last balance is the grant's: disbursed − non-void spent − refunded.
	g := Grant{Disbursed: 10_000_000, Spent: 1_110_000 + 200_000, Refunded: 100_000}
	if last := got[len(got)-1].Balance; last != g.Balance() {
		t.Fatalf("ledger ends at %d, grant balance %d", last, g.Balance())
	}
	if got[1].Balance != 6_500_000 {
		t.Errorf("an expense dated before its entry must still come in date order: %+v", got[1])
	}
	if d := got[8].Description; d != "Pembatalan: salah input" {
		t.Errorf("void description %q", d)
	}
	if d := got[3].Description; d != "ATK — Toko A" {
		t.Errorf("expense description %q", d)
	}
}

func TestLedgerStableAndEmpty(t *testing.T) {
	if got := Ledger(nil, nil, nil); got == nil || len(got) != 0 {
		t.Fatalf("empty ledger %#v, want a non-nil empty slice (JSON [])", got)
	}
	// Same date and entry time: input order decides, every time.
	at := ledgerAt(1)
	es := []Expense{
		{ID: 1, SpentOn: ledgerDay(2), Amount: 1, CreatedAt: at},
		{ID: 2, SpentOn: ledgerDay(2), Amount: 2, CreatedAt: at},
		{ID: 3, SpentOn: ledgerDay(2), Amount: 3, CreatedAt: at},
	}
	for range 20 {
		got := Ledger(nil, es, nil)
		for i, r := range got {
			if r.Out != int64(i+1) {
				t.Fatalf("order %+v", got)
			}
		}
	}
	// Spending before any money arrived shows as a negative running balance, not hidden.
	got := Ledger([]Disbursement{{Amount: 10, TransferredOn: ledgerDay(3)}}, es[:1], nil)
	if got[0].Balance != -1 || got[1].Balance != 9 {
		t.Fatalf("balances %+v", got)
	}
}

func TestExpenseFlagsBoundaries(t *testing.T) {
	first, ends := ledgerDay(10), ledgerDay(100)
	for _, tc := range []struct {
		name string
		e    Expense
		dup  bool
		want []string
	}{
		{"plain", Expense{Amount: 1_000, SpentOn: ledgerDay(10)}, false, []string{}},
		{"exactly the stamp threshold", Expense{Amount: MeteraiThreshold, SpentOn: ledgerDay(50)}, false, []string{}},
		{"one above", Expense{Amount: MeteraiThreshold + 1, SpentOn: ledgerDay(50)}, false, []string{FlagMeterai}},
		{"before the first transfer", Expense{Amount: 1, SpentOn: ledgerDay(9)}, false, []string{FlagOutside}},
		{"on the last day", Expense{Amount: 1, SpentOn: ends}, false, []string{}},
		{"after the period", Expense{Amount: 1, SpentOn: ledgerDay(101)}, false, []string{FlagOutside}},
		{"duplicate shown", Expense{Amount: 1, SpentOn: ledgerDay(50)}, true, []string{FlagDuplicate}},
		{"all three", Expense{Amount: 6_000_000, SpentOn: ledgerDay(1)}, true, []string{FlagMeterai, FlagDuplicate, FlagOutside}},
	} {
		got := ExpenseFlags(tc.e, first, ends, tc.dup)
		if got == nil || len(got) != len(tc.want) {
			t.Errorf("%s: %#v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
	}
	// No transfer yet and no period end: only the amount can flag.
	if got := ExpenseFlags(Expense{Amount: 1, SpentOn: ledgerDay(1)}, Date{}, Date{}, false); len(got) != 0 {
		t.Errorf("no dates: %v", got)
	}
}
