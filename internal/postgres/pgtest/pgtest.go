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
	return create(t, admin, tmpl)
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
	return create(t, admin, "template0")
}

// create makes a database for t as a copy of template, dropped when t ends.
func create(t testing.TB, admin *sql.DB, template string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "grantflow_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+pq.QuoteIdentifier(name)+" TEMPLATE "+pq.QuoteIdentifier(template)); err != nil {
		t.Fatalf("clone %s: %v", template, err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("postgres", AdminURL())
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec("DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)")
	})
	return name
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

// ensureTemplate builds the template once; an advisory lock makes concurrent
// test binaries (go test runs packages in parallel) wait for one builder.
func ensureTemplate(t testing.TB, admin *sql.DB, tmpl string) {
	t.Helper()
	ctx := context.Background()
	conn, err := admin.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7428001)`); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock(7428001)`)
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, tmpl).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		return
	}
	building := tmpl + "_build"
	_, _ = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(building)+" WITH (FORCE)")
	db, err := postgres.Open(ctx, URL(building))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		t.Fatal(err)
	}
	db.Close()
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+pq.QuoteIdentifier(building)+" RENAME TO "+pq.QuoteIdentifier(tmpl)); err != nil {
		t.Fatal(err)
	}
}
