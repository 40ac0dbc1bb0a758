package web

import (
	"github.com/gofiber/fiber/v2"

	"grantflow/regions"
)

// regionRoutes adds the official province and regency list for forms.
// It reads the embedded list directly instead of through grants.Service:
// the list is fixed data shipped with the program, with no scope, database
// or audit to apply.
func (s *Server) regionRoutes(api fiber.Router) {
	api.Get("/regions", s.regions)
}

// regionList is the answer of GET /regions, built once: the list never
// changes while the program runs.
var regionList = func() fiber.Map {
	ps := regions.Provinces()
	return fiber.Map{"items": ps, "total": len(ps)}
}()

func (s *Server) regions(c *fiber.Ctx) error {
	// Only signed-in people get here (authenticate runs first), so the
	// answer may be kept by their browser, not by shared caches.
	c.Set(fiber.HeaderCacheControl, "private, max-age=3600")
	return c.JSON(regionList)
}
