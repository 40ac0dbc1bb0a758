package web

import (
	"github.com/gofiber/fiber/v2"
)

// auditRoutes are the auditor's instruments (issue #13): photo facts and
// flags, for staff in scope.
func (s *Server) auditRoutes(api fiber.Router) {
	api.Get("/grants/:id/photos", s.photos)
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
