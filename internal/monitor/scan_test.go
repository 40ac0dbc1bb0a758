package monitor_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"grantflow/internal/grants"
	"grantflow/internal/monitor"
	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

type histRow struct {
	Status string
	Since  workflow.Date
	Until  workflow.Date
}

func (f *fix) history(groupID int64) []histRow {
	f.t.Helper()
	rows, err := f.db.SQL().Query(`SELECT status, since, until FROM monitoring_history WHERE group_id = $1 ORDER BY since, id`, groupID)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []histRow
	for rows.Next() {
		var h histRow
		if err := rows.Scan(&h.Status, &h.Since, &h.Until); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, h)
	}
	return out
}

func (f *fix) status(groupID int64) (string, workflow.Date, int) {
	f.t.Helper()
	var st string
	var since workflow.Date
	var days int
	err := f.db.SQL().QueryRow(`SELECT status, since, days_silent FROM monitoring_status WHERE group_id = $1`, groupID).Scan(&st, &since, &days)
	if err != nil {
		f.t.Fatalf("status of group %d: %v", groupID, err)
	}
	return st, since, days
}

// TestScanThresholds walks one funded group across the programme's
// thresholds with the as-of date, checks the history and the reminders, the
// clearing by a new meeting, idempotence, and that a group never funded and
// one with no grant stay out.
func TestScanThresholds(t *testing.T) {
	t.Parallel()
	f := newFix(t, monitor.Options{})
	E := endOn(f.today, 70)
	p := f.program(E) // at risk after 45 days, dormant after 90; LPJ due E+30
	g := f.funded(p, bandung)
	scoped := f.user(grants.NewUser{Roles: []workflow.Role{workflow.RoleVerifier}, Province: "Jawa Barat"})
	elsewhere := f.user(grants.NewUser{Roles: []workflow.Role{workflow.RoleVerifier}, Province: "Jawa Tengah"})
	never := f.newGroup(bandung)
	f.recommended(p, &never, workflow.KKG)
	f.newGroup(bandung) // no grant at all

	if res := f.scan(E.AddDays(-1)); res.Monitored != 0 {
		t.Fatalf("before the activity end: %d monitored, want 0", res.Monitored)
	}
	steps := []struct {
		day    workflow.Date
		status string
		since  workflow.Date
		silent int
	}{
		{E, "active", E, 0},
		{E.AddDays(44), "active", E, 44},
		{E.AddDays(45), "at_risk", E.AddDays(45), 45},
		{E.AddDays(89), "at_risk", E.AddDays(45), 89},
		{E.AddDays(90), "dormant", E.AddDays(90), 90},
	}
	for _, s := range steps {
		res := f.scan(s.day)
		if res.Monitored != 1 {
			t.Fatalf("as of %s: %d monitored, want 1 (never-funded groups stay out)", s.day, res.Monitored)
		}
		st, since, days := f.status(g.id)
		if st != s.status || since != s.since || days != s.silent {
			t.Fatalf("as of %s: %s since %s, %d days silent; want %s since %s, %d", s.day, st, since, days, s.status, s.since, s.silent)
		}
	}
	want := []histRow{{"active", E, E.AddDays(45)}, {"at_risk", E.AddDays(45), E.AddDays(90)}, {"dormant", E.AddDays(90), workflow.Date{}}}
	if got := f.history(g.id); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("history %+v, want %+v", got, want)
	}

	// Running it twice changes nothing.
	before := f.count(`SELECT count(*) FROM monitoring_history`)
	var scannedAt string
	_ = f.db.SQL().QueryRow(`SELECT CAST(scanned_at AS text) FROM monitoring_status WHERE group_id = $1`, g.id).Scan(&scannedAt)
	res := f.scan(E.AddDays(90))
	var again string
	_ = f.db.SQL().QueryRow(`SELECT CAST(scanned_at AS text) FROM monitoring_status WHERE group_id = $1`, g.id).Scan(&again)
	if res.Changed != 0 || res.Notifications != 0 || f.count(`SELECT count(*) FROM monitoring_history`) != before || again != scannedAt {
		t.Fatalf("second scan changed something: %+v, stored at %s then %s", res, scannedAt, again)
	}

	// A meeting clears the flag at the next scan.
	f.meet(g, E.AddDays(100))
	f.scan(E.AddDays(100))
	if st, since, days := f.status(g.id); st != "active" || since != E.AddDays(100) || days != 0 {
		t.Fatalf("after a meeting: %s since %s, %d days; want active since the meeting", st, since, days)
	}
	h := f.history(g.id)
	if len(h) != 4 || h[2].Until != E.AddDays(100) || h[3] != (histRow{"active", E.AddDays(100), workflow.Date{}}) {
		t.Fatalf("history after the meeting: %+v", h)
	}
	if n := f.count(`SELECT count(*) FROM monitoring_status`); n != 1 {
		t.Fatalf("%d groups stored, want only the funded one", n)
	}

	// Reminders: the chair once for at risk; the Jawa Barat verifier once for
	// dormant, not the Jawa Tengah one; no LPJ reminder yet (scans skipped its window).
	kinds := func(u workflow.Actor) map[string]int {
		ns, err := f.mon.Notifications(ctxOf(t), u)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, n := range ns {
			m[n.Kind]++
		}
		return m
	}
	if k := kinds(g.chair); k["at_risk"] != 1 || k["lpj_overdue"] != 1 {
		t.Fatalf("chair's reminders %v, want one at_risk and one lpj_overdue", k)
	}
	if k := kinds(g.treasurer); k["at_risk"] != 0 || k["lpj_overdue"] != 1 {
		t.Fatalf("treasurer's reminders %v, want only lpj_overdue", k)
	}
	if k := kinds(scoped); k["dormant"] != 1 {
		t.Fatalf("scoped verifier's reminders %v, want one dormant", k)
	}
	if k := kinds(elsewhere); len(k) != 0 {
		t.Fatalf("verifier of another province got %v", k)
	}
	if k := kinds(f.verifier); len(k) != 0 {
		t.Fatalf("unscoped verifier got %v: dormant reminders go to the region's verifiers", k)
	}
}

