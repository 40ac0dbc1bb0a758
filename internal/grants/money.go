package grants

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"grantflow/internal/evidence"
	"grantflow/internal/postgres"
	"grantflow/money"
	"grantflow/workflow"
)

// DisbursementInput is the body of POST /grants/{id}/disbursements.
type DisbursementInput struct {
	Tranche       int           `json:"tranche"`
	Amount        int64         `json:"amount"`
	TransferredOn workflow.Date `json:"transferred_on"`
	Reference     string        `json:"reference"`
}

// Disburse records a tranche transfer (finance, never the grant's approver).
// The first moves approved → funded; each must equal its tranche's share, and
// tranche n+1 waits until tranche n is accounted for (workflow guards).
func (s *Service) Disburse(ctx context.Context, a workflow.Actor, id int64, in DisbursementInput) (workflow.Disbursement, error) {
	in.Reference = strings.TrimSpace(in.Reference)
	var p workflow.Problems
	if in.TransferredOn.IsZero() {
		p.Add("transferred_on", "tanggal transfer wajib diisi")
	} else if in.TransferredOn.After(s.today()) {
		p.Add("transferred_on", "tanggal transfer tidak boleh di masa depan")
	}
	if in.Reference == "" || len(in.Reference) > 100 {
		p.Add("reference", "nomor referensi bank wajib diisi (paling banyak 100 karakter)")
	} else if !storable(in.Reference) {
		p.Add("reference", "mengandung karakter yang tidak diizinkan")
	}
	if in.Tranche <= 0 {
		p.Add("tranche", "tahap harus bilangan bulat positif")
	}
	if in.Amount <= 0 {
		p.Add("amount", "jumlah harus lebih besar dari 0")
	}
	var out workflow.Disbursement
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, grp, err := visibleGrant(ctx, tx, a, id, true)
		if err != nil {
			return err
		}
		if err := require(a, workflow.RoleFinance); err != nil {
			return err
		}
		if err := p.Err("data penyaluran tidak valid"); err != nil {
			return err
		}
		prog, err := tx.Program(ctx, g.ProgramID)
		if err != nil {
			return err
		}
		// A transfer falls inside the programme (the approval date is not
		// kept apart from the trail: finance may record a transfer days
		// late, but never one from before the round opened) and follows
		// the tranche before it.
		if in.TransferredOn.Before(prog.ProposalOpensOn) {
			return (workflow.Problems{{Field: "transferred_on", Message: fmt.Sprintf("tanggal transfer sebelum program dibuka (%s)", prog.ProposalOpensOn)}}).Err("data penyaluran tidak valid")
		}
		ds, err := tx.Disbursements(ctx, id)
		if err != nil {
			return err
		}
		if n := len(ds); n > 0 && in.TransferredOn.Before(ds[n-1].TransferredOn) {
			return (workflow.Problems{{Field: "transferred_on", Message: fmt.Sprintf("tanggal transfer sebelum tahap %d (%s)", ds[n-1].Tranche, ds[n-1].TransferredOn)}}).Err("data penyaluran tidak valid")
		}
		ev, err := workflow.Apply(&g, workflow.Request{Action: workflow.Disburse, Actor: a, Now: s.now().In(jakarta),
			Tranche: in.Tranche, Amount: in.Amount, Program: prog, Group: grp})
		if err != nil {
			return err
		}
		out, err = tx.InsertDisbursement(ctx, workflow.Disbursement{GrantID: id, Tranche: in.Tranche, Amount: in.Amount,
			TransferredOn: in.TransferredOn, Reference: in.Reference, RecordedBy: a.UserID})
		if err != nil {
			return err
		}
		ev.Data["reference"], ev.Data["transferred_on"], ev.Data["disbursement_id"] = in.Reference, in.TransferredOn.String(), out.ID
		_, err = tx.SaveTransition(ctx, g, ev)
		return err
	})
	return out, err
}

// Disbursements returns a grant's transfers when a may see the grant.
func (s *Service) Disbursements(ctx context.Context, a workflow.Actor, id int64) ([]workflow.Disbursement, error) {
	return readInScope(ctx, s, a, id, func(tx *postgres.Tx) ([]workflow.Disbursement, error) { return tx.Disbursements(ctx, id) })
}

