// Command grantflow runs the grant service and its operator commands:
// serve, migrate, demo, user add, audit verify and gc.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"grantflow/internal/config"
	"grantflow/internal/demo"
	"grantflow/internal/evidence"
	"grantflow/internal/grants"
	"grantflow/internal/postgres"
	"grantflow/internal/web"
	"grantflow/workflow"
)

const usage = `grantflow — hibah kelompok kerja guru

usage:
  grantflow serve                 migrate, then serve the API on GRANTFLOW_ADDR
  grantflow migrate               create the database if missing and migrate it
  grantflow demo                  seed a demo on an empty database; print the demo logins
  grantflow user add --email E --name N --role R [--role R2] [--group ID] [--province P] [--regency R] [--password PW]
                                  (without --password the password is read from standard input)
  grantflow monitor [--as-of YYYY-MM-DD]
                                  compute and store every funded group's status as of that day (default today)
  grantflow audit verify          recompute every grant's event hash chain
  grantflow gc [--grace 1h]       delete stored files that no database row points to

environment: DATABASE_URL, GRANTFLOW_ADDR, GRANTFLOW_DATA_DIR, GRANTFLOW_PUBLIC_URL (see README)
`

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "grantflow:", describe(err))
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return errors.New("no command given")
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "serve":
		return serve(ctx, cfg)
	case "migrate":
		db, err := open(ctx, cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		fmt.Fprintln(stdout, "database migrated")
		// Rows the migrations kept but could not match or merge.
		left, err := db.MigrationReport(ctx)
		if err != nil {
			return err
		}
		for _, l := range left {
			fmt.Fprintln(stdout, "perlu diperiksa:", l)
		}
		return nil
	case "demo":
		svc, closeFn, err := service(ctx, cfg)
		if err != nil {
			return err
		}
		defer closeFn()
		return demo.Seed(ctx, svc, stdout)
	case "user":
		if len(args) < 2 || args[1] != "add" {
			return errors.New("usage: grantflow user add --email E --name N --role R [--role R2] [--group ID] [--province P] [--regency R]")
		}
		return userAdd(ctx, cfg, args[2:], stdin, stdout)
	case "monitor":
		return monitorCmd(ctx, cfg, args[1:], stdout)
	case "audit":
		if len(args) < 2 || args[1] != "verify" {
			return errors.New("usage: grantflow audit verify")
		}
		return auditVerify(ctx, cfg, stdout)
	case "gc":
		fs := flag.NewFlagSet("gc", flag.ContinueOnError)
		grace := fs.Duration("grace", time.Hour, "keep unreferenced files younger than this (uploads in flight)")
		if err := parseArgs(fs, args[1:]); err != nil {
			return err
		}
		svc, closeFn, err := service(ctx, cfg)
		if err != nil {
			return err
		}
		defer closeFn()
		res, err := svc.CollectGarbage(ctx, *grace)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "gc: %d files kept, %d removed, %d abandoned uploads removed\n", res.Kept, res.Removed, res.Temp)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stdout, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// open connects (creating the database if needed) and migrates.
