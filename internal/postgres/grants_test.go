package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"testing"
	"time"

	"github.com/lib/pq"

	"grantflow/internal/demo"
	"grantflow/internal/grants"
	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

// fixture is a database holding one admin, a programme, a KKM group and
// one grant with a few events, all made through the service layer.
type fixture struct {
	db    *postgres.DB
	svc   *grants.Service
	admin workflow.Actor
	grant int64
	group workflow.Group
	prog  workflow.Program
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := ctxT(t)
	db := pgtest.New(t)
	svc := grants.New(db, grants.Options{})
	u, err := svc.CreateUser(ctx, grants.System, grants.NewUser{Email: "admin@example.id", Name: "Admin", Password: "rahasia-sekali",
		Roles: []workflow.Role{workflow.RoleAdmin}})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	f := &fixture{db: db, svc: svc, admin: workflow.Actor{UserID: u.ID, Name: u.Name, Roles: u.Roles}}
	today := workflow.DateOf(time.Now().In(workflow.Jakarta))
	f.prog, err = svc.CreateProgram(ctx, f.admin, workflow.Program{Name: "Program Uji", Year: today.Time().Year(),
		ProposalOpensOn: today.AddDays(-10), ProposalClosesOn: today.AddDays(10), ActivityEndsOn: today.AddDays(100),
		ReportDueOn: today.AddDays(120), BudgetTotal: 1_000_000_000})
	if err != nil {
		t.Fatalf("CreateProgram: %v", err)
	}
	f.group, err = svc.CreateGroup(ctx, f.admin, kkmGroup("KKM MTs Kabupaten Uji"))
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	v, err := svc.OpenGrant(ctx, f.admin, f.prog.ID, f.group.ID)
	if err != nil {
		t.Fatalf("OpenGrant: %v", err)
	}
	f.grant = v.ID
	if _, err := svc.Act(ctx, f.admin, f.grant, workflow.Cancel, grants.ActInput{Comment: "Uji pembatalan."}); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	return f
}

func kkmGroup(name string) workflow.Group {
	// Each name its own SK number, account and members (one group once).
	n := int(crc32.ChecksumIEEE([]byte(name)) % 1_000_000)
	g := workflow.Group{Kind: workflow.KKM, Name: name, Level: "MTs", Province: "Jawa Barat", Regency: "Kabupaten Bogor",
		SKNumber: fmt.Sprintf("B-%d/Kk.10/PP.00/2026", n), BankName: "Bank Syariah Indonesia", BankAccountNumber: fmt.Sprintf("71%08d", n),
		BankAccountName: name}
	g.Members = demo.Members(n, 10, "MTs Uji 1", "MTs Uji 2")
	return g
}

type storedEvent struct {
	n       int
	comment string
	hash    string
}

func readEvent(t *testing.T, f *fixture, seq int) storedEvent {
	t.Helper()
	var e storedEvent
	err := f.db.SQL().QueryRow(`SELECT (SELECT count(*) FROM grant_events), comment, hash FROM grant_events
		WHERE grant_id = $1 AND seq = $2`, f.grant, seq).Scan(&e.n, &e.comment, &e.hash)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// The database itself refuses to change or remove an event, whoever asks.
func TestGrantEventsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newFixture(t)
	before := readEvent(t, f, 1)
	if before.n != 2 {
		t.Fatalf("fixture has %d events, want 2", before.n)
	}
	for _, stmt := range []string{
		`UPDATE grant_events SET comment = 'diubah' WHERE grant_id = $1 AND seq = 1`,
		`UPDATE grant_events SET hash = prev_hash WHERE grant_id = $1`,
		`DELETE FROM grant_events WHERE grant_id = $1 AND seq = 1`,
		`DELETE FROM grant_events WHERE grant_id = $1`,
		`TRUNCATE grant_events`,
		`TRUNCATE grant_events CASCADE`,
	} {
		var err error
		if stmt[0] == 'T' {
			_, err = f.db.SQL().ExecContext(ctx, stmt)
		} else {
			_, err = f.db.SQL().ExecContext(ctx, stmt, f.grant)
		}
		var pqErr *pq.Error
		if !errors.As(err, &pqErr) || pqErr.Code != "42501" {
			t.Errorf("%s: error %v, want insufficient_privilege from the trigger", stmt, err)
		}
		if err := postgres.MapErr(err); err == nil {
			t.Errorf("%s: mapErr dropped the error", stmt)
		}
		if after := readEvent(t, f, 1); after != before {
			t.Errorf("%s changed the events: %+v, was %+v", stmt, after, before)
		}
	}
	// Appending still works.
	err := f.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, err := tx.GrantForUpdate(ctx, f.grant)
		if err != nil {
			return err
		}
		_, err = tx.AppendEvent(ctx, workflow.NewEvent(g, "note", f.admin, workflow.RoleAdmin, tx.Now(), "", nil))
		return err
	})
	if err != nil {
		t.Fatalf("append after refused changes: %v", err)
	}
}

