package grants

import (
	"context"
	"fmt"
	"strings"

	"grantflow/internal/postgres"
	"grantflow/internal/validate"
	"grantflow/workflow"
)

// DisbursementInput is one tranche transfer as finance records it, already
// parsed at the boundary; the tags are its field rules (internal/validate).
type DisbursementInput struct {
	Tranche       int           `json:"tranche" validate:"required,min=1,max=12" label:"Tahap"`
	Amount        int64         `json:"amount" validate:"required,gt=0" label:"Jumlah penyaluran"`
	TransferredOn workflow.Date `json:"transferred_on" validate:"required,day" label:"Tanggal transfer"`
	Reference     string        `json:"reference" validate:"notblank,max=100,nocontrol" label:"Nomor referensi bank"`
}

// DisburseActionInput is the disburse action (SPEC §8): the transfer plus
// what every action takes.
type DisburseActionInput struct {
	DisbursementInput
	Comment       string         `json:"comment" validate:"max=2000,nocontrol" label:"Komentar"`
	ExpectedState workflow.State `json:"expected_state" validate:"omitempty,max=40,nocontrol" label:"Status yang diharapkan"`
}

// Disburse records a tranche transfer (finance, never the grant's approver).
// The first moves approved → funded; each must equal its tranche's share, and
// tranche n+1 waits until tranche n is accounted for (workflow guards).
func (s *Service) Disburse(ctx context.Context, a workflow.Actor, id int64, in DisbursementInput) (workflow.Disbursement, error) {
	var out workflow.Disbursement
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		var err error
		out, _, err = s.disburse(ctx, tx, a, id, DisburseActionInput{DisbursementInput: in})
		return err
	})
	return out, err
}

// DisburseAction is Disburse answered with the grant, as every action is;
// comment and expected_state are kept in the event like any action's.
func (s *Service) DisburseAction(ctx context.Context, a workflow.Actor, id int64, in DisburseActionInput) (View, error) {
	var out View
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		var err error
		_, out, err = s.disburse(ctx, tx, a, id, in)
		return err
	})
	return out, err
}

// disburse is the one transaction body of both entry points.
func (s *Service) disburse(ctx context.Context, tx *postgres.Tx, a workflow.Actor, id int64, in DisburseActionInput) (workflow.Disbursement, View, error) {
	in.Reference = strings.TrimSpace(in.Reference)
	p := validate.Check(in)
	if !in.TransferredOn.IsZero() && in.TransferredOn.After(s.today()) {
		p.Add("transferred_on", "tanggal transfer tidak boleh di masa depan")
	}
	g, grp, err := lockedGrant(ctx, tx, a, id)
	if err != nil {
		return workflow.Disbursement{}, View{}, err
	}
	if err := require(a, workflow.RoleFinance); err != nil {
		return workflow.Disbursement{}, View{}, err
	}
	if err := p.Err("data penyaluran tidak valid"); err != nil {
		return workflow.Disbursement{}, View{}, err
	}
	prog, err := tx.Program(ctx, g.ProgramID)
	if err != nil {
		return workflow.Disbursement{}, View{}, err
	}
	// A transfer falls inside the programme (the approval date is not
	// kept apart from the trail: finance may record a transfer days
	// late, but never one from before the round opened) and follows
	// the tranche before it.
	if in.TransferredOn.Before(prog.ProposalOpensOn) {
		return workflow.Disbursement{}, View{}, (workflow.Problems{{Field: "transferred_on", Message: fmt.Sprintf("tanggal transfer sebelum program dibuka (%s)", prog.ProposalOpensOn)}}).Err("data penyaluran tidak valid")
	}
	ds, err := tx.Disbursements(ctx, id)
	if err != nil {
		return workflow.Disbursement{}, View{}, err
	}
	if n := len(ds); n > 0 && in.TransferredOn.Before(ds[n-1].TransferredOn) {
		return workflow.Disbursement{}, View{}, (workflow.Problems{{Field: "transferred_on", Message: fmt.Sprintf("tanggal transfer sebelum tahap %d (%s)", ds[n-1].Tranche, ds[n-1].TransferredOn)}}).Err("data penyaluran tidak valid")
	}
	ev, err := workflow.Apply(&g, workflow.Request{Action: workflow.Disburse, Actor: a, Now: s.now().In(workflow.Jakarta),
		Comment: in.Comment, ExpectedState: in.ExpectedState,
		Tranche: in.Tranche, Amount: in.Amount, Program: prog, Group: grp})
	if err != nil {
		return workflow.Disbursement{}, View{}, err
	}
	out, err := tx.InsertDisbursement(ctx, workflow.Disbursement{GrantID: id, Tranche: in.Tranche, Amount: in.Amount,
		TransferredOn: in.TransferredOn, Reference: in.Reference, RecordedBy: a.UserID})
	if err != nil {
		return out, View{}, err
	}
	ev.Data["reference"], ev.Data["transferred_on"], ev.Data["disbursement_id"] = in.Reference, in.TransferredOn.String(), out.ID
	ev.Data["row_sha256"] = out.RowSHA256
	if _, err = tx.SaveTransition(ctx, g, ev); err != nil {
		return out, View{}, err
	}
	return out, view(g, grp, a), nil
}

