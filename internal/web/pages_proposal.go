package web

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"grantflow/internal/grants"
	"grantflow/money"
	"grantflow/workflow"
)

// blankRows is how many empty rows the proposal editor offers below the
// rows already written; "Tambah baris" posts back for more, so the editor
// works without any script.
const blankRows = 2

// activityRow is one activity line of the editor as typed.
type activityRow struct {
	Kind, Title, PlannedOn, Participants string
}

// budgetRow is one RAB line of the editor as typed.
type budgetRow struct {
	Category, Description, Quantity, Unit, UnitPrice string
	Amount                                           int64 // quantity × unit price when both parse
}

func (r activityRow) blank() bool {
	return strings.TrimSpace(r.Title+r.PlannedOn+r.Participants) == ""
}

func (r budgetRow) blank() bool {
	return strings.TrimSpace(r.Description+r.Quantity+r.Unit+r.UnitPrice) == ""
}

// capLine is one capped category against its share of the total.
type capLine struct {
	Name    string
	Percent int
	Sum     int64
	Limit   int64
	Over    bool
}

// proposalForm is the data of templates/proposal.html: what was typed,
// the totals the server computed from it and the messages per field
// (named as the API names them: activities[0].title, budget[1].unit_price).
type proposalForm struct {
	G                                          grants.View
	Background, Objectives, SustainabilityPlan string
	Activities                                 []activityRow
	Budget                                     []budgetRow
	Categories                                 []workflow.Category
	Total, Ceiling                             int64
	OverCeiling                                bool
	Caps                                       []capLine
	Saved                                      bool
	Errors                                     formErrors
}

// proposalEditable reports whether the proposal may still be written.
func proposalEditable(g grants.View) bool {
	return g.State == workflow.Draft || g.State == workflow.RevisionRequested
}

// loadProposalForm reads the grant and its programme (for categories, the
// ceiling and the caps) through the service.
func (s *Server) loadProposalForm(c *fiber.Ctx, id int64) (proposalForm, workflow.Program, error) {
	ctx, a := c.UserContext(), actor(c)
	var f proposalForm
	g, err := s.svc.Grant(ctx, a, id)
	if err != nil {
		return f, workflow.Program{}, err
	}
	prog, err := s.svc.Program(ctx, a, g.ProgramID)
	if err != nil {
		return f, prog, err
	}
	prog.ApplyDefaults()
	f.G, f.Categories, f.Ceiling = g, prog.Categories, prog.Ceilings[g.Group.Kind]
	return f, prog, nil
}

// fillFromGrant puts the stored proposal into the form.
func (f *proposalForm) fillFromGrant() {
	p := f.G.Proposal
	f.Background, f.Objectives, f.SustainabilityPlan = p.Background, p.Objectives, p.SustainabilityPlan
	for _, a := range p.Activities {
		r := activityRow{Kind: string(a.Kind), Title: a.Title, Participants: strconv.Itoa(a.PlannedParticipants)}
		if !a.PlannedOn.IsZero() {
			r.PlannedOn = a.PlannedOn.String()
		}
		f.Activities = append(f.Activities, r)
	}
	for _, l := range p.Budget {
		f.Budget = append(f.Budget, budgetRow{Category: l.Category, Description: l.Description, Quantity: strconv.FormatInt(l.Quantity, 10),
			Unit: l.Unit, UnitPrice: strings.TrimPrefix(money.Format(l.UnitPrice), "Rp "), Amount: l.Amount})
	}
}

// compute sums the typed budget and sets the ceiling and cap lines, the
// same arithmetic the submit guard applies (caps in whole percent of the
// total, rounded down), so the page shows before submitting what submit
// would refuse.
func (f *proposalForm) compute(prog workflow.Program) {
	f.Total = 0
	sums := map[string]int64{}
	for _, b := range f.Budget {
		f.Total += b.Amount
		sums[b.Category] += b.Amount
	}
	f.OverCeiling = f.Ceiling > 0 && f.Total > f.Ceiling
	f.Caps = nil
	for _, c := range prog.Categories {
		if c.CapPercent <= 0 || c.CapPercent >= 100 {
			continue
		}
		limit := f.Total * int64(c.CapPercent) / 100
		f.Caps = append(f.Caps, capLine{Name: c.Name, Percent: c.CapPercent, Sum: sums[c.Code], Limit: limit, Over: sums[c.Code] > limit})
	}
}

