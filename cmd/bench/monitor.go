package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
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
	monRounds   = 3
)

// monitorBench prints the monitoring figures to out; it reports its own
// errors to log, so that a failure here leaves the rest of the bench standing.
func monitorBench(ctx context.Context, cfg config, out, log io.Writer) {
	if err := runMonitorBench(ctx, cfg, out, log); err != nil {
		fmt.Fprintln(log, "monitor bench:", err)
	}
}

func monitorDSN(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	u.Path += "_monitor"
	return u.String(), nil
}

func runMonitorBench(ctx context.Context, cfg config, out, log io.Writer) error {
	dsn, err := monitorDSN(cfg.dsn)
	if err != nil {
		return err
	}
	if err := recreateDatabase(ctx, dsn); err != nil {
		return err
	}
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	groups, meetings := monGroups, monMeetings
	if cfg.quick {
		groups = 2_000
	}
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
	const password = "bench-pemantauan-123"
	staff, err := svc.CreateUser(ctx, grants.System, grants.NewUser{Email: "auditor@bench.grantflow.id", Name: "Auditor Bench",
		Password: password, Roles: []workflow.Role{workflow.RoleAuditor}})
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

	mon := monitor.New(db, monitor.Options{})
	bare := func() error {
		rows, err := sqlDB.QueryContext(ctx, `SELECT group_id, max(held_on) FROM meetings GROUP BY group_id`)
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
	var bareT, sameT, nextT []time.Duration
	for i := range monRounds {
		d, err := timeIt(bare)
		if err != nil {
			return err
		}
		bareT = append(bareT, d)
		if d, err = timeIt(func() error { _, err := mon.Scan(ctx, asOf); return err }); err != nil {
			return err
		}
		sameT = append(sameT, d)
		day := asOf.AddDays(i + 1) // a new day: every group's days_silent changes
		if d, err = timeIt(func() error { _, err := mon.Scan(ctx, day); return err }); err != nil {
			return err
		}
		nextT = append(nextT, d)
	}

	srv := web.New(svc, web.Options{Monitor: mon})
	token, _, err := svc.Login(ctx, staff.Email, password, "127.0.0.1")
	if err != nil {
		return err
	}
	page := func(path string) (time.Duration, error) {
		var ds []time.Duration
		for range 21 {
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			start := time.Now()
			resp, err := srv.App().Test(req, -1)
			if err != nil {
				return 0, err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return 0, fmt.Errorf("GET %s: %d", path, resp.StatusCode)
			}
			ds = append(ds, time.Since(start))
		}
		return median(ds), nil
	}
	listT, err := page("/api/v1/monitoring")
	if err != nil {
		return err
	}
	filteredT, err := page("/api/v1/monitoring?status=dormant&kind=KKG")
	if err != nil {
		return err
	}
	cohortT, err := page("/api/v1/monitoring/cohorts")
	if err != nil {
		return err
	}
	summaryT, err := page("/api/v1/monitoring/summary")
	if err != nil {
		return err
	}

	b, s, n := median(bareT), median(sameT), median(nextT)
	var w strings.Builder
	fmt.Fprintf(&w, "\nmonitoring: %d groups, %d meetings (medians of %d interleaved rounds; pages: median of 21 in-process requests)\n",
		groups, groups*meetings, monRounds)
	fmt.Fprintf(&w, "  M   bare SQL: max(held_on) per group            %9s\n", ms(b))
	fmt.Fprintf(&w, "  m1  scan, first (writes every status and history row) %s  %.2f × M\n", ms(first), ratio(first, b))
	fmt.Fprintf(&w, "  m2  scan, same day again (writes nothing)     %9s  %.2f × M   goal ≤ 1.5 × M and < 5 s: %s\n", ms(s), ratio(s, b),
		yesNo(ratio(s, b) <= 1.5 && s < 5*time.Second))
	fmt.Fprintf(&w, "  m3  scan, next day (every days_silent changes) %9s  %.2f × M   goal ≤ 1.5 × M and < 5 s: %s\n", ms(n), ratio(n, b),
		yesNo(ratio(n, b) <= 1.5 && n < 5*time.Second))
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{"GET /monitoring, first page", listT}, {"GET /monitoring?status=dormant&kind=KKG", filteredT},
		{"GET /monitoring/cohorts", cohortT}, {"GET /monitoring/summary", summaryT}} {
		fmt.Fprintf(&w, "      %-44s %9s  goal < 50 ms: %s\n", p.name, ms(p.d), yesNo(p.d < 50*time.Millisecond))
	}
	_, err = io.WriteString(out, w.String())
	return err
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }
