// Package monitor keeps watching groups after their funding (SPEC §7): the
// meeting log, the dormancy scan and its hourly schedule, the monitoring
// lists, the cohort survival figures, and the reminders with their e-mail
// outbox. Every statement lives in internal/postgres; this package decides
// who may do what and when.
//
// Decisions where SPEC §7 is silent:
//   - Funding ends on the day a grant closed (Jakarta), else on its
//     programme's activity_ends_on once passed; only grants that were funded
//     (funded, report_submitted, closed) count. A group is watched from its
//     latest ended grant, with that programme's thresholds.
//   - Silence counts from the last meeting (group_meetings, by the as-of
//     day) or from the funding end when that is later: the end starts the
//     clock, so no group is flagged on the day its funding ends. Status
//     since is the day the status began by that rule (the meeting, or the
//     day a threshold was crossed).
//   - Cohorts count a grant at N months once ended_on + N months ≤ the scan
//     day; it is active there when it met within the at-risk window before
//     that day (with the default 45 days every group is active at 1 month).
//   - The scan keeps what does not depend on its day between runs: each
//     group's latest meeting and each grant's cohort checkpoint flags.
//     Recording a meeting or a held session marks the group (a trigger, in
//     the recording transaction) and the next scan looks it up again; a
//     scan of an earlier day looks up the groups that met after that day.
//     The stored status row changes only when the status, the group or its
//     last meeting does; days silent are derived from the scan's day.
//   - History rows record what the scans saw; a scan as of an earlier day
//     closes and opens rows as that day dictates, it never rewrites old ones.
//   - Reminders: the LPJ ones go while the grant is funded (not yet
//     reported), one per window the scan day falls in (due in ≤ 14 days, due
//     today, overdue); at_risk and dormant ones once per episode (the key
//     carries the status since; a group a scan first finds dormant gets
//     its chair's at_risk reminder then, keyed by the at-risk day it
//     passed unseen); dormant goes to verifiers whose province
//     (and regency, when they have one) is the group's — unscoped verifiers
//     would be told about every group of the country. A person added later
//     is told about a current episode at the next scan.
//   - A meeting row is its own audit record: append-only (a trigger refuses
//     UPDATE and DELETE), with who and when; a correction is a new row.
//   - "Logging a meeting clears the flag": the group's own view (GET
//     /groups/{id}/meetings and its page) counts a meeting the latest scan
//     has not seen at once, by the programme's thresholds as the next scan
//     will; staff lists, counts, cohorts and reminders read the stored scan,
//     which the serving instance runs again a minute after a meeting is
//     logged (Options.Rescan), and otherwise every hour.
//   - A meeting's photo is an evidence row (kind photo) of the group's
//     latest funded grant: evidence belongs to a grant, and so the photo
//     gets the store's preview, gc protection, photo facts and access rules
//     like every other photo of the group. A group never funded has no
//     grant to file it under and is told so (422); JPEG and PNG only (415).
package monitor

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"grantflow/internal/evidence"
	"grantflow/internal/postgres"
	"grantflow/internal/validate"
	"grantflow/workflow"
)

// Options tune a Service; zero fields take the defaults.
type Options struct {
	Now    func() time.Time // default time.Now; tests move the clock
	Logger *slog.Logger     // default: discard
	// Mail queues an e-mail beside every new reminder (GRANTFLOW_SMTP_URL set).
	Mail bool
	// Rescan is how soon after a meeting is logged Run scans again, so that
	// staff lists clear the flag too (default a minute); meetings
	// logged meanwhile share the scan.
	Rescan time.Duration
}

// defaultRescan is Options.Rescan's default: a minute, so that a group
// logging several meetings in a row costs one scan.
const defaultRescan = time.Minute

// Service carries out the monitoring use cases against the database.
type Service struct {
	db     *postgres.DB
	now    func() time.Time
	log    *slog.Logger
	mail   bool
	rescan time.Duration
	logged chan struct{} // a meeting was logged: Run scans again soon
}

// New returns a Service on db.
func New(db *postgres.DB, o Options) *Service {
	s := &Service{db: db, now: o.Now, log: o.Logger, mail: o.Mail, rescan: o.Rescan, logged: make(chan struct{}, 1)}
	if s.rescan <= 0 {
		s.rescan = defaultRescan
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Today returns the service clock's calendar day in Jakarta, where the
// programme runs.
func (s *Service) Today() workflow.Date { return workflow.DateOf(s.now().In(workflow.Jakarta)) }

// MeetingInput is a meeting as a chair or treasurer logs it. Supersedes,
// when set, names the meeting row this one corrects.
type MeetingInput struct {
	HeldOn         workflow.Date `json:"held_on"`
	Topic          string        `json:"topic"`
	AttendeesCount int           `json:"attendees_count"`
	Notes          string        `json:"notes"`
	PhotoID        *int64        `json:"photo_id"`
	Supersedes     *int64        `json:"supersedes"`
}

// mayLog answers nil when a may log meetings of group g: ENotFound when a
// cannot see it, EForbidden unless a is its chair or treasurer.
func mayLog(a workflow.Actor, groupID int64, provinceCode, regencyCode string) error {
	if !a.Sees(groupID, provinceCode, regencyCode) {
		return workflow.Errorf(workflow.ENotFound, "kelompok %d tidak ditemukan", groupID)
	}
	if a.GroupID != groupID || !(a.Has(workflow.RoleChair) || a.Has(workflow.RoleTreasurer)) {
		return workflow.Errorf(workflow.EForbidden, "hanya ketua atau bendahara kelompok yang dapat mencatat pertemuan")
	}
	return nil
}

// CanLogMeeting answers nil when a may log a meeting of group groupID now,
// so that an upload is refused before its photo is stored; the errors of
// LogMeeting otherwise.
func (s *Service) CanLogMeeting(ctx context.Context, a workflow.Actor, groupID int64) error {
	g, err := s.db.GroupHeader(ctx, groupID)
	if err != nil {
		return err
	}
	return mayLog(a, g.ID, g.ProvinceCode, g.RegencyCode)
}

// LogMeeting appends a meeting (or a correction) to group groupID's log in
// one transaction under the group's row lock. Only the group's chair or
// treasurer may; a group the caller cannot see answers ENotFound, another
// role EForbidden, and broken rules EUnprocessable with every reason.
// photo, when not nil, is a file the evidence store already holds (sniffed,
// decoded, at most 10 MiB): it must be a JPEG or PNG (else EUnsupported,
// 415, and nothing is written) and is filed as a photo of the group's
// latest funded grant in the same transaction.
func (s *Service) LogMeeting(ctx context.Context, a workflow.Actor, groupID int64, in MeetingInput, photo *evidence.Object) (postgres.Meeting, error) {
	if photo != nil && photo.MIME != evidence.MIMEJPEG && photo.MIME != evidence.MIMEPNG {
		return postgres.Meeting{}, &workflow.Error{Code: workflow.EUnsupported, Message: "foto pertemuan harus JPEG atau PNG",
			Details: []workflow.Detail{{Field: "photo", Message: "foto pertemuan harus JPEG atau PNG"}}}
	}
	var out postgres.Meeting
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, err := tx.LockMeetingGroup(ctx, groupID)
		if err != nil {
			return err
		}
		if err := mayLog(a, g.ID, g.ProvinceCode, g.RegencyCode); err != nil {
			return err
		}
		var p workflow.Problems
		var photoGrant int64
		if photo != nil {
			switch {
			case in.PhotoID != nil:
				p.Add("photo_id", "kirim foto baru atau photo_id, bukan keduanya")
			default:
				if photoGrant, err = tx.PhotoGrant(ctx, groupID); workflow.ErrorCode(err) == workflow.ENotFound {
					p.Add("photo", "foto pertemuan hanya dapat disimpan untuk kelompok yang pernah didanai")
				} else if err != nil {
					return err
				}
			}
		}
		today := s.Today()
		registered := workflow.DateOf(g.RegisteredAt.In(workflow.Jakarta))
		switch {
		case in.HeldOn.IsZero():
			p.Add("held_on", "tanggal pertemuan wajib diisi")
		case in.HeldOn.After(today):
			p.Add("held_on", "tanggal pertemuan tidak boleh di masa depan (hari ini %s)", today)
		case in.HeldOn.Before(registered):
			p.Add("held_on", "tanggal pertemuan tidak boleh sebelum kelompok terdaftar (%s)", registered)
		}
		topic := strings.TrimSpace(in.Topic)
		if topic == "" {
			p.Add("topic", "topik wajib diisi")
		} else if utf8.RuneCountInString(topic) > 200 || !utf8.ValidString(topic) || strings.ContainsRune(topic, 0) {
			p.Add("topic", "topik paling banyak 200 karakter teks biasa")
		}
		if in.AttendeesCount < 1 || in.AttendeesCount > g.Members {
			p.Add("attendees_count", "jumlah hadir harus antara 1 dan %d (jumlah anggota)", g.Members)
		}
		notes := strings.TrimSpace(in.Notes)
		if utf8.RuneCountInString(notes) > 2000 || !utf8.ValidString(notes) || strings.ContainsRune(notes, 0) {
			p.Add("notes", "catatan paling banyak 2000 karakter teks biasa")
		}
		if in.PhotoID != nil {
			ok, err := tx.GroupPhoto(ctx, groupID, *in.PhotoID)
			if err != nil {
				return err
			}
			if !ok {
				p.Add("photo_id", "foto %d bukan foto JPEG/PNG milik kelompok ini", *in.PhotoID)
			}
		}
		if err := p.Err("pertemuan tidak dapat dicatat"); err != nil {
			return err
		}
		if in.Supersedes != nil {
			if _, err := tx.CurrentMeeting(ctx, groupID, *in.Supersedes); err != nil {
				return err
			}
		}
		if photo != nil {
			f, err := tx.InsertFile(ctx, postgres.File{GrantID: photoGrant, Kind: "photo", SHA256: photo.SHA256, Size: photo.Size,
				MIME: photo.MIME, PreviewSHA256: previewOf(photo), UploadedBy: a.UserID})
			if err != nil {
				return err
			}
			in.PhotoID = &f.ID
		}
		out, err = tx.InsertMeeting(ctx, postgres.Meeting{GroupID: groupID, HeldOn: in.HeldOn, Topic: topic,
			AttendeesCount: in.AttendeesCount, Notes: notes, PhotoID: in.PhotoID, Supersedes: in.Supersedes, CreatedBy: a.UserID})
		return err
	})
	if err == nil {
		select { // Run's next scan clears the flag for staff too
		case s.logged <- struct{}{}:
		default: // one already pending covers this meeting
		}
	}
	return out, err
}

