package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"sync"
	"time"

	"grantflow/internal/config"
	"grantflow/internal/monitor"
	"grantflow/internal/postgres"
	"grantflow/workflow"
)

// monitorCmd is `grantflow monitor [--as-of YYYY-MM-DD]`: one scan, waiting
// for a scan running in a server to finish first; it prints what it did as
// JSON. A scan of another day than today sends no reminders.
func monitorCmd(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("monitor", flag.ContinueOnError)
	asOfFlag := fs.String("as-of", "", "compute the status as of this day (YYYY-MM-DD; default today in Jakarta)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	var asOf workflow.Date
	if *asOfFlag != "" {
		d, err := workflow.ParseDate(*asOfFlag)
		if err != nil {
			return err
		}
		asOf = d
	}
	db, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	mon := monitor.New(db, monitor.Options{Mail: cfg.SMTPURL != ""})
	scan := mon.Scan
	if !asOf.IsZero() && asOf != mon.Today() {
		scan = mon.Recompute // another day's reminders are not today's to send
	}
	res, err := scan(ctx, asOf)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}

// startMonitoring starts the hourly scan and, when SMTP is configured, the
// outbox sender; the returned function stops both and waits for them.
func startMonitoring(ctx context.Context, cfg config.Config, db *postgres.DB, log *slog.Logger) (*monitor.Service, func(), error) {
	mon := monitor.New(db, monitor.Options{Mail: cfg.SMTPURL != "", Logger: log})
	var sender *monitor.Sender
	if cfg.SMTPURL != "" {
		var err error
		if sender, err = monitor.NewSender(db, cfg.SMTPURL, log); err != nil {
			return nil, nil, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { mon.Run(ctx, time.Hour) })
	if sender != nil {
		wg.Go(func() { sender.Run(ctx, 30*time.Second) })
	}
	return mon, func() { cancel(); wg.Wait() }, nil
}