// AppendEvent numbers and chains events; EachEvent reads them back in chain
// order, one grant or all, and stops at the callback's error.
func TestAppendAndEachEvent(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newFixture(t)
	other, err := f.svc.CreateGroup(ctx, f.admin, kkmGroup("KKM MTs Kabupaten Lain"))
	if err != nil {
		t.Fatal(err)
	}
	ov, err := f.svc.OpenGrant(ctx, f.admin, f.prog.ID, other.ID)
	if err != nil {
		t.Fatal(err)
	}

	err = f.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, err := tx.GrantForUpdate(ctx, f.grant)
		if err != nil {
			return err
		}
		ev := workflow.NewEvent(g, "note", f.admin, workflow.RoleAdmin, tx.Now(), "catatan", map[string]any{"amount": int64(9_007_199_254_740_993)})
		ev, err = tx.AppendEvent(ctx, ev)
		if err != nil {
			return err
		}
		if ev.Seq != 3 || ev.PrevHash == "" || ev.Hash != workflow.ChainHash(ev.PrevHash, ev.Canonical()) {
			t.Errorf("appended event %+v", ev)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	evs, err := f.db.Events(ctx, f.grant)
	if err != nil {
		t.Fatal(err)
	}
	prev := ""
	for i, ev := range evs {
		if ev.Seq != i+1 || ev.GrantID != f.grant || ev.PrevHash != prev || ev.Hash != workflow.ChainHash(ev.PrevHash, ev.Canonical()) {
			t.Errorf("event %d read back as %+v (prev %q)", i, ev, prev)
		}
		prev = ev.Hash
	}
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3", len(evs))
	}

	var all []int64
	if err := f.db.EachEvent(ctx, 0, func(ev workflow.Event) error { all = append(all, ev.GrantID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || all[0] != f.grant || all[3] != ov.ID {
		t.Errorf("EachEvent(0) grants %v, want 3 of %d then 1 of %d", all, f.grant, ov.ID)
	}

	stop := errors.New("stop")
	seen := 0
	err = f.db.EachEvent(ctx, f.grant, func(workflow.Event) error { seen++; return stop })
	if !errors.Is(err, stop) || seen != 1 {
		t.Errorf("EachEvent after the callback's error: %v, %d calls", err, seen)
	}
}

// sessionsFixture returns a database with one user (made through the
// service) and a function that opens a session for it with the given expiry.
func sessionsFixture(t *testing.T) (*postgres.DB, postgres.User, func(expires time.Time) string) {
	t.Helper()
	ctx := ctxT(t)
	db := pgtest.New(t)
	v, err := grants.New(db, grants.Options{}).CreateUser(ctx, grants.System, grants.NewUser{Email: "staf@example.id", Name: "Staf",
		Password: "rahasia-sekali", Roles: []workflow.Role{workflow.RoleVerifier}, Province: "Jawa Barat"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.User(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	mk := func(expires time.Time) string {
		n++
		h := fmt.Sprintf("%064x", n)
		if err := db.CreateSession(ctx, h, u.ID, expires); err != nil {
			t.Fatal(err)
		}
		return h
	}
	return db, u, mk
}

func TestSessionUser(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	db, u, mk := sessionsFixture(t)
	idle := time.Hour
	set := func(h, stmt string) {
		t.Helper()
		if _, err := db.SQL().ExecContext(ctx, `UPDATE sessions SET `+stmt+` WHERE token_hash = $1`, h); err != nil {
			t.Fatal(err)
		}
	}
	lastSeen := func(h string) time.Duration {
		t.Helper()
		var ago float64
		if err := db.SQL().QueryRowContext(ctx, `SELECT extract(epoch FROM now() - last_seen_at) FROM sessions WHERE token_hash = $1`, h).Scan(&ago); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ago * float64(time.Second))
	}

	t.Run("live session returns its user and is marked used", func(t *testing.T) {
		h := mk(time.Now().Add(time.Hour))
		set(h, `last_seen_at = now() - interval '50 minutes'`)
		got, err := db.SessionUser(ctx, h, idle)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || got.Email != u.Email || len(got.Roles) != 1 || got.Province != "Jawa Barat" {
			t.Errorf("SessionUser = %+v", got)
		}
		if ago := lastSeen(h); ago > time.Minute {
			t.Errorf("last_seen_at not refreshed: %s ago", ago)
		}
		// Used 50 minutes ago, refreshed now: still live.
		if _, err := db.SessionUser(ctx, h, idle); err != nil {
			t.Errorf("second use: %v", err)
		}
	})

	t.Run("idle expiry", func(t *testing.T) {
		h := mk(time.Now().Add(12 * time.Hour))
		set(h, `last_seen_at = now() - interval '61 minutes'`)
		_, err := db.SessionUser(ctx, h, idle)
		wantCode(t, "idle session", err, workflow.EUnauthorized)
		if ago := lastSeen(h); ago < time.Hour {
			t.Errorf("a refused session was refreshed (%s ago)", ago)
		}
		// A longer idle limit accepts the same session.
		if _, err := db.SessionUser(ctx, h, 2*time.Hour); err != nil {
			t.Errorf("with idle 2h: %v", err)
		}
	})

	t.Run("idle expiry by waiting", func(t *testing.T) {
		h := mk(time.Now().Add(time.Hour))
		if _, err := db.SessionUser(ctx, h, time.Second); err != nil {
			t.Fatalf("fresh session: %v", err)
		}
		time.Sleep(1100 * time.Millisecond)
		_, err := db.SessionUser(ctx, h, time.Second)
		wantCode(t, "session idle for 1.1s with idle 1s", err, workflow.EUnauthorized)
	})

	t.Run("absolute expiry", func(t *testing.T) {
		h := mk(time.Now().Add(time.Hour))
		set(h, `expires_at = now() - interval '1 second'`)
		_, err := db.SessionUser(ctx, h, idle)
		wantCode(t, "expired session in use", err, workflow.EUnauthorized)

		h = mk(time.Now().Add(800 * time.Millisecond))
		if _, err := db.SessionUser(ctx, h, idle); err != nil {
			t.Fatalf("short session before expiry: %v", err)
		}
		time.Sleep(time.Second)
		_, err = db.SessionUser(ctx, h, idle)
		wantCode(t, "short session after expiry", err, workflow.EUnauthorized)
	})

	t.Run("revocation", func(t *testing.T) {
		h := mk(time.Now().Add(time.Hour))
		keep := mk(time.Now().Add(time.Hour))
		if _, err := db.SessionUser(ctx, h, idle); err != nil {
			t.Fatal(err)
		}
		if err := db.RevokeSession(ctx, h); err != nil {
			t.Fatal(err)
		}
		_, err := db.SessionUser(ctx, h, idle)
		wantCode(t, "revoked session", err, workflow.EUnauthorized)
		if err := db.RevokeSession(ctx, h); err != nil {
			t.Errorf("second revoke: %v", err)
		}
		if _, err := db.SessionUser(ctx, keep, idle); err != nil {
			t.Errorf("revoking one session ended another: %v", err)
		}
	})

	t.Run("unknown token", func(t *testing.T) {
		_, err := db.SessionUser(ctx, fmt.Sprintf("%064x", 999999), idle)
		wantCode(t, "unknown session", err, workflow.EUnauthorized)
	})

	t.Run("disabled user", func(t *testing.T) {
		h := mk(time.Now().Add(time.Hour))
		if _, err := db.SQL().ExecContext(ctx, `UPDATE users SET disabled = true WHERE id = $1`, u.ID); err != nil {
			t.Fatal(err)
		}
		defer db.SQL().ExecContext(context.Background(), `UPDATE users SET disabled = false WHERE id = $1`, u.ID)
		_, err := db.SessionUser(ctx, h, idle)
		wantCode(t, "session of a disabled user", err, workflow.EUnauthorized)
	})
}