// Ingest streams an uploaded file into the evidence store, checking its type
// by content and its size. Its preview is made later (schedulePreview). The file has no database row yet: a later failure
// leaves an orphan that gc sweeps, never a row without a file.
func (s *Service) Ingest(ctx context.Context, r io.Reader) (evidence.Object, error) {
	if s.store == nil {
		return evidence.Object{}, workflow.Errorf(workflow.EInternal, "penyimpanan berkas belum dikonfigurasi")
	}
	return evidence.IngestOriginal(ctx, s.store, r, evidence.MaxFileBytes)
}

// CanUpload answers nil when a may upload files of kind to grant id now, so
// that a refused upload is refused before its bytes are stored.
func (s *Service) CanUpload(ctx context.Context, a workflow.Actor, id int64, roles ...workflow.Role) error {
	// One statement: this runs before every upload, and the record itself
	// checks everything again under the grant's lock.
	state, groupID, province, regency, err := s.db.GrantPlace(ctx, id)
	if err != nil {
		return err
	}
	if !a.Sees(groupID, province, regency) {
		return workflow.Errorf(workflow.ENotFound, "hibah %d tidak ditemukan", id)
	}
	return ownGroupFunded(a, workflow.Grant{ID: id, GroupID: groupID, State: state}, roles...)
}

// lockFunded locks grant id for a money or evidence record: the grant must be
// visible to a (else ENotFound), a must hold one of roles for its own group
// (EForbidden) and the grant must be funded (EConflict).
func lockFunded(ctx context.Context, tx *postgres.Tx, a workflow.Actor, id int64, roles ...workflow.Role) (workflow.Grant, error) {
	g, _, err := visibleGrant(ctx, tx, a, id, true)
	if err != nil {
		return g, err
	}
	return g, ownGroupFunded(a, g, roles...)
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

// ExpenseForm is an expense as typed into the multipart form: every field a
// string, parsed and checked by RecordExpense so that all problems come at once.
type ExpenseForm struct {
	SpentOn      string
	BudgetLineID string
	ActivityID   string
	Vendor       string
	Description  string
	Amount       string
	TaxPPN       string
	TaxPPh       string
}

func parseID(p *workflow.Problems, field, v string, required bool) int64 {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			p.Add(field, "wajib diisi")
		}
		return 0
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		p.Add(field, "harus berupa nomor (id) yang valid")
		return 0
	}
	return id
}

func parseMoney(p *workflow.Problems, field, v string, required bool) int64 {
	if strings.TrimSpace(v) == "" {
		if required {
			p.Add(field, "wajib diisi")
		}
		return 0
	}
	n, err := money.Parse(v)
	if err != nil {
		p.Add(field, "%s", err.Error())
		return 0
	}
	return n
}

// parsePositive is parseMoney for a required amount above zero ("0" parses,
// so it is refused here, alongside whatever else the form got wrong).
func parsePositive(p *workflow.Problems, field, v string) int64 {
	before := len(*p)
	n := parseMoney(p, field, v, true)
	if n == 0 && len(*p) == before {
		p.Add(field, "jumlah harus lebih besar dari 0")
	}
	return n
}

func (s *Service) parseDate(p *workflow.Problems, field, v string) workflow.Date {
	v = strings.TrimSpace(v)
	if v == "" {
		p.Add(field, "tanggal wajib diisi")
		return workflow.Date{}
	}
	d, err := workflow.ParseDate(v)
	if err != nil {
		p.Add(field, "tanggal tidak valid, gunakan format YYYY-MM-DD")
		return d
	}
	if d.After(s.today()) {
		p.Add(field, "tanggal tidak boleh di masa depan")
	}
	return d
}

func text(p *workflow.Problems, field, v string, max int) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		p.Add(field, "wajib diisi")
	case len([]rune(v)) > max:
		p.Add(field, "paling banyak %d karakter", max)
	case !storable(v):
		p.Add(field, "mengandung karakter yang tidak diizinkan")
	}
	return v
}

// storable reports whether PostgreSQL can keep v as text: valid UTF-8 with
// no NUL. Anything else would fail the INSERT without naming the field.
func storable(v string) bool {
	return utf8.ValidString(v) && !strings.ContainsRune(v, 0)
}