// TestLPJReminders: due in 14 days, due today and overdue, each once to the
// chair and the treasurer.
func TestLPJReminders(t *testing.T) {
	t.Parallel()
	f := newFix(t, monitor.Options{})
	E := endOn(f.today, 70)
	p := f.program(E)
	g := f.funded(p, bandung)
	due := p.ReportDueOn
	for _, d := range []workflow.Date{due.AddDays(-15), due.AddDays(-14), due.AddDays(-3), due, due, due.AddDays(1), due.AddDays(10)} {
		f.scan(d)
	}
	for _, u := range []workflow.Actor{g.chair, g.treasurer} {
		ns, err := f.mon.Notifications(ctxOf(t), u)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, n := range ns {
			got[n.Kind]++
		}
		if len(ns) != 3 || got["lpj_due_soon"] != 1 || got["lpj_due_today"] != 1 || got["lpj_overdue"] != 1 {
			t.Fatalf("user %d reminders %v, want one of each LPJ kind", u.UserID, got)
		}
		if ns[0].Kind != "lpj_overdue" && ns[0].CreatedAt.Before(ns[len(ns)-1].CreatedAt) {
			t.Fatalf("not newest first: %+v", ns)
		}
		n, err := f.mon.MarkRead(ctxOf(t), u, ns[0].ID)
		if err != nil || n.ReadAt == nil {
			t.Fatalf("MarkRead: %+v %v", n, err)
		}
	}
	other, _ := f.mon.Notifications(ctxOf(t), g.chair)
	_, err := f.mon.MarkRead(ctxOf(t), g.treasurer, other[0].ID)
	wantCode(t, "marking another person's reminder", err, workflow.ENotFound)
}

// TestRecomputeSendsNoReminders: a recomputation of a day stores the same
// statuses as a scan of it, and no reminder; the scan of that day then
// reminds as usual.
func TestRecomputeSendsNoReminders(t *testing.T) {
	t.Parallel()
	f := newFix(t, monitor.Options{})
	E := endOn(f.today, 70)
	p := f.program(E)
	f.funded(p, bandung)
	overdue := p.ReportDueOn.AddDays(1)
	res, err := f.mon.Recompute(ctxOf(t), overdue)
	if err != nil {
		t.Fatal(err)
	}
	if res.Monitored != 1 || res.Notifications != 0 || f.count(`SELECT count(*) FROM notifications`) != 0 {
		t.Fatalf("recompute %+v stored %d reminders, want a monitored group and none", res, f.count(`SELECT count(*) FROM notifications`))
	}
	if res := f.scan(overdue); res.Notifications != 2 || res.Changed != 0 {
		t.Fatalf("scan after the recompute %+v, want the two LPJ reminders and no status change", res)
	}
}

