package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"image/jpeg"
	"io"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"time"

	"grantflow/internal/evidence"
	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/internal/postgres"
	"grantflow/internal/web"
	"grantflow/workflow"
)

// runAudit runs the auditor's-instruments phase (issue #13) and prints its
// table; it is the one line run calls in its phase list: the photo facts
// here, the risk ranking in riskBench (run from the same list).
func runAudit(out, log io.Writer, quick bool) {
	if err := auditPhase(out, log, quick); err != nil {
		fmt.Fprintf(out, "\nAudit: %v\n", err)
	}
}

// auditPhase times evidence.InspectPhoto (decode, perceptual hash, EXIF) of
// one 1600×1200 phone-sized JPEG beside decoding it alone, the floor any
// hash of the whole picture pays: the background worker spends about this
// per uploaded photo.
func auditPhase(out, log io.Writer, quick bool) error {
	rounds := 15
	if quick {
		rounds = 5
	}
	fmt.Fprintf(log, "Audit: %d rounds of photo facts beside decoding\n", rounds)
	data := evidencetest.Encode(evidencetest.Scene(2, 1600, 1200), 90)
	ctx := context.Background()
	var decode, inspect []time.Duration
	for range rounds {
		t0 := time.Now()
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			return err
		}
		decode = append(decode, time.Since(t0))
		t0 = time.Now()
		if _, err := evidence.InspectPhoto(ctx, data); err != nil {
			return err
		}
		inspect = append(inspect, time.Since(t0))
	}
	slices.Sort(decode)
	slices.Sort(inspect)
	d, i := decode[len(decode)/2], inspect[len(inspect)/2]
	fmt.Fprintf(out, "\nPhoto facts of one 1600×1200 JPEG (%d KiB); median of %d (best):\n", len(data)>>10, rounds)
	fmt.Fprintf(out, "  %-52s %9s (%s)\n", "D   image/jpeg decode alone", ms(d), ms(decode[0]))
	fmt.Fprintf(out, "  %-52s %9s (%s)  %.2f× D\n", "P   evidence.InspectPhoto (decode + pHash + EXIF)", ms(i), ms(inspect[0]), float64(i)/float64(d))
	return nil
}

// The risk ranking bench (issue #13): GET /audit/risk over riskGrants grants
// of riskExpenses expenses each, beside the bare SQL of the same signals
// (postgres.RiskQuery run and drained without the service). Its database
// (the bench database's name + "_risk") is loaded with set-based INSERT …
// SELECT generate_series in SQL: three million expenses through the API
// would measure the loader. -phases risk runs this phase alone;
// GRANTFLOW_BENCH_RISK_REUSE=1 measures again on the database a previous
// run loaded (the load takes minutes on a shared machine).
const (
	riskGrants   = 10_000
	riskExpenses = 300
	riskRounds   = 5
)

// riskBench prints the figures to out; its own errors go to log, so that a
// failure here leaves the rest of the bench standing.
func riskBench(ctx context.Context, cfg config, out, log io.Writer) {
	if err := runRiskBench(ctx, cfg, out, log); err != nil {
		fmt.Fprintln(log, "risk bench:", err)
	}
}

