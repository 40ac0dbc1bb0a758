package grants

import (
	"context"
	"regexp"
	"strings"

	"grantflow/internal/evidence"
	"grantflow/internal/postgres"
	"grantflow/internal/validate"
	"grantflow/money"
	"grantflow/workflow"
)

// RefundInput is unspent money returned to the treasury, already parsed at
// the boundary; the tags are its field rules (internal/validate).
type RefundInput struct {
	Amount int64         `json:"amount" validate:"required,gt=0" label:"Jumlah setoran"`
	PaidOn workflow.Date `json:"paid_on" validate:"required,day" label:"Tanggal setor"`
	NTPN   string        `json:"ntpn" validate:"notblank,max=40,nocontrol" label:"NTPN"`
}

var ntpnPattern = regexp.MustCompile(`^[0-9A-Z]{16}$`)

// RecordRefund records unspent money returned to the treasury with its NTPN
// (16 letters or digits), never more than the balance in hand.
func (s *Service) RecordRefund(ctx context.Context, a workflow.Actor, id int64, in RefundInput, proof *evidence.Object) (workflow.Refund, error) {
	in.NTPN = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(in.NTPN), " ", ""))
	p := validate.Check(in)
	s.notFuture(&p, "paid_on", in.PaidOn)
	if in.NTPN != "" && !ntpnPattern.MatchString(in.NTPN) {
		p.Add("ntpn", "NTPN harus 16 karakter huruf atau angka")
	}
	r := workflow.Refund{GrantID: id, CreatedBy: a.UserID, Amount: in.Amount, PaidOn: in.PaidOn, NTPN: in.NTPN}
	var out workflow.Refund
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		read, err := lockMoney(ctx, tx, a, id, workflow.RoleTreasurer)
		if err != nil {
			return err
		}
		g, ds := read.Grant, read.Disbursements
		if r.Amount > g.Balance() {
			p.Add("amount", "melebihi saldo: saldo %s, disetor %s", money.Format(g.Balance()), money.Format(r.Amount))
		}
		// Money is returned after it arrived.
		if len(ds) > 0 && !r.PaidOn.IsZero() && r.PaidOn.Before(ds[0].TransferredOn) {
			p.Add("paid_on", "tanggal setor sebelum dana pertama diterima (%s)", ds[0].TransferredOn)
		} else if len(p) == 0 && !r.PaidOn.IsZero() {
			keepsBalance(a, read, tx.Now(), &p, "paid_on", nil, &r)
		}
		if err := p.Err("setoran sisa dana tidak valid"); err != nil {
			return err
		}
		var proofRow postgres.File
		if proof != nil {
			if proofRow, err = tx.InsertFile(ctx, fileRow(*proof, id, 0, "refund_proof", a)); err != nil {
				return err
			}
			r.ProofID = proofRow.ID
		}
		if out, err = tx.InsertRefund(ctx, r); err != nil {
			return err
		}
		ev := workflow.NewEvent(g, "record_refund", a, workflow.RoleTreasurer, s.now(), "",
			map[string]any{"refund_id": out.ID, "amount": r.Amount, "ntpn": r.NTPN, "paid_on": r.PaidOn.String(), "row_sha256": out.RowSHA256})
		if proof != nil {
			ev.Data["proof_id"], ev.Data["proof_row_sha256"] = proofRow.ID, proofRow.RowSHA256
		}
		_, err = tx.AppendEvent(ctx, ev)
		return err
	})
	if err == nil && proof != nil {
		s.schedulePreview(proof.SHA256, proof.MIME)
	}
	return out, err
}

// Refunds returns a grant's refunds when a may see the grant.
func (s *Service) Refunds(ctx context.Context, a workflow.Actor, id int64) ([]workflow.Refund, error) {
	return readInScope(ctx, s, a, id, func(tx *postgres.Tx) ([]workflow.Refund, error) { return tx.Refunds(ctx, id) })
}

// Ledger returns the grant's BKU, derived from its money rows.
func (s *Service) Ledger(ctx context.Context, a workflow.Actor, id int64) (View, []workflow.LedgerEntry, error) {
	r, err := s.readGrant(ctx, a, id, postgres.ReadOptions{Money: true})
	if err != nil {
		return View{}, nil, err
	}
	es := flagRows(a, r.Grant, r.Program, r.Disbursements, r.Expenses)
	return view(r.Grant, r.Group, a), workflow.Ledger(r.Disbursements, es, r.Refunds), nil
}