// MeetingLog is GET /groups/{id}/meetings: the log as it stands, newest
// meeting first, and the group's monitoring status as the group sees it.
type MeetingLog struct {
	Items      []postgres.Meeting `json:"items"`
	Total      int                `json:"total"`
	Monitoring *Watch             `json:"monitoring"` // nil while the group is not monitored
	// History is the group's status as the scans stored it, newest first.
	History []postgres.StatusSpan `json:"history"`
}

// Watch is a group's monitoring status in its own view: the latest scan's,
// except that a meeting recorded since counts at once (SPEC §7: logging a
// meeting clears the flag). Staff lists, counts and reminders keep the
// scan's status until the next scan, which stores the same.
type Watch struct {
	Status         string         `json:"status"`
	StatusSince    workflow.Date  `json:"status_since"`
	FundingEndedOn workflow.Date  `json:"funding_ended_on"`
	LastMeetingOn  *workflow.Date `json:"last_meeting_on"`
	DaysSilent     int            `json:"days_silent"` // to AsOf
	AsOf           workflow.Date  `json:"as_of"`       // the scan's day, or today when later
	ScannedOn      workflow.Date  `json:"scanned_on"`
	ScannedStatus  string         `json:"scanned_status"` // what the latest scan stored
	NewerMeeting   bool           `json:"newer_meeting"`  // a meeting the latest scan has not seen counts here
}

// watchOf is the group's view as of today: its scan row, or, when it met
// after the scan's last meeting (and after its funding ended), the status
// that meeting gives by the programme's thresholds, the way the next scan
// will compute it.
func watchOf(g postgres.GroupWatch, today workflow.Date) Watch {
	w := Watch{Status: g.Status, StatusSince: g.StatusSince, FundingEndedOn: g.FundingEndedOn, LastMeetingOn: g.LastMeetingOn,
		DaysSilent: g.DaysSilent, AsOf: g.ScannedOn, ScannedOn: g.ScannedOn, ScannedStatus: g.Status}
	silentFrom := g.FundingEndedOn
	if g.LastMeetingOn != nil && g.LastMeetingOn.After(silentFrom) {
		silentFrom = *g.LastMeetingOn
	}
	latest := g.LatestMeetingOn
	if latest == nil || !latest.After(silentFrom) {
		return w
	}
	if today.After(w.AsOf) {
		w.AsOf = today
	}
	w.NewerMeeting, w.LastMeetingOn, w.DaysSilent = true, latest, w.AsOf.DaysSince(*latest)
	switch {
	case w.DaysSilent >= g.DormantAfter:
		w.Status, w.StatusSince = "dormant", latest.AddDays(g.DormantAfter)
	case w.DaysSilent >= g.AtRiskAfter:
		w.Status, w.StatusSince = "at_risk", latest.AddDays(g.AtRiskAfter)
	default:
		w.Status, w.StatusSince = "active", *latest
	}
	if w.Status == g.Status {
		w.StatusSince = g.StatusSince // the scan keeps a status's start while it lasts
	}
	return w
}

