package web

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"grantflow/internal/grants"
	"grantflow/money"
	"grantflow/workflow"
)

// queueDef is one role's work list on the landing page: the grants in the
// person's scope waiting in States.
type queueDef struct {
	Role   workflow.Role
	Title  string
	Empty  string
	States []workflow.State
}

// queueDefs are the staff queues, in the order a person holding several
// roles sees them.
var queueDefs = []queueDef{
	{workflow.RoleVerifier, "Antrean verifikasi", "Tidak ada proposal yang menunggu verifikasi.", []workflow.State{workflow.Submitted, workflow.InReview}},
	{workflow.RoleApprover, "Menunggu persetujuan", "Tidak ada rekomendasi yang menunggu persetujuan.", []workflow.State{workflow.Recommended}},
	{workflow.RoleFinance, "Penyaluran dana", "Tidak ada hibah yang menunggu penyaluran.", []workflow.State{workflow.Approved, workflow.Funded}},
	{workflow.RoleAuditor, "LPJ untuk diperiksa", "Tidak ada LPJ yang menunggu pemeriksaan.", []workflow.State{workflow.ReportSubmitted}},
	{workflow.RoleAdmin, "Semua hibah", "Belum ada hibah.", nil},
}

// stateCount is how many grants of a queue stand in one state.
type stateCount struct {
	State workflow.State
	Count int
}

// queue is a queueDef filled with the grants.
type queue struct {
	queueDef
	Counts []stateCount
	Items  []grants.View
}

// homeData is the data of templates/home.html.
type homeData struct {
	Queues []queue
	Own    []grants.View // chair and treasurer: their group's grants, each with its next steps
	Group  bool
	// Overdue are the funded grants whose LPJ is overdue, for an auditor
	// (the red flags are a link away: /lpj, /risiko).
	Overdue []grants.View
	Auditor bool
}

// homePage is the person's own work: a queue per staff role, or the
// group's grants for a chair or treasurer.
func (s *Server) homePage(c *fiber.Ctx) error {
	a := actor(c)
	all, err := s.svc.Grants(c.UserContext(), a, grants.ListFilter{})
	if err != nil {
		return err
	}
	var d homeData
	for _, r := range a.Roles {
		if r.IsGroupRole() {
			d.Group = true
			break
		}
	}
	if d.Group {
		// A group has a grant or two: each read whole, for the "what to
		// do next" the list does not carry.
		for _, g := range all {
			v, err := s.svc.Grant(c.UserContext(), a, g.ID)
			if err != nil {
				return err
			}
			d.Own = append(d.Own, v)
		}
	}
	if d.Auditor = a.Has(workflow.RoleAuditor); d.Auditor {
		for _, g := range all {
			if g.ReportOverdue {
				d.Overdue = append(d.Overdue, g)
			}
		}
	}
	for _, def := range queueDefs {
		if !a.Has(def.Role) {
			continue
		}
		q := queue{queueDef: def}
		states := def.States
		if states == nil {
			states = workflow.States
		}
		for _, st := range states {
			n := 0
			for _, g := range all {
				if g.State == st {
					q.Items = append(q.Items, g)
					n++
				}
			}
			if n > 0 || def.States != nil {
				q.Counts = append(q.Counts, stateCount{st, n})
			}
		}
		d.Queues = append(d.Queues, q)
	}
	return s.render(c, fiber.StatusOK, "home", "Beranda", d)
}

// actionForm is what the person typed into the action form, with the
// messages of a refused action.
type actionForm struct {
	Comment        string
	ApprovedAmount string
	Errors         formErrors
}

// grantData is the data of templates/grant.html.
type grantData struct {
	G         grants.View
	Expenses  []workflow.Expense
	Ledger    []workflow.LedgerEntry
	Events    []workflow.Event
	Actions   []workflow.Action // what the person may do here now, as buttons
	Recommend bool              // the form asks for the approved amount
	Form      actionForm
	Links     []pageLink // the pages where this person works on the grant
	NextSteps []string   // "Langkah berikutnya" (see nextSteps)
	// Disburse is finance's transfer form, when this person may disburse now.
	Disburse *disburseForm
	// Files are every evidence file of the grant (receipts, session
	// evidence, refund slips) and Receipts the same by id, for the
	// expenses' receipt links.
	Files    []grants.FileView
	Receipts map[int64]grants.FileView
	// RedFlags count the flags of the standing expenses (staff see
	// duplicates and session flags too) and an overdue LPJ.
	RedFlags []flagCount
	// Attendance is each member's attendance across the sessions held,
	// once one has been held.
	Attendance []grants.MemberAttendance
}

// flagCount is how many standing expenses carry one flag.
type flagCount struct {
	Flag  string
	Count int
}

// disburseForm is finance's form for the next tranche: prefilled with the
// tranche the workflow expects and its exact share of the approved amount.
type disburseForm struct {
	Tranche, Amount, TransferredOn, Reference, Comment string
	Share                                              string // the tranche's share of the approved amount, "70 %"
	Errors                                             formErrors
}

