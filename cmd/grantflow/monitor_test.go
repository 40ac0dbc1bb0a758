package main_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

// TestMonitorCommand: two `grantflow monitor --as-of` processes at once store
// one history row, and a day other than today sends no reminder; a bad date
// changes nothing.
func TestMonitorCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "grantflow")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	url := pgtest.URL(pgtest.NewDatabase(t))
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fundedGrant(t, db) // activity period ends in 100 days, LPJ due in 120
	asOf := workflow.DateOf(time.Now().In(workflow.Jakarta)).AddDays(200).String()
	count := func(q string) int {
		var n int
		if err := db.SQL().QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	bad := exec.Command(bin, "monitor", "--as-of", "31-12-2027")
	bad.Env = append(os.Environ(), "DATABASE_URL="+url, "GRANTFLOW_S3_ENDPOINT=")
	if out, err := bad.CombinedOutput(); err == nil {
		t.Fatalf("a bad date was accepted: %s", out)
	}
	if n := count(`SELECT count(*) FROM monitoring_status`); n != 0 {
		t.Fatalf("a refused run stored %d rows", n)
	}

	var wg sync.WaitGroup
	outs := make([][]byte, 2)
	for i := range outs {
		wg.Go(func() {
			cmd := exec.Command(bin, "monitor", "--as-of", asOf)
			cmd.Env = append(os.Environ(), "DATABASE_URL="+url, "GRANTFLOW_S3_ENDPOINT=", "GRANTFLOW_SMTP_URL=")
			out, err := cmd.Output()
			if err != nil {
				t.Errorf("monitor process %d: %v", i, err)
			}
			outs[i] = out
		})
	}
	wg.Wait()
	changed := 0
	for _, out := range outs {
		var res postgres.ScanResult
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		if res.Monitored != 1 || res.Dormant != 1 || res.AsOf.String() != asOf {
			t.Fatalf("scan result %+v", res)
		}
		changed += res.Changed
	}
	if changed != 1 {
		t.Fatalf("the two runs opened %d history rows together, want 1", changed)
	}
	// A scan of another day than today recomputes statuses and sends no
	// reminder: the LPJ overdue on that day is not news to send today.
	if h, n := count(`SELECT count(*) FROM monitoring_history`), count(`SELECT count(*) FROM notifications`); h != 1 || n != 0 {
		t.Fatalf("%d history rows and %d reminders, want 1 (dormant) and none", h, n)
	}
}
