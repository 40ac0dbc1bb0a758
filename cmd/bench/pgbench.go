package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// pgbenchScale is the size of the baseline's database: scale 10 is
// 1 000 000 accounts, the usual small pgbench database.
const pgbenchScale = 10

// pgbench runs PostgreSQL's own benchmark, select-only (`pgbench -S`), as
// the baseline of the API reads: one indexed primary-key read per
// transaction, one round trip each, the most a client of this server can
// get from it. It runs on a scratch database next to the bench's own.
type pgbench struct {
	bin string // path of the pgbench binary
	dsn string // of the scratch database
	dir string // for the per-transaction logs
}

// newPgbench finds pgbench and makes its scale-10 database, named after the
// bench database with "_pgbench" (initialised once; a later run reuses it
// when its scale matches). It returns an error when pgbench is missing or
// the initialisation fails.
func newPgbench(ctx context.Context, benchDSN, dir string, log io.Writer) (*pgbench, error) {
	bin, err := exec.LookPath("pgbench")
	if err != nil {
		if _, statErr := os.Stat("/usr/bin/pgbench"); statErr != nil {
			return nil, fmt.Errorf("pgbench not found (Debian: apt-get install postgresql-client): %w", err)
		}
		bin = "/usr/bin/pgbench"
	}
	u, err := url.Parse(benchDSN)
	if err != nil {
		return nil, err
	}
	u.Path += "_pgbench"
	p := &pgbench{bin: bin, dsn: u.String(), dir: dir}
	db, err := sql.Open("postgres", p.dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var branches int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pgbench_branches`).Scan(&branches); err == nil && branches == pgbenchScale {
		return p, nil
	}
	admin := *u
	admin.Path = "/postgres"
	a, err := sql.Open("postgres", admin.String())
	if err != nil {
		return nil, err
	}
	defer a.Close()
	name := strings.TrimPrefix(u.Path, "/")
	if _, err := a.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
		return nil, err
	}
	if _, err := a.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "pgbench -i -s %d into %s\n", pgbenchScale, name)
	out, err := exec.CommandContext(ctx, bin, "-i", "-q", "-s", strconv.Itoa(pgbenchScale), p.dsn).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("pgbench -i: %w: %s", err, out)
	}
	return p, nil
}

var pgbenchTPS = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// load returns `pgbench -S -c clients -j 2` as a load: each slice of the
// interleaved rounds runs pgbench for the slice (whole seconds, at least
// one), and its per-transaction log gives the latencies. Its rate is the
// tps pgbench reports without connection time.
func (p *pgbench) load(clients int) load {
	return p.run(clients, "-S", p.dsn)
}

// statement returns pgbench running query (with $1 a random id in [lo,
// hi] and the other parameters given as SQL literals in params) as a
// prepared statement on the database of dsn: what PostgreSQL alone can do
// with one statement of the server, the ceiling of the API read using it.
func (p *pgbench) statement(clients int, dsn, query string, lo, hi int64, params ...string) (load, error) {
	for i, v := range params {
		query = strings.ReplaceAll(query, "$"+strconv.Itoa(i+2), v)
	}
	query = strings.ReplaceAll(query, "$1", ":id")
	script := fmt.Sprintf("\\set id random(%d, %d)\n%s;\n", lo, hi, strings.Join(strings.Fields(query), " "))
	f, err := os.CreateTemp(p.dir, "statement-*.sql")
	if err != nil {
		return load{}, err
	}
	defer f.Close()
	if _, err := f.WriteString(script); err != nil {
		return load{}, err
	}
	return p.run(clients, "-M", "prepared", "-f", f.Name(), dsn), nil
}

// run returns pgbench with args (after the common ones) as a load.
func (p *pgbench) run(clients int, args ...string) load {
	return load{clients: clients, run: func(d time.Duration) sample {
		secs := max(1, int(d.Round(time.Second)/time.Second))
		dir, err := os.MkdirTemp(p.dir, "pgbench-")
		if err != nil {
			return sample{errs: 1, firstErr: err.Error(), elapsed: d}
		}
		defer os.RemoveAll(dir)
		cmd := exec.Command(p.bin, append([]string{"-n", "-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(secs),
			"-l", "--log-prefix", filepath.Join(dir, "tx")}, args...)...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		wall := time.Since(start)
		if err != nil {
			return sample{errs: 1, firstErr: fmt.Sprintf("pgbench: %v: %s", err, lastLine(out)), elapsed: d}
		}
		var tps float64
		if m := pgbenchTPS.FindSubmatch(out); m != nil {
			tps, _ = strconv.ParseFloat(string(m[1]), 64)
		}
		s := sample{elapsed: wall} // without a tps line (no transaction done), the wall time
		files, _ := filepath.Glob(filepath.Join(dir, "tx.*"))
		for _, f := range files {
			if err := readPgbenchLog(f, &s); err != nil {
				return sample{errs: 1, firstErr: err.Error(), elapsed: d}
			}
		}
		if len(s.lat) == 0 {
			s.errs++
			s.firstErr = fmt.Sprintf("pgbench did no transaction in %d s: %s", secs, lastLine(out))
		}
		if tps > 0 {
			// The rate is pgbench's own: transactions over the time the
			// clients were connected.
			s.elapsed = time.Duration(float64(len(s.lat)) / tps * float64(time.Second))
		}
		return s
	}}
}

// readPgbenchLog adds the latencies of one per-transaction log ("client
// transaction latency_us script epoch us" per line) to s.
func readPgbenchLog(path string, s *sample) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		us, err := strconv.ParseInt(fields[2], 10, 64)
		if err != nil {
			s.errs++ // "skipped" or "failed" transactions
			continue
		}
		s.lat = append(s.lat, time.Duration(us)*time.Microsecond)
	}
	return sc.Err()
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
