package web

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"grantflow/internal/grants"
	"grantflow/internal/validate"
	"grantflow/regions"
	"grantflow/workflow"
)

// requireAdmin lets only admins through to the administration pages.
func requireAdmin(c *fiber.Ctx) error {
	if !actor(c).Has(workflow.RoleAdmin) {
		return workflow.Errorf(workflow.EForbidden, "halaman ini hanya untuk admin")
	}
	return c.Next()
}

// programForm is the data of templates/admin_programs.html: the
// programmes, what was typed, and the juknis defaults a new programme
// gets (shown, so the admin knows what omitting a setting means).
type programForm struct {
	Programs []workflow.Program
	Defaults workflow.Program
	Fields   map[string]string
	Created  string
	Errors   formErrors
}

var programFields = []string{"name", "year", "proposal_opens_on", "proposal_closes_on", "activity_ends_on", "report_due_on", "budget_total"}

func (s *Server) loadProgramForm(c *fiber.Ctx) (programForm, error) {
	f := programForm{Fields: map[string]string{}}
	f.Defaults.ApplyDefaults()
	var err error
	f.Programs, err = s.svc.Programs(c.UserContext(), actor(c))
	return f, err
}

func (s *Server) programsPage(c *fiber.Ctx) error {
	f, err := s.loadProgramForm(c)
	if err != nil {
		return err
	}
	f.Created = c.Query("dibuat")
	return s.render(c, fiber.StatusOK, "admin_programs", "Program", f)
}

// programPost creates a programme with the defaults for every setting the
// form leaves out, through the same call as POST /programs.
func (s *Server) programPost(c *fiber.Ctx) error {
	f, err := s.loadProgramForm(c)
	if err != nil {
		return err
	}
	for _, k := range programFields {
		f.Fields[k] = c.FormValue(k)
	}
	fm := &form{fields: f.Fields}
	p := workflow.Program{Name: f.Fields["name"], ProposalOpensOn: fm.date("proposal_opens_on"), ProposalClosesOn: fm.date("proposal_closes_on"),
		ActivityEndsOn: fm.date("activity_ends_on"), ReportDueOn: fm.date("report_due_on"), BudgetTotal: fm.rupiah("budget_total")}
	if v := strings.TrimSpace(f.Fields["year"]); v != "" {
		y, perr := strconv.Atoi(v)
		if perr != nil {
			fm.p.Add("year", "harus berupa tahun, misalnya 2027")
		}
		p.Year = y
	}
	p.ApplyDefaults() // the settings the form leaves out, before their tags are checked
	err = fm.check(p, "program tidak valid")
	if err == nil {
		var out workflow.Program
		if out, err = s.svc.CreateProgram(c.UserContext(), actor(c), p); err == nil {
			return c.Redirect("/admin/program?dibuat="+strconv.FormatInt(out.ID, 10), fiber.StatusSeeOther)
		}
	}
	status := f.Errors.from(err, programFields...)
	if status == 0 {
		return err
	}
	return s.render(c, status, "admin_programs", "Program", f)
}

// groupForm is the data of templates/admin_groups.html.
type groupForm struct {
	Groups    []workflow.Group
	Provinces []regions.Province
	Kinds     []workflow.Kind
	Levels    []string
	Fields    map[string]string
	Remote    bool
	Created   string
	Errors    formErrors
}

var groupFields = []string{"kind", "name", "subject", "level", "province", "regency", "sk_number", "bank_name",
	"bank_account_number", "bank_account_name", "npwp", "members"}

func (s *Server) loadGroupForm(c *fiber.Ctx) (groupForm, error) {
	f := groupForm{Fields: map[string]string{}, Provinces: regions.Provinces(), Kinds: workflow.Kinds, Levels: workflow.Levels}
	var err error
	f.Groups, err = s.svc.Groups(c.UserContext(), actor(c))
	return f, err
}

func (s *Server) groupsPage(c *fiber.Ctx) error {
	f, err := s.loadGroupForm(c)
	if err != nil {
		return err
	}
	f.Created = c.Query("dibuat")
	return s.render(c, fiber.StatusOK, "admin_groups", "Kelompok", f)
}

// parseMembers reads the members box: one member a line, "nama; NIP atau
// SIMPATIKA ID; madrasah; jabatan" (an 18-digit number is a NIP, any other
// a SIMPATIKA ID; jabatan defaults to anggota).
func parseMembers(text string) []workflow.Member {
	var out []workflow.Member
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.Split(line, ";")
		for len(parts) < 4 {
			parts = append(parts, "")
		}
		m := workflow.Member{Name: strings.TrimSpace(parts[0]), Madrasah: strings.TrimSpace(parts[2]),
			Position: workflow.Position(strings.ToLower(strings.TrimSpace(parts[3])))}
		if id := strings.TrimSpace(parts[1]); len(id) == 18 {
			m.NIP = id
		} else {
			m.SimpatikaID = id
		}
		if m.Position == "" {
			m.Position = workflow.PosAnggota
		}
		out = append(out, m)
	}
	return out
}