// disburseFields are the fields of the disburse form, as the API names them.
var disburseFields = []string{"tranche", "amount", "transferred_on", "reference", "comment"}

// pageLink is one link to a page of work on a grant.
type pageLink struct {
	Href, Label string
}

// grantLinks are the pages a person may use on grant g now: the same
// roles and states the service enforces, so no link leads to a refusal.
func grantLinks(g grants.View, a workflow.Actor) []pageLink {
	var out []pageLink
	member := a.GroupID == g.GroupID
	if member && proposalEditable(g) {
		out = append(out, pageLink{fmt.Sprintf("/hibah/%d/proposal", g.ID), "Ubah proposal"})
	}
	if member && a.Has(workflow.RoleTreasurer) && g.State == workflow.Funded {
		out = append(out, pageLink{fmt.Sprintf("/hibah/%d/belanja", g.ID), "Catat belanja"},
			pageLink{fmt.Sprintf("/hibah/%d/setoran", g.ID), "Setor sisa dana"})
	}
	if member {
		out = append(out, pageLink{fmt.Sprintf("/kelompok/%d/pertemuan", g.GroupID), "Pertemuan kelompok"})
	}
	switch {
	case a.Has(workflow.RoleAuditor) && (g.State == workflow.ReportSubmitted || g.State == workflow.Closed):
		out = append(out, pageLink{fmt.Sprintf("/grants/%d/report.pdf", g.ID), "Unduh LPJ (PDF)"},
			pageLink{fmt.Sprintf("/grants/%d/dossier.zip", g.ID), "Unduh berkas pemeriksaan (ZIP)"})
	case member && g.State == workflow.Funded:
		// Until the auditor accepts it, every download is a draft: the
		// group checks what it is about to submit.
		out = append(out, pageLink{fmt.Sprintf("/grants/%d/report.pdf", g.ID), "Pratinjau LPJ (PDF)"})
	case member && (g.State == workflow.ReportSubmitted || g.State == workflow.Closed):
		out = append(out, pageLink{fmt.Sprintf("/grants/%d/report.pdf", g.ID), "Unduh LPJ (PDF)"})
	}
	return out
}

// pageActions are the actions the grant page offers as buttons: every
// workflow action but the disbursement, which needs the transfer's details
// and has a form of its own (a later page).
func pageActions(allowed []workflow.Action) []workflow.Action {
	var out []workflow.Action
	for _, a := range allowed {
		if a != workflow.Disburse {
			out = append(out, a)
		}
	}
	return out
}

// loadGrant reads everything the grant page shows, each part through the
// same service reads the API uses.
func (s *Server) loadGrant(c *fiber.Ctx, id int64) (grantData, error) {
	ctx, a := c.UserContext(), actor(c)
	var d grantData
	var err error
	if d.G, err = s.svc.Grant(ctx, a, id); err != nil {
		return d, err
	}
	if d.Expenses, err = s.svc.Expenses(ctx, a, id); err != nil {
		return d, err
	}
	if _, d.Ledger, err = s.svc.Ledger(ctx, a, id); err != nil {
		return d, err
	}
	if d.Events, err = s.svc.Events(ctx, a, id); err != nil {
		return d, err
	}
	if d.Files, err = s.svc.Evidence(ctx, a, id); err != nil {
		return d, err
	}
	d.Receipts = map[int64]grants.FileView{}
	for _, f := range d.Files {
		d.Receipts[f.ID] = f
	}
	d.RedFlags = redFlags(d.G, d.Expenses)
	if slices.ContainsFunc(d.G.Activities, func(x workflow.Activity) bool { return x.Status == workflow.ActivityHeld }) {
		acts, err := s.svc.Activities(ctx, a, id)
		if err != nil {
			return d, err
		}
		d.Attendance = acts.MemberAttendance
	}
	d.Actions = pageActions(d.G.AllowedActions)
	d.Links, d.NextSteps = grantLinks(d.G, a), nextSteps(d.G)
	d.Recommend = slices.Contains(d.Actions, workflow.Recommend)
	if slices.Contains(d.G.AllowedActions, workflow.Disburse) {
		f, err := s.disbursePrefill(c, d.G)
		if err != nil {
			return d, err
		}
		d.Disburse = &f
	}
	return d, nil
}

// redFlags counts the findings among the flags of g's standing expenses
// (duplicate receipts, outside the period, session costs without a held
// session), in a fixed order, with an overdue LPJ first.
func redFlags(g grants.View, es []workflow.Expense) []flagCount {
	var out []flagCount
	if g.ReportOverdue {
		out = append(out, flagCount{workflow.FlagReportOverdue, 1})
	}
	n := map[string]int{}
	for _, e := range es {
		if e.Voided() {
			continue
		}
		for _, f := range e.Flags {
			n[f]++
		}
	}
	// The meterai flag is a reminder, not a finding: it stays on its row only.
	for _, f := range []string{workflow.FlagDuplicate, workflow.FlagOutside, workflow.FlagNoSession, workflow.FlagSessionNotHeld} {
		if n[f] > 0 {
			out = append(out, flagCount{f, n[f]})
		}
	}
	return out
}

