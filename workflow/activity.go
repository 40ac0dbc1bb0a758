package workflow

import (
	"slices"
	"strings"
	"time"
)

// Limits of a realisation's fields (SPEC §5). The schema's CHECK
// constraints mirror them.
const (
	MinSessionHours = 1   // JP (jam pelajaran) of one session
	MaxSessionHours = 12  // a session is at most one long day
	MaxShortText    = 200 // location, facilitator
)

// Event actions of the activity records; they do not move the grant.
const (
	EventRealizeActivity    = "realize_activity"
	EventCorrectRealization = "correct_realization"
	EventCancelActivity     = "cancel_activity"
)

// Realization is one version of the facts of a held session. A correction is
// a new Realization with the next Version; earlier versions stay as they
// were recorded, each linked to the event that recorded it.
type Realization struct {
	ID          int64     `json:"id"`
	ActivityID  int64     `json:"activity_id"`
	GrantID     int64     `json:"grant_id"`
	Version     int       `json:"version"`
	HeldOn      Date      `json:"held_on"`
	Location    string    `json:"location"`
	Hours       int       `json:"hours"`
	Facilitator string    `json:"facilitator"`
	AttendeeIDs []int64   `json:"attendee_ids"`
	Summary     string    `json:"summary"`
	Outputs     string    `json:"outputs"`
	RecordedBy  int64     `json:"recorded_by"`
	RecordedAt  time.Time `json:"recorded_at"`
	EventID     int64     `json:"event_id"`
}

// RealizeRequest is what Realize needs besides the grant: who records, when,
// the facts, and what the date rules read.
type RealizeRequest struct {
	Actor Actor
	// Now is the time of the event; its calendar date in its own location is
	// "today", so callers pass Now in Asia/Jakarta.
	Now         time.Time
	ActivityID  int64
	Realization Realization
	Program     Program
	// FirstTransfer is the date of the grant's first disbursement: no
	// session is held with the grant's money before it.
	FirstTransfer Date
	// Members are the group's members; attendees must be among them.
	Members []Member
}

// activityIndex returns the position of activity id in g.Activities, or -1.
func activityIndex(g Grant, id int64) int {
	return slices.IndexFunc(g.Activities, func(a Activity) bool { return a.ID == id })
}

// RealizationProblems returns every reason why r cannot be recorded as the
// realisation of g.Activities[idx], all at once (empty when it can):
// required fields and their lengths; hours within 1–12 JP; held from
// firstTransfer to the programme's activity end and never after today; at
// least one attendee, each a member of the group, none twice; an On session
// only once an In session was held on or before its date; and a correction
// of an In may not leave a held On without such an In. Several sessions may
// be held on one day.
func RealizationProblems(g Grant, idx int, r Realization, members []Member, prog Program, firstTransfer, today Date) Problems {
	var ps Problems
	act := g.Activities[idx]

	switch {
	case r.HeldOn.IsZero():
		ps.Add("held_on", "tanggal pelaksanaan wajib diisi")
	case firstTransfer.IsZero():
		ps.Add("held_on", "dana tahap 1 belum diterima; kegiatan belum dapat dicatat")
	case r.HeldOn.Before(firstTransfer):
		ps.Add("held_on", "tanggal pelaksanaan %s sebelum dana pertama diterima (%s)", r.HeldOn, firstTransfer)
	case !prog.ActivityEndsOn.IsZero() && r.HeldOn.After(prog.ActivityEndsOn):
		ps.Add("held_on", "tanggal pelaksanaan %s setelah akhir masa kegiatan (%s)", r.HeldOn, prog.ActivityEndsOn)
	case r.HeldOn.After(today):
		ps.Add("held_on", "tanggal pelaksanaan %s belum terjadi (hari ini %s)", r.HeldOn, today)
	}

	requireText(&ps, "location", r.Location, MaxShortText)
	requireText(&ps, "facilitator", r.Facilitator, MaxShortText)
	requireText(&ps, "summary", r.Summary, MaxTextLen)
	requireText(&ps, "outputs", r.Outputs, MaxTextLen)
	if r.Hours < MinSessionHours || r.Hours > MaxSessionHours {
		ps.Add("hours", "jumlah JP harus %d sampai %d (sekarang %d)", MinSessionHours, MaxSessionHours, r.Hours)
	}

	if len(r.AttendeeIDs) == 0 {
		ps.Add("attendee_ids", "daftar hadir wajib diisi: paling sedikit satu anggota hadir")
	}
	seen := map[int64]bool{}
	for i, id := range r.AttendeeIDs {
		switch {
		case seen[id]:
			ps.Add(fieldIndex("attendee_ids", i, ""), "anggota %d tercatat dua kali", id)
		case !slices.ContainsFunc(members, func(m Member) bool { return m.ID == id }):
			ps.Add(fieldIndex("attendee_ids", i, ""), "anggota %d bukan anggota kelompok ini", id)
		}
		seen[id] = true
	}

	if r.HeldOn.IsZero() {
		return ps
	}
	// The In–On–In rhythm: practice at the madrasah follows a session at the
	// group. The other sessions are read as they stand, this one as it would be.
	heldOn := func(j int) (Date, bool) {
		if j == idx {
			return r.HeldOn, true
		}
		a := g.Activities[j]
		return a.HeldOn, a.Status == ActivityHeld && !a.HeldOn.IsZero()
	}
	inBy := func(d Date) bool {
		for j, a := range g.Activities {
			if h, ok := heldOn(j); ok && a.Kind == In && !h.After(d) {
				return true
			}
		}
		return false
	}
	switch act.Kind {
	case On:
		if !inBy(r.HeldOn) {
			ps.Add("held_on", "sesi On %q belum dapat dicatat: belum ada sesi In yang terlaksana pada atau sebelum %s", act.Title, r.HeldOn)
		}
	case In:
		for j, a := range g.Activities {
			if h, ok := heldOn(j); ok && j != idx && a.Kind == On && !inBy(h) {
				ps.Add("held_on", "perubahan ini membuat sesi On %q (%s) tidak didahului sesi In", a.Title, h)
			}
		}
	}
	return ps
}

