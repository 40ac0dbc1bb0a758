package grants_test

import (
	"fmt"
	"testing"

	"grantflow/internal/demo"
	"grantflow/internal/evidence"
	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/workflow"
)

// Rules found by trying the API as a new user would.
func TestMoneyDatesAndDoubleEntries(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newFixture(t, localStore(t))
	g := f.fundedGrant(t) // tranche 1 transferred 20 days ago

	// A refund dated before any money arrived is refused, naming paid_on.
	_, err := f.svc.RecordRefund(ctx, g.treasurer, g.id, grants.RefundInput{Amount: 1000,
		PaidOn: f.today.AddDays(-30), NTPN: "AAAABBBBCCCCDDDD"}, nil)
	wantField(t, "refund before the first transfer", err, workflow.EUnprocessable, "paid_on")

	// One NTPN is one deposit: the second time, on any grant, is a conflict.
	in := grants.RefundInput{Amount: 1000, PaidOn: f.today, NTPN: "0A1B2C3D4E5F6G7H"}
	if _, err := f.svc.RecordRefund(ctx, g.treasurer, g.id, in, nil); err != nil {
		t.Fatal(err)
	}
	in.NTPN = "0a1b2c3d4e5f6g7h" // the same NTPN typed in lower case
	_, err = f.svc.RecordRefund(ctx, g.treasurer, g.id, in, nil)
	wantField(t, "same NTPN again", err, workflow.EConflict, "")
	other := f.fundedGrant(t)
	_, err = f.svc.RecordRefund(ctx, other.treasurer, other.id, in, nil)
	wantField(t, "same NTPN on another grant", err, workflow.EConflict, "")

	// A void then a re-entry with the same receipt is a correction, not a duplicate.
	receipt := f.ingest(t, evidencetest.PNG(t, 41, 8, 6))
	first, err := f.spend(t, g, "konsumsi", 20_000, receipt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.VoidExpense(ctx, g.treasurer, g.id, first.ID, "Salah nominal"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.spend(t, g, "konsumsi", 25_000, receipt); err != nil {
		t.Fatal(err)
	}
	es, err := f.svc.Expenses(ctx, f.verifier, g.id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		for _, fl := range e.Flags {
			if fl == workflow.FlagDuplicate {
				t.Errorf("expense %d flagged duplicate after a void and re-entry: %v", e.ID, e.Flags)
			}
		}
	}
	// A third expense with the same receipt while the second stands is one.
	third, err := f.spend(t, g, "konsumsi", 5_000, receipt)
	if err != nil {
		t.Fatal(err)
	}
	if es, err = f.svc.Expenses(ctx, f.verifier, g.id); err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.ID == third.ID && !containsFlag(e.Flags, workflow.FlagDuplicate) {
			t.Errorf("expense %d shares a standing receipt but is not flagged: %v", e.ID, e.Flags)
		}
	}

	// A transfer dated before the programme opened, or before the tranche
	// it follows, is refused naming transferred_on.
	for _, day := range []workflow.Date{f.prog.ProposalOpensOn.AddDays(-1), f.today.AddDays(-21)} {
		_, err = f.svc.Disburse(ctx, f.finance, g.id, grants.DisbursementInput{Tranche: 2, Amount: 3_217_500,
			TransferredOn: day, Reference: "TRF-OLD"})
		wantField(t, "transfer dated "+day.String(), err, workflow.EUnprocessable, "transferred_on")
	}

	// While the proposal is edited, amount_requested is its budget's total.
	draft := f.draftGrant(t)
	p := demo.Proposal(workflow.KKG, f.today.AddDays(5))
	v, err := f.svc.SaveProposal(ctx, draft.treasurer, draft.id, p)
	if err != nil {
		t.Fatal(err)
	}
	if v.AmountRequested != 10_725_000 {
		t.Errorf("amount_requested after PUT = %d, want the budget total 10725000", v.AmountRequested)
	}
}

func containsFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

// A cancelled grant keeps from the pool what it spent: approving another
// grant may not count that money twice.
func TestPoolCountsWhatCancelledGrantsKept(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newFixture(t, localStore(t))
	var err error
	f.prog, err = f.svc.CreateProgram(ctx, grants.System, workflow.Program{Name: "Program Kecil", Year: f.today.Year(),
		ProposalOpensOn: f.today.AddDays(-60), ProposalClosesOn: f.today.AddDays(30),
		ActivityEndsOn: f.today.AddDays(200), ReportDueOn: f.today.AddDays(230), BudgetTotal: 12_000_000})
	if err != nil {
		t.Fatal(err)
	}
	a := f.fundedGrant(t) // approved 10 725 000, tranche 1 of 7 507 500 received
	if _, err := f.spend(t, a, "konsumsi", 2_000_000, f.ingest(t, evidencetest.PNG(t, 61, 8, 6))); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RecordRefund(ctx, a.treasurer, a.id, grants.RefundInput{Amount: 5_507_500,
		PaidOn: f.today, NTPN: "KEMBALI000000001"}, nil); err != nil {
		t.Fatal(err)
	}
	admin := f.user(t, grants.NewUser{Roles: []workflow.Role{workflow.RoleAdmin}})
	if _, err := f.svc.Act(ctx, admin, a.id, workflow.Cancel, grants.ActInput{Comment: "Kelompok bubar."}); err != nil {
		t.Fatal(err)
	}

	b := f.recommendedGrant(t) // 10 725 000 recommended
	// 2 000 000 kept by the cancelled grant + 10 725 000 > 12 000 000.
	_, err = f.svc.Act(ctx, f.approver, b.id, workflow.Approve, grants.ActInput{})
	if workflow.ErrorCode(err) != workflow.EUnprocessable {
		t.Fatalf("approve beyond the pool: %v, want unprocessable", err)
	}
}

// A grant read while expenses are being recorded is one snapshot: its total
// spent always equals the sum of its budget lines' spent.
func TestGrantReadIsOneSnapshot(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newFixture(t, localStore(t))
	g := f.fundedGrant(t)
	receipts := make([]*evidence.Object, 12)
	for i := range receipts {
		receipts[i] = f.ingest(t, evidencetest.NotePDF(fmt.Sprintf("nota %d", i)))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i, r := range receipts {
			cat := []string{"konsumsi", "transport", "atk_bahan"}[i%3]
			if _, err := f.spend(t, g, cat, 10_000, r); err != nil {
				t.Errorf("spend: %v", err)
				return
			}
		}
	}()
	reads := 0
	for {
		select {
		case <-done:
			if reads == 0 {
				t.Fatal("no read overlapped the writes")
			}
			return
		default:
		}
		v, err := f.svc.Grant(ctx, g.treasurer, g.id)
		if err != nil {
			t.Fatal(err)
		}
		var lines int64
		for _, b := range v.Budget {
			lines += b.Spent
		}
		if lines != v.Spent || v.Balance != v.Disbursed-v.Spent-v.Refunded {
			t.Fatalf("read %d: lines spent %d, grant spent %d, balance %d", reads, lines, v.Spent, v.Balance)
		}
		reads++
	}
}
