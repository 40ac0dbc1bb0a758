package grants

import (
	"context"
	"fmt"

	"grantflow/internal/postgres"
	"grantflow/internal/validate"
	"grantflow/workflow"
)

// GroupRef is the part of a group a grant shows.
type GroupRef struct {
	ID       int64         `json:"id"`
	Kind     workflow.Kind `json:"kind"`
	Name     string        `json:"name"`
	Province string        `json:"province"`
	Regency  string        `json:"regency"`
	// ProvinceCode and RegencyCode are the official codes of Province and Regency.
	ProvinceCode string `json:"province_code"`
	RegencyCode  string `json:"regency_code"`
}

// View is a grant as the API shows it to one person.
type View struct {
	workflow.Grant
	Balance        int64             `json:"balance"`
	Group          GroupRef          `json:"group"`
	AllowedActions []workflow.Action `json:"allowed_actions"`
	// ReportOverdue: funded and the programme's LPJ due date has passed
	// (workflow.ReportOverdue on the service's today).
	ReportOverdue bool `json:"report_overdue"`
	// NextSteps is what the caller still has to do before the next action,
	// from the actions' own guards (workflow.NextSteps); single-grant
	// answers only, absent from lists.
	NextSteps []string `json:"next_steps,omitempty"`
	// Findings are the auditor's findings of the latest return_report while
	// the returned LPJ waits to be submitted again (funded); else empty.
	Findings string `json:"findings,omitempty"`
	// Report is the frozen LPJ once the grant is closed (absent before).
	Report *ReportRef `json:"report,omitempty"`
}

func view(g workflow.Grant, grp workflow.Group, a workflow.Actor) View {
	allowed := workflow.Allowed(g, a)
	if allowed == nil {
		allowed = []workflow.Action{}
	}
	return View{Grant: g, Balance: g.Balance(), AllowedActions: allowed,
		Group: GroupRef{ID: grp.ID, Kind: grp.Kind, Name: grp.Name, Province: grp.Province, Regency: grp.Regency,
			ProvinceCode: grp.ProvinceCode, RegencyCode: grp.RegencyCode}}
}

// OpenGrant opens a draft grant for a group in a programme: the group's
// chair or treasurer, or an admin. One grant per group per programme (EConflict).
func (s *Service) OpenGrant(ctx context.Context, a workflow.Actor, programID, groupID int64) (View, error) {
	if err := require(a, workflow.RoleChair, workflow.RoleTreasurer, workflow.RoleAdmin); err != nil {
		return View{}, err
	}
	if !a.Has(workflow.RoleAdmin) && a.GroupID != groupID {
		// Another group is outside this person's scope: not found, like a missing one.
		return View{}, (workflow.Problems{{Field: "group_id", Message: "kelompok tidak ditemukan"}}).Err("hibah tidak dapat dibuka")
	}
	var out View
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		var p workflow.Problems
		prog, err := tx.Program(ctx, programID)
		if workflow.ErrorCode(err) == workflow.ENotFound {
			p.Add("program_id", "program tidak ditemukan")
		} else if err != nil {
			return err
		}
		grp, err := tx.Group(ctx, groupID)
		if workflow.ErrorCode(err) == workflow.ENotFound || (err == nil && !a.Sees(grp.ID, grp.ProvinceCode, grp.RegencyCode)) {
			p.Add("group_id", "kelompok tidak ditemukan")
		} else if err != nil {
			return err
		}
		if err := p.Err("hibah tidak dapat dibuka"); err != nil {
			return err
		}
		g, err := tx.CreateGrant(ctx, prog, grp)
		if err != nil {
			return err
		}
		ev := workflow.NewEvent(g, "open", a, actingRole(a, workflow.RoleChair, workflow.RoleTreasurer, workflow.RoleAdmin), s.now(), "", map[string]any{"program_id": prog.ID})
		if _, err := tx.AppendEvent(ctx, ev); err != nil {
			return err
		}
		out = view(g, grp, a)
		return nil
	})
	return out, err
}