// RecordExpense records a purchase backed by a stored receipt (treasurer of
// the group, grant funded). Under the grant's row lock it refuses, with the
// numbers, spending beyond the budget line or beyond the money in hand, so
// concurrent expenses can never jointly overspend.
func (s *Service) RecordExpense(ctx context.Context, a workflow.Actor, id int64, f ExpenseForm, receipt *evidence.Object) (workflow.Expense, error) {
	var p workflow.Problems
	e := workflow.Expense{GrantID: id, CreatedBy: a.UserID}
	e.SpentOn = s.parseDate(&p, "spent_on", f.SpentOn)
	e.BudgetLineID = parseID(&p, "budget_line_id", f.BudgetLineID, true)
	e.ActivityID = parseID(&p, "activity_id", f.ActivityID, false)
	e.Vendor = text(&p, "vendor", f.Vendor, 200)
	e.Description = text(&p, "description", f.Description, 1000)
	e.Amount = parsePositive(&p, "amount", f.Amount)
	e.TaxPPN = parseMoney(&p, "tax_ppn", f.TaxPPN, false)
	e.TaxPPh = parseMoney(&p, "tax_pph", f.TaxPPh, false)
	// Compared without forming the sum, which may overflow int64.
	if e.Amount > 0 && (e.TaxPPN > e.Amount || e.TaxPPh > e.Amount-e.TaxPPN) {
		p.Add("tax_pph", "jumlah pajak (PPN %s + PPh %s) melebihi nilai belanja (%s)", money.Format(e.TaxPPN), money.Format(e.TaxPPh), money.Format(e.Amount))
	}
	if receipt == nil {
		p.Add("receipt", "bukti belanja (JPEG, PNG atau PDF) wajib diunggah")
	}
	var out workflow.Expense
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, err := lockFunded(ctx, tx, a, id, workflow.RoleTreasurer)
		if err != nil {
			return err
		}
		var line *workflow.BudgetLine
		for i := range g.Budget {
			if g.Budget[i].ID == e.BudgetLineID {
				line = &g.Budget[i]
			}
		}
		if line == nil && e.BudgetLineID != 0 {
			p.Add("budget_line_id", "baris anggaran tidak ditemukan pada hibah ini")
		}
		if e.ActivityID != 0 && !hasActivity(g, e.ActivityID) {
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
			"budget_line_id": e.BudgetLineID, "receipt_sha256": file.SHA256})
		if _, err := tx.AppendEvent(ctx, ev); err != nil {
			return err
		}
		rows, err := tx.Expenses(ctx, id, out.ID)
		if err != nil {
			return err
		}
		flagged, err := s.flag(ctx, tx, a, g, rows)
		if err != nil {
			return err
		}
		out = flagged[0]
		return nil
	})
	if err == nil {
		s.schedulePreview(receipt.SHA256, receipt.MIME)
	}
	return out, err
}

func hasActivity(g workflow.Grant, id int64) bool {
	for _, act := range g.Activities {
		if act.ID == id {
			return true
		}
	}
	return false
}

func fileRow(o evidence.Object, grantID, activityID int64, kind string, a workflow.Actor) postgres.File {
	f := postgres.File{GrantID: grantID, ActivityID: activityID, Kind: kind, SHA256: o.SHA256, Size: o.Size, MIME: o.MIME, UploadedBy: a.UserID}
	if o.Preview != nil {
		f.PreviewSHA256 = o.Preview.SHA256
	}
	return f
}