// previewOf is the content address of obj's EXIF-free preview, "" when it
// has none yet (the background worker makes it).
func previewOf(obj *evidence.Object) string {
	if obj.Preview == nil {
		return ""
	}
	return obj.Preview.SHA256
}

// Meetings returns group groupID's meeting log as it stands, newest first,
// with its monitoring status, to anyone who sees the group; else ENotFound.
func (s *Service) Meetings(ctx context.Context, a workflow.Actor, groupID int64) (MeetingLog, error) {
	var out MeetingLog
	err := s.db.InReadTx(ctx, func(tx *postgres.Tx) error {
		g, err := tx.GroupHeader(ctx, groupID)
		if err != nil {
			return err
		}
		if !a.Sees(g.ID, g.ProvinceCode, g.RegencyCode) {
			return workflow.Errorf(workflow.ENotFound, "kelompok %d tidak ditemukan", groupID)
		}
		if out.Items, err = tx.Meetings(ctx, groupID); err != nil {
			return err
		}
		out.Total = len(out.Items)
		if out.History, err = tx.StatusHistory(ctx, groupID); err != nil {
			return err
		}
		gw, err := tx.GroupWatch(ctx, groupID)
		switch {
		case err == nil:
			w := watchOf(gw, s.Today())
			out.Monitoring = &w
		case workflow.ErrorCode(err) != workflow.ENotFound:
			return err
		}
		return nil
	})
	return out, err
}

// Scan computes and stores every monitored group's status as of asOf (the
// zero Date: today), with history, cohorts and reminders. It waits for a
// scan running elsewhere to finish.
func (s *Service) Scan(ctx context.Context, asOf workflow.Date) (postgres.ScanResult, error) {
	return s.scan(ctx, asOf, true)
}

// Recompute is Scan without the reminders: `grantflow monitor --as-of` for
// a day other than today recomputes the statuses of that day, and the
// reminders that day called for were that day's to send, not today's.
func (s *Service) Recompute(ctx context.Context, asOf workflow.Date) (postgres.ScanResult, error) {
	return s.scan(ctx, asOf, false)
}

func (s *Service) scan(ctx context.Context, asOf workflow.Date, remind bool) (postgres.ScanResult, error) {
	if asOf.IsZero() {
		asOf = s.Today()
	}
	res, _, err := s.db.Scan(ctx, asOf, postgres.ScanOptions{Wait: true, Remind: remind, Mail: s.mail})
	return res, err
}

// Run scans as of today at once and then every interval until ctx ends,
// and, Options.Rescan after a meeting is logged through this Service, once
// more: "logging a meeting clears the flag" then holds for staff lists,
// counts and reminders within that delay, not only at the next hour. When
// another instance is scanning, this one skips that round: the lock makes
// the scan happen once, not once per instance (a meeting it missed is
// marked, and the next scan takes it).
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		res, ran, err := s.db.Scan(sctx, s.Today(), postgres.ScanOptions{Remind: true, Mail: s.mail})
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("monitoring scan", "error", err.Error())
		case ran:
			s.log.Info("monitoring scan", "as_of", res.AsOf.String(), "monitored", res.Monitored, "at_risk", res.AtRisk,
				"dormant", res.Dormant, "changed", res.Changed, "notifications", res.Notifications)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.logged:
			select {
			case <-ctx.Done():
				return
			case <-time.After(s.rescan):
			}
		}
	}
}

// staff returns EForbidden unless a is admin or staff: chairs and
// treasurers see their own group, not the monitoring of others.
func staff(a workflow.Actor) error {
	if a.IsStaff() {
		return nil
	}
	return workflow.Errorf(workflow.EForbidden, "pemantauan hanya untuk petugas")
}

// scopeOf is the region a staff member sees; admins and unscoped staff see all.
func scopeOf(a workflow.Actor) postgres.Scope {
	if a.Has(workflow.RoleAdmin) {
		return postgres.Scope{}
	}
	return postgres.Scope{ProvinceCode: a.ProvinceCode, RegencyCode: a.RegencyCode}
}

// Statuses are the monitoring statuses, mildest first.
var Statuses = []string{"active", "at_risk", "dormant"}

// ListFilter selects rows of GET /monitoring. Province and Regency are
// names or official codes, matched like a group's.
type ListFilter struct {
	Status, Province, Regency, Kind string
	Limit, Offset                   int  // a page: Limit 1–1000 (default 50)
	All                             bool // every matching row (exports); Limit and Offset ignored
}

