package web

import (
	"github.com/gofiber/fiber/v2"

	"grantflow/internal/grants"
)

// auditRoutes are the auditor's instruments (issue #13): photo facts and
// flags, for staff in scope.
func (s *Server) auditRoutes(api fiber.Router) {
	api.Get("/grants/:id/photos", s.photos)
	api.Post("/grants/:id/audit-sample", s.drawAuditSample)
	api.Get("/grants/:id/audit-sample", s.auditSample)
	api.Post("/grants/:id/audit-sample/:eid/finding", s.recordFinding)
	api.Get("/audit/risk", s.riskRanking) // audit_risk.go
}

// drawAuditSample answers the new sample (201) with the seed that redraws it.
func (s *Server) drawAuditSample(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := s.svc.DrawAuditSample(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (s *Server) auditSample(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := s.svc.AuditSample(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// recordFinding takes {"result":"ok"|"issue","note"} and answers the sample.
func (s *Server) recordFinding(c *fiber.Ctx) error {
	id, eid, err := idPair(c, "eid")
	if err != nil {
		return err
	}
	var in grants.FindingInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	v, err := s.svc.RecordFinding(c.UserContext(), actor(c), id, eid, in)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// photos answers the images of a grant with their perceptual hash, EXIF
// capture time and GPS, and the photo_reused / photo_date_mismatch flags.
func (s *Server) photos(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ps, err := s.svc.Photos(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": ps, "total": len(ps)})
}