func open(ctx context.Context, cfg config.Config) (*postgres.DB, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("cannot reach PostgreSQL (is it running? DATABASE_URL): %w", err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// store returns the configured evidence store: S3 when an endpoint is set,
// else the local data directory.
func store(ctx context.Context, cfg config.Config) (evidence.Store, error) {
	if cfg.S3Endpoint != "" {
		return evidence.NewS3(ctx, evidence.S3Config{Endpoint: cfg.S3Endpoint, Region: cfg.S3Region, Bucket: cfg.S3Bucket,
			AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, UseSSL: cfg.S3UseSSL})
	}
	return evidence.NewLocal(cfg.DataDir)
}

// logger writes JSON lines on standard output (SPEC §8).
var logger = slog.New(slog.NewJSONHandler(os.Stdout, nil))

func service(ctx context.Context, cfg config.Config) (*grants.Service, func(), error) {
	db, err := open(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	st, err := store(ctx, cfg)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	svc := grants.New(db, grants.Options{SessionIdle: cfg.SessionIdle, SessionMax: cfg.SessionMax, Store: st, BackgroundPreviews: true, Logger: logger,
		PublicURL: cfg.PublicURL, SessionCache: grants.DefaultSessionCacheTTL, ReadCache: true})
	return svc, func() { svc.Close(); db.Close() }, nil
}

func serve(ctx context.Context, cfg config.Config) error {
	log := logger
	svc, closeFn, err := service(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeFn()
	mon, stopMonitoring, err := startMonitoring(ctx, cfg, svc.DB(), log) // hourly scan and e-mail outbox, stopped on return
	if err != nil {
		return err
	}
	defer stopMonitoring()
	srv := web.New(svc, web.Options{RequestTimeout: cfg.RequestTimeout, TrustedProxies: cfg.TrustedProxies, Logger: log, ShutdownDrain: cfg.ShutdownDrain, Monitor: mon,
		UploadIdle: cfg.UploadIdle, UploadMax: cfg.UploadMax})
	errc := make(chan error, 1)
	go func() { errc <- srv.Listen(cfg.Addr) }()
	go func() {
		// Previews whose background job was lost when the server last stopped.
		if n, err := svc.BackfillPreviews(ctx, 10000); err != nil {
			log.Warn("preview backfill", "error", err.Error())
		} else if n > 0 {
			log.Info("preview backfill", "queued", n)
		}
		if n, err := svc.RefreshRiskFacts(ctx); err != nil {
			log.Warn("risk facts refresh", "error", err.Error())
		} else if n > 0 {
			log.Info("risk facts refresh", "grants", n)
		}
	}()
	log.Info("serving", "addr", cfg.Addr, "data_dir", cfg.DataDir, "public_url", cfg.PublicURL)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	if err := srv.Shutdown(25 * time.Second); err != nil {
		return err
	}
	<-errc
	log.Info("stopped")
	return nil
}

type roles []string

func (r *roles) String() string     { return strings.Join(*r, ",") }
func (r *roles) Set(v string) error { *r = append(*r, v); return nil }

// parseArgs parses args into fs and refuses anything left over: flag stops
// at the first argument that is not a flag, so `--name Dewi Lestari
// --province 32` would otherwise create an unscoped user named Dewi.
func parseArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: argumen %q tidak dikenal; nilai yang memuat spasi perlu diberi tanda kutip", fs.Name(), fs.Arg(0))
	}
	return nil
}

func userAdd(ctx context.Context, cfg config.Config, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	var in grants.NewUser
	var rs roles
	fs.StringVar(&in.Email, "email", "", "e-mail address (login)")
	fs.StringVar(&in.Name, "name", "", "full name")
	fs.Var(&rs, "role", "role: admin, verifier, approver, finance, auditor, chair, treasurer (repeatable)")
	fs.Int64Var(&in.GroupID, "group", 0, "group id (chair, treasurer)")
	fs.StringVar(&in.Province, "province", "", "province scope (staff): a name or code of the Kemendagri list, any case (\"jawa barat\", 32)")
	fs.StringVar(&in.Regency, "regency", "", "regency scope (staff) inside --province: a name or code (\"kota bogor\", 32.71)")
	fs.StringVar(&in.Password, "password", "", "password (default: read from standard input)")
	fs.SetOutput(stdout)
	if err := parseArgs(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // asked for the usage, which Parse printed: not a failure
		}
		return err
	}
	for _, r := range rs {
		in.Roles = append(in.Roles, workflow.Role(r))
	}
	if in.Password == "" {
		in.Password = readPassword(stdin)
	}
	db, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := grants.New(db, grants.Options{}).CreateUser(ctx, grants.System, in)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "user %d created: %s (%s)\n", u.ID, u.Email, strings.Join(rs, ", "))
	return nil
}

// readPassword reads one line of stdin. At a terminal it asks for it and
// does not echo it. An empty input leaves the password empty: CreateUser
// then reports it together with every other missing field.
func readPassword(stdin io.Reader) string {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(os.Stderr, "Kata sandi: ")
		b, _ := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(os.Stderr)
		return string(b)
	}
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	return strings.TrimRight(line, "\r\n")
}

// describe spells out a *workflow.Error with its field details for a terminal.
func describe(err error) error {
	var we *workflow.Error
	if !errors.As(err, &we) || len(we.Details) == 0 {
		return err
	}
	var b strings.Builder
	b.WriteString(we.Message)
	for _, d := range we.Details {
		fmt.Fprintf(&b, "\n  %s: %s", d.Field, d.Message)
	}
	return errors.New(b.String())
}

func auditVerify(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	db, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := grants.New(db, grants.Options{})
	breaks, n, err := svc.VerifyChains(ctx)
	if err != nil {
		return err
	}
	for _, b := range breaks {
		fmt.Fprintf(stdout, "BROKEN grant %d at event %d: %s\n", b.GrantID, b.Seq, b.Reason)
	}
	rows, err := svc.VerifyRows(ctx)
	if err != nil {
		return err
	}
	for _, r := range rows {
		fmt.Fprintf(stdout, "ROW %s %d (grant %d): %s\n", r.Table, r.ID, r.GrantID, r.Reason)
	}
	if len(breaks) > 0 {
		// The error names the first break too: cron mails and CI logs often keep only standard error.
		b := breaks[0]
		return fmt.Errorf("%d broken chain(s), %d row(s) disagreeing; first: grant %d at event %d: %s", len(breaks), len(rows), b.GrantID, b.Seq, b.Reason)
	}
	if len(rows) > 0 {
		r := rows[0]
		return fmt.Errorf("%d row(s) disagreeing with their events; first: %s %d (grant %d): %s", len(rows), r.Table, r.ID, r.GrantID, r.Reason)
	}
	fmt.Fprintf(stdout, "OK: %d events, every chain intact, every money, evidence and session row matches its event\n", n)
	return nil
}