// Realize records the realisation of activity r.ActivityID of g, or its
// correction when the activity was already held. Only the chair or the
// treasurer of the grant's group (EForbidden), only while the grant is
// funded (EConflict), never for a cancelled activity (EConflict), an unknown
// activity is ENotFound, and broken rules answer EUnprocessable with every
// reason (RealizationProblems). On success it returns the realisation to
// store (trimmed, with its Version) and the event to append, and updates
// the activity in g; on any error g is unchanged.
func Realize(g *Grant, r RealizeRequest) (Realization, Event, error) {
	role, ok := actsAs(*g, r.Actor, []Role{RoleChair, RoleTreasurer})
	if !ok {
		return Realization{}, Event{}, Errorf(EForbidden, "hanya ketua atau bendahara kelompok ini yang mencatat pelaksanaan kegiatan")
	}
	if g.State != Funded {
		return Realization{}, Event{}, Errorf(EConflict, "pelaksanaan kegiatan hanya dicatat selama hibah berstatus %q (sekarang %q)", Funded.Label(), g.State.Label())
	}
	idx := activityIndex(*g, r.ActivityID)
	if idx < 0 {
		return Realization{}, Event{}, Errorf(ENotFound, "kegiatan %d tidak ditemukan pada hibah ini", r.ActivityID)
	}
	act := g.Activities[idx]
	if act.Status == ActivityCancelled {
		return Realization{}, Event{}, Errorf(EConflict, "kegiatan %q sudah dibatalkan verifikator", act.Title)
	}

	prog := r.Program
	prog.ApplyDefaults()
	rz := r.Realization
	rz.Location, rz.Facilitator = strings.TrimSpace(rz.Location), strings.TrimSpace(rz.Facilitator)
	rz.Summary, rz.Outputs = strings.TrimSpace(rz.Summary), strings.TrimSpace(rz.Outputs)
	rz.AttendeeIDs = slices.Clone(rz.AttendeeIDs)
	if err := RealizationProblems(*g, idx, rz, r.Members, prog, r.FirstTransfer, DateOf(r.Now)).Err("pelaksanaan kegiatan belum memenuhi syarat"); err != nil {
		return Realization{}, Event{}, err
	}
	slices.Sort(rz.AttendeeIDs)

	rz.ActivityID, rz.GrantID, rz.Version = act.ID, g.ID, act.Version+1
	rz.RecordedBy, rz.RecordedAt = r.Actor.UserID, eventTime(r.Now)
	action := EventRealizeActivity
	data := realizationData(rz)
	if act.Status == ActivityHeld {
		action = EventCorrectRealization
		data["previous_version"] = act.Version
	}
	ev := NewEvent(*g, action, r.Actor, role, r.Now, "", data)

	next := slices.Clone(g.Activities)
	a := &next[idx]
	a.Status, a.HeldOn, a.AttendeeCount, a.Version = ActivityHeld, rz.HeldOn, len(rz.AttendeeIDs), rz.Version
	g.Activities = next
	return rz, ev, nil
}