// detail is the single-grant answer: view plus what only one grant's page
// shows — report_overdue on the service's today and next_steps for a from
// the same guard functions the actions run (workflow.NextSteps), the
// returned LPJ's findings, and the frozen report once closed.
func (s *Service) detail(ctx context.Context, tx *postgres.Tx, g workflow.Grant, grp workflow.Group, a workflow.Actor) (View, error) {
	r := postgres.GrantRead{Grant: g, Group: grp}
	var err error
	if r.Program, err = tx.Program(ctx, g.ProgramID); err != nil {
		return View{}, err
	}
	if _, fromHere := workflow.Target(workflow.Submit, g.State); fromHere {
		// The membership limits of submit read the members.
		if r.Group, err = tx.Group(ctx, g.GroupID); err != nil {
			return View{}, err
		}
	}
	if g.State == workflow.Funded {
		ev, err := tx.LatestEvent(ctx, g.ID, string(workflow.ReturnReport))
		switch workflow.ErrorCode(err) {
		case "":
			r.Findings = ev.Comment
		case workflow.ENotFound: // never returned
		default:
			return View{}, err
		}
	}
	ref, err := reportRef(ctx, tx, g)
	if err != nil {
		return View{}, err
	}
	if ref != nil {
		r.ReportCode, r.ReportSHA256 = ref.Code, ref.SHA256
	}
	return s.detailView(r, a), nil
}

// detailView makes the single-grant answer from what detail or
// ReadGrant read.
func (s *Service) detailView(r postgres.GrantRead, a workflow.Actor) View {
	g := r.Grant
	v := view(g, r.Group, a)
	now := s.now().In(workflow.Jakarta)
	v.ReportOverdue = workflow.ReportOverdue(g, r.Program, workflow.DateOf(now))
	v.NextSteps = workflow.NextSteps(g, workflow.Request{Actor: a, Now: now, Program: r.Program, Group: r.Group})
	v.Findings = r.Findings
	if r.ReportCode != "" {
		v.Report = &ReportRef{Code: r.ReportCode, SHA256: r.ReportSHA256}
	}
	return v
}

// submitFrom are the states submit leaves: the single-grant answer reads
// the group's members in them, for submit's membership guards.
var submitFrom = func() []workflow.State {
	var out []workflow.State
	for _, st := range workflow.States {
		if _, ok := workflow.Target(workflow.Submit, st); ok {
			out = append(out, st)
		}
	}
	return out
}()

// readGrant reads grant id with o in one statement and checks that a sees
// it; out-of-scope grants answer ENotFound exactly like missing ones.
func (s *Service) readGrant(ctx context.Context, a workflow.Actor, id int64, o postgres.ReadOptions) (postgres.GrantRead, error) {
	var r postgres.GrantRead
	var err error
	if s.reads != nil {
		r, err = s.reads.ReadGrant(ctx, s.db, id, o)
	} else {
		r, err = s.db.ReadGrant(ctx, id, o)
	}
	if err != nil {
		return r, err
	}
	if !a.Sees(r.Group.ID, r.Group.ProvinceCode, r.Group.RegencyCode) {
		return postgres.GrantRead{}, workflow.Errorf(workflow.ENotFound, "hibah %d tidak ditemukan", id)
	}
	return r, nil
}

// actingRole is the first of roles a holds: the role an event records.
func actingRole(a workflow.Actor, roles ...workflow.Role) workflow.Role {
	for _, r := range roles {
		if a.Has(r) {
			return r
		}
	}
	return ""
}

