package grants

import (
	"context"
	"slices"
	"strings"
	"time"

	"grantflow/internal/evidence"
	"grantflow/internal/postgres"
	"grantflow/internal/validate"
	"grantflow/money"
	"grantflow/workflow"
)

// ExpenseInput is a purchase as the treasurer records it, already parsed at
// the boundary (amounts in rupiah, ids, a calendar day); the tags are its
// field rules (internal/validate). ActivityID 0 means no activity named.
type ExpenseInput struct {
	SpentOn      workflow.Date `json:"spent_on" validate:"required,day" label:"Tanggal belanja"`
	BudgetLineID int64         `json:"budget_line_id" validate:"required,gt=0" label:"Baris anggaran"`
	ActivityID   int64         `json:"activity_id" validate:"gte=0" label:"Kegiatan"`
	Vendor       string        `json:"vendor" validate:"notblank,max=200,nocontrol" label:"Nama toko/penyedia"`
	Description  string        `json:"description" validate:"notblank,max=1000,nocontrol" label:"Uraian belanja"`
	Amount       int64         `json:"amount" validate:"required,gt=0" label:"Nilai belanja"`
	TaxPPN       int64         `json:"tax_ppn" validate:"gte=0" label:"PPN"`
	TaxPPh       int64         `json:"tax_pph" validate:"gte=0" label:"PPh"`
}

// RecordExpense records a purchase backed by a stored receipt (treasurer of
// the group, grant funded). Under the grant's row lock it refuses, with the
// numbers, spending beyond the budget line or beyond the money in hand, so
// concurrent expenses can never jointly overspend.
func (s *Service) RecordExpense(ctx context.Context, a workflow.Actor, id int64, in ExpenseInput, receipt *evidence.Object) (workflow.Expense, error) {
	in.Vendor, in.Description = strings.TrimSpace(in.Vendor), strings.TrimSpace(in.Description)
	p := validate.Check(in)
	s.notFuture(&p, "spent_on", in.SpentOn)
	e := workflow.Expense{GrantID: id, CreatedBy: a.UserID, SpentOn: in.SpentOn, BudgetLineID: in.BudgetLineID,
		ActivityID: in.ActivityID, Vendor: in.Vendor, Description: in.Description, Amount: in.Amount, TaxPPN: in.TaxPPN, TaxPPh: in.TaxPPh}
	// Compared without forming the sum, which may overflow int64.
	if e.Amount > 0 && (e.TaxPPN > e.Amount || e.TaxPPh > e.Amount-e.TaxPPN) {
		p.Add("tax_pph", "jumlah pajak (PPN %s + PPh %s) melebihi nilai belanja (%s)", money.Format(e.TaxPPN), money.Format(e.TaxPPh), money.Format(e.Amount))
	}
	if receipt == nil {
		p.Add("receipt", "bukti belanja (JPEG, PNG atau PDF) wajib diunggah")
	}
	var out workflow.Expense
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		r, err := lockMoney(ctx, tx, a, id, workflow.RoleTreasurer)
		if err != nil {
			return err
		}
		// Every check and flag below is judged against r: the grant's
		// lock keeps it as it is until the commit.
		g, prog, ds := r.Grant, r.Program, r.Disbursements
		var line *workflow.BudgetLine
		for i := range g.Budget {
			if g.Budget[i].ID == e.BudgetLineID {
				line = &g.Budget[i]
			}
		}
		if line == nil && e.BudgetLineID != 0 {
			p.Add("budget_line_id", "baris anggaran tidak ditemukan pada hibah ini")
		}
		if _, ok := activityOf(g, e.ActivityID); e.ActivityID != 0 && !ok {
			p.Add("activity_id", "kegiatan tidak ditemukan pada hibah ini")
		}
		if line != nil && e.Amount > 0 && e.Amount > line.Amount-line.Spent { // no sum that could overflow
			p.Add("amount", "melebihi pagu baris anggaran %q: pagu %s, sudah terpakai %s, sisa %s, diminta %s",
				line.Description, money.Format(line.Amount), money.Format(line.Spent), money.Format(line.Amount-line.Spent), money.Format(e.Amount))
		}
		if e.Amount > 0 && e.Amount > g.Balance() {
			p.Add("amount", "melebihi dana di tangan: diterima %s, terpakai %s, dikembalikan %s, saldo %s, diminta %s",
				money.Format(g.Disbursed), money.Format(g.Spent), money.Format(g.Refunded), money.Format(g.Balance()), money.Format(e.Amount))
		}
		// Money is spent after it arrived, and never ahead of it.
		if first := workflow.FirstTransfer(ds); !e.SpentOn.IsZero() && !first.IsZero() && e.SpentOn.Before(first) {
			p.Add("spent_on", "tanggal belanja %s sebelum dana pertama diterima (%s)", e.SpentOn, first)
		}
		// The running balance is judged on an expense otherwise sound.
		if len(p) == 0 && e.Amount > 0 && !e.SpentOn.IsZero() {
			keepsBalance(a, r, tx.Now(), &p, "spent_on", &e, nil)
		}
		if err := p.Err("belanja tidak dapat dicatat"); err != nil {
			return err
		}
		file, err := tx.InsertFile(ctx, fileRow(*receipt, id, 0, "receipt", a))
		if err != nil {
			return err
		}
		e.ReceiptID, e.ReceiptSHA256 = file.ID, file.SHA256
		if out, err = tx.InsertExpense(ctx, e); err != nil {
			return err
		}
		ev := workflow.NewEvent(g, "record_expense", a, workflow.RoleTreasurer, s.now(), e.Description, map[string]any{
			"expense_id": out.ID, "amount": e.Amount, "tax_ppn": e.TaxPPN, "tax_pph": e.TaxPPh,
			"budget_line_id": e.BudgetLineID, "receipt_sha256": file.SHA256,
			"row_sha256": out.RowSHA256, "receipt_id": file.ID, "receipt_row_sha256": file.RowSHA256})
		if _, err := tx.AppendEvent(ctx, ev); err != nil {
			return err
		}
		// The row as inserted, not read back: its only fact from other
		// rows, duplicate_receipt, is for staff, and segregation of
		// duties keeps a treasurer from ever being staff (people.go).
		out = flagRows(a, g, prog, ds, []postgres.ExpenseRow{{Expense: out}})[0]
		return nil
	})
	if err == nil {
		s.schedulePreview(receipt.SHA256, receipt.MIME)
	}
	return out, err
}

