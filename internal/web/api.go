package web

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"grantflow/internal/grants"
	"grantflow/internal/validate"
	"grantflow/reports"
	"grantflow/workflow"
)

func (s *Server) routes(api fiber.Router) {
	api.Post("/session", s.login)
	s.verifyRoutes(api) // public: the code printed on the LPJ is the authority

	api.Use(s.authenticate)
	api.Delete("/session", s.logout)
	api.Get("/me", s.me)
	api.Post("/users", s.createUser)
	api.Post("/programs", s.createProgram)
	api.Get("/programs", s.programs)
	api.Get("/programs/:id", s.program)
	api.Post("/groups", s.createGroup)
	api.Get("/groups", s.groups)
	api.Get("/groups/:id", s.group)
	api.Post("/grants", s.openGrant)
	api.Get("/grants", s.grants)
	api.Get("/grants/:id", s.grant)
	api.Put("/grants/:id/proposal", s.saveProposal)
	api.Post("/grants/:id/actions/:action", s.act)
	api.Get("/grants/:id/events", s.events)
	s.reportRoutes(api)
	s.moneyRoutes(api)
	s.regionRoutes(api)
	s.monitoringRoutes(api)
	s.activityRoutes(api)
	s.auditRoutes(api)
}

// actor returns the signed-in person set by authenticate.
func actor(c *fiber.Ctx) workflow.Actor {
	a, _ := c.Locals("actor").(workflow.Actor)
	return a
}