// SaveProposal replaces a grant's proposal: the group's chair or treasurer,
// while the grant is a draft or sent back for revision (else EConflict).
// Drafts may be incomplete; completeness is checked at submit.
func (s *Service) SaveProposal(ctx context.Context, a workflow.Actor, id int64, p workflow.Proposal) (View, error) {
	if err := require(a, workflow.RoleChair, workflow.RoleTreasurer); err != nil {
		return View{}, err
	}
	// Normalize cleans p (trimmed texts) and names the amounts that
	// overflow; the tags then check every field of the cleaned proposal.
	rules := p.Normalize()
	if err := validate.With(p, rules, "proposal tidak valid"); err != nil {
		return View{}, err
	}
	var out View
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, grp, err := lockedGrant(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if a.GroupID != g.GroupID {
			return workflow.Errorf(workflow.EForbidden, "hanya pengurus kelompok ini yang dapat mengubah proposal")
		}
		if g.State != workflow.Draft && g.State != workflow.RevisionRequested {
			return workflow.Errorf(workflow.EConflict, "proposal hanya dapat diubah saat berstatus %s atau %s (sekarang %s)", workflow.Draft.Label(), workflow.RevisionRequested.Label(), g.State.Label())
		}
		prog, err := tx.Program(ctx, g.ProgramID)
		if err != nil {
			return err
		}
		var probs workflow.Problems
		for i, b := range p.Budget {
			if _, ok := prog.Category(b.Category); !ok {
				probs.Add(fmt.Sprintf("budget[%d].category", i), "kategori %q tidak dikenal pada program ini", b.Category)
			}
		}
		if err := probs.Err("proposal tidak valid"); err != nil {
			return err
		}
		g.Proposal = p
		g.AmountRequested = p.Total() // what is asked is what the budget adds up to
		if err := tx.SaveProposal(ctx, g); err != nil {
			return err
		}
		ev := workflow.NewEvent(g, "save_proposal", a, actingRole(a, workflow.RoleChair, workflow.RoleTreasurer), s.now(), "",
			map[string]any{"activities": len(p.Activities), "budget_lines": len(p.Budget), "total": p.Total()})
		if _, err := tx.AppendEvent(ctx, ev); err != nil {
			return err
		}
		if g, err = tx.Grant(ctx, id); err != nil {
			return err
		}
		out, err = s.detail(ctx, tx, g, grp, a)
		return err
	})
	return out, err
}

// Grant returns one grant as a sees it, with report_overdue and next_steps,
// or ENotFound when missing or out of scope.
func (s *Service) Grant(ctx context.Context, a workflow.Actor, id int64) (View, error) {
	r, err := s.readGrant(ctx, a, id, postgres.ReadOptions{MembersIn: submitFrom})
	if err != nil {
		return View{}, err
	}
	return s.detailView(r, a), nil
}

// ListFilter narrows Grants; zero fields match everything.
type ListFilter struct {
	State     workflow.State `json:"state"`
	ProgramID int64          `json:"program_id"`
	// Province is a name or an official code, matched like a group's.
	Province string `json:"province" validate:"max=100,nocontrol" label:"Provinsi"`
	// Flag keeps only the grants carrying it; the one flag of a grant
	// listing is workflow.FlagReportOverdue.
	Flag string `json:"flag" validate:"omitempty,oneof=report_overdue" label:"Penanda"`
	// Limit, when > 0, asks for one page of at most Limit grants; without
	// it every matching grant is answered, as before pages existed.
	Limit int `json:"limit" validate:"min=0,max=500" label:"Batas"`
	// Cursor is the NextCursor of the page before (0: the first page).
	Cursor int64 `json:"cursor" validate:"min=0" label:"Kursor"`
}

// Page is one page of a grant listing.
type Page struct {
	Items []View
	// NextCursor is what ListFilter.Cursor takes for the next page; 0 when
	// this page is the last.
	NextCursor int64
	// Total is how many grants match the filter on every page together
	// (0 for a cursor past the last page, which has no row to carry it).
	Total int
}

