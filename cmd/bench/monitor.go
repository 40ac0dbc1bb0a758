package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"net/http/httptest"
	"slices"
	"time"

	"grantflow/internal/grants"
	"grantflow/internal/monitor"
	"grantflow/internal/postgres"
	"grantflow/internal/web"
	"grantflow/workflow"
)

// The monitoring bench (SPEC §9): the dormancy scan over 50 000 funded
// groups and 2 000 000 meetings beside the bare SQL aggregate (max(held_on)
// per group) measured in the same run, and the first pages of GET
// /monitoring and GET /monitoring/cohorts. It runs on a database of its own
// (the bench database's name + "_monitor"), bulk-loaded with set-based SQL:
// going through the service for two million rows would measure the loader.
const (
	monGroups   = 50_000
	monMeetings = 40 // per group: 2 000 000 in all
	monRounds   = 5
	monMarked   = 500 // groups that log a meeting before the fourth scan of a round
	monRequests = 21  // requests per page

	monStaff    = "auditor@bench.grantflow.id" // the auditor whose session reads the pages
	monPassword = "bench-pemantauan-123"
)

// monitorBench prints the monitoring figures to out; it reports its own
// errors to log, so that a failure here leaves the rest of the bench standing.
func monitorBench(ctx context.Context, cfg config, out, log io.Writer) {
	if err := runMonitorBench(ctx, cfg, false, out, log); err != nil {
		fmt.Fprintln(log, "monitor bench:", err)
	}
}

func monitorDSN(dsn string) (string, error) { return phaseDSN(dsn, "_monitor") }

// runMonitorBench seeds its database and measures. With keep, a database
// left seeded by an earlier run of the same size is used again (its scan
// tables emptied, so the first scan is a first one again): seeding two
// million meetings takes minutes, which is worth skipping while working on
// the scan, never in `make bench`.
func runMonitorBench(ctx context.Context, cfg config, keep bool, out, log io.Writer) error {
	dsn, err := monitorDSN(cfg.dsn)
	if err != nil {
		return err
	}
	groups, meetings := monGroups, monMeetings
	if cfg.quick {
		groups = 2_000
	}
	if keep {
		if db, ok := seededMonitorDB(ctx, dsn, groups, meetings, log); ok {
			defer db.Close()
			return measureMonitor(ctx, db, groups, meetings, out, log)
		}
	}
	db, err := freshDatabase(ctx, dsn, true)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := grants.New(db, grants.Options{})
	defer svc.Close()
	today := workflow.DateOf(time.Now().In(workflow.Jakarta))
	end := today.AddDays(-200)
	prog, err := svc.CreateProgram(ctx, grants.System, workflow.Program{Name: "Bench pemantauan", Year: end.Year(),
		ProposalOpensOn: end.AddDays(-200), ProposalClosesOn: end.AddDays(-150), ActivityEndsOn: end, ReportDueOn: end.AddDays(30),
		BudgetTotal: 1_000_000_000_000})
	if err != nil {
		return fmt.Errorf("programme: %w", err)
	}
	staff, err := svc.CreateUser(ctx, grants.System, grants.NewUser{Email: monStaff, Name: "Auditor Bench",
		Password: monPassword, Roles: []workflow.Role{workflow.RoleAuditor}})
	if err != nil {
		return fmt.Errorf("user: %w", err)
	}
	t0 := time.Now()
	fmt.Fprintf(log, "monitoring: loading %d groups, %d grants and %d meetings\n", groups, groups, groups*meetings)
	sqlDB := db.SQL()
	// One connection whose session skips the foreign key triggers while it
	// loads (the rows are generated consistent): two million key checks
	// would measure the loader, not the scan.
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET session_replication_role = replica`); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	for _, st := range []struct {
		q    string
		args []any
	}{
		// Made-up regions with made-up codes of their own: the scan only
		// groups and filters by them.
		{`INSERT INTO groups (kind, name, level, province, regency, province_code, regency_code, sk_number, bank_name,
				bank_account_number, bank_account_name)
			SELECT (ARRAY['KKG', 'MGMP', 'MGBK', 'KKM', 'POKJAWAS'])[1 + i % 5], 'Kelompok Bench ' || i, 'MI',
				'Provinsi ' || (i % 34), 'Kabupaten ' || (i % 34) || '-' || (i % 15), 'B' || (i % 34), 'B' || (i % 34) || '.' || (i % 15),
				'SK-' || i, 'BSI', '8' || i, 'Kelompok Bench ' || i
			FROM generate_series(1, $1) i`, []any{groups}},
		{`INSERT INTO grants (number, program_id, group_id, state, amount_requested, amount_approved)
			SELECT 'BENCH-' || id, $1, id, CASE WHEN id % 3 = 0 THEN 'report_submitted' ELSE 'funded' END, 10000000, 10000000 FROM groups`,
			[]any{prog.ID}},
		// Meetings spread from 100 days before the end to 200 days after it,
		// so the latest one per group lands anywhere from active to dormant.
		{`INSERT INTO meetings (group_id, held_on, topic, attendees_count, created_by)
			SELECT g.id, CAST($1 AS date) - 100 + CAST((g.id * 7919 + k * 104729) % (120 + g.id % 181) AS int), 'Pertemuan rutin', 10, $2
			FROM groups g CROSS JOIN generate_series(1, $3) k`, []any{end, staff.ID, meetings}},
		{`ANALYZE`, nil},
	} {
		if _, err := conn.ExecContext(ctx, st.q, st.args...); err != nil {
			return fmt.Errorf("load: %w", err)
		}
	}
	if _, err := conn.ExecContext(ctx, `RESET session_replication_role`); err != nil {
		return err
	}
	fmt.Fprintf(log, "monitoring: loaded in %.0f s\n", time.Since(t0).Seconds())
	return measureMonitor(ctx, db, groups, meetings, out, log)
}

// seededMonitorDB opens the monitoring database when an earlier run left it
// seeded with groups groups and groups×meetings meetings, migrates it, and
// empties what the scans write.
func seededMonitorDB(ctx context.Context, dsn string, groups, meetings int, log io.Writer) (*postgres.DB, bool) {
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		fmt.Fprintln(log, "monitoring: not reusing:", err)
		return nil, false
	}
	var g, m int
	err = db.SQL().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM groups), (SELECT count(*) FROM meetings)`).Scan(&g, &m)
	if err == nil && (g != groups || m < groups*meetings) {
		err = fmt.Errorf("%d groups and %d meetings seeded, want %d and at least %d", g, m, groups, groups*meetings)
	}
	if err == nil {
		err = db.Migrate(ctx)
	}
	if err == nil {
		const empty = `TRUNCATE monitoring_state, monitoring_scan, monitoring_history, monitoring_cohorts,
			monitoring_facts, monitoring_dirty, email_outbox, notifications`
		_, err = db.SQL().ExecContext(ctx, empty)
	}
	if err != nil {
		fmt.Fprintln(log, "monitoring: not reusing:", err)
		db.Close()
		return nil, false
	}
	fmt.Fprintln(log, "monitoring: reusing the seeded database")
	return db, true
}

