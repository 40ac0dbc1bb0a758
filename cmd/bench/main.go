// Command bench loads grantflow as SPEC §9 asks and prints every figure next
// to a baseline measured in the same run on the same machine: API reads and
// writes against plain PostgreSQL and a bare Fiber handler, receipt uploads
// against raw disk writing and hashing, and the process's memory while 1 MB
// and 10 MB files stream in. It prints ratios and the spec's goals and never
// fails on a timing: absolute timings depend on the machine, and only figures
// measured side by side say something about the code.
//
// It drops and recreates its own database (grantflow_bench, or the one in
// GRANTFLOW_BENCH_DATABASE_URL, whose name must contain "bench"), seeds it
// through grants.Service, and serves the real web.Server in-process on a
// loopback port, driven by an in-process net/http load generator. Client,
// server and PostgreSQL share the machine's cores, as they share them in the
// baselines.
//
// Usage:
//
//	go run ./cmd/bench [-quick] [-duration 10s] [-rounds 5] [-grants 10000] [-clients 64] [-upload-clients 16]
//	                   [-phases reads,writes,uploads,memory,reports,risk]
//
// The API reads are compared with PostgreSQL's own select-only benchmark
// (pgbench -S, scale 10, on a scratch database beside the bench's) run in
// the same rounds with the same client counts.
//
// -phases risk alone runs only the risk ranking over its own 10 000 grants × 300 expenses
// (cmd/bench/audit.go); GRANTFLOW_BENCH_RISK_REUSE=1 reuses that loaded database.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"grantflow/internal/postgres"
)

// config is the run's settings.
type config struct {
	dsn           string
	duration      time.Duration // of each phase
	grants        int           // seeded grants
	clients       int           // concurrent API clients
	uploadClients int           // concurrent uploaders
	funded        int           // funded grants the uploads spread over
	rounds        int           // interleaved rounds of the read and write phases
	quick         bool
	phases        map[string]bool // which groups of phases run (-phases)
	pool          int             // the service's pool size; 0: postgres.DefaultMaxConns
	cpuProfile    string          // -cpuprofile: where to write the CPU profile of the load phases
	riskReuse     bool            // GRANTFLOW_BENCH_RISK_REUSE=1: the risk phase reuses its loaded database
}

// phaseNames are the groups of phases -phases selects from.
var phaseNames = []string{"reads", "writes", "uploads", "memory", "reports", "risk"}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if err := run(context.Background(), cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// parseFlags reads the flags; -quick changes the defaults of -grants and
// -duration (300 grants, 2 s) but not values given explicitly. It returns
// an error for unknown flags or impossible numbers.
func parseFlags(args []string, getenv func(string) string) (config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "smoke run: 300 grants, 2 s phases")
	duration := fs.Duration("duration", 10*time.Second, "length of each load phase")
	nGrants := fs.Int("grants", 10000, "grants to seed")
	clients := fs.Int("clients", 64, "concurrent API clients")
	upClients := fs.Int("upload-clients", 16, "concurrent uploading clients")
	pool := fs.Int("pool", 0, "the server's database pool size (0: the default); for sizing it")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the load phases (server and client: one process) to this file, for go tool pprof")
	rounds := fs.Int("rounds", 5, "interleaved rounds of the read and write phases (each round runs every phase for duration/rounds)")
	phases := fs.String("phases", strings.Join(phaseNames, ","), "comma-separated phases to run: "+strings.Join(phaseNames, ", ")+
		" (reports: the LPJ, dossier, audit, monitoring and activities benchmarks)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg := config{dsn: benchURL(getenv("GRANTFLOW_BENCH_DATABASE_URL")), duration: *duration, grants: *nGrants,
		clients: *clients, uploadClients: *upClients, rounds: *rounds, quick: *quick, phases: map[string]bool{}, pool: *pool, cpuProfile: *cpuProfile,
		riskReuse: getenv("GRANTFLOW_BENCH_RISK_REUSE") == "1"}
	for _, p := range strings.Split(*phases, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(phaseNames, p) {
			return config{}, fmt.Errorf("-phases: unknown phase %q (known: %s)", p, strings.Join(phaseNames, ", "))
		}
		cfg.phases[p] = true
	}
	if cfg.quick {
		if !set["grants"] {
			cfg.grants = 300
		}
		if !set["duration"] {
			cfg.duration = 2 * time.Second
		}
		if !set["rounds"] {
			cfg.rounds = 2
		}
	}
	// Two funded grants per uploader, so that each uploader owns its grants
	// and no upload waits on another's row lock.
	cfg.funded = 2 * cfg.uploadClients
	switch {
	case cfg.duration <= 0, cfg.clients <= 0, cfg.uploadClients <= 0, cfg.rounds <= 0:
		return cfg, fmt.Errorf("-duration, -clients, -upload-clients and -rounds must be positive")
	case cfg.grants < cfg.funded+cfg.clients:
		return cfg, fmt.Errorf("-grants must be at least %d (funded grants plus one per client)", cfg.funded+cfg.clients)
	}
	return cfg, nil
}