// pad adds the blank rows the editor offers.
func (f *proposalForm) pad(extraActivities, extraBudget int) {
	for range blankRows + extraActivities {
		f.Activities = append(f.Activities, activityRow{Kind: string(workflow.In)})
	}
	for range blankRows + extraBudget {
		f.Budget = append(f.Budget, budgetRow{})
	}
}

// maxRows bounds the rows one post may carry (the proposal's own limits).
var maxRows = map[string]int{"activities": workflow.MaxActivities, "budget": workflow.MaxBudgetLines}

// rowCount reads the hidden count of rows the page carried.
func rowCount(c *fiber.Ctx, name string) int {
	n, err := strconv.Atoi(c.FormValue("n_" + name))
	if err != nil || n < 0 {
		return 0
	}
	return min(n, maxRows[name]+blankRows)
}

// readProposalForm reads the posted editor: blank rows and rows ticked
// "hapus" are dropped, so the kept rows are numbered as the API numbers
// them and the service's messages land beside the right row. Numbers that
// do not parse are reported on their field; the proposal built from the
// rest is returned for the service.
func readProposalForm(c *fiber.Ctx, f *proposalForm) workflow.Proposal {
	f.Background, f.Objectives, f.SustainabilityPlan = c.FormValue("background"), c.FormValue("objectives"), c.FormValue("sustainability_plan")
	p := workflow.Proposal{Background: f.Background, Objectives: f.Objectives, SustainabilityPlan: f.SustainabilityPlan,
		Activities: []workflow.Activity{}, Budget: []workflow.BudgetLine{}}
	for i := range rowCount(c, "activities") {
		in := func(k string) string { return c.FormValue(fmt.Sprintf("activities[%d].%s", i, k)) }
		r := activityRow{Kind: in("kind"), Title: in("title"), PlannedOn: in("planned_on"), Participants: in("planned_participants")}
		if r.blank() || in("remove") != "" {
			continue
		}
		n := len(f.Activities)
		field := func(k string) string { return fmt.Sprintf("activities[%d].%s", n, k) }
		a := workflow.Activity{Kind: workflow.ActivityKind(r.Kind), Title: r.Title}
		if v := strings.TrimSpace(r.PlannedOn); v != "" {
			d, err := workflow.ParseDate(v)
			if err != nil {
				f.Errors.field(field("planned_on"), "Tanggal tidak valid, gunakan format YYYY-MM-DD.")
			}
			a.PlannedOn = d
		}
		if v := strings.TrimSpace(r.Participants); v != "" {
			k, err := strconv.Atoi(v)
			if err != nil {
				f.Errors.field(field("planned_participants"), "Harus berupa bilangan bulat.")
			}
			a.PlannedParticipants = k
		}
		f.Activities = append(f.Activities, r)
		p.Activities = append(p.Activities, a)
	}
	for i := range rowCount(c, "budget") {
		in := func(k string) string { return c.FormValue(fmt.Sprintf("budget[%d].%s", i, k)) }
		r := budgetRow{Category: in("category"), Description: in("description"), Quantity: in("quantity"), Unit: in("unit"), UnitPrice: in("unit_price")}
		if r.blank() || in("remove") != "" {
			continue
		}
		n := len(f.Budget)
		field := func(k string) string { return fmt.Sprintf("budget[%d].%s", n, k) }
		l := workflow.BudgetLine{Category: r.Category, Description: r.Description, Unit: r.Unit}
		if v := strings.TrimSpace(r.Quantity); v != "" {
			q, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				f.Errors.field(field("quantity"), "Harus berupa bilangan bulat.")
			}
			l.Quantity = q
		}
		if v := strings.TrimSpace(r.UnitPrice); v != "" {
			up, err := money.Parse(v)
			if err != nil {
				f.Errors.field(field("unit_price"), sentence(err.Error())+".")
			}
			l.UnitPrice = up
		}
		if l.Quantity > 0 && l.UnitPrice > 0 && l.Quantity <= workflow.MaxAmount/l.UnitPrice {
			r.Amount = l.Quantity * l.UnitPrice
		}
		f.Budget = append(f.Budget, r)
		p.Budget = append(p.Budget, l)
	}
	return p
}

