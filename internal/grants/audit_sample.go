package grants

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"grantflow/internal/postgres"
	"grantflow/internal/validate"
	"grantflow/reports"
	"grantflow/workflow"
)

// The audit sample and its findings are events, nothing else: the draw
// event carries the seed, the candidates and their flags, so anyone can redraw
// the sample with workflow.DrawAuditSample, and each finding is its own event.
const (
	actionDrawSample = "draw_audit_sample"
	actionFinding    = "record_audit_finding"
)

// drawData is the data of a draw_audit_sample event. The seed is a decimal
// string: JSON numbers above 2^53 do not survive every reader.
type drawData struct {
	Seed       string  `json:"seed"`
	Size       int     `json:"size"`
	Candidates []int64 `json:"candidates"`
	Flagged    []int64 `json:"flagged"`
	Weight     int     `json:"flag_weight"`
	Sample     []int64 `json:"sample"`
}

// findingData is the data of a record_audit_finding event.
type findingData struct {
	ExpenseID int64  `json:"expense_id"`
	Result    string `json:"result"`
	Note      string `json:"note"`
}

// AuditSampleView is a grant's drawn sample with the seed that redraws it.
type AuditSampleView struct {
	GrantID    int64                     `json:"grant_id"`
	Seed       string                    `json:"seed"`
	Size       int                       `json:"size"`
	Candidates int                       `json:"candidates"`
	FlagWeight int                       `json:"flag_weight"`
	Items      []workflow.SampledExpense `json:"items"`
}

// loadAuditSample reads the grant's sample and findings from its events;
// nil when no sample was drawn. The latest finding of an expense counts.
func loadAuditSample(ctx context.Context, tx *postgres.Tx, id int64) (*AuditSampleView, error) {
	var out *AuditSampleView
	var flagged []int64
	err := tx.EachEvent(ctx, id, func(ev workflow.Event) error {
		if ev.Action != actionDrawSample && ev.Action != actionFinding {
			return nil
		}
		raw, err := json.Marshal(ev.Data)
		if err != nil {
			return err
		}
		switch ev.Action {
		case actionDrawSample:
			var d drawData
			if err := json.Unmarshal(raw, &d); err != nil {
				return workflow.Wrap(workflow.EInternal, err, "data sampel audit rusak")
			}
			flagged = d.Flagged
			out = &AuditSampleView{GrantID: id, Seed: d.Seed, Size: d.Size, Candidates: len(d.Candidates), FlagWeight: d.Weight}
			for _, eid := range d.Sample {
				out.Items = append(out.Items, workflow.SampledExpense{ExpenseID: eid, Flagged: slices.Contains(flagged, eid)})
			}
		case actionFinding:
			var f findingData
			if err := json.Unmarshal(raw, &f); err != nil {
				return workflow.Wrap(workflow.EInternal, err, "data temuan audit rusak")
			}
			if out == nil {
				return nil
			}
			for i := range out.Items {
				if out.Items[i].ExpenseID == f.ExpenseID {
					out.Items[i].Result, out.Items[i].Note = f.Result, f.Note
				}
			}
		}
		return nil
	})
	return out, err
}

// DrawAuditSample draws the receipt sample of a submitted LPJ (an auditor
// in scope): workflow.AuditSampleSize of the unvoided expenses, weighted
// towards flagged ones, from a fresh random seed recorded in the event. A
// second draw answers EConflict: the first sample stands, so nobody can
// redraw until a convenient sample comes up.
func (s *Service) DrawAuditSample(ctx context.Context, a workflow.Actor, id int64) (AuditSampleView, error) {
	var out AuditSampleView
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, _, err := lockedGrant(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := require(a, workflow.RoleAuditor); err != nil {
			return err
		}
		if g.State != workflow.ReportSubmitted {
			return workflow.Errorf(workflow.EConflict, "sampel audit diambil saat LPJ diajukan; hibah berstatus %q", g.State.Label())
		}
		if prev, err := loadAuditSample(ctx, tx, id); err != nil {
			return err
		} else if prev != nil {
			return workflow.Errorf(workflow.EConflict, "sampel audit hibah ini sudah diambil (benih %s)", prev.Seed)
		}
		prog, err := tx.Program(ctx, g.ProgramID)
		if err != nil {
			return err
		}
		rows, err := tx.Expenses(ctx, id, 0)
		if err != nil {
			return err
		}
		exps, err := s.flag(ctx, tx, a, g, rows)
		if err != nil {
			return err
		}
		d := drawData{Weight: workflow.AuditFlagWeight, Candidates: []int64{}, Flagged: []int64{}}
		var cs []workflow.SampleCandidate
		for _, e := range exps {
			if e.Voided() {
				continue
			}
			c := workflow.SampleCandidate{ExpenseID: e.ID, Flagged: len(e.Flags) > 0}
			cs = append(cs, c)
			d.Candidates = append(d.Candidates, e.ID)
			if c.Flagged {
				d.Flagged = append(d.Flagged, e.ID)
			}
		}
		if len(cs) == 0 {
			return workflow.Errorf(workflow.EUnprocessable, "hibah ini tidak memiliki belanja untuk diambil sampelnya")
		}
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return workflow.Wrap(workflow.EInternal, err, "gagal membuat benih acak")
		}
		seed := binary.BigEndian.Uint64(b[:])
		d.Seed = strconv.FormatUint(seed, 10)
		d.Size = workflow.AuditSampleSize(len(cs), prog.AuditSampleSize)
		d.Sample = workflow.DrawAuditSample(cs, d.Size, seed)
		data, err := toMap(d)
		if err != nil {
			return err
		}
		if _, err := tx.AppendEvent(ctx, workflow.NewEvent(g, actionDrawSample, a, workflow.RoleAuditor, s.now(), "", data)); err != nil {
			return err
		}
		out = AuditSampleView{GrantID: id, Seed: d.Seed, Size: d.Size, Candidates: len(cs), FlagWeight: d.Weight}
		for _, eid := range d.Sample {
			out.Items = append(out.Items, workflow.SampledExpense{ExpenseID: eid, Flagged: slices.Contains(d.Flagged, eid)})
		}
		return nil
	})
	return out, err
}

