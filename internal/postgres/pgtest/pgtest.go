// Package pgtest gives each test its own PostgreSQL database, cloned from a
// template that is migrated once per migration set, so tests run in parallel
// against the real server.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"testing"

	"github.com/lib/pq"

	"grantflow/internal/postgres"
	"grantflow/migrations"
)

// DefaultAdminURL reaches the server's maintenance database; override with
// GRANTFLOW_TEST_DATABASE_URL.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL returns the URL of the maintenance database tests connect to.
func AdminURL() string {
	if u := os.Getenv("GRANTFLOW_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultAdminURL
}

// URL returns AdminURL pointed at database name.
func URL(name string) string {
	u, err := url.Parse(AdminURL())
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

// templateName changes whenever a migration changes, so a stale template is never used.
func templateName() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	return "grantflow_tmpl_" + hex.EncodeToString(h.Sum(nil))[:12]
}

// NewDatabase creates an empty migrated database for t, dropped when t ends,
// and returns its name.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin, err := sql.Open("postgres", AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	tmpl := templateName()
	ensureTemplate(t, admin, tmpl)
	name, err := clone(admin, tmpl)
	if err != nil {
		t.Fatalf("clone template: %v", err)
	}
	t.Cleanup(func() { Drop(name) })
	return name
}

// NewUnmigrated creates a database without any migration for t, dropped when
// t ends, and returns its name: for tests of a migration on rows written
// before it (migrate it part of the way with goose first).
func NewUnmigrated(t testing.TB) string {
	t.Helper()
	admin, err := sql.Open("postgres", AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name, err := clone(admin, "template0")
	if err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() { Drop(name) })
	return name
}

// Clone gives t its own copy of database tmpl (which nobody may be
// connected to), dropped when t ends, and returns an open pool on it. It is
// for a template a test binary fills once (the demo, say) and every test
// then copies, instead of filling its own.
func Clone(t testing.TB, tmpl string) *postgres.DB {
	t.Helper()
	admin, err := sql.Open("postgres", AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name, err := clone(admin, tmpl)
	if err != nil {
		t.Fatalf("clone %s: %v", tmpl, err)
	}
	t.Cleanup(func() { Drop(name) })
	db, err := postgres.Open(context.Background(), URL(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Create makes a migrated database that belongs to no test, for a
// template filled once per test binary (see Clone), and returns its name;
// the caller drops it with Drop, typically in TestMain.
func Create(ctx context.Context) (string, error) {
	admin, err := sql.Open("postgres", AdminURL())
	if err != nil {
		return "", err
	}
	defer admin.Close()
	tmpl := templateName()
	if err := buildTemplate(ctx, admin, tmpl); err != nil {
		return "", err
	}
	return clone(admin, tmpl)
}

// Drop removes database name, closing whatever is still connected to it.
// Errors are ignored: it runs in cleanups, where nothing can be done.
func Drop(name string) {
	a, err := sql.Open("postgres", AdminURL())
	if err != nil {
		return
	}
	defer a.Close()
	_, _ = a.Exec("DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)")
}

// clone creates a database with a random name from template tmpl.
func clone(admin *sql.DB, tmpl string) (string, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "grantflow_test_" + hex.EncodeToString(b)
	_, err := admin.Exec("CREATE DATABASE " + pq.QuoteIdentifier(name) + " TEMPLATE " + pq.QuoteIdentifier(tmpl))
	return name, err
}

// New returns an open pool on a fresh migrated database for t.
func New(t testing.TB) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), URL(NewDatabase(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// ensureTemplate is buildTemplate for a test: it fails t on error.
func ensureTemplate(t testing.TB, admin *sql.DB, tmpl string) {
	t.Helper()
	if err := buildTemplate(context.Background(), admin, tmpl); err != nil {
		t.Fatalf("template %s: %v", tmpl, err)
	}
}

// buildTemplate builds the template once; an advisory lock makes concurrent
// test binaries (go test runs packages in parallel) wait for one builder.
func buildTemplate(ctx context.Context, admin *sql.DB, tmpl string) error {
	conn, err := admin.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7428001)`); err != nil {
		return err
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock(7428001)`)
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, tmpl).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	building := tmpl + "_build"
	_, _ = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(building)+" WITH (FORCE)")
	db, err := postgres.Open(ctx, URL(building))
	if err != nil {
		return err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return err
	}
	db.Close()
	_, err = conn.ExecContext(ctx, "ALTER DATABASE "+pq.QuoteIdentifier(building)+" RENAME TO "+pq.QuoteIdentifier(tmpl))
	return err
}

// TamperEvents runs stmt, which must change exactly one row, as the
// superuser with grant_events' append-only trigger switched off for one
// transaction: what an attacker with database access could do, and what
// the audit verification must detect.
func TamperEvents(t testing.TB, db *sql.DB, stmt string, args ...any) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`ALTER TABLE grant_events DISABLE TRIGGER grant_events_append_only`); err != nil {
		t.Fatal(err)
	}
	res, err := tx.Exec(stmt, args...)
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%s changed %d rows, want 1", stmt, n)
	}
	if _, err := tx.Exec(`ALTER TABLE grant_events ENABLE TRIGGER grant_events_append_only`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