// entry is a phase to run: its row of the table and its load.
type entry struct {
	row  row
	load load
}

// row is one line of the results table.
type row struct {
	key, name string
	clients   int
	st        stats
	upload    bool    // show MB/s
	base      string  // key of the baseline row, "" for a baseline
	ratio     float64 // NaN when there is none
	goal      string
	verdict   string // "✔", "✘" or ""
	mem       *memPeak
}

// run seeds, drives every phase and writes the results table to out and
// progress to log. It returns an error when seeding or a server fails;
// failed requests are counted in the table, not returned.
func run(ctx context.Context, cfg config, out, log io.Writer) error {
	t0, loadStart := time.Now(), loadAvg()
	if len(cfg.phases) == 1 && cfg.phases["risk"] {
		riskBench(ctx, cfg, out, log) // it loads a database of its own: no seeding
		return nil
	}
	storeDir, err := os.MkdirTemp("", "grantflow-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(storeDir)
	fmt.Fprintf(log, "seeding %d grants into %s\n", cfg.grants, redact(cfg.dsn))
	w, err := seed(ctx, cfg, storeDir, log)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer w.db.Close()
	if cfg.pool > 0 {
		w.db.SetMaxConns(cfg.pool)
	}
	defer w.svc.Close() // stop the preview worker before its store goes
	seedTime := time.Since(t0)

	b := &bench{cfg: cfg, w: w, client: newClient()}
	if err := b.createScratchEvents(ctx); err != nil {
		return fmt.Errorf("scratch table: %w", err)
	}
	jpg := jpegPayload(2_000_000, 2400, 1800)
	pdf2, pdf1, pdf10 := scanPayload(jpg, 2400, 1800), pdfPayload(1_000_000), pdfPayload(10_000_000)

	pingURL, stopPing, err := startBareFiber()
	if err != nil {
		return err
	}
	defer stopPing()
	stopServer, err := b.startServer()
	if err != nil {
		return err
	}
	defer stopServer()

	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var rows []row
	// group runs its loads interleaved (see interleave) and appends their rows.
	group := func(rounds int, entries []entry) {
		loads := make([]load, len(entries))
		for i, e := range entries {
			loads[i] = e.load
		}
		for i, st := range interleave(rounds, cfg.duration, loads) {
			r := entries[i].row
			r.clients, r.st = entries[i].load.clients, st
			rows = append(rows, r)
			fmt.Fprintf(log, "  %-4s %9.1f/s  p50 %-9s p99 %-9s errors %d\n", r.key, st.rate(), ms(st.p50), ms(st.p99), st.errs)
		}
	}
	if cfg.phases["reads"] {
		pg, err := newPgbench(ctx, cfg.dsn, storeDir, log)
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "reads, interleaved: %d rounds of %s per phase\n", cfg.rounds, cfg.duration/time.Duration(cfg.rounds))
		goal := "≥ 0.25 × P, p99 ≤ 50 ms"
		lo, hi := slices.Min(w.ids), slices.Max(w.ids)
		// As many connections as the server's pool: what PostgreSQL does
		// with the statement when it gets it the way the server sends it.
		poolSize := cfg.pool
		if poolSize <= 0 {
			poolSize = postgres.DefaultMaxConns
		}
		stmt, err := pg.statement(poolSize, cfg.dsn, postgres.GrantReadStatement(postgres.ReadOptions{}), lo, hi)
		if err != nil {
			return err
		}
		group(cfg.rounds, []entry{
			{row{key: "A", name: "bare Fiber handler, small JSON"}, b.bareFiber(pingURL)},
			{row{key: "P", name: fmt.Sprintf("pgbench -S, scale %d", pgbenchScale)}, pg.load(cfg.clients)},
			{row{key: "P8", name: fmt.Sprintf("pgbench -S, scale %d", pgbenchScale)}, pg.load(8)},
			{row{key: "Pg", name: "pgbench: the grant read statement alone (diagnostic)", base: "P"}, stmt},
			{row{key: "b1", name: "svc.Grant, no HTTP (diagnostic)", base: "P"}, b.svcGrant(ctx)},
			{row{key: "b2", name: "svc.Authenticate, no HTTP (diagnostic)", base: "P"}, b.svcAuth(ctx)},
			{row{key: "1", name: "GET /api/v1/grants/{id}", base: "P", goal: goal}, b.getGrants(cfg.clients, w.auditTok)},
			{row{key: "1c", name: "GET /api/v1/grants/{id}", base: "P8", goal: goal}, b.getGrants(8, w.auditTok)},
			{row{key: "1s", name: "GET, all clients on one session (diagnostic)", base: "P"}, b.getGrants(cfg.clients, w.auditTok[:1])},
		})
	}

	events := 0
	if cfg.phases["writes"] {
		if events, err = b.writes(ctx, group, log); err != nil {
			return err
		}
	}
	if cfg.phases["uploads"] || cfg.phases["memory"] {
		if err := b.uploadPhases(storeDir, jpg, pdf1, pdf2, pdf10, group, &rows, log); err != nil {
			return err
		}
	}

	finish(rows)
	fmt.Fprintf(out, "\ngrantflow bench: %d grants (seeded in %.0f s), %s per phase (reads and writes in %d interleaved rounds), GOMAXPROCS %d, %s, %d CPUs\n",
		cfg.grants, seedTime.Seconds(), cfg.duration, cfg.rounds, runtime.GOMAXPROCS(0), runtime.Version(), runtime.NumCPU())
	if cfg.pool > 0 {
		fmt.Fprintf(out, "database pool: %d connections (-pool)\n", cfg.pool)
	}
	fmt.Fprintf(out, "client, server and PostgreSQL share the machine; ratios compare phases of this run only; load average at start %s, at end %s\n",
		loadStart, loadAvg())
	fmt.Fprintln(out)
	printTable(out, rows)
	fmt.Fprintln(out)
	if cfg.phases["memory"] {
		printMemory(out, rows)
		fmt.Fprintln(out)
	}
	printNotes(out, b, rows, events)
	if cfg.phases["reports"] {
		runLPJ(out, log, cfg.quick)
		runDossier(out, log, cfg.quick)
		runAudit(out, log, cfg.quick)
		monitorBench(ctx, cfg, out, log)
		activitiesBench(ctx, cfg, out, log)
	}
	if cfg.phases["risk"] {
		riskBench(ctx, cfg, out, log)
	}
	fmt.Fprintf(log, "total %.0f s\n", time.Since(t0).Seconds())
	return nil
}