// AuditSample returns the grant's drawn sample with its findings, for staff
// in scope; ENotFound when none was drawn.
func (s *Service) AuditSample(ctx context.Context, a workflow.Actor, id int64) (AuditSampleView, error) {
	if !a.IsStaff() {
		return AuditSampleView{}, workflow.Errorf(workflow.EForbidden, "hanya petugas yang dapat melihat sampel audit")
	}
	return readInScope(ctx, s, a, id, func(tx *postgres.Tx) (AuditSampleView, error) {
		v, err := loadAuditSample(ctx, tx, id)
		if err != nil {
			return AuditSampleView{}, err
		}
		if v == nil {
			return AuditSampleView{}, workflow.Errorf(workflow.ENotFound, "hibah %d belum memiliki sampel audit", id)
		}
		return *v, nil
	})
}

// FindingInput is the auditor's finding on one sampled expense.
type FindingInput struct {
	Result string `json:"result" validate:"max=10,nocontrol" label:"Hasil pemeriksaan"`
	Note   string `json:"note" validate:"max=10000,nocontrol" label:"Catatan temuan"`
}

// RecordFinding records the auditor's finding (ok, or issue with a note) on
// a sampled expense of a submitted LPJ, as an event. A later finding on the
// same expense replaces the earlier one (both stay in the trail). An expense
// outside the sample answers ENotFound; no sample, EConflict.
func (s *Service) RecordFinding(ctx context.Context, a workflow.Actor, id, expenseID int64, in FindingInput) (AuditSampleView, error) {
	if err := validate.Err(in, "temuan audit tidak valid"); err != nil {
		return AuditSampleView{}, err
	}
	in.Result, in.Note = strings.TrimSpace(in.Result), strings.TrimSpace(in.Note)
	var p workflow.Problems
	switch in.Result {
	case workflow.FindingOK:
	case workflow.FindingIssue:
		if in.Note == "" {
			p.Add("note", "catatan temuan wajib diisi bila hasilnya issue")
		}
	default:
		p.Add("result", `hasil harus "ok" atau "issue"`)
	}
	var out AuditSampleView
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, _, err := lockedGrant(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := require(a, workflow.RoleAuditor); err != nil {
			return err
		}
		if g.State != workflow.ReportSubmitted {
			return workflow.Errorf(workflow.EConflict, "temuan dicatat saat LPJ diajukan; hibah berstatus %q", g.State.Label())
		}
		v, err := loadAuditSample(ctx, tx, id)
		if err != nil {
			return err
		}
		if v == nil {
			return workflow.Errorf(workflow.EConflict, "sampel audit hibah ini belum diambil")
		}
		i := slices.IndexFunc(v.Items, func(it workflow.SampledExpense) bool { return it.ExpenseID == expenseID })
		if i < 0 {
			return workflow.Errorf(workflow.ENotFound, "belanja %d tidak termasuk sampel audit hibah ini", expenseID)
		}
		if err := p.Err("temuan audit tidak valid"); err != nil {
			return err
		}
		data, err := toMap(findingData{ExpenseID: expenseID, Result: in.Result, Note: in.Note})
		if err != nil {
			return err
		}
		if _, err := tx.AppendEvent(ctx, workflow.NewEvent(g, actionFinding, a, workflow.RoleAuditor, s.now(), in.Note, data)); err != nil {
			return err
		}
		v.Items[i].Result, v.Items[i].Note = in.Result, in.Note
		out = *v
		return nil
	})
	return out, err
}

// toMap turns an event's typed data into the map an Event carries, through
// JSON so that the hash is computed over what is stored.
func toMap(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, workflow.Wrap(workflow.EInternal, err, "data peristiwa")
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, workflow.Wrap(workflow.EInternal, err, "data peristiwa")
	}
	return m, nil
}

// withAuditSample puts the grant's sample and findings on g for the
// accept_report guard (workflow.Grant.AuditSample).
func withAuditSample(ctx context.Context, tx *postgres.Tx, g *workflow.Grant) error {
	v, err := loadAuditSample(ctx, tx, g.ID)
	if err != nil || v == nil {
		return err
	}
	g.AuditSample = v.Items
	return nil
}

// LPJAudit returns the LPJ's audit section of grant id (reports.LPJ.Audit)
// for staff in scope, or nil when no sample was drawn. The LPJ assembly
// (issue #9) sets it; it is here so the section reads the same events.
func (s *Service) LPJAudit(ctx context.Context, a workflow.Actor, id int64) (*reports.Audit, error) {
	if !a.IsStaff() {
		return nil, workflow.Errorf(workflow.EForbidden, "hanya petugas yang dapat melihat sampel audit")
	}
	return readInScope(ctx, s, a, id, func(tx *postgres.Tx) (*reports.Audit, error) {
		v, err := loadAuditSample(ctx, tx, id)
		if err != nil || v == nil {
			return nil, err
		}
		return &reports.Audit{Seed: v.Seed, Size: v.Size, Candidates: v.Candidates, FlagWeight: v.FlagWeight, Items: v.Items}, nil
	})
}