// Grants returns the grants in a's scope that match f, without their
// activities and budget lines.
func (s *Service) Grants(ctx context.Context, a workflow.Actor, f ListFilter) ([]View, error) {
	p, err := s.GrantPage(ctx, a, f)
	return p.Items, err
}

// GrantPage returns the grants in a's scope that match f, newest first,
// one page of f.Limit when set, read in one statement.
func (s *Service) GrantPage(ctx context.Context, a workflow.Actor, f ListFilter) (Page, error) {
	if err := validate.Err(f, "parameter tidak valid"); err != nil {
		return Page{}, err
	}
	scope := scopeOf(a)
	place, ps := validate.Region(f.Province, "")
	if err := ps.Err("parameter tidak valid"); err != nil {
		return Page{}, err
	}
	if code := place.Province.Code; code != "" {
		if scope.ProvinceCode != "" && scope.ProvinceCode != code {
			return Page{Items: []View{}}, nil
		}
		scope.ProvinceCode = code
	}
	today := s.today()
	pf := postgres.GrantFilter{Scope: scope, State: f.State, ProgramID: f.ProgramID, Before: f.Cursor}
	if f.Flag == workflow.FlagReportOverdue {
		pf.ReportOverdueOn = today
	}
	if f.Limit > 0 {
		pf.Limit = f.Limit + 1 // one more tells whether a next page exists
	}
	gs, err := s.db.Grants(ctx, pf)
	if err != nil {
		return Page{}, err
	}
	var p Page
	if len(gs) > 0 {
		p.Total = gs[0].Matching
	}
	if f.Limit > 0 && len(gs) > f.Limit {
		gs = gs[:f.Limit]
		p.NextCursor = gs[len(gs)-1].Grant.ID
	}
	p.Items = make([]View, 0, len(gs))
	for _, l := range gs {
		v := view(l.Grant, l.Group, a)
		// ReportOverdue reads the programme's due date only.
		v.ReportOverdue = workflow.ReportOverdue(l.Grant, workflow.Program{ReportDueOn: l.ReportDueOn}, today)
		p.Items = append(p.Items, v)
	}
	return p, nil
}

// ActInput is the body of POST /grants/{id}/actions/{action}.
type ActInput struct {
	Comment        string         `json:"comment" validate:"max=10000,nocontrol" label:"Komentar"`
	ApprovedAmount int64          `json:"approved_amount" validate:"min=0,max=1000000000000000" label:"Jumlah disetujui"`
	ExpectedState  workflow.State `json:"expected_state" validate:"max=40,nocontrol" label:"Status yang diharapkan"`
}

// Act applies a workflow action to a grant in one transaction holding the
// grant's row lock, and appends the event. Of two people acting at once,
// one wins and the other gets EConflict. Disbursements need the transfer:
// they go through Disburse or DisburseAction.
func (s *Service) Act(ctx context.Context, a workflow.Actor, id int64, action workflow.Action, in ActInput) (View, error) {
	if err := validate.Err(in, "tindakan tidak valid"); err != nil {
		return View{}, err
	}
	var out View
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, grp, err := lockedGrant(ctx, tx, a, id)
		if err != nil {
			return err
		}
		// Only after the scope check: a grant the caller may not see
		// answers 404 here too, like a missing one.
		if action == workflow.Disburse {
			return workflow.Errorf(workflow.EUnprocessable, "penyaluran hibah %d memerlukan data transfer (tahap, jumlah, tanggal, referensi)", id)
		}
		// Jakarta time: the proposal window is a range of local calendar days.
		req := workflow.Request{Action: action, Actor: a, Now: s.now().In(workflow.Jakarta), Comment: in.Comment,
			ApprovedAmount: in.ApprovedAmount, ExpectedState: in.ExpectedState, Group: grp}
		// Read only what the action's guards use.
		switch action {
		case workflow.Approve:
			// The programme row lock makes approvals of different grants
			// check the pool one after another.
			if req.Program, err = tx.ProgramForUpdate(ctx, g.ProgramID); err != nil {
				return err
			}
			if req.PoolCommitted, err = tx.PoolCommitted(ctx, g.ProgramID, g.ID); err != nil {
				return err
			}
		case workflow.Submit:
			if req.Group, err = tx.Group(ctx, g.GroupID); err != nil { // membership limits
				return err
			}
			fallthrough
		case workflow.Recommend, workflow.SubmitReport:
			if req.Program, err = tx.Program(ctx, g.ProgramID); err != nil {
				return err
			}
		case workflow.AcceptReport:
			if err := withAuditSample(ctx, tx, &g); err != nil {
				return err
			}
		}
		ev, err := workflow.Apply(&g, req)
		if err != nil {
			return err
		}
		saved, err := tx.SaveTransition(ctx, g, ev)
		if err != nil {
			return err
		}
		if action == workflow.AcceptReport {
			// The LPJ is frozen inside the acceptance (SPEC §3): both happen or neither.
			if err := s.freezeReport(ctx, tx, g, saved); err != nil {
				return err
			}
		}
		out, err = s.detail(ctx, tx, g, grp, a)
		return err
	})
	return out, err
}