// realizationData is what an event records of a realisation: every fact of
// the row, so that the audit can check the row against its event.
func realizationData(r Realization) map[string]any {
	ids := make([]any, len(r.AttendeeIDs))
	for i, id := range r.AttendeeIDs {
		ids[i] = id
	}
	return map[string]any{
		"activity_id": r.ActivityID, "version": r.Version, "held_on": r.HeldOn.String(),
		"location": r.Location, "hours": r.Hours, "facilitator": r.Facilitator,
		"attendee_ids": ids, "summary": r.Summary, "outputs": r.Outputs,
	}
}

// CancelActivityRequest is a verifier's cancellation of a planned session.
type CancelActivityRequest struct {
	Actor      Actor
	Now        time.Time
	ActivityID int64
	Reason     string
}

// CancelActivity cancels a planned activity of a funded grant: a verifier
// only (EForbidden; the caller checks the verifier's region), only while
// funded (EConflict), only a session not yet held or cancelled (EConflict),
// with a reason (EUnprocessable). An unknown activity is ENotFound. On
// success it returns the event to append and marks the activity in g.
func CancelActivity(g *Grant, r CancelActivityRequest) (Event, error) {
	if !r.Actor.Has(RoleVerifier) {
		return Event{}, Errorf(EForbidden, "hanya verifikator yang dapat membatalkan kegiatan")
	}
	if g.State != Funded {
		return Event{}, Errorf(EConflict, "kegiatan hanya dapat dibatalkan selama hibah berstatus %q (sekarang %q)", Funded.Label(), g.State.Label())
	}
	idx := activityIndex(*g, r.ActivityID)
	if idx < 0 {
		return Event{}, Errorf(ENotFound, "kegiatan %d tidak ditemukan pada hibah ini", r.ActivityID)
	}
	act := g.Activities[idx]
	switch act.Status {
	case ActivityHeld:
		return Event{}, Errorf(EConflict, "kegiatan %q sudah terlaksana dan tidak dapat dibatalkan", act.Title)
	case ActivityCancelled:
		return Event{}, Errorf(EConflict, "kegiatan %q sudah dibatalkan", act.Title)
	}
	reason := strings.TrimSpace(r.Reason)
	var ps Problems
	requireText(&ps, "reason", reason, MaxTextLen)
	if err := ps.Err("pembatalan kegiatan belum memenuhi syarat"); err != nil {
		return Event{}, err
	}
	ev := NewEvent(*g, EventCancelActivity, r.Actor, RoleVerifier, r.Now, reason, map[string]any{"activity_id": act.ID})
	next := slices.Clone(g.Activities)
	next[idx].Status, next[idx].CancelReason = ActivityCancelled, reason
	g.Activities = next
	return ev, nil
}

// Attendance is how many of a group's members came: to one session, or
// (for one member) to the sessions held.
type Attendance struct {
	Present int `json:"present"`
	Of      int `json:"of"`
}

// Percent returns Present/Of in whole percent, rounded down; 0 when Of is 0.
func (a Attendance) Percent() int {
	if a.Of <= 0 {
		return 0
	}
	return a.Present * 100 / a.Of
}

// SessionAttendance returns the attendance of a realisation: attendees over
// the group's members.
func SessionAttendance(r Realization, members int) Attendance {
	return Attendance{Present: len(r.AttendeeIDs), Of: members}
}

// MemberAttendance is one member's attendance across a grant's held sessions.
type MemberAttendance struct {
	MemberID int64  `json:"member_id"`
	Name     string `json:"name"`
	Attendance
}

// MembersAttendance returns, for every member in the given order, how many
// of the held sessions they attended. held are the realisations of the
// sessions; when an activity appears in several versions only the latest
// counts, since a correction replaces the attendance it corrects.
func MembersAttendance(members []Member, held []Realization) []MemberAttendance {
	latest := map[int64]Realization{}
	for _, r := range held {
		if cur, ok := latest[r.ActivityID]; !ok || r.Version > cur.Version {
			latest[r.ActivityID] = r
		}
	}
	came := map[int64]int{}
	for _, r := range latest {
		for _, id := range r.AttendeeIDs {
			came[id]++
		}
	}
	out := make([]MemberAttendance, len(members))
	for i, m := range members {
		out[i] = MemberAttendance{MemberID: m.ID, Name: m.Name, Attendance: Attendance{Present: came[m.ID], Of: len(latest)}}
	}
	return out
}

