package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func wantCode(t *testing.T, what string, err error, code workflow.Code) {
	t.Helper()
	if got := workflow.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

// freshName returns the name of a database that does not exist yet and drops
// it when t ends, for the tests of creating and migrating a database.
func freshName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "grantflow_test_fresh_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		a, err := sql.Open("postgres", pgtest.AdminURL())
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec("DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)")
	})
	return name
}

func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	a, err := sql.Open("postgres", pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var ok bool
	if err := a.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func open(t *testing.T, name string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(ctxT(t), pgtest.URL(name))
	if err != nil {
		t.Fatalf("Open %s: %v", name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func appliedMigrations(t *testing.T, db *postgres.DB) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM goose_db_version`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOpenMigrateReady(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	name := freshName(t)
	if databaseExists(t, name) {
		t.Fatalf("%s exists before Open", name)
	}
	db := open(t, name)
	if !databaseExists(t, name) {
		t.Fatalf("Open did not create %s", name)
	}
	// A second Open of the existing database just connects.
	open(t, name)

	wantCode(t, "Ready before Migrate", db.Ready(ctx), workflow.EUnavailable)
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if err := db.Ready(ctx); err != nil {
		t.Fatalf("Ready after Migrate: %v", err)
	}
	n := appliedMigrations(t, db)
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if m := appliedMigrations(t, db); m != n {
		t.Errorf("second Migrate recorded %d migrations, had %d", m, n)
	}
	if err := db.Ready(ctx); err != nil {
		t.Fatalf("Ready after second Migrate: %v", err)
	}
}

// Instances that start together on a new database each open it (creating it
// once) and migrate it; the advisory lock makes them take turns.
func TestOpenAndMigrateConcurrently(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	name := freshName(t)
	const n = 3
	dbs := make([]*postgres.DB, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			db, err := postgres.Open(ctx, pgtest.URL(name))
			if err != nil {
				errs[i] = fmt.Errorf("open: %w", err)
				return
			}
			dbs[i] = db
			errs[i] = db.Migrate(ctx)
		}()
	}
	close(start)
	wg.Wait()
	for _, db := range dbs {
		if db != nil {
			t.Cleanup(func() { db.Close() })
		}
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	if t.Failed() {
		return
	}
	if err := dbs[0].Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	// Each migration applied exactly once (goose also records version 0).
	var dup int
	if err := dbs[0].SQL().QueryRow(`SELECT count(*) FROM (SELECT version_id FROM goose_db_version
		GROUP BY version_id HAVING count(*) > 1) d`).Scan(&dup); err != nil {
		t.Fatal(err)
	}
	if dup != 0 {
		t.Errorf("%d migrations recorded more than once", dup)
	}
}

func TestMigrateTwiceIsNoop(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	db := pgtest.New(t)
	n := appliedMigrations(t, db)
	for range 2 {
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	if m := appliedMigrations(t, db); m != n {
		t.Errorf("Migrate on a migrated database recorded %d migrations, had %d", m, n)
	}
	if err := db.Ready(ctx); err != nil {
		t.Errorf("Ready: %v", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	start := time.Now()
	_, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:1/grantflow_nowhere?sslmode=disable")
	wantCode(t, "Open on a closed port", err, workflow.EUnavailable)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refused connection took %s to report", d)
	}

	// The same through mapErr on a raw driver error.
	raw, err := sql.Open("postgres", "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	wantCode(t, "mapErr(connection refused)", postgres.MapErr(raw.PingContext(ctx)), workflow.EUnavailable)
}

func TestMapErr(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	db := pgtest.New(t)
	raw := db.SQL()

	if postgres.MapErr(nil) != nil {
		t.Error("mapErr(nil) != nil")
	}
	own := workflow.Errorf(workflow.EForbidden, "tidak boleh")
	if got := postgres.MapErr(own); got != error(own) {
		t.Errorf("mapErr changed a *workflow.Error: %v", got)
	}

	// Raw statements, so that the driver error reaches mapErr untouched.
	insert := `INSERT INTO users (email, name, password_hash, roles) VALUES ($1, 'Nama', 'x', $2)`
	if _, err := raw.ExecContext(ctx, insert, "a@example.id", pq.Array([]string{"admin"})); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		err  error
		want workflow.Code
	}{
		{"unique violation", exec(ctx, raw, insert, "A@example.id", pq.Array([]string{"admin"})), workflow.EConflict},
		{"check violation", exec(ctx, raw, insert, "b@example.id", pq.Array([]string{})), workflow.EUnprocessable},
		{"chair without a group (check)", exec(ctx, raw, insert, "c@example.id", pq.Array([]string{"chair"})), workflow.EUnprocessable},
		{"foreign key violation", exec(ctx, raw, `INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ('t', 999999, now())`), workflow.EUnprocessable},
		{"not null violation", exec(ctx, raw, `INSERT INTO users (email, name, password_hash, roles) VALUES (NULL, 'n', 'x', '{admin}')`), workflow.EUnprocessable},
		{"bad text for a number", exec(ctx, raw, `SELECT 'abc'::bigint`), workflow.EUnprocessable},
		{"cancelled context", canceled(raw), workflow.EUnavailable},
		{"statement timeout", exec(ctx, raw, `SET statement_timeout = '10ms'; SELECT pg_sleep(1)`), workflow.EUnavailable},
		{"plain error", errors.New("boom"), workflow.EInternal},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: statement succeeded", c.name)
			continue
		}
		if got := workflow.ErrorCode(postgres.MapErr(c.err)); got != c.want {
			t.Errorf("%s: mapErr(%v) = %s, want %s", c.name, c.err, got, c.want)
		}
		if !errors.Is(postgres.MapErr(c.err), c.err) {
			t.Errorf("%s: mapped error does not wrap the cause", c.name)
		}
	}

	// The same codes come out of the query methods.
	_, err := db.CreateUser(ctx, postgres.User{Email: "a@example.id", Name: "Lagi", PasswordHash: "x", Roles: []workflow.Role{workflow.RoleAdmin}})
	wantCode(t, "CreateUser with a taken address", err, workflow.EConflict)
	_, err = db.CreateUser(ctx, postgres.User{Email: "d@example.id", Name: "Ketua", PasswordHash: "x", Roles: []workflow.Role{workflow.RoleChair}})
	wantCode(t, "CreateUser chair without a group", err, workflow.EUnprocessable)
	_, err = db.Grant(ctx, 424242)
	wantCode(t, "Grant missing", err, workflow.ENotFound)
	err = db.InTx(ctx, func(tx *postgres.Tx) error {
		_, err := tx.CreateUser(ctx, postgres.User{Email: "a@example.id", Name: "Lagi", PasswordHash: "x", Roles: []workflow.Role{workflow.RoleAdmin}})
		return err
	})
	wantCode(t, "InTx returning a conflict", err, workflow.EConflict)
}

func exec(ctx context.Context, db *sql.DB, q string, args ...any) error {
	// A dedicated connection so that SET statement_timeout stays with its statement.
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	defer conn.ExecContext(context.Background(), `RESET statement_timeout`)
	if len(args) == 0 {
		_, err = conn.ExecContext(ctx, q)
		return err
	}
	_, err = conn.ExecContext(ctx, q, args...)
	return err
}

func canceled(db *sql.DB) error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := db.ExecContext(ctx, `SELECT 1`)
	return err
}