// List returns one page of the latest scan's rows in a's scope matching f,
// and how many match; EForbidden for non-staff, EUnprocessable for an
// unknown status or kind.
func (s *Service) List(ctx context.Context, a workflow.Actor, f ListFilter) ([]postgres.MonitorRow, int, error) {
	if err := staff(a); err != nil {
		return nil, 0, err
	}
	var p workflow.Problems
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		p.Add("status", "status tidak dikenal: gunakan active, at_risk atau dormant")
	}
	if f.Kind != "" && !slices.Contains(workflow.Kinds, workflow.Kind(f.Kind)) {
		p.Add("kind", "jenis kelompok tidak dikenal")
	}
	if f.Limit < 0 || f.Limit > 1000 || f.Offset < 0 {
		p.Add("limit", "limit 1–1000 dan offset ≥ 0")
	}
	place, rp := validate.Region(f.Province, f.Regency)
	p = append(p, rp...)
	if err := p.Err("parameter tidak valid"); err != nil {
		return nil, 0, err
	}
	switch {
	case f.All:
		f.Limit, f.Offset = 1<<31-1, 0
	case f.Limit == 0:
		f.Limit = 50
	}
	return s.db.MonitorRows(ctx, postgres.MonitorFilter{Scope: scopeOf(a), Status: f.Status, ProvinceCode: place.Province.Code,
		RegencyCode: place.Regency.Code, Kind: f.Kind, Limit: f.Limit, Offset: f.Offset})
}

// Summary is GET /monitoring/summary.
type Summary struct {
	ByProvince []postgres.SummaryCount `json:"by_province"`
	ByKind     []postgres.SummaryCount `json:"by_kind"`
}

// Summary returns the latest scan's counts in a's scope; EForbidden for non-staff.
func (s *Service) Summary(ctx context.Context, a workflow.Actor) (Summary, error) {
	if err := staff(a); err != nil {
		return Summary{}, err
	}
	p, k, err := s.db.MonitorSummary(ctx, scopeOf(a))
	return Summary{ByProvince: p, ByKind: k}, err
}

// Checkpoint is one point of a cohort's survival curve.
type Checkpoint struct {
	Months   int     `json:"months"`
	Eligible int     `json:"eligible"` // grants whose funding ended at least Months ago
	Active   int     `json:"active"`   // of those, groups active Months after the end
	Share    float64 `json:"share"`    // Active / Eligible, 0 when none is eligible yet
}

// Cohort is the survival curve of one programme, kind and province.
type Cohort struct {
	ProgramID   int64        `json:"program_id"`
	ProgramName string       `json:"program_name"`
	Kind        string       `json:"kind"`
	Province    string       `json:"province"`
	Points      []Checkpoint `json:"points"`
}

// Cohorts returns the latest scan's survival curves in a's scope, each with
// its four checkpoints (1, 3, 6, 12 months); EForbidden for non-staff.
func (s *Service) Cohorts(ctx context.Context, a workflow.Actor) ([]Cohort, error) {
	if err := staff(a); err != nil {
		return nil, err
	}
	rows, err := s.db.Cohorts(ctx, scopeOf(a))
	if err != nil {
		return nil, err
	}
	out := []Cohort{}
	for _, r := range rows {
		if n := len(out); n == 0 || out[n-1].ProgramID != r.ProgramID || out[n-1].Kind != r.Kind || out[n-1].Province != r.Province {
			out = append(out, Cohort{ProgramID: r.ProgramID, ProgramName: r.ProgramName, Kind: r.Kind, Province: r.Province,
				Points: []Checkpoint{{Months: 1}, {Months: 3}, {Months: 6}, {Months: 12}}})
		}
		c := &out[len(out)-1]
		for i := range c.Points {
			if c.Points[i].Months == r.Months {
				c.Points[i].Eligible, c.Points[i].Active = r.Eligible, r.Active
				c.Points[i].Share = float64(r.Active) / float64(r.Eligible)
			}
		}
	}
	return out, nil
}

// Notifications returns the caller's latest 200 reminders, newest first.
func (s *Service) Notifications(ctx context.Context, a workflow.Actor) ([]postgres.Notification, error) {
	return s.db.Notifications(ctx, a.UserID, 200)
}

// MarkRead marks the caller's reminder id read; another person's answers ENotFound.
func (s *Service) MarkRead(ctx context.Context, a workflow.Actor, id int64) (postgres.Notification, error) {
	var n postgres.Notification
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		var err error
		n, err = tx.MarkRead(ctx, a.UserID, id)
		return err
	})
	return n, err
}