// writes runs the write phases (interleaved) and returns how many
// start_review events they appended.
func (b *bench) writes(ctx context.Context, group func(int, []entry), log io.Writer) (int, error) {
	w, cfg := b.w, b.cfg
	before, err := w.countEvents(ctx, "start_review")
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(log, "writes, interleaved\n")
	group(cfg.rounds, []entry{
		{row{key: "Bw", name: "bare SQL: lock, update, append event (1 tx)"}, b.rawTransition(ctx)},
		{row{key: "2", name: "POST …/actions/start_review", base: "Bw"}, b.startReview()},
	})
	after, err := w.countEvents(ctx, "start_review")
	if err != nil {
		return 0, err
	}
	return after - before, nil
}

// uploadPhases runs the upload phases: the disk baseline interleaved with
// PDF uploads of the same size, then (with -phases memory) the JPEG, 1 MB
// and 10 MB uploads whole, each under a fresh memory watch.
func (b *bench) uploadPhases(storeDir string, jpg, pdf1, pdf2, pdf10 payload, group func(int, []entry), rows *[]row, log io.Writer) error {
	cfg := b.cfg
	// The disk baseline and the PDF upload of the same size answer in tens
	// of milliseconds and run interleaved. JPEG uploads take seconds each
	// under load, too long for short slices, so they and the memory phases
	// run whole, each with a fresh memory watch.
	u := cfg.uploadClients
	diskDir := filepath.Join(storeDir, "baseline")
	if err := os.MkdirAll(diskDir, 0o750); err != nil {
		return err
	}
	fmt.Fprintf(log, "uploads\n")
	group(cfg.rounds, []entry{
		{row{key: "C", name: "disk: write+SHA-256+fsync+rename, " + jpg.label, upload: true}, b.diskBaseline(diskDir, jpg, u)},
		{row{key: "5p", name: "POST …/expenses, " + pdf2.label + " (no preview)", upload: true, base: "C", goal: "≥ 0.60 × C (MB/s)"}, b.uploads(pdf2, u)},
	})
	if err := os.RemoveAll(diskDir); err != nil {
		return err
	}
	if !cfg.phases["memory"] {
		return nil
	}
	for _, up := range []struct {
		key, base, goal string
		p               payload
	}{
		{"5", "C", "≥ 0.60 × C (MB/s)", jpg},
		{"6a", "", "", pdf1},
		{"6b", "", "", pdf10},
	} {
		// Idle connections of earlier phases keep their buffers; drop them
		// so that they do not count in this phase's memory.
		b.client.Transport.(*http.Transport).CloseIdleConnections()
		stop := watchMemory(10 * time.Millisecond)
		group(1, []entry{{row{key: up.key, name: "POST …/expenses, " + up.p.label, upload: true, base: up.base, goal: up.goal}, b.uploads(up.p, u)}})
		peak := stop()
		(*rows)[len(*rows)-1].mem = &peak
	}
	return nil
}

