package web

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"grantflow/internal/evidence"
	"grantflow/internal/grants"
	"grantflow/internal/monitor"
	"grantflow/internal/postgres"
	"grantflow/regions"
	"grantflow/workflow"
)

// monitorStatusLabels name the monitoring statuses in Indonesian.
var monitorStatusLabels = map[string]string{"active": "aktif", "at_risk": "berisiko", "dormant": "tidak aktif"}

// countRow is one key (province or kind) with its count per status.
type countRow struct {
	Key    string
	Counts map[string]int
	Total  int
}

// pivot turns status × key counts into one row per key, in key order.
func pivot(cs []postgres.SummaryCount) []countRow {
	idx := map[string]int{}
	var out []countRow
	for _, c := range cs {
		i, ok := idx[c.Key]
		if !ok {
			i = len(out)
			idx[c.Key] = i
			out = append(out, countRow{Key: c.Key, Counts: map[string]int{}})
		}
		out[i].Counts[c.Status] += c.Count
		out[i].Total += c.Count
	}
	slices.SortFunc(out, func(a, b countRow) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// chartLine is one cohort's survival curve as SVG coordinates.
type chartLine struct {
	Label  string
	Points string // the polyline's points attribute
	Dots   []chartDot
	Colour string
}

// chartDot is one checkpoint drawn on a curve.
type chartDot struct {
	X, Y   int
	Months int
	Share  float64
}

// chartColours tell up to six curves apart (contrast ≥ 3:1 on white).
var chartColours = []string{"#0b5e3c", "#0a4f86", "#a4161a", "#6b3fa0", "#8a5a00", "#1b1f24"}

// survivalChart lays the cohorts out on a 600 × 260 plot: months 0–12 on
// x, share active 0–100 % on y. Drawn by the server: no chart library and
// no script, and the same numbers are in the table beside it.
func survivalChart(cs []monitor.Cohort) []chartLine {
	const left, top, w, h = 50, 20, 520, 200
	var out []chartLine
	for i, c := range cs {
		if i == len(chartColours) {
			break
		}
		l := chartLine{Label: fmt.Sprintf("%s · %s · %s", c.ProgramName, c.Kind, c.Province), Colour: chartColours[i]}
		var pts []string
		for _, p := range c.Points {
			if p.Eligible == 0 {
				continue // no grant has ended that long ago: no point, not 0 %
			}
			x := left + p.Months*w/12
			y := top + h - int(p.Share*float64(h))
			pts = append(pts, fmt.Sprintf("%d,%d", x, y))
			l.Dots = append(l.Dots, chartDot{X: x, Y: y, Months: p.Months, Share: p.Share})
		}
		l.Points = strings.Join(pts, " ")
		out = append(out, l)
	}
	return out
}

// dashboardData is the data of templates/monitoring.html.
type dashboardData struct {
	Statuses   []string
	ByProvince []countRow
	ByKind     []countRow
	Rows       []postgres.MonitorRow
	Total      int
	Filter     monitor.ListFilter
	ExportCSV  string // the export links, with the filter shown
	ExportXLSX string
	Provinces  []regions.Province
	Kinds      []workflow.Kind
	Cohorts    []monitor.Cohort
	Chart      []chartLine
	Errors     formErrors
}

// monitoringPage is the staff dashboard: counts by status, province and
// kind, the list filtered by the query, and the cohorts' survival chart,
// through the same monitor calls as the JSON API.
func (s *Server) monitoringPage(c *fiber.Ctx) error {
	ctx, a := c.UserContext(), actor(c)
	d := dashboardData{Statuses: monitor.Statuses, Provinces: regions.Provinces(), Kinds: workflow.Kinds}
	d.Filter = monitor.ListFilter{Status: c.Query("status"), Province: c.Query("province"), Kind: c.Query("kind"), Limit: 100}
	sum, err := s.mon.Summary(ctx, a)
	if err != nil {
		return err
	}
	d.ByProvince, d.ByKind = pivot(sum.ByProvince), pivot(sum.ByKind)
	status := fiber.StatusOK
	d.Rows, d.Total, err = s.mon.List(ctx, a, d.Filter)
	if err != nil {
		if status = d.Errors.from(err); status == 0 {
			return err
		}
	}
	q := url.Values{}
	for k, v := range map[string]string{"status": d.Filter.Status, "province": d.Filter.Province, "kind": d.Filter.Kind} {
		if v != "" {
			q.Set(k, v)
		}
	}
	d.ExportCSV, d.ExportXLSX = exportLink("csv", q), exportLink("xlsx", q)
	if d.Cohorts, err = s.mon.Cohorts(ctx, a); err != nil {
		return err
	}
	d.Chart = survivalChart(d.Cohorts)
	return s.render(c, status, "monitoring", "Pemantauan", d)
}

// exportLink is the dashboard's export in format with the filter q.
func exportLink(format string, q url.Values) string {
	v := url.Values{"format": {format}}
	for k, x := range q {
		v[k] = x
	}
	return "/pemantauan/ekspor?" + v.Encode()
}

// notificationsData is the data of templates/notifications.html.
type notificationsData struct {
	Items []postgres.Notification
}

func (s *Server) notificationsPage(c *fiber.Ctx) error {
	ns, err := s.mon.Notifications(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "notifications", "Notifikasi", notificationsData{Items: ns})
}

// markReadPost marks one reminder read and returns to the list.
func (s *Server) markReadPost(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.mon.MarkRead(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	return c.Redirect("/notifikasi", fiber.StatusSeeOther)
}

// unread counts the person's unread reminders for the header; the header
// is shown on every page, so a failure here shows no count rather than
// failing the page.
func (s *Server) unread(c *fiber.Ctx) int {
	a, ok := c.Locals("actor").(workflow.Actor)
	if !ok || s.mon == nil {
		return 0
	}
	ns, err := s.mon.Notifications(c.UserContext(), a)
	if err != nil {
		s.log.Warn("unread count", "error", err.Error())
		return 0
	}
	n := 0
	for _, x := range ns {
		if x.ReadAt == nil {
			n++
		}
	}
	return n
}

// meetingsData is the data of templates/meetings.html.
type meetingsData struct {
	GroupID       int64
	GroupName     string
	Items         []postgres.Meeting
	Watch         *monitor.Watch // the group's monitoring status, nil while not monitored
	History       []postgres.StatusSpan
	CanLog        bool
	HeldOn, Topic string
	Attendees     string
	Notes         string
	Errors        formErrors
}

func (s *Server) loadMeetings(c *fiber.Ctx, id int64) (meetingsData, error) {
	d := meetingsData{GroupID: id}
	a := actor(c)
	log, err := s.mon.Meetings(c.UserContext(), a, id)
	if err != nil {
		return d, err
	}
	d.Items, d.Watch, d.History = log.Items, log.Monitoring, log.History
	d.CanLog = a.GroupID == id
	// The group's name comes from its grants, which chair and treasurer may read.
	if gs, err := s.svc.Grants(c.UserContext(), a, grants.ListFilter{}); err == nil {
		for _, g := range gs {
			if g.Group.ID == id {
				d.GroupName = g.Group.Name
			}
		}
	}
	return d, nil
}

// meetingsPage is the group's meeting log after (and during) the grant.
func (s *Server) meetingsPage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, err := s.loadMeetings(c, id)
	if err != nil {
		return err
	}
	d.HeldOn = s.today().String()
	return s.render(c, fiber.StatusOK, "meetings", "Pertemuan kelompok", d)
}

// meetingPageFields are the meeting form's text fields on the page.
var meetingPageFields = append(append([]string{}, meetingFields...), csrfField)

// meetingPost logs a meeting, as POST /groups/{id}/meetings, from the
// page's multipart form. As on the expense form, the CSRF token travels
// inside the streamed body and is checked before anything is recorded; a
// photo refused (too large, not a whole JPEG/PNG) shows beside the file
// input with every field typed before it (the file input comes last).
func (s *Server) meetingPost(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var photo *evidence.Object
	var uploadErr error
	mf := &form{fields: map[string]string{}}
	if isMultipart(c) {
		if err := s.canLogMeeting(c, id); err != nil {
			return err
		}
		if mf, err = readMultipart(c, meetingPageFields, photoField, s.ingestChosen(c, &photo)); err != nil {
			if mf == nil || workflow.ErrorCode(err) == workflow.EInternal || workflow.ErrorCode(err) == workflow.EUnavailable {
				return err
			}
			uploadErr = err
		}
	} else {
		// A form without a file may come URL-encoded (a browser without
		// the photo input's support); the same fields, the same checks.
		for _, k := range meetingPageFields {
			if v := c.FormValue(k); v != "" {
				mf.fields[k] = v
			}
		}
	}
	ctx, cancel, err := s.afterStream(c, mf.fields[csrfField])
	if err != nil {
		return err
	}
	defer cancel()
	d, err := s.loadMeetings(c, id)
	if err != nil {
		return err
	}
	d.HeldOn, d.Topic, d.Attendees, d.Notes = mf.fields["held_on"], mf.fields["topic"], mf.fields["attendees_count"], mf.fields["notes"]
	if uploadErr == nil {
		in := meetingInput(mf)
		err = mf.check(in, "pertemuan tidak dapat dicatat")
		if err == nil {
			_, err = s.mon.LogMeeting(ctx, actor(c), id, in, photo)
			if err == nil {
				return c.Redirect(fmt.Sprintf("/kelompok/%d/pertemuan", id), fiber.StatusSeeOther)
			}
		}
	} else {
		err = uploadErr
	}
	var we *workflow.Error
	status := 0
	if errors.As(err, &we) && (we.Code == workflow.ETooLarge || we.Code == workflow.EUnsupported) {
		// The refusals of the file itself, which other forms never meet.
		// The store's own words name PDF too, which a meeting photo cannot be.
		msg := "Foto harus berkas JPEG atau PNG yang utuh, paling besar 10 MiB."
		if we.Code == workflow.ETooLarge {
			msg = sentence(strings.TrimSuffix(we.Message, ".")) + ". Pilih foto paling besar 10 MiB."
		}
		d.Errors.field(photoField, msg)
		status = statusOf[we.Code]
	} else if status = d.Errors.from(err, "held_on", "topic", "attendees_count", "notes", photoField); status == 0 {
		return err
	}
	return s.render(c, status, "meetings", "Pertemuan kelompok", d)
}

// auditRow is one grant of the auditor's queue with its red flags.
type auditRow struct {
	G     grants.View
	Flags map[string]int // expense flag → how many expenses carry it
	Over  bool           // funded past the LPJ due date
}

// auditData is the data of templates/audit.html.
type auditData struct {
	Rows []auditRow
}

// auditPage is the auditor's LPJ queue: every grant whose LPJ is in, and
// every funded one whose LPJ is overdue, with the flags its expenses carry.
func (s *Server) auditPage(c *fiber.Ctx) error {
	ctx, a := c.UserContext(), actor(c)
	if !a.Has(workflow.RoleAuditor) && !a.Has(workflow.RoleAdmin) {
		return workflow.Errorf(workflow.EForbidden, "halaman ini untuk auditor")
	}
	all, err := s.svc.Grants(ctx, a, grants.ListFilter{})
	if err != nil {
		return err
	}
	var d auditData
	progs := map[int64]workflow.Program{}
	today := s.today()
	for _, g := range all {
		if g.State != workflow.ReportSubmitted && g.State != workflow.Funded {
			continue
		}
		p, ok := progs[g.ProgramID]
		if !ok {
			if p, err = s.svc.Program(ctx, a, g.ProgramID); err != nil {
				return err
			}
			progs[g.ProgramID] = p
		}
		r := auditRow{G: g, Flags: map[string]int{}, Over: workflow.ReportOverdue(g.Grant, p, today)}
		if g.State == workflow.Funded && !r.Over {
			continue
		}
		es, err := s.svc.Expenses(ctx, a, g.ID)
		if err != nil {
			return err
		}
		for _, e := range es {
			if e.Voided() {
				continue
			}
			for _, f := range e.Flags {
				r.Flags[f]++
			}
		}
		d.Rows = append(d.Rows, r)
	}
	return s.render(c, fiber.StatusOK, "audit", "LPJ untuk diperiksa", d)
}

// nextSteps is "Langkah berikutnya": the same next_steps GET /grants/{id}
// answers, built from the actions' own guards.
func nextSteps(g grants.View) []string { return g.NextSteps }