func runRiskBench(ctx context.Context, cfg config, out, log io.Writer) error {
	dsn, err := phaseDSN(cfg.dsn, "_risk")
	if err != nil {
		return err
	}
	db, err := freshDatabase(ctx, dsn, !cfg.riskReuse)
	if err != nil {
		return err
	}
	defer db.Close()
	n := riskGrants
	if cfg.quick {
		n = 500
	}
	svc := grants.New(db, grants.Options{})
	defer svc.Close()
	today := workflow.DateOf(time.Now().In(workflow.Jakarta))
	const email, password = "auditor@risiko.grantflow.id", "bench-risiko-1234"
	var auditor workflow.Actor
	if cfg.riskReuse {
		// The database a previous run loaded, when it holds n grants.
		var k int
		if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM grants`).Scan(&k); err != nil || k != n {
			return fmt.Errorf("GRANTFLOW_BENCH_RISK_REUSE: %s holds %d grants, want %d (%v)", redact(dsn), k, n, err)
		}
		usr, err := db.UserByEmail(ctx, email)
		if err != nil {
			return err
		}
		auditor = usr.Actor()
		fmt.Fprintf(log, "risk: reusing the %d grants loaded before\n", n)
	} else {
		start := today.AddDays(-200) // first transfer; LPJ due 180 days later: funded grants are overdue
		prog, err := svc.CreateProgram(ctx, grants.System, workflow.Program{Name: "Bench risiko", Year: start.Year(),
			ProposalOpensOn: start.AddDays(-60), ProposalClosesOn: start.AddDays(-30), ActivityEndsOn: start.AddDays(150),
			ReportDueOn: start.AddDays(180), BudgetTotal: 10_000_000_000_000})
		if err != nil {
			return fmt.Errorf("programme: %w", err)
		}
		staff, err := svc.CreateUser(ctx, grants.System, grants.NewUser{Email: email, Name: "Auditor Bench",
			Password: password, Roles: []workflow.Role{workflow.RoleAuditor}})
		if err != nil {
			return fmt.Errorf("user: %w", err)
		}
		auditor = workflow.Actor{UserID: staff.ID, Name: staff.Name, Roles: staff.Roles}
		t0 := time.Now()
		fmt.Fprintf(log, "risk: loading %d grants with %d expenses each\n", n, riskExpenses)
		if err := loadRisk(ctx, db, n, prog.ID, staff.ID, start); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		fmt.Fprintf(log, "risk: loaded in %.0f s\n", time.Since(t0).Seconds())
	}
	// The stored expense facts of every grant (risk_line_facts), computed
	// once after the load as the first ranking would.
	t0 := time.Now()
	filled, _, err := db.RefreshRiskFacts(ctx)
	if err != nil {
		return fmt.Errorf("risk facts: %w", err)
	}
	firstRefresh := time.Since(t0)
	args := postgres.RiskArgs(postgres.RiskFilter{Today: today, PhotoReuseBits: evidence.PhotoReuseDistance})
	sqlDB := db.SQL()
	bareOf := func(query string) func() error {
		return func() error {
			tx, err := sqlDB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, postgres.RiskSettings); err != nil { // as RiskSignals does
				return err
			}
			rows, err := tx.QueryContext(ctx, query, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			k := 0
			var id, pid int64
			var number, name string
			var sigs []byte
			for rows.Next() {
				if err := rows.Scan(&id, &number, &name, &pid, &sigs); err != nil {
					return err
				}
				k++
			}
			if k != n {
				return fmt.Errorf("bare SQL: %d grants, want %d", k, n)
			}
			return rows.Err()
		}
	}
	var ranked grants.RiskRanking
	service := func() error {
		var err error
		ranked, err = svc.RiskRanking(ctx, auditor, grants.RiskInput{Limit: 100})
		if err == nil && ranked.Total != n {
			err = fmt.Errorf("ranking: %d grants, want %d", ranked.Total, n)
		}
		return err
	}
	// One grant in a hundred with an expense recorded or voided since the
	// last ranking: their marks, as the expenses' triggers write them.
	marked := func() error {
		_, err := sqlDB.ExecContext(ctx, `INSERT INTO risk_dirty (grant_id) SELECT id FROM grants WHERE id % 100 = 0`)
		if err == nil {
			err = service()
		}
		return err
	}
	// A minute, not the server's default 5 s: on a loaded machine the
	// figures are what this phase is for, and a 503 would record none.
	srv := web.New(svc, web.Options{RequestTimeout: time.Minute})
	token, _, err := svc.Login(ctx, email, password, "127.0.0.1")
	if err != nil {
		return err
	}
	get := func(path string) func() error {
		return func() error {
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := srv.App().Test(req, -1)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("GET %s: %d", path, resp.StatusCode)
			}
			return nil
		}
	}
	loadStart := loadAvg()
	phases := []struct {
		key, name string
		f         func() error
		ds        []time.Duration
	}{
		{key: "R0", name: "bare SQL from scratch: postgres.RiskScratchQuery", f: bareOf(postgres.RiskScratchQuery)},
		{key: "R", name: "bare SQL: postgres.RiskQuery (stored facts)", f: bareOf(postgres.RiskQuery)},
		{key: "r1", name: "svc.RiskRanking (SQL + weights + order), first 100", f: service},
		{key: "r1m", name: "svc.RiskRanking, 1 % of the grants marked", f: marked},
		{key: "r2", name: "GET /api/v1/audit/risk (JSON, first 100)", f: get("/api/v1/audit/risk")},
		{key: "r3", name: "GET /api/v1/audit/risk?format=csv (every grant)", f: get("/api/v1/audit/risk?format=csv")},
	}
	// Interleaved rounds, so that a burst of load on the shared machine
	// hits every row alike.
	for range riskRounds {
		for i := range phases {
			s := time.Now()
			if err := phases[i].f(); err != nil {
				return err
			}
			phases[i].ds = append(phases[i].ds, time.Since(s))
		}
	}
	signals := map[string]int{}
	all, err := svc.RiskRanking(ctx, auditor, grants.RiskInput{})
	if err != nil {
		return err
	}
	for _, it := range all.Items {
		for _, s := range it.Signals {
			signals[s.Code]++
		}
	}
	var w strings.Builder
	fmt.Fprintf(&w, "\nrisk ranking: %d grants, %d expenses (medians of %d interleaved rounds; load average %s at start, %s at end; %d CPUs)\n",
		n, n*riskExpenses, riskRounds, loadStart, loadAvg(), runtime.NumCPU())
	fmt.Fprintf(&w, "  refresh of the stored facts before the rounds: %d grants computed in %s (all of them after a load)\n", filled, ms(firstRefresh))
	r := median(phases[1].ds)
	for i, p := range phases {
		d := median(p.ds)
		line := fmt.Sprintf("  %-3s %-52s %9s", p.key, p.name, ms(d))
		if i > 1 {
			line += fmt.Sprintf("  %.2f × R", ratio(d, r))
		}
		if p.key == "r2" {
			line += fmt.Sprintf("   goal < 2 s: %s", yesNo(d < 2*time.Second))
		}
		fmt.Fprintln(&w, line)
	}
	fmt.Fprintf(&w, "      grants per signal:")
	for _, c := range workflow.RiskCodes {
		fmt.Fprintf(&w, " %s %d", c, signals[c])
	}
	fmt.Fprintln(&w)
	_, err = io.WriteString(out, w.String())
	return err
}

// loadRisk fills the risk bench's fresh database in one session that skips
// triggers and foreign key checks (the rows are generated consistent; CHECK
// constraints still hold). Ids are those of a fresh database, 1..n, which
// the statements below use to link rows without joins: grant i belongs to
// group i, has budget lines 6(i−1)+1..6i, sessions 5(i−1)+1..5i and members
// 15(i−1)+1..15i. Planted signals: a receipt shared between neighbours
// every 100 grants, an expense after the activity end every 50, round
// receipts every 20, session costs naming no session every 10, a session
// without evidence every 30 and one with late evidence every 35, an attendance drop every 25, a photo reused every 45,
// a large refund every 40; funded grants are past the LPJ due date.
func loadRisk(ctx context.Context, db *postgres.DB, n int, programID, userID int64, start workflow.Date) error {
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`SET session_replication_role = replica`, nil},
		// Made-up regions with made-up codes of their own, as the
		// monitoring bench's (every group names its region by code, 0142).
		{`INSERT INTO groups (kind, name, level, province, regency, province_code, regency_code, sk_number, bank_name,
				bank_account_number, bank_account_name)
			SELECT (ARRAY['KKG', 'MGMP', 'MGBK', 'KKM', 'POKJAWAS'])[1 + i % 5], 'Kelompok Risiko ' || i, 'MI',
				'Provinsi ' || (i % 34), 'Kabupaten ' || (i % 34) || '-' || (i % 15), 'B' || (i % 34), 'B' || (i % 34) || '.' || (i % 15),
				'SK-' || i, 'BSI', '8' || i, 'Kelompok Risiko ' || i
			FROM generate_series(1, $1) i ORDER BY i`, []any{n}},
		{`INSERT INTO members (group_id, seq, name, nip, madrasah, position)
			SELECT g, k, 'Anggota ' || k, lpad(CAST(g * 100 + k AS text), 18, '0'), 'MIN 1',
				CASE k WHEN 1 THEN 'ketua' WHEN 2 THEN 'bendahara' ELSE 'anggota' END
			FROM generate_series(1, $1) g CROSS JOIN generate_series(1, 15) k ORDER BY g, k`, []any{n}},
		{`INSERT INTO grants (number, program_id, group_id, state, amount_requested, amount_approved)
			SELECT 'RISK-' || lpad(CAST(g AS text), 6, '0'), $2, g, (ARRAY['funded', 'report_submitted', 'closed'])[1 + g % 3],
				120000000 + (g % 97) * 100000, 120000000 + (g % 97) * 100000
			FROM generate_series(1, $1) g ORDER BY g`, []any{n, programID}},
		{`INSERT INTO budget_lines (grant_id, seq, category, description, quantity, unit, unit_price, amount)
			SELECT g, k, (ARRAY['konsumsi', 'honorarium', 'transport', 'atk_bahan', 'penggandaan', 'dokumentasi'])[k], 'Baris ' || k,
				1, 'paket', 20000000, 20000000
			FROM generate_series(1, $1) g CROSS JOIN generate_series(1, 6) k ORDER BY g, k`, []any{n}},
		{`INSERT INTO activities (grant_id, seq, kind, title, planned_on, planned_participants)
			SELECT g, k, CASE WHEN k % 2 = 1 THEN 'in' ELSE 'on' END, 'Sesi ' || k, CAST($2 AS date) + 14 * k, 15
			FROM generate_series(1, $1) g CROSS JOIN generate_series(1, 5) k ORDER BY g, k`, []any{n, start}},
		{`INSERT INTO disbursements (grant_id, tranche, amount, transferred_on, reference, recorded_by)
			SELECT id, 1, amount_approved * 70 / 100, $1, 'TRF-' || id, $2 FROM grants`, []any{start, userID}},
		{`INSERT INTO refunds (grant_id, amount, paid_on, ntpn, created_by)
			SELECT id, CASE WHEN id % 40 = 0 THEN amount_approved * 70 / 100 * 40 / 100 ELSE 100000 END,
				CAST($1 AS date) + 160, 'R' || lpad(CAST(id AS text), 15, '0'), $2
			FROM grants WHERE id % 40 = 0 OR state = 'closed'`, []any{start, userID}},
		// Receipts: evidence ids 1..n×300 in grant order; receipt 1 of
		// every 100th grant is receipt 0 of the grant before.
		{`INSERT INTO evidence (grant_id, kind, sha256, size, mime, uploaded_by)
			SELECT g, 'receipt', encode(sha256(convert_to(CASE WHEN g % 100 = 0 AND k = 1 THEN 'r' || (g - 1) || '-0'
				ELSE 'r' || g || '-' || k END, 'UTF8')), 'hex'), 100000, 'application/pdf', $2
			FROM generate_series(1, $1) g CROSS JOIN generate_series(0, $3 - 1) k ORDER BY g, k`, []any{n, userID, riskExpenses}},
		{`INSERT INTO expenses (grant_id, spent_on, budget_line_id, activity_id, vendor, description, amount, receipt_id, created_by,
				voided_at, voided_by, void_reason)
			SELECT v.grant_id,
				CAST($1 AS date) + CASE WHEN v.grant_id % 50 = 0 AND x.k = 7 THEN 155 ELSE CAST((v.id * 7919) % 140 AS int) END,
				6 * (v.grant_id - 1) + 1 + x.k % 6,
				CASE WHEN x.k % 6 < 3 AND NOT (v.grant_id % 10 = 0 AND x.k % 50 = 0) THEN 5 * (v.grant_id - 1) + 1 + x.k % 5 END,
				'Toko Bench', 'Belanja bench',
				CASE WHEN v.grant_id % 20 = 0 AND x.k % 3 = 0 THEN 1000000 ELSE 50000 + ((v.id * 104729) % 97) * 1234 END,
				v.id, $2,
				CASE WHEN x.k % 101 = 100 THEN now() END, CASE WHEN x.k % 101 = 100 THEN CAST($2 AS bigint) END,
				CASE WHEN x.k % 101 = 100 THEN 'salah catat' END
			FROM evidence v CROSS JOIN LATERAL (SELECT CAST((v.id - 1) % $3 AS int) AS k) x
			WHERE v.kind = 'receipt' ORDER BY v.id`, []any{start, userID, riskExpenses}},
		// Sessions 1–3 held on their planned day; attendance 15, then 12,
		// 5 at session 3 of every 25th grant.
		{`INSERT INTO activity_realizations (activity_id, grant_id, version, held_on, location, hours, facilitator, summary, outputs,
				recorded_by, recorded_at, event_id)
			SELECT a.id, a.grant_id, 1, a.planned_on, 'Aula', 3, 'Pengawas', 'Terlaksana.', 'Modul.', $1, now(), a.id
			FROM activities a WHERE a.seq <= 3 ORDER BY a.id`, []any{userID}},
		{`INSERT INTO activity_attendees (realization_id, member_id)
			SELECT r.id, 15 * (r.grant_id - 1) + m
			FROM activity_realizations r JOIN activities a ON a.id = r.activity_id CROSS JOIN generate_series(1, 15) m
			WHERE m <= CASE WHEN a.seq = 1 THEN 15 WHEN a.seq = 3 AND r.grant_id % 25 = 0 THEN 5 ELSE 12 END`, nil},
		// One photo per held session, but session 2 of every 30th grant.
		{`INSERT INTO evidence (grant_id, activity_id, kind, sha256, size, mime, uploaded_by)
			SELECT a.grant_id, a.id, 'photo', encode(sha256(convert_to('p' || a.id, 'UTF8')), 'hex'), 500000, 'image/jpeg', $1
			FROM activities a WHERE a.seq <= 3 AND NOT (a.seq = 2 AND a.grant_id % 30 = 0) ORDER BY a.id`, []any{userID}},
		{`INSERT INTO grant_events (grant_id, seq, action, from_state, to_state, actor_id, actor_name, actor_role, data, at, prev_hash, hash)
			SELECT v.grant_id, 100 + a.seq, 'add_evidence', 'funded', 'funded', $1, 'Bendahara', 'treasurer',
				jsonb_build_object('evidence_id', v.id, 'activity_id', a.id, 'kind', 'photo', 'sha256', v.sha256),
				CAST(a.planned_on + CASE WHEN v.grant_id % 35 = 0 AND a.seq = 1 THEN 20 ELSE 1 END AS timestamp) AT TIME ZONE 'Asia/Jakarta',
				'', ''
			FROM evidence v JOIN activities a ON a.id = v.activity_id`, []any{userID}},
		{`INSERT INTO photo_facts (sha256, phash)
			SELECT sha256, CAST(CAST(('x' || substr(sha256, 1, 16)) AS bit(64)) AS bigint) FROM evidence WHERE kind = 'photo'`, nil},
		// Every 45th grant's first photo is a near copy (4 bits) of the
		// grant before's: the worker would have recorded the pair.
		{`WITH p AS (SELECT a.grant_id, v.sha256 FROM evidence v JOIN activities a ON a.id = v.activity_id WHERE a.seq = 1)
			INSERT INTO photo_matches (sha256, other_sha256, distance)
			SELECT x.sha256, y.sha256, 4 FROM p x JOIN p y ON y.grant_id = x.grant_id - 1 WHERE x.grant_id % 45 = 0
			UNION ALL
			SELECT y.sha256, x.sha256, 4 FROM p x JOIN p y ON y.grant_id = x.grant_id - 1 WHERE x.grant_id % 45 = 0`, nil},
		// What the evidence trigger records when a file comes twice.
		{`INSERT INTO evidence_shared (sha256) SELECT sha256 FROM evidence GROUP BY sha256 HAVING count(*) > 1`, nil},
		{`RESET session_replication_role`, nil},
		{`VACUUM ANALYZE`, nil},
	} {
		if _, err := conn.ExecContext(ctx, st.q, st.args...); err != nil {
			return fmt.Errorf("%.60s…: %w", strings.Join(strings.Fields(st.q), " "), err)
		}
	}
	return nil
}
