package web

import (
	"github.com/gofiber/fiber/v2"

	"grantflow/internal/grants"
)

// activityRoutes are the funded In/On sessions (SPEC §5, issue #7): their
// realisation and its corrections, a verifier's cancellation, and the list
// with attendance, evidence and money per session. Evidence uploads are in
// moneyRoutes with the other uploads.
func (s *Server) activityRoutes(api fiber.Router) {
	api.Get("/grants/:id/activities", s.activities)
	api.Post("/grants/:id/activities/:aid/realization", s.realizeActivity)
	api.Get("/grants/:id/activities/:aid/realization", s.realizationHistory)
	api.Post("/grants/:id/activities/:aid/cancel", s.cancelActivity)
}

func (s *Server) activities(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := s.svc.Activities(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// realizeActivity records a session held, or a correction of it (a new
// version, answered 201 like the first).
func (s *Server) realizeActivity(c *fiber.Ctx) error {
	id, aid, err := idPair(c, "aid")
	if err != nil {
		return err
	}
	var in grants.RealizationInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	v, err := s.svc.RealizeActivity(c.UserContext(), actor(c), id, aid, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

// realizationHistory lists every version of a session's realisation, oldest first.
func (s *Server) realizationHistory(c *fiber.Ctx) error {
	id, aid, err := idPair(c, "aid")
	if err != nil {
		return err
	}
	rs, err := s.svc.RealizationHistory(c.UserContext(), actor(c), id, aid)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": rs, "total": len(rs)})
}

func (s *Server) cancelActivity(c *fiber.Ctx) error {
	id, aid, err := idPair(c, "aid")
	if err != nil {
		return err
	}
	var in grants.CancelActivityInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	v, err := s.svc.CancelActivity(c.UserContext(), actor(c), id, aid, in)
	if err != nil {
		return err
	}
	return c.JSON(v)
}