// activityOf returns grant g's activity id, and whether g has it.
func activityOf(g workflow.Grant, id int64) (workflow.Activity, bool) {
	for _, act := range g.Activities {
		if act.ID == id {
			return act, true
		}
	}
	return workflow.Activity{}, false
}

// flag attaches review flags; duplicate_receipt is for staff eyes only.
func (s *Service) flag(ctx context.Context, tx *postgres.Tx, a workflow.Actor, g workflow.Grant, rows []postgres.ExpenseRow) ([]workflow.Expense, error) {
	prog, ds, err := moneyFacts(ctx, tx, g)
	if err != nil {
		return nil, err
	}
	return flagRows(a, g, prog, ds, rows), nil
}

// moneyFacts reads what the money checks and flags of g are judged
// against: its programme and its disbursements.
func moneyFacts(ctx context.Context, tx *postgres.Tx, g workflow.Grant) (workflow.Program, []workflow.Disbursement, error) {
	prog, err := tx.Program(ctx, g.ProgramID)
	if err != nil {
		return prog, nil, err
	}
	ds, err := tx.Disbursements(ctx, g.ID)
	return prog, ds, err
}

// flagRows is flag on rows already read: the programme and the
// disbursements of g are what the flags are judged against.
func flagRows(a workflow.Actor, g workflow.Grant, prog workflow.Program, ds []workflow.Disbursement, rows []postgres.ExpenseRow) []workflow.Expense {
	first := workflow.FirstTransfer(ds)
	out := make([]workflow.Expense, len(rows))
	for i, r := range rows {
		out[i] = r.Expense
		out[i].Flags = workflow.ExpenseFlags(r.Expense, first, prog.ActivityEndsOn, r.Duplicate && a.IsStaff())
		if a.IsStaff() {
			// Whether a session cost belongs to a session held is for
			// the reviewers' eyes, like duplicate_receipt.
			out[i].Flags = append(out[i].Flags, workflow.SessionFlags(r.Expense, g)...)
		}
	}
	return out
}