// disbursePrefill proposes the next tranche with its exact amount (the
// workflow refuses any other) and today as the transfer date.
func (s *Server) disbursePrefill(c *fiber.Ctx, g grants.View) (disburseForm, error) {
	prog, err := s.svc.Program(c.UserContext(), actor(c), g.ProgramID)
	if err != nil {
		return disburseForm{}, err
	}
	prog.ApplyDefaults()
	f := disburseForm{TransferredOn: s.today().String()}
	next := g.TranchesPaid + 1
	amounts := prog.TrancheAmounts(g.AmountApproved)
	if next <= len(amounts) {
		f.Tranche = strconv.Itoa(next)
		f.Amount = strings.TrimPrefix(money.Format(amounts[next-1]), "Rp ")
		if next <= len(prog.TranchePercents) {
			f.Share = fmt.Sprintf("%d %%", prog.TranchePercents[next-1])
		}
	}
	return f, nil
}

// disbursePost records a transfer through the same service call as POST
// /grants/{id}/actions/disburse. A refusal (a wrong amount, the tranche
// gate's reasons) re-renders the grant page with the messages beside the
// disburse form's fields and what was typed kept.
func (s *Server) disbursePost(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	typed := disburseForm{Tranche: c.FormValue("tranche"), Amount: c.FormValue("amount"), TransferredOn: c.FormValue("transferred_on"),
		Reference: c.FormValue("reference"), Comment: strings.TrimSpace(c.FormValue("comment"))}
	fm := &form{fields: map[string]string{"tranche": typed.Tranche, "amount": typed.Amount, "transferred_on": typed.TransferredOn}}
	in := grants.DisburseActionInput{DisbursementInput: grants.DisbursementInput{Tranche: fm.count("tranche"), Amount: fm.rupiah("amount"),
		TransferredOn: fm.date("transferred_on"), Reference: strings.TrimSpace(typed.Reference)},
		Comment: typed.Comment, ExpectedState: workflow.State(c.FormValue("expected_state"))}
	if !in.ExpectedState.Valid() {
		in.ExpectedState = ""
	}
	err = fm.check(in, "data penyaluran tidak valid")
	if err == nil {
		if _, err = s.svc.DisburseAction(c.UserContext(), actor(c), id, in); err == nil {
			return c.Redirect("/hibah/"+c.Params("id"), fiber.StatusSeeOther)
		}
	}
	d, lerr := s.loadGrant(c, id)
	if lerr != nil {
		return lerr
	}
	status := typed.Errors.from(err, disburseFields...)
	if status == 0 {
		return err
	}
	if d.Disburse != nil {
		typed.Share = d.Disburse.Share
	}
	d.Disburse = &typed
	return s.render(c, status, "grant", "Hibah "+d.G.Number, d)
}

func (s *Server) grantPage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, err := s.loadGrant(c, id)
	if err != nil {
		return err
	}
	if d.Recommend {
		d.Form.ApprovedAmount = strings.TrimPrefix(money.Format(d.G.AmountRequested), "Rp ")
	}
	return s.render(c, fiber.StatusOK, "grant", "Hibah "+d.G.Number, d)
}

// actPost takes the action of the pressed button. A refused action
// re-renders the page with the messages beside their fields and what was
// typed kept; success answers 303 back to the grant.
func (s *Server) actPost(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	form := actionForm{Comment: strings.TrimSpace(c.FormValue("comment")), ApprovedAmount: strings.TrimSpace(c.FormValue("approved_amount"))}
	action := workflow.Action(c.FormValue("action"))
	in := grants.ActInput{Comment: form.Comment, ExpectedState: workflow.State(c.FormValue("expected_state"))}
	status := 0
	switch {
	case !action.Valid() || action == workflow.Disburse:
		form.Errors.Form = append(form.Errors.Form, "Tindakan tidak dikenal. Pilih salah satu tombol tindakan.")
		status = fiber.StatusUnprocessableEntity
	case !in.ExpectedState.Valid():
		in.ExpectedState = "" // the page always sends it; a hand-made post without it acts on the current state
	}
	if status == 0 && action == workflow.Recommend {
		amt, perr := money.Parse(form.ApprovedAmount)
		if perr != nil {
			form.Errors.field("approved_amount", sentence(perr.Error())+".")
			status = fiber.StatusUnprocessableEntity
		}
		in.ApprovedAmount = amt
	}
	if status == 0 {
		_, err = s.svc.Act(c.UserContext(), actor(c), id, action, in)
		if err == nil {
			return c.Redirect("/hibah/"+c.Params("id"), fiber.StatusSeeOther)
		}
		if status = form.Errors.from(err, "comment", "approved_amount"); status == 0 {
			return err
		}
	}
	d, err := s.loadGrant(c, id)
	if err != nil {
		return err
	}
	d.Form = form
	return s.render(c, status, "grant", "Hibah "+d.G.Number, d)
}