// ActivitySpent returns the gross of the expenses that stand (not voided)
// per activity id; expenses with no activity are left out.
func ActivitySpent(es []Expense) map[int64]int64 {
	out := map[int64]int64{}
	for _, e := range es {
		if e.ActivityID != 0 && !e.Voided() {
			out[e.ActivityID] = addSat(out[e.ActivityID], e.Amount)
		}
	}
	return out
}

// FirstTransfer returns the earliest transfer date of ds, or the zero Date
// when nothing was transferred yet.
func FirstTransfer(ds []Disbursement) Date {
	var first Date
	for _, d := range ds {
		if first.IsZero() || d.TransferredOn.Before(first) {
			first = d.TransferredOn
		}
	}
	return first
}

// Session flags a reviewer sees on an expense (staff only), beside ExpenseFlags.
const (
	FlagNoSession      = "no_session"       // a session cost with no activity named
	FlagSessionNotHeld = "session_not_held" // its activity was never held, or was cancelled
)

// SessionCategories are the budget categories spent on a session itself.
var SessionCategories = []string{"konsumsi", "honorarium", "transport"}

// SessionFlags returns the staff-only flags of expense e of grant g:
// no_session when a konsumsi, honorarium or transport expense names no
// activity; session_not_held when its activity is not (or no longer) held.
// It returns an empty, non-nil slice when nothing is flagged.
func SessionFlags(e Expense, g Grant) []string {
	flags := []string{}
	if e.ActivityID == 0 {
		i := slices.IndexFunc(g.Budget, func(l BudgetLine) bool { return l.ID == e.BudgetLineID })
		if i >= 0 && slices.Contains(SessionCategories, g.Budget[i].Category) {
			flags = append(flags, FlagNoSession)
		}
		return flags
	}
	if i := activityIndex(g, e.ActivityID); i < 0 || g.Activities[i].Status != ActivityHeld {
		flags = append(flags, FlagSessionNotHeld)
	}
	return flags
}

// FlagReportOverdue marks a grant whose LPJ was not submitted by the
// programme's report due date.
const FlagReportOverdue = "report_overdue"

// ReportOverdue reports whether g's LPJ is overdue on today: the grant holds
// money it has not accounted for (funded, including a report the auditor
// returned) and today is after the programme's ReportDueOn. A submitted,
// closed or cancelled grant is never overdue.
func ReportOverdue(g Grant, prog Program, today Date) bool {
	return g.State == Funded && !prog.ReportDueOn.IsZero() && today.After(prog.ReportDueOn)
}

// NextSteps returns, in plain Indonesian, what r.Actor still has to do on g
// before the next action, one line per reason: the reasons of the very guard
// functions Apply runs, so a page can never promise what the action refuses.
// The group (chair and treasurer) works toward submit, the tranche gate and
// the LPJ whoever of them takes the action; staff see the guards of the
// actions they may take themselves. Reasons about the action's own input (a
// comment, an amount) are not steps and are left out. r.Program, r.Group and
// r.Now are read as Apply reads them. It returns an empty, non-nil slice when
// nothing remains.
func NextSteps(g Grant, r Request) []string {
	prog := r.Program
	prog.ApplyDefaults()
	_, forGroup := actsAs(g, r.Actor, []Role{RoleChair, RoleTreasurer})
	allowed := Allowed(g, r.Actor)
	works := func(a Action) bool {
		_, from := Target(a, g.State)
		return from && (forGroup || slices.Contains(allowed, a))
	}
	var ps Problems
	if works(Submit) {
		sub, _ := proposalProblems(g, r, prog)
		ps = append(ps, sub...)
	}
	// The gate stands between tranches; before the first and after the last
	// there is none.
	if works(Disburse) && g.TranchesPaid >= 1 && g.TranchesPaid < len(prog.TrancheAmounts(g.AmountApproved)) {
		ps = append(ps, trancheGate(g)...)
	}
	if works(SubmitReport) {
		ps = append(ps, reportProblems(g)...)
		ps = append(ps, confirmationProblems(g, prog)...)
	}
	if works(AcceptReport) {
		ps = append(ps, sampleProblems(g)...)
	}
	if slices.Contains(allowed, Cancel) { // the admin's own: a group works toward the others
		ps = append(ps, cancelProblems(g)...)
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Message
	}
	return out
}