// TestAtRiskReminderOnce: the chair hears of the at-risk day once, whether
// a scan saw the group at risk before it went dormant or first found it
// dormant already (registered after the last scan, or a long gap between
// scans); later scans add nothing.
func TestAtRiskReminderOnce(t *testing.T) {
	t.Parallel()
	f := newFix(t, monitor.Options{})
	E := endOn(f.today, 70)
	p := f.program(E)
	atRisk := func(g group) int {
		return f.count(fmt.Sprintf(`SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id
			WHERE n.kind = 'at_risk' AND u.group_id = %d`, g.id))
	}
	seen := f.funded(p, bandung)
	f.scan(E.AddDays(50)) // silent since E: at risk
	unseen := f.funded(p, bandung)
	f.scan(E.AddDays(100)) // both dormant; the second never seen at risk
	f.scan(E.AddDays(101))
	for name, g := range map[string]group{"seen at risk first": seen, "first seen dormant": unseen} {
		if n := atRisk(g); n != 1 {
			t.Errorf("%s: %d at-risk reminders to the chair, want 1", name, n)
		}
	}
}

// TestMeetingClearsFlagForStaff: with Run going, a meeting logged through
// the Service clears the flag in the staff list within Options.Rescan, not
// at the next hourly scan.
func TestMeetingClearsFlagForStaff(t *testing.T) {
	t.Parallel()
	f := newFix(t, monitor.Options{Rescan: 50 * time.Millisecond})
	E := endOn(f.today, 70)
	p := f.program(E)
	g := f.funded(p, bandung)
	day := E.AddDays(100)
	f.setClock(day) // Run scans as of the clock's day: dormant
	status := func() string {
		rows, _, err := f.mon.List(ctxOf(t), f.verifier, monitor.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.GroupID == g.id {
				return r.Status
			}
		}
		return ""
	}
	ctx, cancel := context.WithCancel(ctxOf(t))
	done := make(chan struct{})
	go func() { defer close(done); f.mon.Run(ctx, time.Hour) }()
	defer func() { cancel(); <-done }()
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for status() != want {
			if time.Now().After(deadline) {
				t.Fatalf("staff list says %q, want %q", status(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("dormant")
	f.meet(g, day)
	waitFor("active")
	// The history the group reads keeps both, newest first.
	log, err := f.mon.Meetings(ctxOf(t), f.verifier, g.id)
	if err != nil {
		t.Fatal(err)
	}
	if h := log.History; len(h) != 2 || h[0].Status != "active" || h[0].Until != nil || h[1].Status != "dormant" || h[1].Until == nil {
		t.Fatalf("history %+v, want active (open) then dormant (closed)", h)
	}
}

// TestScanRace: scans on two connection pools at once (two instances) write
// each history row and reminder once; the scheduled scan skips while another
// holds the lock, and the on-demand scan waits for it.
func TestScanRace(t *testing.T) {
	t.Parallel()
	f := newFix(t, monitor.Options{})
	E := endOn(f.today, 70)
	p := f.program(E)
	var gs []group
	for range 3 {
		gs = append(gs, f.funded(p, bandung))
	}
	f.meet(gs[0], E.AddDays(30))
	other, err := postgres.Open(context.Background(), pgtest.URL(f.dbName))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	second := monitor.New(other, monitor.Options{Now: f.now})
	for _, day := range []workflow.Date{E.AddDays(50), E.AddDays(95)} {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			svc := f.mon
			if i%2 == 1 {
				svc = second
			}
			wg.Go(func() {
				_, err := svc.Scan(ctxOf(t), day)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("racing scan: %v", err)
			}
		}
	}
	// gs[0]: active (met E+30) → at risk at E+30+45 ≤ E+95; the others:
	// at risk at E+50, dormant at E+95.
	if n := f.count(`SELECT count(*) FROM monitoring_history`); n != 2+2+2 {
		t.Fatalf("%d history rows, want 6 (active→at_risk for one, at_risk→dormant for two)", n)
	}
	if n := f.count(`SELECT count(*) FROM monitoring_history WHERE until IS NULL`); n != 3 {
		t.Fatalf("%d open history rows, want 3", n)
	}
	if n := f.count(`SELECT count(*) FROM notifications WHERE kind = 'at_risk'`); n != 3 {
		t.Fatalf("%d at_risk reminders, want one per group", n)
	}

	// The hourly job skips while the lock is held; `monitor --as-of` waits.
	conn, err := f.db.SQL().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_lock(7428010)`); err != nil {
		t.Fatal(err)
	}
	if _, ran, err := other.Scan(ctxOf(t), E.AddDays(96), postgres.ScanOptions{Remind: true}); err != nil || ran {
		t.Fatalf("try-lock scan while locked: ran %v, %v", ran, err)
	}
	done := make(chan error, 1)
	go func() { _, err := second.Scan(ctxOf(t), E.AddDays(96)); done <- err }()
	time.Sleep(500 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("waiting scan returned while the lock was held: %v", err)
	default:
	}
	if _, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(7428010)`); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("waiting scan: %v", err)
	}
	var scanned workflow.Date
	_ = f.db.SQL().QueryRow(`SELECT max(scanned_on) FROM monitoring_status`).Scan(&scanned)
	if scanned != E.AddDays(96) {
		t.Fatalf("after the lock was released the scan stored %s, want %s", scanned, E.AddDays(96))
	}
}

// TestScanStoredFacts: the scan keeps each group's latest meeting and its
// cohort checkpoints between scans and looks at a group again only when its
// meetings change. A scan of an earlier day still ignores later meetings, and
// a meeting logged late (dated before a checkpoint already stored) changes
// that checkpoint at the next scan.
func TestScanStoredFacts(t *testing.T) {
	t.Parallel()
	f := newFix(t, monitor.Options{})
	E := endOn(f.today, 70)
	p := f.program(E)
	g := f.funded(p, bandung)
	f.meet(g, E.AddDays(10))
	f.scan(E.AddDays(40))
	if st, _, days := f.status(g.id); st != "active" || days != 30 {
		t.Fatalf("as of E+40: %s, %d days silent; want active, 30 (met E+10)", st, days)
	}
	// As of E+5 the meeting of E+10 has not happened yet.
	f.scan(E.AddDays(5))
	var last *workflow.Date
	if err := f.db.SQL().QueryRow(`SELECT last_meeting_on FROM monitoring_status WHERE group_id = $1`, g.id).Scan(&last); err != nil {
		t.Fatal(err)
	}
	if st, _, days := f.status(g.id); st != "active" || days != 5 || last != nil {
		t.Fatalf("as of E+5: %s, %d days, last meeting %v; want active, 5 days, none", st, days, last)
	}
	// At E+100 the 1-month checkpoint saw the meeting of E+10 (within 45
	// days before it), the 3-month one saw none.
	cohort := func() map[int]monitor.Checkpoint {
		t.Helper()
		cs, err := f.mon.Cohorts(ctxOf(t), f.verifier)
		if err != nil || len(cs) != 1 {
			t.Fatalf("cohorts: %+v, %v", cs, err)
		}
		out := map[int]monitor.Checkpoint{}
		for _, pt := range cs[0].Points {
			out[pt.Months] = pt
		}
		return out
	}
	f.scan(E.AddDays(100))
	if c := cohort(); c[1].Eligible != 1 || c[1].Active != 1 || c[3].Eligible != 1 || c[3].Active != 0 {
		t.Fatalf("cohort at E+100: %+v; want 1 of 1 active at 1 month, 0 of 1 at 3", c)
	}
	// The group logs, at E+100, a meeting it held at E+80: within 45 days
	// before the 3-month checkpoint, so at the next scan it counts there.
	f.setClock(E.AddDays(100))
	if _, err := f.mon.LogMeeting(ctxOf(t), g.chair, g.id, monitor.MeetingInput{HeldOn: E.AddDays(80), Topic: "Pertemuan yang baru dicatat",
		AttendeesCount: 5}, nil); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM monitoring_dirty WHERE group_id = $1`, g.id); n != 1 {
		t.Fatalf("%d marks for the group after a meeting, want 1", n)
	}
	f.scan(E.AddDays(100))
	if c := cohort(); c[3].Active != 1 {
		t.Fatalf("cohort after the late meeting: %+v; want 1 active at 3 months", c)
	}
	if st, _, days := f.status(g.id); st != "active" || days != 20 {
		t.Fatalf("after the late meeting: %s, %d days; want active, 20 (met E+80)", st, days)
	}
	if n := f.count(`SELECT count(*) FROM monitoring_dirty`); n != 0 {
		t.Fatalf("%d marks left after the scan", n)
	}
}

// TestGroupViewClearsAtOnce: in the group's own view (its meeting log) a
// new meeting clears the flag at once; the stored status that staff lists,
// counts and reminders read changes at the next scan.
func TestGroupViewClearsAtOnce(t *testing.T) {
	t.Parallel()
	f := newFix(t, monitor.Options{})
	E := endOn(f.today, 70)
	p := f.program(E)
	g := f.funded(p, bandung)
	view := func() *monitor.Watch {
		t.Helper()
		log, err := f.mon.Meetings(ctxOf(t), g.chair, g.id)
		if err != nil {
			t.Fatal(err)
		}
		return log.Monitoring
	}
	if w := view(); w != nil {
		t.Fatalf("before any scan the group shows %+v, want no status", w)
	}
	f.setClock(E.AddDays(95))
	f.scan(E.AddDays(95))
	if w := view(); w == nil || w.Status != "dormant" || w.NewerMeeting || w.DaysSilent != 95 {
		t.Fatalf("dormant group's view %+v", w)
	}
	f.meet(g, E.AddDays(96))
	w := view()
	if w == nil || w.Status != "active" || !w.NewerMeeting || w.ScannedStatus != "dormant" || w.StatusSince != E.AddDays(96) ||
		w.LastMeetingOn == nil || *w.LastMeetingOn != E.AddDays(96) || w.DaysSilent != 0 {
		t.Fatalf("view after the meeting %+v, want active at once", w)
	}
	if st, _, _ := f.status(g.id); st != "dormant" {
		t.Fatalf("stored status %s before the next scan, want dormant", st)
	}
	if n, total, err := f.mon.List(ctxOf(t), f.verifier, monitor.ListFilter{Status: "dormant"}); err != nil || len(n) != 1 || total != 1 {
		t.Fatalf("staff list before the next scan: %+v %v", n, err)
	}
	f.scan(E.AddDays(96))
	if st, since, _ := f.status(g.id); st != "active" || since != E.AddDays(96) {
		t.Fatalf("stored status after the next scan %s since %s", st, since)
	}
	if w := view(); w.Status != "active" || w.NewerMeeting {
		t.Fatalf("view after the next scan %+v", w)
	}
}

// TestBackdatedScanKeepsMarkedFactsStale: a scan of a day before a grant
// ended takes the marks of its group but does not recompute that grant; the
// next scan must still see the meeting that set the mark.
func TestBackdatedScanKeepsMarkedFactsStale(t *testing.T) {
	t.Parallel()
	f := newFix(t, monitor.Options{})
	E := endOn(f.today, 100)
	p := f.program(E)
	g := f.funded(p, bandung)
	f.scan(E.AddDays(100))
	if st, _, days := f.status(g.id); st != "dormant" || days != 100 {
		t.Fatalf("as of E+100: %s, %d days silent; want dormant, 100", st, days)
	}
	f.setClock(E.AddDays(100))
	if _, err := f.mon.LogMeeting(ctxOf(t), g.chair, g.id, monitor.MeetingInput{HeldOn: E.AddDays(90), Topic: "Pertemuan bulanan",
		AttendeesCount: 5}, nil); err != nil {
		t.Fatal(err)
	}
	f.scan(E.AddDays(-5)) // the grant had not ended yet: not monitored, its mark taken
	if n := f.count(`SELECT count(*) FROM monitoring_dirty WHERE group_id = $1`, g.id); n != 0 {
		t.Fatalf("%d marks left after the backdated scan, want 0 (taken)", n)
	}
	f.scan(E.AddDays(100))
	if st, _, days := f.status(g.id); st != "active" || days != 10 {
		t.Fatalf("after the backdated scan and the meeting of E+90: %s, %d days silent; want active, 10", st, days)
	}
}
