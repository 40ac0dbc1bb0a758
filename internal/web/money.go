package web

import "github.com/gofiber/fiber/v2"

func (s *Server) moneyRoutes(api fiber.Router) {}