// proposalFields are the form's own fields, beside which the service's
// messages are shown; row fields are matched by their prefix.
func proposalFieldShown(f *proposalForm, field string) bool {
	switch field {
	case "background", "objectives", "sustainability_plan":
		return true
	}
	for i := range f.Activities {
		if strings.HasPrefix(field, fmt.Sprintf("activities[%d].", i)) {
			return true
		}
	}
	for i := range f.Budget {
		if strings.HasPrefix(field, fmt.Sprintf("budget[%d].", i)) {
			return true
		}
	}
	return false
}

func (s *Server) proposalPage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	f, prog, err := s.loadProposalForm(c, id)
	if err != nil {
		return err
	}
	f.fillFromGrant()
	f.compute(prog)
	f.Saved = c.Query("tersimpan") == "1"
	f.pad(0, 0)
	return s.render(c, fiber.StatusOK, "proposal", "Proposal "+f.G.Number, f)
}

// proposalPost handles every button of the editor: "tambah baris" and
// "hitung ulang" re-render what was typed with the totals (nothing is
// stored); "simpan" saves the proposal through the same service call as
// PUT /grants/{id}/proposal; "simpan dan ajukan" also submits it. A
// refused save re-renders every typed field with the messages beside them.
func (s *Server) proposalPost(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	f, prog, err := s.loadProposalForm(c, id)
	if err != nil {
		return err
	}
	p := readProposalForm(c, &f)
	f.compute(prog)
	op := c.FormValue("op")
	status := fiber.StatusOK
	extraA, extraB := 0, 0
	switch op {
	// One row more than the page had, blank rows included, so pressing
	// the button again keeps growing the form.
	case "add_activity":
		extraA = max(1, rowCount(c, "activities")+1-len(f.Activities)-blankRows)
	case "add_budget":
		extraB = max(1, rowCount(c, "budget")+1-len(f.Budget)-blankRows)
	case "calc":
	case "save", "submit":
		if f.Errors.has() {
			f.Errors.Form = append(f.Errors.Form, "Proposal belum disimpan: perbaiki isian yang ditandai.")
			status = fiber.StatusUnprocessableEntity
			break
		}
		if _, err := s.svc.SaveProposal(c.UserContext(), actor(c), id, p); err != nil {
			if status = f.spread(err); status == 0 {
				return err
			}
			break
		}
		if op == "save" {
			return c.Redirect(fmt.Sprintf("/hibah/%d/proposal?tersimpan=1", id), fiber.StatusSeeOther)
		}
		_, err := s.svc.Act(c.UserContext(), actor(c), id, workflow.Submit, grants.ActInput{ExpectedState: f.G.State})
		if err == nil {
			return c.Redirect(fmt.Sprintf("/hibah/%d", id), fiber.StatusSeeOther)
		}
		if status = f.spread(err); status == 0 {
			return err
		}
		f.Errors.Form = append(f.Errors.Form, "Proposal sudah disimpan, tetapi belum dapat diajukan.")
	default:
		f.Errors.Form = append(f.Errors.Form, "Tombol tidak dikenal. Pilih salah satu tombol formulir.")
		status = fiber.StatusUnprocessableEntity
	}
	f.pad(extraA, extraB)
	return s.render(c, status, "proposal", "Proposal "+f.G.Number, f)
}

// spread places a service error's details beside the editor's fields.
func (f *proposalForm) spread(err error) int {
	var shown []string
	var we *workflow.Error
	if errors.As(err, &we) {
		for _, d := range we.Details {
			if proposalFieldShown(f, d.Field) {
				shown = append(shown, d.Field)
			}
		}
	}
	return f.Errors.from(err, shown...)
}