// Expenses returns a grant's expenses, voided ones included, with flags.
func (s *Service) Expenses(ctx context.Context, a workflow.Actor, id int64) ([]workflow.Expense, error) {
	r, err := s.readGrant(ctx, a, id, postgres.ReadOptions{Money: true})
	if err != nil {
		return nil, err
	}
	return flagRows(a, r.Grant, r.Program, r.Disbursements, r.Expenses), nil
}

// VoidInput is the body of an expense's void: why it is reversed.
type VoidInput struct {
	Reason string `json:"reason" validate:"notblank,max=1000,nocontrol" label:"Alasan pembatalan"`
}

// VoidExpense voids an expense with a reason (treasurer, grant funded); the
// row stays, the ledger shows the reversal, the audit chain the event.
func (s *Service) VoidExpense(ctx context.Context, a workflow.Actor, id, expenseID int64, reason string) (workflow.Expense, error) {
	reason = strings.TrimSpace(reason)
	var out workflow.Expense
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, err := lockFunded(ctx, tx, a, id, workflow.RoleTreasurer)
		if err != nil {
			return err
		}
		rows, err := tx.Expenses(ctx, id, expenseID)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return workflow.Errorf(workflow.ENotFound, "belanja %d tidak ditemukan", expenseID)
		}
		if err := validate.Err(VoidInput{Reason: reason}, "pembatalan tidak valid"); err != nil {
			return err
		}
		voidHash, err := tx.VoidExpense(ctx, id, expenseID, a.UserID, reason)
		if err != nil {
			return err
		}
		ev := workflow.NewEvent(g, "void_expense", a, workflow.RoleTreasurer, s.now(), reason,
			map[string]any{"expense_id": expenseID, "amount": rows[0].Amount, "void_sha256": voidHash})
		if _, err := tx.AppendEvent(ctx, ev); err != nil {
			return err
		}
		if rows, err = tx.Expenses(ctx, id, expenseID); err != nil {
			return err
		}
		flagged, err := s.flag(ctx, tx, a, g, rows)
		if err == nil {
			out = flagged[0]
		}
		return err
	})
	return out, err
}

// notFuture refuses a day after today in Jakarta: money is recorded after
// it moved.
func (s *Service) notFuture(p *workflow.Problems, field string, d workflow.Date) {
	if !d.IsZero() && d.After(s.today()) {
		p.Add(field, "tanggal %s di masa depan: paling lambat hari ini (%s)", d, s.today())
	}
}

// keepsBalance refuses, with the day and the figures, an outgoing row that
// would take the BKU's running balance below zero on any day. The totals
// alone do not show it: an expense dated before a later tranche (or before
// a void gave money back) can fit the final balance yet spend money the
// group did not have yet. The candidate is placed as recorded at now, so
// last on its day; incoming rows only raise balances, so checking every
// outgoing row this way keeps the whole ledger non-negative.
//
// r is the grant with its money rows, read under its lock (lockMoney).
func keepsBalance(a workflow.Actor, r postgres.GrantRead, now time.Time, p *workflow.Problems, field string, e *workflow.Expense, rf *workflow.Refund) {
	es := flagRows(a, r.Grant, r.Program, r.Disbursements, r.Expenses)
	rs := r.Refunds
	if e != nil {
		c := *e
		c.CreatedAt = now
		es = append(es, c)
	}
	if rf != nil {
		c := *rf
		c.CreatedAt = now
		rs = append(slices.Clip(rs), c)
	}
	for _, l := range workflow.Ledger(r.Disbursements, es, rs) {
		if l.Balance < 0 {
			p.Add(field, "saldo BKU menjadi negatif pada %s (%s): dana yang sudah diterima sampai hari itu tidak mencukupi",
				l.Date, money.Format(l.Balance))
			return
		}
	}
}