// groupPost registers a group with its members, as POST /groups. The
// province and regency come from the official list's selects (their values
// are the codes; the service matches names and codes alike), so a page
// never offers a region the list lacks.
func (s *Server) groupPost(c *fiber.Ctx) error {
	f, err := s.loadGroupForm(c)
	if err != nil {
		return err
	}
	for _, k := range groupFields {
		f.Fields[k] = c.FormValue(k)
	}
	f.Remote = c.FormValue("remote") != ""
	g := workflow.Group{Kind: workflow.Kind(f.Fields["kind"]), Name: f.Fields["name"], Subject: f.Fields["subject"], Level: f.Fields["level"],
		Province: f.Fields["province"], Regency: f.Fields["regency"], SKNumber: f.Fields["sk_number"], BankName: f.Fields["bank_name"],
		BankAccountNumber: f.Fields["bank_account_number"], BankAccountName: f.Fields["bank_account_name"], NPWP: f.Fields["npwp"],
		Remote: f.Remote, Members: parseMembers(f.Fields["members"])}
	out, err := s.svc.CreateGroup(c.UserContext(), actor(c), g)
	if err == nil {
		return c.Redirect("/admin/kelompok?dibuat="+strconv.FormatInt(out.ID, 10), fiber.StatusSeeOther)
	}
	// A member's problem (members[3].nip) is shown beside the members box,
	// naming the line.
	var we *workflow.Error
	if errors.As(err, &we) {
		for i, d := range we.Details {
			var n int
			var rest string
			if _, serr := fmt.Sscanf(d.Field, "members[%d].%s", &n, &rest); serr == nil {
				we.Details[i] = workflow.Detail{Field: "members", Message: fmt.Sprintf("baris %d: %s", n+1, d.Message)}
			} else if d.Field == "group.members" {
				we.Details[i].Field = "members"
			}
		}
	}
	status := f.Errors.from(err, groupFields...)
	if status == 0 {
		return err
	}
	selectRegion(f.Fields)
	return s.render(c, status, "admin_groups", "Kelompok", f)
}

// userForm is the data of templates/admin_users.html.
type userForm struct {
	Roles     []workflow.Role
	Groups    []workflow.Group
	Provinces []regions.Province
	Fields    map[string]string
	Chosen    []workflow.Role
	Created   string
	Errors    formErrors
}

var userFields = []string{"email", "name", "password", "roles", "group_id", "province", "regency"}

func (s *Server) loadUserForm(c *fiber.Ctx) (userForm, error) {
	f := userForm{Roles: workflow.Roles, Provinces: regions.Provinces(), Fields: map[string]string{}}
	var err error
	f.Groups, err = s.svc.Groups(c.UserContext(), actor(c))
	return f, err
}

func (s *Server) usersPage(c *fiber.Ctx) error {
	f, err := s.loadUserForm(c)
	if err != nil {
		return err
	}
	f.Created = c.Query("dibuat")
	return s.render(c, fiber.StatusOK, "admin_users", "Pengguna", f)
}

// userPost creates an account with its roles, group and scope, as POST /users.
func (s *Server) userPost(c *fiber.Ctx) error {
	f, err := s.loadUserForm(c)
	if err != nil {
		return err
	}
	for _, k := range userFields {
		f.Fields[k] = c.FormValue(k)
	}
	f.Fields["password"] = "" // never sent back to the page
	for _, r := range workflow.Roles {
		if c.FormValue("role_"+string(r)) != "" {
			f.Chosen = append(f.Chosen, r)
		}
	}
	fm := &form{fields: f.Fields}
	in := grants.NewUser{Email: f.Fields["email"], Name: f.Fields["name"], Password: c.FormValue("password"), Roles: f.Chosen,
		GroupID: fm.id("group_id"), Province: f.Fields["province"], Regency: f.Fields["regency"]}
	err = fm.check(in, "pengguna tidak valid")
	if err == nil {
		var v grants.UserView
		if v, err = s.svc.CreateUser(c.UserContext(), actor(c), in); err == nil {
			return c.Redirect("/admin/pengguna?dibuat="+v.Email, fiber.StatusSeeOther)
		}
	}
	status := f.Errors.from(err, userFields...)
	if status == 0 {
		return err
	}
	selectRegion(f.Fields)
	return s.render(c, status, "admin_users", "Pengguna", f)
}

// selectRegion writes the province and regency a form sent (the codes of
// the selects, or names a client typed) as the codes the options carry, so
// that a form shown again keeps the choice; a region the list lacks stays
// as sent, with its error beside the select.
func selectRegion(fields map[string]string) {
	place, ps := validate.Region(fields["province"], fields["regency"])
	if p, err := regions.FindProvince(fields["province"]); err == nil {
		fields["province"] = p.Code
	}
	if len(ps) == 0 {
		fields["province"], fields["regency"] = place.Codes()
	}
}

// hasRole reports whether r was ticked.
func hasRole(chosen []workflow.Role, r workflow.Role) bool { return slices.Contains(chosen, r) }
