package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"grantflow/internal/demo"
	"grantflow/internal/grants"
	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

// env points the command at a fresh migrated database of its own and a
// temporary data directory, and returns the database's URL. t.Setenv rules
// out t.Parallel for these tests.
func env(t *testing.T) string {
	t.Helper()
	url := pgtest.URL(pgtest.NewDatabase(t))
	t.Setenv("DATABASE_URL", url)
	t.Setenv("GRANTFLOW_DATA_DIR", t.TempDir())
	t.Setenv("GRANTFLOW_S3_ENDPOINT", "")
	return url
}

func cli(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(args, strings.NewReader(stdin), &out)
	return out.String(), err
}

func openDB(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func countUsers(t *testing.T, db *postgres.DB) int {
	t.Helper()
	n, err := db.CountUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMigrate(t *testing.T) {
	url := env(t)
	for range 2 {
		out, err := cli(t, "", "migrate")
		if err != nil {
			t.Fatalf("migrate: %v", err)
		}
		if !strings.Contains(out, "database migrated") {
			t.Errorf("migrate printed %q", out)
		}
	}
	if err := openDB(t, url).Ready(context.Background()); err != nil {
		t.Errorf("Ready after migrate: %v", err)
	}
}

func TestMigrateCreatesDatabase(t *testing.T) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "grantflow_test_cli_" + hex.EncodeToString(b)
	admin, err := sql.Open("postgres", pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	t.Cleanup(func() { _, _ = admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`) })
	t.Setenv("DATABASE_URL", pgtest.URL(name))
	if _, err := cli(t, "", "migrate"); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := openDB(t, pgtest.URL(name)).Ready(context.Background()); err != nil {
		t.Errorf("Ready after migrate: %v", err)
	}
}

func TestUserAdd(t *testing.T) {
	url := env(t)
	out, err := cli(t, "kata-sandi-rahasia\n", "user", "add", "--email", "Dewi@Kemenag.go.id", "--name", "Dewi Lestari",
		"--role", "verifier", "--role", "approver", "--province", " jawa  BARAT", "--regency", "kota bogor")
	if err != nil {
		t.Fatalf("user add: %v", err)
	}
	if !strings.Contains(out, "created") || !strings.Contains(out, "dewi@kemenag.go.id") {
		t.Errorf("user add printed %q", out)
	}

	db := openDB(t, url)
	svc := grants.New(db, grants.Options{})
	_, u, err := svc.Login(context.Background(), "dewi@kemenag.go.id", "kata-sandi-rahasia", "192.0.2.7")
	if err != nil {
		t.Fatalf("login with the password from standard input: %v", err)
	}
	if u.Name != "Dewi Lestari" || u.Province != "Jawa Barat" || u.ProvinceCode != "32" || u.Regency != "Kota Bogor" || u.RegencyCode != "32.71" || len(u.Roles) != 2 ||
		u.Roles[0] != workflow.RoleVerifier || u.Roles[1] != workflow.RoleApprover {
		t.Errorf("created user %+v", u)
	}
	if _, _, err := svc.Login(context.Background(), "dewi@kemenag.go.id", "kata-sandi-rahasia\n", "192.0.2.7"); err == nil {
		t.Error("the newline after the password became part of it")
	}

	// The same address again is refused, and says why.
	_, err = cli(t, "kata-sandi-lain\n", "user", "add", "--email", "dewi@kemenag.go.id", "--name", "Dewi Dua", "--role", "auditor")
	if err == nil || !strings.Contains(err.Error(), "dewi@kemenag.go.id") {
		t.Errorf("duplicate user add: %v", err)
	}
	if n := countUsers(t, db); n != 1 {
		t.Errorf("%d users, want 1", n)
	}
}

func TestUserAddRefusesBadInput(t *testing.T) {
	url := env(t)
	cases := []struct {
		name  string
		stdin string
		args  []string
		field string
	}{
		{"unknown role", "kata-sandi-rahasia\n", []string{"--email", "a@example.id", "--name", "A", "--role", "wizard"}, "\n  roles:"},
		{"no role", "kata-sandi-rahasia\n", []string{"--email", "a@example.id", "--name", "A"}, "\n  roles:"},
		{"missing email", "kata-sandi-rahasia\n", []string{"--name", "A", "--role", "verifier"}, "\n  email:"},
		{"bad email", "kata-sandi-rahasia\n", []string{"--email", "not an address", "--name", "A", "--role", "verifier"}, "\n  email:"},
		{"missing name", "kata-sandi-rahasia\n", []string{"--email", "a@example.id", "--role", "verifier"}, "\n  name:"},
		{"chair without a group", "kata-sandi-rahasia\n", []string{"--email", "a@example.id", "--name", "A", "--role", "chair"}, "\n  group_id:"},
		{"chair of a missing group", "kata-sandi-rahasia\n", []string{"--email", "a@example.id", "--name", "A", "--role", "chair", "--group", "999"}, "\n  group_id:"},
		{"short password", "pendek\n", []string{"--email", "a@example.id", "--name", "A", "--role", "verifier"}, "\n  password:"},
		{"no password", "", []string{"--email", "a@example.id", "--name", "A", "--role", "verifier"}, "password"},
		{"province outside the list", "kata-sandi-rahasia\n", []string{"--email", "a@example.id", "--name", "A", "--role", "verifier", "--province", "Atlantis"}, "\n  province:"},
		{"regency of another province", "kata-sandi-rahasia\n", []string{"--email", "a@example.id", "--name", "A", "--role", "verifier", "--province", "Jawa Tengah", "--regency", "Kota Bogor"}, "\n  regency:"},
		{"unknown flag", "kata-sandi-rahasia\n", []string{"--email", "a@example.id", "--name", "A", "--role", "verifier", "--colour", "red"}, "colour"},
		// An unquoted name stops flag parsing: the province after it
		// must not be dropped, leaving an unscoped verifier.
		{"unquoted name", "kata-sandi-rahasia\n", []string{"--email", "a@example.id", "--role", "verifier", "--name", "Dewi", "Lestari", "--province", "32"}, `"Lestari"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := cli(t, c.stdin, append([]string{"user", "add"}, c.args...)...)
			if err == nil {
				t.Fatal("user add succeeded")
			}
			if !strings.Contains(err.Error(), c.field) {
				t.Errorf("error does not name %q: %v", c.field, err)
			}
		})
	}
	if n := countUsers(t, openDB(t, url)); n != 0 {
		t.Errorf("refused input created %d users", n)
	}
}

func TestDemoAndAuditVerify(t *testing.T) {
	url := env(t)
	out, err := cli(t, "", "audit", "verify")
	if err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("audit verify on an empty database: %q, %v", out, err)
	}

	out, err = cli(t, "", "demo")
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	for _, want := range []string{"admin@demo.grantflow.id", "verifikator@demo.grantflow.id", "ketua1@demo.grantflow.id", "bendahara8@demo.grantflow.id", demo.Password} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	out, err = cli(t, "", "demo")
	if err != nil || !strings.Contains(out, "not seeded again") || !strings.Contains(out, "ketua1@demo.grantflow.id") {
		t.Errorf("second demo: %v\n%s", err, out)
	}
	// The logins name each grant's current state, read from the database.
	for _, want := range []string{"(funded)", "(draft)", "(approved)"} {
		if !strings.Contains(out, want) {
			t.Errorf("second demo lacks %s:\n%s", want, out)
		}
	}
	if out, err := cli(t, "", "user", "add", "--help"); err != nil || !strings.Contains(out, "-email") {
		t.Errorf("user add --help: %v\n%s", err, out)
	}

	out, err = cli(t, "", "audit", "verify")
	if err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("audit verify after demo: %q, %v", out, err)
	}

	// Tamper with the third event of one grant, as a superuser who switches
	// the append-only trigger off.
	db := openDB(t, url)
	var grant int64
	if err := db.SQL().QueryRow(`SELECT grant_id FROM grant_events WHERE seq = 3 ORDER BY grant_id LIMIT 1`).Scan(&grant); err != nil {
		t.Fatal(err)
	}
	tx, err := db.SQL().Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`ALTER TABLE grant_events DISABLE TRIGGER grant_events_append_only`,
		fmt.Sprintf(`UPDATE grant_events SET actor_name = 'Orang Lain' WHERE grant_id = %d AND seq = 3`, grant),
		`ALTER TABLE grant_events ENABLE TRIGGER grant_events_append_only`} {
		if _, err := tx.Exec(q); err != nil {
			tx.Rollback()
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	out, err = cli(t, "", "audit", "verify")
	if err == nil {
		t.Fatalf("audit verify passed a tampered chain:\n%s", out)
	}
	link := fmt.Sprintf("grant %d at event 3", grant)
	if !strings.Contains(err.Error(), link) {
		t.Errorf("error %q does not name %s", err, link)
	}
	if !strings.Contains(out, link) || strings.Contains(out, "OK:") {
		t.Errorf("audit verify output does not name %s:\n%s", link, out)
	}
}

func TestUnknownCommand(t *testing.T) {
	env(t)
	for _, args := range [][]string{{}, {"launch"}, {"user"}, {"user", "remove"}, {"audit"}} {
		out, err := cli(t, "", args...)
		if err == nil {
			t.Errorf("%v: no error", args)
		}
		if len(args) < 2 && !strings.Contains(out+err.Error(), "usage") {
			t.Errorf("%v: no usage shown: %q, %v", args, out, err)
		}
	}
	// An argument after the flags is refused, not dropped with every flag after it.
	for _, args := range [][]string{{"monitor", "--as-of", "2027-01-01", "besok"}, {"gc", "--grace", "2h", "sekarang"}} {
		if _, err := cli(t, "", args...); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q tidak dikenal", args[3])) {
			t.Errorf("%v: %v, want the stray argument named", args, err)
		}
	}
}