// finish fills in each row's ratio to its baseline and whether the goal is
// met. Upload rows compare MB/s, the others requests per second.
func finish(rows []row) {
	byKey := map[string]*row{}
	for i := range rows {
		byKey[rows[i].key] = &rows[i]
	}
	for i := range rows {
		r := &rows[i]
		r.ratio = math.NaN()
		base, ok := byKey[r.base]
		if !ok {
			continue
		}
		if r.upload && base.upload {
			r.ratio = r.st.mbps() / base.st.mbps()
		} else {
			r.ratio = r.st.rate() / base.st.rate()
		}
		switch r.key {
		case "1", "1c":
			r.verdict = yesNo(r.ratio >= 0.25 && r.st.p99 <= 50*time.Millisecond)
		case "5", "5p":
			r.verdict = yesNo(r.ratio >= 0.6)
		}
	}
}

func yesNo(ok bool) string {
	if ok {
		return "✔"
	}
	return "✘"
}

// printTable writes the throughput table.
func printTable(out io.Writer, rows []row) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "#\tphase\t\tclients\treq/s\tMB/s\tp50\tp99\terrors\tbaseline\tratio\tgoal\t✔/✘\t")
	for _, r := range rows {
		mbps, ratio := "", ""
		if r.upload {
			mbps = fmt.Sprintf("%.1f", r.st.mbps())
		}
		if !math.IsNaN(r.ratio) {
			ratio = fmt.Sprintf("%.2f", r.ratio)
		}
		name := r.name
		if r.st.exhausted {
			name += " *"
		}
		fmt.Fprintf(tw, "%s\t%s\t\t%d\t%.0f\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t\n", r.key, name, r.clients, r.st.rate(), mbps,
			ms(r.st.p50), ms(r.st.p99), r.st.errs, r.base, ratio, r.goal, r.verdict)
	}
	tw.Flush()
}

