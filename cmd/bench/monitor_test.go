package main

import (
	"context"
	"os"
	"testing"
)

// TestMonitorBench runs only the monitoring part of the bench, for working
// on the scan: GRANTFLOW_BENCH_MONITOR=1 go test -run TestMonitorBench -v ./cmd/bench
// (GRANTFLOW_BENCH_MONITOR=quick loads 2 000 groups; GRANTFLOW_BENCH_MONITOR_KEEP=1
// reuses a database an earlier run seeded). It is skipped otherwise.
func TestMonitorBench(t *testing.T) {
	mode := os.Getenv("GRANTFLOW_BENCH_MONITOR")
	if mode == "" {
		t.Skip("set GRANTFLOW_BENCH_MONITOR=1 to run the monitoring bench")
	}
	cfg := config{dsn: benchURL(os.Getenv("GRANTFLOW_BENCH_DATABASE_URL")), quick: mode == "quick"}
	keep := os.Getenv("GRANTFLOW_BENCH_MONITOR_KEEP") != ""
	if err := runMonitorBench(context.Background(), cfg, keep, os.Stdout, os.Stderr); err != nil {
		t.Fatal(err)
	}
}
