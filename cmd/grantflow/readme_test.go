package main_test

import (
	"bytes"
	"database/sql"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"grantflow/internal/postgres/pgtest"
)

// TestReadmeWalkthrough runs the README's curl walkthrough, as a newcomer
// would paste it, against a freshly seeded demo: every step must succeed.
func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) < 3 {
		t.Fatalf("README has %d sh blocks, want the commands, the walkthrough and the money steps", len(blocks))
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "grantflow")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	dbURL := pgtest.URL(pgtest.NewDatabase(t))
	env := append(os.Environ(), "DATABASE_URL="+dbURL, "GRANTFLOW_DATA_DIR="+filepath.Join(dir, "data"))
	demo := exec.Command(bin, "demo")
	demo.Env = env
	if out, err := demo.CombinedOutput(); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	srv := start(t, bin, env, addr)
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()

	// serve fills the risk ranking's expense facts once at start (README),
	// so the first ranking does not: the demo's funded grant gets its row
	// without anyone asking for the ranking.
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var funded, facts int
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		q := `SELECT (SELECT count(*) FROM grants WHERE state IN ('funded', 'report_submitted', 'closed')), (SELECT count(*) FROM risk_facts)`
		if err := db.QueryRow(q).Scan(&funded, &facts); err != nil {
			t.Fatal(err)
		}
		if facts >= funded || time.Now().After(deadline) {
			break
		}
	}
	if funded == 0 || facts < funded {
		t.Fatalf("risk facts of %d of %d funded demo grants after serve started", facts, funded)
	}

	// The walkthrough runs from the repository's root and uploads the
	// sample receipt shipped there.
	receipt, err := os.ReadFile("../../docs/nota-contoh.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jpeg.Decode(bytes.NewReader(receipt)); err != nil {
		t.Fatalf("docs/nota-contoh.jpg is no JPEG: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "docs"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "docs", "nota-contoh.jpg"), receipt, 0o600); err != nil {
		t.Fatal(err)
	}
	script := strings.ReplaceAll(blocks[1][1]+"\n"+blocks[2][1], "127.0.0.1:8080", addr)
	sh := exec.Command("bash", "-euo", "pipefail", "-c", script)
	sh.Dir = dir
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("walkthrough failed: %v\n%s", err, out)
	}
	text := string(out)
	if strings.Contains(text, `"error"`) {
		t.Fatalf("a walkthrough step answered an error:\n%s", text)
	}
	// The login helper fails loudly (non-zero, on standard error) instead of
	// handing an empty token to the next step.
	helper := regexp.MustCompile(`(?s)API=[^\n]*\nlogin\(\) \{.*?\n\}\n`).FindString(blocks[1][1])
	if helper == "" {
		t.Fatal("README walkthrough has no login() helper")
	}
	bad := exec.Command("bash", "-c", strings.ReplaceAll(helper, "127.0.0.1:8080", addr)+"login nobody@demo.grantflow.id")
	var stderr bytes.Buffer
	bad.Stderr = &stderr
	if tok, err := bad.Output(); err == nil || len(tok) != 0 || !strings.Contains(stderr.String(), "login nobody@demo.grantflow.id failed") {
		t.Errorf("login helper with an unknown login: %v, token %q, stderr %q", err, tok, stderr.String())
	}
	for _, want := range []string{`"state":"approved"`, `"tranche":1`, `"receipt_sha256"`, `"kind":"expense"`, `"ntpn":"0A1B2C3D4E5F6G7H"`} {
		if !strings.Contains(text, want) {
			t.Errorf("walkthrough output lacks %s:\n%s", want, text)
		}
	}
}