// printMemory writes the memory table of the upload phases and the ratio of
// the 10 MB phase to the 1 MB one.
func printMemory(out io.Writer, rows []row) {
	fmt.Fprintln(out, "memory of the whole process (server and in-process client) during the upload phases:")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "#\tupload\t\tuploads/s\tMB/s\tpeak HeapInuse\tpeak VmRSS\tVmHWM\t")
	var one, ten *memPeak
	for _, r := range rows {
		if r.mem == nil {
			continue
		}
		switch r.key {
		case "6a":
			one = r.mem
		case "6b":
			ten = r.mem
		}
		fmt.Fprintf(tw, "%s\t%s\t\t%.1f\t%.1f\t%s\t%s\t%s\t\n", r.key, strings.TrimPrefix(r.name, "POST …/expenses, "),
			r.st.rate(), r.st.mbps(), mib(r.mem.heapInuse), mib(r.mem.rss), mib(r.mem.hwm))
	}
	tw.Flush()
	if one != nil && ten != nil && one.heapInuse > 0 && one.rss > 0 {
		hwm := "n/a"
		if one.hwm > 0 {
			hwm = fmt.Sprintf("%.2f×", float64(ten.hwm)/float64(one.hwm))
		}
		fmt.Fprintf(out, "10 MB ÷ 1 MB uploads: HeapInuse %.2f×, VmRSS %.2f×, VmHWM %s (goal: far below 10×, uploads are streamed)\n",
			float64(ten.heapInuse)/float64(one.heapInuse), float64(ten.rss)/float64(one.rss), hwm)
	}
}

// printNotes explains what the rows measure.
func printNotes(out io.Writer, b *bench, rows []row, events int) {
	cfg, w := b.cfg, b.w
	var transitions stats
	for _, r := range rows {
		if r.key == "2" {
			transitions = r.st
		}
	}
	notes := []string{
		"P   pgbench -S -j 2 (one primary-key read per transaction) on a scale-10 scratch database, same clients as the row it is the baseline of (P8: 8)",
		"Pg  pgbench -M prepared running postgres.ReadGrant's statement for random grants on as many connections as the server's pool: what PostgreSQL alone does with it, the ceiling of rows b1 and 1",
		"b1  grants.Service.Grant without HTTP (one statement); b2 the session check every API request makes first (the in-process cache)",
		"1c  the same GET from 8 clients: latency when the machine is not saturated",
		"1s  all clients send one bearer token: every request updates that one session row",
		"Bw  per transaction: SELECT … FOR UPDATE, UPDATE grants, last event, INSERT into a copy of grant_events (random grants)",
		fmt.Sprintf("2   each request moves a distinct submitted grant to in_review with its event (%d of %d grants used; %d new start_review events in the audit trail)",
			transitions.n, len(w.review), events),
		fmt.Sprintf("5   every upload is a unique file (JPEG with a distinct COM segment), stored and hashed; its preview is made by the background worker alongside (jobs beyond its queue wait for their first viewer); expense of Rp 1 on %d funded grants, each uploader on its own grants", cfg.funded),
		"5p  the same with a PDF of the same size: no preview at all (interleaved with C)",
		"*   the phase ended early: it ran out of submitted grants",
	}
	if !transitions.exhausted {
		notes = notes[:len(notes)-1]
	}
	// Only the notes of the rows this run has (-phases).
	ran := map[string]bool{"*": true}
	for _, r := range rows {
		ran[r.key] = true
	}
	notes = slices.DeleteFunc(notes, func(n string) bool { return !ran[strings.Fields(n)[0]] })
	for _, r := range rows {
		if r.st.errs > 0 {
			notes = append(notes, fmt.Sprintf("!   %s: %d errors, first: %s", r.key, r.st.errs, r.st.firstErr))
		}
	}
	if b.logs.n > 0 {
		notes = append(notes, fmt.Sprintf("!   the server logged %d warnings or errors; the first:", b.logs.n))
		for _, l := range b.logs.first {
			notes = append(notes, "      "+l)
		}
	}
	for _, n := range notes {
		fmt.Fprintln(out, n)
	}
}

// countEvents returns how many events of action the audit trail holds.
func (w *world) countEvents(ctx context.Context, action string) (int, error) {
	var n int
	err := w.db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM grant_events WHERE action = $1`, action).Scan(&n)
	return n, err
}

// ms formats a latency in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

// mib formats a byte count in MiB.
func mib(n uint64) string {
	if n == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}

// redact hides a password in a database URL for printing.
func redact(dsn string) string {
	if i, j := strings.Index(dsn, "://"), strings.LastIndex(dsn, "@"); i >= 0 && j > i {
		if k := strings.Index(dsn[i+3:j], ":"); k >= 0 {
			return dsn[:i+3+k] + ":***" + dsn[j:]
		}
	}
	return dsn
}

// loadAvg returns the one-minute load average, or "?" where there is none:
// other work on the machine makes every figure of the run less certain.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}