// flag attaches review flags; duplicate_receipt is for staff eyes only.
func (s *Service) flag(ctx context.Context, tx *postgres.Tx, a workflow.Actor, g workflow.Grant, rows []postgres.ExpenseRow) ([]workflow.Expense, error) {
	prog, err := tx.Program(ctx, g.ProgramID)
	if err != nil {
		return nil, err
	}
	ds, err := tx.Disbursements(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	var first workflow.Date
	for _, d := range ds {
		if first.IsZero() || d.TransferredOn.Before(first) {
			first = d.TransferredOn
		}
	}
	out := make([]workflow.Expense, len(rows))
	for i, r := range rows {
		out[i] = r.Expense
		out[i].Flags = workflow.ExpenseFlags(r.Expense, first, prog.ActivityEndsOn, r.Duplicate && a.IsStaff())
		if r.VoidedAt != nil {
			out[i].VoidedOn = workflow.DateOf(r.VoidedAt.In(jakarta))
		}
	}
	return out, nil
}

// Expenses returns a grant's expenses, voided ones included, with flags.
func (s *Service) Expenses(ctx context.Context, a workflow.Actor, id int64) ([]workflow.Expense, error) {
	var out []workflow.Expense
	err := s.db.InReadTx(ctx, func(tx *postgres.Tx) error {
		g, _, err := visibleGrant(ctx, tx, a, id, false)
		if err != nil {
			return err
		}
		rows, err := tx.Expenses(ctx, id, 0)
		if err != nil {
			return err
		}
		out, err = s.flag(ctx, tx, a, g, rows)
		return err
	})
	return out, err
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
		if reason == "" || len(reason) > 1000 || !storable(reason) {
			return (workflow.Problems{{Field: "reason", Message: "alasan pembatalan wajib diisi (paling banyak 1000 karakter, tanpa karakter kontrol NUL)"}}).Err("pembatalan tidak valid")
		}
		if err := tx.VoidExpense(ctx, id, expenseID, a.UserID, reason); err != nil {
			return err
		}
		ev := workflow.NewEvent(g, "void_expense", a, workflow.RoleTreasurer, s.now(), reason,
			map[string]any{"expense_id": expenseID, "amount": rows[0].Amount})
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

// RefundInput is a refund as submitted (JSON numbers or form strings).
type RefundInput struct {
	Amount string
	PaidOn string
	NTPN   string
}

var ntpnPattern = regexp.MustCompile(`^[0-9A-Z]{16}$`)

// RecordRefund records unspent money returned to the treasury with its NTPN
// (16 letters or digits), never more than the balance in hand.
func (s *Service) RecordRefund(ctx context.Context, a workflow.Actor, id int64, in RefundInput, proof *evidence.Object) (workflow.Refund, error) {
	var p workflow.Problems
	r := workflow.Refund{GrantID: id, CreatedBy: a.UserID}
	r.Amount = parsePositive(&p, "amount", in.Amount)
	r.PaidOn = s.parseDate(&p, "paid_on", in.PaidOn)
	r.NTPN = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(in.NTPN), " ", ""))
	if !ntpnPattern.MatchString(r.NTPN) {
		p.Add("ntpn", "NTPN harus 16 karakter huruf atau angka")
	}
	var out workflow.Refund
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, err := lockFunded(ctx, tx, a, id, workflow.RoleTreasurer)
		if err != nil {
			return err
		}
		if r.Amount > g.Balance() {
			p.Add("amount", "melebihi saldo: saldo %s, disetor %s", money.Format(g.Balance()), money.Format(r.Amount))
		}
		// Money is returned after it arrived.
		ds, err := tx.Disbursements(ctx, id)
		if err != nil {
			return err
		}
		if len(ds) > 0 && !r.PaidOn.IsZero() && r.PaidOn.Before(ds[0].TransferredOn) {
			p.Add("paid_on", "tanggal setor sebelum dana pertama diterima (%s)", ds[0].TransferredOn)
		}
		if err := p.Err("setoran sisa dana tidak valid"); err != nil {
			return err
		}
		if proof != nil {
			f, err := tx.InsertFile(ctx, fileRow(*proof, id, 0, "refund_proof", a))
			if err != nil {
				return err
			}
			r.ProofID = f.ID
		}
		if out, err = tx.InsertRefund(ctx, r); err != nil {
			return err
		}
		ev := workflow.NewEvent(g, "record_refund", a, workflow.RoleTreasurer, s.now(), "",
			map[string]any{"refund_id": out.ID, "amount": r.Amount, "ntpn": r.NTPN, "paid_on": r.PaidOn.String()})
		_, err = tx.AppendEvent(ctx, ev)
		return err
	})
	if err == nil && proof != nil {
		s.schedulePreview(proof.SHA256, proof.MIME)
	}
	return out, err
}

// Evidence returns every file of a grant — receipts, refund proofs and
// activity evidence — in upload order, when a may see the grant.
func (s *Service) Evidence(ctx context.Context, a workflow.Actor, id int64) ([]postgres.File, error) {
	return readInScope(ctx, s, a, id, func(tx *postgres.Tx) ([]postgres.File, error) { return tx.Files(ctx, id) })
}

// Refunds returns a grant's refunds when a may see the grant.
func (s *Service) Refunds(ctx context.Context, a workflow.Actor, id int64) ([]workflow.Refund, error) {
	return readInScope(ctx, s, a, id, func(tx *postgres.Tx) ([]workflow.Refund, error) { return tx.Refunds(ctx, id) })
}

// Ledger returns the grant's BKU, derived from its money rows.
func (s *Service) Ledger(ctx context.Context, a workflow.Actor, id int64) (View, []workflow.LedgerEntry, error) {
	var v View
	var out []workflow.LedgerEntry
	err := s.db.InReadTx(ctx, func(tx *postgres.Tx) error {
		g, grp, err := visibleGrant(ctx, tx, a, id, false)
		if err != nil {
			return err
		}
		v = view(g, grp, a)
		ds, err := tx.Disbursements(ctx, id)
		if err != nil {
			return err
		}
		rows, err := tx.Expenses(ctx, id, 0)
		if err != nil {
			return err
		}
		es, err := s.flag(ctx, tx, a, g, rows)
		if err != nil {
			return err
		}
		rs, err := tx.Refunds(ctx, id)
		if err != nil {
			return err
		}
		out = workflow.Ledger(ds, es, rs)
		return nil
	})
	return v, out, err
}

