package grants_test

import (
	"strings"
	"testing"

	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/workflow"
)

// TestLedgerBoundaryDays builds one grant with every kind of money row on
// every boundary day (the first transfer's day, the day before it, today,
// tomorrow, a void today that comes after an expense of today) and checks
// that what would take the BKU below zero on any day is refused with the
// dates, while every running balance of what was accepted stays ≥ 0.
func TestLedgerBoundaryDays(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newFixture(t, localStore(t))
	g := f.fundedGrant(t) // tranche 1: 7 507 500 on today − 20
	first, today := f.today.AddDays(-20), f.today
	seed := 500
	spend := func(cat string, on workflow.Date, amount, ppn, pph int64) (workflow.Expense, error) {
		seed++
		return f.svc.RecordExpense(ctx, g.treasurer, g.id, grants.ExpenseInput{SpentOn: on, BudgetLineID: g.lines[cat].ID,
			Vendor: "Toko Batas Hari", Description: "Belanja " + cat, Amount: amount, TaxPPN: ppn, TaxPPh: pph}, f.ingest(t, evidencetest.PNG(t, seed, 8, 6)))
	}
	mustSpend := func(cat string, on workflow.Date, amount, ppn, pph int64) workflow.Expense {
		t.Helper()
		e, err := spend(cat, on, amount, ppn, pph)
		if err != nil {
			t.Fatalf("expense %s on %s: %v", cat, on, err)
		}
		return e
	}
	refused := func(what string, err error, field string, mentions ...string) {
		t.Helper()
		wantField(t, what, err, workflow.EUnprocessable, field)
		var said strings.Builder
		for _, d := range err.(*workflow.Error).Details {
			said.WriteString(d.Field + ": " + d.Message + "; ")
		}
		for _, m := range mentions {
			if !strings.Contains(said.String(), m) {
				t.Errorf("%s: %q does not mention %s", what, said.String(), m)
			}
		}
	}

	_, err := spend("konsumsi", first.AddDays(-1), 100_000, 0, 0)
	refused("expense the day before the first transfer", err, "spent_on", first.AddDays(-1).String(), first.String())
	_, err = spend("konsumsi", workflow.MustDate("1900-01-01"), 100_000, 0, 0)
	wantField(t, "expense in 1900", err, workflow.EUnprocessable, "spent_on")
	_, err = spend("konsumsi", today.AddDays(1), 100_000, 0, 0)
	refused("expense tomorrow", err, "spent_on", today.AddDays(1).String(), today.String())

	e1 := mustSpend("konsumsi", first, 3_000_000, 100_000, 50_000) // on the first transfer's day, with taxes
	mustSpend("honorarium", today, 2_700_000, 0, 0)                // today
	if _, err := f.svc.VoidExpense(ctx, g.treasurer, g.id, e1.ID, "Salah input nilai"); err != nil {
		t.Fatalf("void: %v", err) // the 3 000 000 comes back today, after the honorarium
	}
	mustSpend("transport", first.AddDays(10), 1_500_000, 0, 0)
	// Before the void today the BKU holds 7 507 500 − 3 000 000 − 1 500 000 −
	// 2 700 000 = 307 500: an earlier expense above that fits the final
	// balance (3 307 500) but would spend money not yet in hand.
	_, err = spend("dokumentasi", first.AddDays(1), 400_000, 0, 0)
	refused("expense the BKU cannot carry on its day", err, "spent_on", "negatif", today.String())
	mustSpend("dokumentasi", first.AddDays(1), 300_000, 0, 0)

	v := f.grant(t, g)
	if v.Balance != 3_007_500 {
		t.Fatalf("balance %d, want 3 007 500", v.Balance)
	}
	_, err = f.svc.RecordRefund(ctx, g.treasurer, g.id, grants.RefundInput{Amount: v.Balance, PaidOn: first.AddDays(5), NTPN: "0A1B2C3D4E5F6G7H"}, nil)
	refused("refund of the whole balance dated before the void", err, "paid_on", "negatif")
	_, err = f.svc.RecordRefund(ctx, g.treasurer, g.id, grants.RefundInput{Amount: 1000, PaidOn: first.AddDays(-1), NTPN: "0A1B2C3D4E5F6G7H"}, nil)
	refused("refund before the first transfer", err, "paid_on", first.String())
	_, err = f.svc.RecordRefund(ctx, g.treasurer, g.id, grants.RefundInput{Amount: 1000, PaidOn: today.AddDays(1), NTPN: "0A1B2C3D4E5F6G7H"}, nil)
	refused("refund tomorrow", err, "paid_on", today.String())
	if _, err := f.svc.RecordRefund(ctx, g.treasurer, g.id, grants.RefundInput{Amount: 7_500, PaidOn: first, NTPN: "0A1B2C3D4E5F6G7J"}, nil); err != nil {
		t.Fatalf("refund on the first transfer's day: %v", err)
	}
	if _, err := f.svc.RecordRefund(ctx, g.treasurer, g.id, grants.RefundInput{Amount: 3_000_000, PaidOn: today, NTPN: "0A1B2C3D4E5F6G7H"}, nil); err != nil {
		t.Fatalf("refund of the rest today: %v", err)
	}
	_, err = spend("penggandaan", first, 1, 0, 0)
	wantField(t, "expense with nothing left", err, workflow.EUnprocessable, "amount")

	_, ledger, err := f.svc.Ledger(ctx, g.treasurer, g.id)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, l := range ledger {
		kinds[l.Kind] = true
		if l.Balance < 0 {
			t.Errorf("running balance %d on %s (%s %s)", l.Balance, l.Date, l.Kind, l.Ref)
		}
	}
	for _, k := range []string{workflow.EntryDisbursement, workflow.EntryExpense, workflow.EntryTaxWithheld,
		workflow.EntryTaxDeposited, workflow.EntryVoid, workflow.EntryRefund} {
		if !kinds[k] {
			t.Errorf("ledger has no %s row: %+v", k, ledger)
		}
	}
	if last := ledger[len(ledger)-1]; last.Balance != 0 || len(ledger) != 12 {
		t.Errorf("%d rows, last balance %d; want 12 rows ending at 0: %+v", len(ledger), last.Balance, ledger)
	}
}