func bearer(c *fiber.Ctx) string {
	h := c.Get(fiber.HeaderAuthorization)
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// authenticate resolves the bearer token to a person, else 401.
func (s *Server) authenticate(c *fiber.Ctx) error {
	ctx, cancel := s.dbContext() // an upload's own context is long: bound this lookup
	defer cancel()
	u, err := s.svc.Authenticate(ctx, bearer(c))
	if err != nil {
		return err
	}
	c.Locals("actor", u.Actor())
	c.Locals("user", grants.ViewUser(u))
	return c.Next()
}

func (s *Server) login(c *fiber.Ctx) error {
	var in struct {
		Email    string `json:"email" validate:"max=254,nocontrol" label:"Email"`
		Password string `json:"password" label:"Kata sandi"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	// A NUL in the address would reach the user lookup; no account has one.
	if err := validate.Err(in, "data masuk tidak valid"); err != nil {
		return err
	}
	token, u, err := s.svc.Login(c.UserContext(), in.Email, in.Password, c.IP())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"token": token, "user": u})
}

func (s *Server) logout(c *fiber.Ctx) error {
	if err := s.svc.Logout(c.UserContext(), bearer(c)); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) me(c *fiber.Ctx) error {
	u, _ := c.Locals("user").(grants.UserView)
	return c.JSON(u)
}

func (s *Server) createUser(c *fiber.Ctx) error {
	var in grants.NewUser
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	u, err := s.svc.CreateUser(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(u)
}

func (s *Server) createProgram(c *fiber.Ctx) error {
	var in workflow.Program
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, err := s.svc.CreateProgram(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

func (s *Server) programs(c *fiber.Ctx) error {
	ps, err := s.svc.Programs(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": ps, "total": len(ps)})
}

func (s *Server) program(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, err := s.svc.Program(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) createGroup(c *fiber.Ctx) error {
	var in workflow.Group
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	g, err := s.svc.CreateGroup(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(g)
}

func (s *Server) groups(c *fiber.Ctx) error {
	gs, err := s.svc.Groups(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": gs, "total": len(gs)})
}

func (s *Server) group(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	g, err := s.svc.Group(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(g)
}

func (s *Server) openGrant(c *fiber.Ctx) error {
	var in struct {
		ProgramID int64 `json:"program_id"`
		GroupID   int64 `json:"group_id"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	g, err := s.svc.OpenGrant(c.UserContext(), actor(c), in.ProgramID, in.GroupID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(g)
}

func (s *Server) grants(c *fiber.Ctx) error {
	programID, err := queryID(c, "program_id")
	if err != nil {
		return err
	}
	limit, err := queryID(c, "limit")
	if err != nil {
		return err
	}
	cursor, err := queryID(c, "cursor")
	if err != nil {
		return err
	}
	f := grants.ListFilter{State: workflow.State(c.Query("state")), ProgramID: programID, Province: c.Query("province"), Flag: c.Query("flag"),
		Limit: int(min(limit, 1<<20)), Cursor: cursor}
	if p := validate.Check(f); p != nil {
		return &workflow.Error{Code: workflow.EInvalid, Message: "parameter tidak valid", Details: p}
	}
	if f.State != "" && !f.State.Valid() {
		return &workflow.Error{Code: workflow.EInvalid, Message: "parameter tidak valid",
			Details: []workflow.Detail{{Field: "state", Message: "status tidak dikenal"}}}
	}
	format := c.Query("format")
	if format != "" && format != "csv" && format != "xlsx" {
		return &workflow.Error{Code: workflow.EInvalid, Message: "format tidak dikenal",
			Details: []workflow.Detail{{Field: "format", Message: "gunakan csv atau xlsx"}}}
	}
	page, err := s.svc.GrantPage(c.UserContext(), actor(c), f)
	if err != nil {
		return err
	}
	gs := page.Items
	if format == "" {
		body := fiber.Map{"items": gs, "total": page.Total}
		if page.NextCursor > 0 {
			body["next_cursor"] = strconv.FormatInt(page.NextCursor, 10)
		}
		return c.JSON(body)
	}
	rows := make([]reports.GrantRow, len(gs))
	for i, g := range gs {
		rows[i] = reports.GrantRow{Number: g.Number, State: string(g.State), Kind: string(g.Group.Kind), Group: g.Group.Name,
			Province: g.Group.Province, Regency: g.Group.Regency, Requested: g.AmountRequested, Approved: g.AmountApproved,
			Disbursed: g.Disbursed, Spent: g.Spent, Refunded: g.Refunded, Bal: g.Balance}
		if g.ReportOverdue {
			rows[i].Flags = []string{workflow.FlagReportOverdue}
		}
	}
	var b bytes.Buffer
	if format == "csv" {
		if err := reports.GrantsCSV(&b, rows); err != nil {
			return err
		}
		return sendDownload(c, "text/csv; charset=utf-8", "hibah.csv", b.Bytes())
	}
	if err := reports.GrantsXLSX(&b, rows); err != nil {
		return err
	}
	return sendDownload(c, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "hibah.xlsx", b.Bytes())
}

func (s *Server) grant(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	g, err := s.svc.Grant(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(g)
}

func (s *Server) saveProposal(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in workflow.Proposal
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	g, err := s.svc.SaveProposal(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(g)
}

func (s *Server) act(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	action := workflow.Action(c.Params("action"))
	if !action.Valid() {
		return workflow.Errorf(workflow.ENotFound, "tindakan %q tidak dikenal", c.Params("action"))
	}
	if action == workflow.Disburse {
		// The same transfer as POST /grants/{id}/disbursements plus what
		// every action takes, answered with the grant like every action.
		var in grants.DisburseActionInput
		if err := decodeJSON(c, &in); err != nil {
			return err
		}
		if in.ExpectedState != "" && !in.ExpectedState.Valid() {
			return &workflow.Error{Code: workflow.EInvalid, Message: "parameter tidak valid",
				Details: []workflow.Detail{{Field: "expected_state", Message: "status tidak dikenal"}}}
		}
		g, err := s.svc.DisburseAction(c.UserContext(), actor(c), id, in)
		if err != nil {
			return err
		}
		return c.JSON(g)
	}
	var in grants.ActInput
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &in); err != nil {
			return err
		}
	}
	if in.ExpectedState != "" && !in.ExpectedState.Valid() {
		return &workflow.Error{Code: workflow.EInvalid, Message: "parameter tidak valid",
			Details: []workflow.Detail{{Field: "expected_state", Message: "status tidak dikenal"}}}
	}
	g, err := s.svc.Act(c.UserContext(), actor(c), id, action, in)
	if err != nil {
		return err
	}
	return c.JSON(g)
}

func (s *Server) events(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	evs, err := s.svc.Events(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": evs, "total": len(evs)})
}