// EvidenceKinds are the kinds of activity evidence a group may upload.
var EvidenceKinds = []string{"attendance", "photo", "minutes", "output", "other"}

// AddActivityEvidence links a stored file to a held or planned activity of a
// funded grant (the group's chair or treasurer).
func (s *Service) AddActivityEvidence(ctx context.Context, a workflow.Actor, id, activityID int64, kind string, obj *evidence.Object) (postgres.File, error) {
	var p workflow.Problems
	if !slices.Contains(EvidenceKinds, kind) {
		p.Add("kind", "jenis bukti harus salah satu dari: %s", strings.Join(EvidenceKinds, ", "))
	}
	if obj == nil {
		p.Add("file", "berkas (JPEG, PNG atau PDF) wajib diunggah")
	}
	var out postgres.File
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, err := lockFunded(ctx, tx, a, id, workflow.RoleChair, workflow.RoleTreasurer)
		if err != nil {
			return err
		}
		if !hasActivity(g, activityID) {
			return workflow.Errorf(workflow.ENotFound, "kegiatan %d tidak ditemukan pada hibah ini", activityID)
		}
		if err := p.Err("bukti kegiatan tidak valid"); err != nil {
			return err
		}
		if out, err = tx.InsertFile(ctx, fileRow(*obj, id, activityID, kind, a)); err != nil {
			return err
		}
		ev := workflow.NewEvent(g, "add_evidence", a, actingRole(a, workflow.RoleChair, workflow.RoleTreasurer), s.now(), "",
			map[string]any{"evidence_id": out.ID, "activity_id": activityID, "kind": kind, "sha256": out.SHA256})
		_, err = tx.AppendEvent(ctx, ev)
		return err
	})
	if err == nil {
		s.schedulePreview(out.SHA256, out.MIME)
	}
	return out, err
}

// OpenEvidence returns an evidence row and its content (or its EXIF-free
// preview) when a may see the grant it belongs to; else ENotFound.
func (s *Service) OpenEvidence(ctx context.Context, a workflow.Actor, fileID int64, preview bool) (postgres.File, io.ReadCloser, error) {
	var f postgres.File
	err := s.db.InReadTx(ctx, func(tx *postgres.Tx) error {
		var err error
		if f, err = tx.File(ctx, fileID); err != nil {
			return err
		}
		_, _, err = visibleGrant(ctx, tx, a, f.GrantID, false)
		if workflow.ErrorCode(err) == workflow.ENotFound {
			return workflow.Errorf(workflow.ENotFound, "berkas %d tidak ditemukan", fileID)
		}
		return err
	})
	if err != nil {
		return f, nil, err
	}
	if s.store == nil {
		return f, nil, workflow.Errorf(workflow.EInternal, "penyimpanan berkas belum dikonfigurasi")
	}
	key := f.SHA256
	if preview {
		if f.PreviewSHA256 == "" {
			// Not made yet by the background worker: make it now.
			p, err := s.makePreview(ctx, f.SHA256, f.MIME)
			if err != nil {
				return f, nil, err
			}
			f.PreviewSHA256 = p
		}
		if f.PreviewSHA256 == "" {
			return f, nil, workflow.Errorf(workflow.ENotFound, "berkas %d tidak memiliki pratinjau", fileID)
		}
		key, f.MIME, f.Size = f.PreviewSHA256, evidence.MIMEJPEG, -1
	}
	// The content is streamed after the handler returns, when the request's
	// context is already cancelled: a store that reads lazily (S3) would fail
	// mid-response. The stream gets its own bounded context, ended by Close.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), evidenceStreamTimeout)
	rc, err := s.store.Open(sctx, key)
	if err != nil {
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return f, nil, workflow.Wrap(workflow.EUnavailable, err, "penyimpanan berkas tidak menjawab")
		}
		return f, nil, fmt.Errorf("open evidence %d: %w", fileID, err)
	}
	return f, cancelOnClose{rc, cancel}, nil
}

// evidenceStreamTimeout bounds how long one evidence download may stream.
const evidenceStreamTimeout = 2 * time.Minute

// cancelOnClose releases the stream's context when the stream is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