// Events returns a grant's audit trail when a may see the grant.
func (s *Service) Events(ctx context.Context, a workflow.Actor, id int64) ([]workflow.Event, error) {
	return readInScope(ctx, s, a, id, func(tx *postgres.Tx) ([]workflow.Event, error) { return tx.Events(ctx, id) })
}

// Break is the first broken link of one grant's event chain.
type Break struct {
	GrantID int64
	Seq     int
	Reason  string
}

// VerifyChains recomputes every grant's hash chain and returns the first
// broken link of each broken chain, and how many events it checked.
func (s *Service) VerifyChains(ctx context.Context) ([]Break, int, error) {
	var breaks []Break
	var n int
	var cur int64
	prev, broken, want := "", false, 1
	err := s.db.EachEvent(ctx, 0, func(ev workflow.Event) error {
		n++
		if ev.GrantID != cur {
			cur, prev, broken, want = ev.GrantID, "", false, 1
		}
		if broken {
			return nil
		}
		if reason := linkProblem(ev, prev, want); reason != "" {
			breaks = append(breaks, Break{GrantID: ev.GrantID, Seq: ev.Seq, Reason: reason})
			broken = true
		}
		prev, want = ev.Hash, ev.Seq+1
		return nil
	})
	return breaks, n, err
}

// linkProblem says what is wrong with ev as the link after the event with
// hash prev and sequence want-1, or "" when it holds.
func linkProblem(ev workflow.Event, prev string, want int) string {
	switch {
	case ev.Seq != want:
		return fmt.Sprintf("nomor urut %d, seharusnya %d", ev.Seq, want)
	case ev.PrevHash != prev:
		return "prev_hash tidak sama dengan hash peristiwa sebelumnya"
	case workflow.ChainHash(ev.PrevHash, ev.Canonical()) != ev.Hash:
		return "hash tidak cocok dengan isi peristiwa"
	}
	return ""
}

// chainBreak returns the first broken link of one grant's events (in chain
// order), or nil when the chain verifies.
func chainBreak(evs []workflow.Event) *Break {
	prev := ""
	for i, ev := range evs {
		if reason := linkProblem(ev, prev, i+1); reason != "" {
			return &Break{GrantID: ev.GrantID, Seq: ev.Seq, Reason: reason}
		}
		prev = ev.Hash
	}
	return nil
}

// VerifyRows checks every money and evidence row against the event that
// recorded it (SPEC §4): a row changed, added or removed behind the
// database's append-only triggers (a superuser who disabled them) is
// returned with the reason. The chains themselves are VerifyChains' job.
func (s *Service) VerifyRows(ctx context.Context) ([]postgres.RowProblem, error) {
	return s.db.MoneyRowProblems(ctx)
}
