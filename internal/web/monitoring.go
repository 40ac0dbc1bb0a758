package web

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"grantflow/internal/evidence"
	"grantflow/internal/monitor"
	"grantflow/reports"
	"grantflow/workflow"
)

// monitoringRoutes registers the meeting log, the monitoring lists and the
// reminders (SPEC §7). The monitor service defaults to one on the grants
// service's database, so callers of New need not know about it.
func (s *Server) monitoringRoutes(api fiber.Router) {
	if s.mon == nil {
		s.mon = monitor.New(s.svc.DB(), monitor.Options{})
	}
	api.Post("/groups/:id/meetings", s.logMeeting)
	api.Get("/groups/:id/meetings", s.meetings)
	api.Get("/monitoring", s.monitoring)
	api.Get("/monitoring/summary", s.monitoringSummary)
	api.Get("/monitoring/cohorts", s.cohorts)
	api.Get("/notifications", s.notifications)
	api.Post("/notifications/:id/read", s.markRead)
}

// meetingFields are the text fields of a meeting as a multipart form, the
// same names as the JSON body; photoField is its optional photo.
var meetingFields = []string{"held_on", "topic", "attendees_count", "notes", "supersedes", "photo_id"}

const photoField = "photo"

// meetingInput reads a meeting form's text fields once, collecting every
// malformed value in fm.
func meetingInput(fm *form) monitor.MeetingInput {
	in := monitor.MeetingInput{HeldOn: fm.date("held_on"), Topic: fm.fields["topic"], Notes: fm.fields["notes"]}
	if v := strings.TrimSpace(fm.fields["attendees_count"]); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			fm.p.Add("attendees_count", "harus berupa bilangan bulat")
		}
		in.AttendeesCount = n
	}
	if id := fm.id("supersedes"); id != 0 {
		in.Supersedes = &id
	}
	if id := fm.id("photo_id"); id != 0 {
		in.PhotoID = &id
	}
	return in
}

// canLogMeeting asks, before any byte of an upload is stored, whether the
// caller may log a meeting of group id.
func (s *Server) canLogMeeting(c *fiber.Ctx, id int64) error {
	ctx, cancel := s.dbContext()
	defer cancel()
	return s.mon.CanLogMeeting(ctx, actor(c), id)
}

// logMeeting takes JSON (`photo_id` naming a photo the group already
// uploaded) or, to attach a new photo, multipart with the same fields and a
// file "photo", streamed into the evidence store like a receipt.
func (s *Server) logMeeting(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in monitor.MeetingInput
	var photo *evidence.Object
	if isMultipart(c) {
		if err := s.canLogMeeting(c, id); err != nil {
			return err
		}
		fm, err := readMultipart(c, meetingFields, photoField, s.ingestChosen(c, &photo))
		if err != nil {
			return err
		}
		in = meetingInput(fm)
		if err := fm.check(in, "pertemuan tidak dapat dicatat"); err != nil {
			return err
		}
	} else if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx, cancel := s.dbContext()
	defer cancel()
	m, err := s.mon.LogMeeting(ctx, actor(c), id, in, photo)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(m)
}

func (s *Server) meetings(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	log, err := s.mon.Meetings(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(log)
}

// queryInt reads an optional non-negative integer query parameter (0 when absent).
func queryInt(c *fiber.Ctx, name string) (int, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, &workflow.Error{Code: workflow.EInvalid, Message: "parameter tidak valid",
			Details: []workflow.Detail{{Field: name, Message: "harus berupa bilangan bulat tidak negatif"}}}
	}
	return n, nil
}

func (s *Server) monitoring(c *fiber.Ctx) error {
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	offset, err := queryInt(c, "offset")
	if err != nil {
		return err
	}
	format := c.Query("format")
	if format != "" && format != "csv" && format != "xlsx" {
		return &workflow.Error{Code: workflow.EInvalid, Message: "format tidak dikenal",
			Details: []workflow.Detail{{Field: "format", Message: "gunakan csv atau xlsx"}}}
	}
	f := monitor.ListFilter{Status: c.Query("status"), Province: c.Query("province"), Regency: c.Query("regency"),
		Kind: c.Query("kind"), Limit: limit, Offset: offset, All: format != ""}
	rows, total, err := s.mon.List(c.UserContext(), actor(c), f)
	if err != nil {
		return err
	}
	if format == "" {
		return c.JSON(fiber.Map{"items": rows, "total": total})
	}
	out := make([]reports.MonitorRow, len(rows))
	for i, r := range rows {
		out[i] = reports.MonitorRow{Group: r.GroupName, Kind: r.Kind, Province: r.Province, Regency: r.Regency,
			FundingEnded: r.FundingEndedOn.String(), LastMeeting: r.LastMeetingOn.String(), DaysSilent: r.DaysSilent,
			Status: r.Status, Since: r.StatusSince.String()}
	}
	var b bytes.Buffer
	if format == "csv" {
		if err := reports.MonitoringCSV(&b, out); err != nil {
			return err
		}
		return sendDownload(c, "text/csv; charset=utf-8", "pemantauan.csv", b.Bytes())
	}
	if err := reports.MonitoringXLSX(&b, out); err != nil {
		return err
	}
	return sendDownload(c, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pemantauan.xlsx", b.Bytes())
}

func (s *Server) monitoringSummary(c *fiber.Ctx) error {
	sum, err := s.mon.Summary(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(sum)
}

func (s *Server) cohorts(c *fiber.Ctx) error {
	cs, err := s.mon.Cohorts(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": cs, "total": len(cs)})
}

func (s *Server) notifications(c *fiber.Ctx) error {
	ns, err := s.mon.Notifications(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": ns, "total": len(ns)})
}

func (s *Server) markRead(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	n, err := s.mon.MarkRead(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(n)
}
