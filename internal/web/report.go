package web

import (
	"bufio"
	"bytes"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"grantflow/internal/auth"
	"grantflow/reports"
	"grantflow/workflow"
)

// Verification is public (anyone holding the printed code), so it is
// rate-limited per client address in memory: verifyLimit requests per
// verifyWindow. Each instance counts on its own and a restart forgets,
// which is enough to make walking the 80-bit code space pointless.
const (
	verifyLimit  = 30
	verifyWindow = time.Minute
)

// verifyRoutes mounts GET /api/v1/verify/{code}; it is called before the
// API's authenticate middleware, because the verification needs no login.
func (s *Server) verifyRoutes(api fiber.Router) {
	s.verifyThrottle = auth.NewThrottle(0, verifyWindow, nil)
	s.verifyThrottle.AddressLimit = verifyLimit
	api.Get("/verify/:code", s.verifyJSON)
}

// reportRoutes mounts the LPJ, the dossier and the activity exports.
func (s *Server) reportRoutes(api fiber.Router) {
	api.Get("/grants/:id/report.pdf", s.reportPDF)
	api.Get("/grants/:id/dossier.zip", s.dossier)
	api.Get("/grants/:id/activities", s.activitiesExport)
}

// throttleVerify counts a verification from the caller's address and
// answers ETooMany past the limit.
func (s *Server) throttleVerify(c *fiber.Ctx) error {
	if ok, wait := s.verifyThrottle.Attempt("", c.IP()); !ok {
		e := workflow.Errorf(workflow.ETooMany, "terlalu banyak permintaan verifikasi dari alamat ini; coba lagi sebentar lagi")
		e.RetryAfter = wait
		return e
	}
	return nil
}

func (s *Server) verifyJSON(c *fiber.Ctx) error {
	if err := s.throttleVerify(c); err != nil {
		return err
	}
	v, err := s.svc.Verify(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store") // the answer changes if the file or the chain is tampered with
	return c.JSON(v)
}

// verifyPage is GET /verify/{code}: the same record as an Indonesian page
// in the site's layout, for whoever scans the QR code of a printed LPJ.
func (s *Server) verifyPage(c *fiber.Ctx) error {
	if err := s.throttleVerify(c); err != nil {
		return err
	}
	v, err := s.svc.Verify(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "verify", "Verifikasi LPJ "+v.Number, v)
}

// reportPDF serves the LPJ: the frozen file once the grant closed (with its
// SHA-256 in X-Report-SHA256), else a draft watermarked DRAF.
func (s *Server) reportPDF(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	doc, err := s.svc.Report(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	attachment(c, doc.MIME, doc.Name)
	if doc.SHA256 != "" {
		c.Set("X-Report-SHA256", doc.SHA256)
	}
	c.Set("X-Report-Draft", strconv.FormatBool(doc.Draft))
	// SetBodyStream closes the body once the response is written.
	c.Context().SetBodyStream(doc.Body, int(doc.Size))
	return nil
}

// dossier streams the auditor's ZIP. Everything that can fail for a reason
// the caller should hear (scope, role, the database) fails before the
// first byte; a store failure mid-stream can only cut the archive short,
// which the manifest and the ZIP's own directory make evident, and is logged.
func (s *Server) dossier(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, err := s.svc.Dossier(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	attachment(c, "application/zip", d.Name)
	reqID := c.Locals("request_id")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		if err := reports.WriteDossier(w, d.Entries); err != nil {
			s.log.Error("dossier cut short", "request_id", reqID, "grant_id", id, "error", err.Error())
			return
		}
		if err := w.Flush(); err != nil {
			s.log.Warn("dossier not delivered", "request_id", reqID, "grant_id", id, "error", err.Error())
		}
	})
	return nil
}

// activitiesExport answers GET /grants/{id}/activities?format=csv|xlsx with
// the sessions (CSV; &part=attendance for who attended) or both as sheets
// of one workbook. Without format it passes on to the JSON list, which is
// mounted by the activities API after these routes.
func (s *Server) activitiesExport(c *fiber.Ctx) error {
	format := c.Query("format")
	if format == "" {
		return c.Next()
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	part := c.Query("part", "sessions")
	if (format != "csv" && format != "xlsx") || (part != "sessions" && part != "attendance") {
		return &workflow.Error{Code: workflow.EInvalid, Message: "format tidak dikenal",
			Details: []workflow.Detail{{Field: "format", Message: "gunakan format=csv (part=sessions atau attendance) atau format=xlsx"}}}
	}
	x, err := s.svc.ActivitiesExport(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	name := "kegiatan-" + x.Number
	switch {
	case format == "xlsx":
		if err := reports.ActivitiesXLSX(&b, x.Sessions, x.Attendance); err != nil {
			return err
		}
		return sendDownload(c, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name+".xlsx", b.Bytes())
	case part == "attendance":
		if err := reports.AttendanceCSV(&b, x.Sessions, x.Attendance); err != nil {
			return err
		}
		name = "kehadiran-" + x.Number
	default:
		if err := reports.ActivitiesCSV(&b, x.Sessions); err != nil {
			return err
		}
	}
	return sendDownload(c, "text/csv; charset=utf-8", name+".csv", b.Bytes())
}