// Disbursements returns a grant's transfers when a may see the grant.
func (s *Service) Disbursements(ctx context.Context, a workflow.Actor, id int64) ([]workflow.Disbursement, error) {
	return readInScope(ctx, s, a, id, func(tx *postgres.Tx) ([]workflow.Disbursement, error) { return tx.Disbursements(ctx, id) })
}

// lockFunded locks grant id for a money or evidence record: the grant must be
// visible to a (else ENotFound), a must hold one of roles for its own group
// (EForbidden) and the grant must be funded (EConflict).
func lockFunded(ctx context.Context, tx *postgres.Tx, a workflow.Actor, id int64, roles ...workflow.Role) (workflow.Grant, error) {
	g, _, err := lockedGrant(ctx, tx, a, id)
	if err != nil {
		return g, err
	}
	return g, ownGroupFunded(a, g, roles...)
}

// lockMoney is lockFunded for a money record that is checked against the
// grant's money rows (an expense, a refund): after the lock, one statement
// reads the grant with its group, programme, disbursements, expenses and
// refunds, where a read of each took six round trips while other writes to
// the grant waited on the lock.
func lockMoney(ctx context.Context, tx *postgres.Tx, a workflow.Actor, id int64, roles ...workflow.Role) (postgres.GrantRead, error) {
	if err := tx.LockGrant(ctx, id); err != nil {
		return postgres.GrantRead{}, err
	}
	r, err := tx.ReadGrant(ctx, id, postgres.ReadOptions{Money: true})
	if err != nil {
		return r, err
	}
	if !a.Sees(r.Group.ID, r.Group.ProvinceCode, r.Group.RegencyCode) {
		return r, workflow.Errorf(workflow.ENotFound, "hibah %d tidak ditemukan", id)
	}
	return r, ownGroupFunded(a, r.Grant, roles...)
}

// ownGroupFunded checks that a holds one of roles for the grant's own group
// and that the grant is funded: money and evidence are recorded only then.
func ownGroupFunded(a workflow.Actor, g workflow.Grant, roles ...workflow.Role) error {
	if err := require(a, roles...); err != nil || a.GroupID != g.GroupID {
		return workflow.Errorf(workflow.EForbidden, "hanya pengurus kelompok ini (%s) yang dapat mencatat ini", joinRoles(roles))
	}
	if g.State != workflow.Funded {
		return workflow.Errorf(workflow.EConflict, "hanya dapat dicatat saat hibah berstatus %s (sekarang %s)", workflow.Funded.Label(), g.State.Label())
	}
	return nil
}

func joinRoles(roles []workflow.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = r.Label()
	}
	return strings.Join(s, " atau ")
}