// measureMonitor times the scans beside the bare aggregate and the pages.
func measureMonitor(ctx context.Context, db *postgres.DB, groups, meetings int, out, log io.Writer) error {
	sqlDB := db.SQL()
	svc := grants.New(db, grants.Options{})
	defer svc.Close()
	today := workflow.DateOf(time.Now().In(workflow.Jakarta))
	mon := monitor.New(db, monitor.Options{})
	// The bare aggregate as PostgreSQL runs it (in parallel: M, the goal's
	// baseline) and in one process (M1, as the scan's statements on
	// temporary tables run): on a machine shared with other work, parallel
	// workers take a larger share of the cores, so M1 shows how much of a
	// ratio is the scan's work and how much the load.
	serial, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer serial.Close()
	if _, err := serial.ExecContext(ctx, `SET max_parallel_workers_per_gather = 0`); err != nil {
		return err
	}
	type querier interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}
	aggregate := func(on querier) error {
		rows, err := on.QueryContext(ctx, `SELECT group_id, max(held_on) FROM meetings GROUP BY group_id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
		}
		if n != groups {
			return fmt.Errorf("bare aggregate: %d groups", n)
		}
		return rows.Err()
	}
	bare := func() error { return aggregate(sqlDB) }
	bareSerial := func() error { return aggregate(serial) }
	asOf := today
	timeIt := func(f func() error) (time.Duration, error) {
		start := time.Now()
		err := f()
		return time.Since(start), err
	}
	first, err := timeIt(func() error { _, err := mon.Scan(ctx, asOf); return err })
	if err != nil {
		return err
	}
	// Each round: the bare aggregate (M, M1); the scan of the day scanned
	// last, again (m2: nothing to write); the next day's scan (m3: every
	// days_silent moves, the statuses of the groups crossing a threshold
	// that day change); and, after monMarked groups logged a meeting held on
	// the first day, that day's scan again (m4: the hourly case, those groups
	// are marked and looked up again). The days only move forward, as the
	// hourly scan's do.
	var bareT, serialT, sameT, nextT, markedT []time.Duration
	last := asOf
	for i := range monRounds {
		d, err := timeIt(bare)
		if err != nil {
			return err
		}
		bareT = append(bareT, d)
		if d, err = timeIt(bareSerial); err != nil {
			return err
		}
		serialT = append(serialT, d)
		if d, err = timeIt(func() error { _, err := mon.Scan(ctx, last); return err }); err != nil {
			return err
		}
		sameT = append(sameT, d)
		last = last.AddDays(1)
		if d, err = timeIt(func() error { _, err := mon.Scan(ctx, last); return err }); err != nil {
			return err
		}
		nextT = append(nextT, d)
		const logged = `INSERT INTO meetings (group_id, held_on, topic, attendees_count, created_by)
			SELECT id, $1, 'Pertemuan bench', 5, (SELECT min(id) FROM users) FROM groups WHERE id % $2 = $3`
		if _, err := sqlDB.ExecContext(ctx, logged, asOf, groups/monMarked, i); err != nil {
			return err
		}
		if d, err = timeIt(func() error { _, err := mon.Scan(ctx, last); return err }); err != nil {
			return err
		}
		markedT = append(markedT, d)
	}

	srv := web.New(svc, web.Options{Monitor: mon})
	token, _, err := svc.Login(ctx, monStaff, monPassword, "127.0.0.1")
	if err != nil {
		return err
	}
	page := func(path string) (stats, error) {
		var ds []time.Duration
		for range monRequests {
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			start := time.Now()
			resp, err := srv.App().Test(req, -1)
			if err != nil {
				return stats{}, err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return stats{}, fmt.Errorf("GET %s: %d", path, resp.StatusCode)
			}
			ds = append(ds, time.Since(start))
		}
		return timings(ds), nil
	}
	rows := []row{
		{key: "M", name: "bare SQL: max(held_on) per group", st: timings(bareT)},
		{key: "M1", name: "the same in one process (no parallel workers)", st: timings(serialT)},
		{key: "m1", name: "scan, first (stores every status and fact)", st: timings([]time.Duration{first})},
		{key: "m2", name: "scan, the last day again (writes nothing)", st: timings(sameT)},
		{key: "m3", name: "scan, next day (every days_silent moves)", st: timings(nextT)},
		{key: "m4", name: fmt.Sprintf("scan after %d groups logged a meeting", monMarked), st: timings(markedT)},
	}
	for i := range rows[1:] {
		r := &rows[1+i]
		r.base, r.ratio = "M", ratio(r.st.p50, rows[0].st.p50)
		if r.key != "m1" && r.key != "M1" {
			r.goal = "≤1.5×, <5s"
			r.verdict = yesNo(r.ratio <= 1.5 && r.st.p50 < 5*time.Second)
		}
	}
	rows[0].ratio = math.NaN()
	for i, p := range []struct{ name, path string }{
		{"GET /monitoring, first page", "/api/v1/monitoring"},
		{"GET /monitoring?status=dormant&kind=KKG", "/api/v1/monitoring?status=dormant&kind=KKG"},
		{"GET /monitoring/cohorts", "/api/v1/monitoring/cohorts"},
		{"GET /monitoring/summary", "/api/v1/monitoring/summary"},
	} {
		st, err := page(p.path)
		if err != nil {
			return err
		}
		r := row{key: fmt.Sprintf("p%d", i+1), name: p.name, clients: 1, st: st, ratio: math.NaN()}
		if i < 3 { // the summary has no goal of its own
			r.goal, r.verdict = "p50 <50ms", yesNo(st.p50 < 50*time.Millisecond)
		}
		rows = append(rows, r)
	}
	for i := range rows[:6] {
		rows[i].clients = 1
	}
	fmt.Fprintf(out, "\nmonitoring: %d groups, %d meetings; scans: %d interleaved rounds; pages: %d in-process requests each; load average %s\n",
		groups, groups*meetings, monRounds, monRequests, loadAvg())
	printTable(out, rows)
	return nil
}

// timings summarises sequential runs: median and worst (for so few runs the
// worst stands in the p99 column) and the rate over their total time.
func timings(ds []time.Duration) stats {
	s := slices.Clone(ds)
	slices.Sort(s)
	var total time.Duration
	for _, d := range s {
		total += d
	}
	return stats{n: len(s), elapsed: total, p50: s[len(s)/2], p99: s[len(s)-1]}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }
