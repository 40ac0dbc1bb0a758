package grants_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"grantflow/internal/demo"
	"grantflow/internal/evidence"
	"grantflow/internal/grants"
	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

// world is a database seeded with the demo: a programme, staff of every role,
// eight groups with chairs and treasurers, and one grant in each state the
// demo reaches.
type world struct {
	db     *postgres.DB
	svc    *grants.Service
	admin  workflow.Actor
	out    string
	byStat map[workflow.State]grants.View
}

// seed gives t its own database filled by demo.Seed. The demo is the
// fixture because it drives every grant through the service, the way people do.
func seed(t *testing.T) *world {
	t.Helper()
	db := pgtest.New(t)
	store, err := evidence.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := grants.New(db, grants.Options{Store: store})
	var out bytes.Buffer
	if err := demo.Seed(ctxT(t), svc, &out); err != nil {
		t.Fatalf("SeedDemo: %v", err)
	}
	return newWorld(t, db, svc, out.String())
}

// seeded gives t its own copy of a database seeded once per test binary:
// seeding hashes 24 passwords and drives 9 grants, which would dominate the
// run if every test did it. The copy is made like pgtest's, with CREATE
// DATABASE … TEMPLATE, so each test still owns its database.
func seeded(t *testing.T) *world {
	t.Helper()
	demoTmpl.once.Do(func() {
		ctx := context.Background()
		demoTmpl.name = "grantflow_demo_" + randomHex()
		db, err := postgres.Open(ctx, pgtest.URL(demoTmpl.name))
		if err != nil {
			demoTmpl.err = err
			return
		}
		defer db.Close()
		if demoTmpl.err = db.Migrate(ctx); demoTmpl.err != nil {
			return
		}
		var out bytes.Buffer
		demoTmpl.err = demo.Seed(ctx, grants.New(db, grants.Options{}), &out)
		demoTmpl.out = out.String()
	})
	if demoTmpl.err != nil {
		t.Fatalf("seeding the demo template: %v", demoTmpl.err)
	}
	name := "grantflow_test_" + randomHex()
	admin, err := sql.Open("postgres", pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + pq.QuoteIdentifier(name) + " TEMPLATE " + pq.QuoteIdentifier(demoTmpl.name)); err != nil {
		t.Fatalf("clone the demo: %v", err)
	}
	t.Cleanup(func() { dropDatabase(name) })
	db, err := postgres.Open(context.Background(), pgtest.URL(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return newWorld(t, db, grants.New(db, grants.Options{}), demoTmpl.out)
}

var demoTmpl struct {
	once sync.Once
	name string
	out  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if demoTmpl.name != "" {
		dropDatabase(demoTmpl.name)
	}
	os.Exit(code)
}

func dropDatabase(name string) {
	a, err := sql.Open("postgres", pgtest.AdminURL())
	if err != nil {
		return
	}
	defer a.Close()
	_, _ = a.Exec("DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)")
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newWorld(t *testing.T, db *postgres.DB, svc *grants.Service, out string) *world {
	t.Helper()
	w := &world{db: db, svc: svc, out: out, byStat: map[workflow.State]grants.View{}}
	w.admin = w.actor(t, "admin@demo.grantflow.id")
	all, err := w.svc.Grants(ctxT(t), w.admin, grants.ListFilter{})
	if err != nil {
		t.Fatalf("Grants: %v", err)
	}
	for _, g := range all {
		w.byStat[g.State] = g
	}
	return w
}

// actor reads a user's identity straight from the database: no password
// hashing, so tests stay fast.
func (w *world) actor(t *testing.T, email string) workflow.Actor {
	t.Helper()
	u, err := w.db.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return u.Actor()
}

// grant returns the demo grant in state s.
func (w *world) grant(t *testing.T, s workflow.State) grants.View {
	t.Helper()
	g, ok := w.byStat[s]
	if !ok {
		t.Fatalf("no demo grant in state %s", s)
	}
	return g
}

// chairOf returns the actor of the chair of group id.
func (w *world) chairOf(t *testing.T, groupID int64) workflow.Actor {
	t.Helper()
	var email string
	err := w.db.SQL().QueryRow(`SELECT email FROM users WHERE group_id = $1 AND 'chair' = ANY(roles)`, groupID).Scan(&email)
	if err != nil {
		t.Fatalf("chair of group %d: %v", groupID, err)
	}
	return w.actor(t, email)
}

// tamper runs stmt as the superuser with the append-only trigger switched off
// for the duration of one transaction: what an attacker with database access
// could do, and what audit verify must detect.
func tamper(t *testing.T, db *sql.DB, stmt string, args ...any) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range []string{`ALTER TABLE grant_events DISABLE TRIGGER grant_events_append_only`, stmt,
		`ALTER TABLE grant_events ENABLE TRIGGER grant_events_append_only`} {
		var a []any
		if q == stmt {
			a = args
		}
		res, err := tx.Exec(q, a...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if q == stmt {
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("%s changed %d rows, want 1", q, n)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, what string, err error, code workflow.Code) {
	t.Helper()
	if got := workflow.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

// hasField reports whether err carries a detail on field.
func hasField(err error, field string) bool {
	var we *workflow.Error
	if !errors.As(err, &we) {
		return false
	}
	for _, d := range we.Details {
		if d.Field == field {
			return true
		}
	}
	return false
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
