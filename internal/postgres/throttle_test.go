package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
)

// attempt is a login of account from address under small limits.
func attempt(account, address string) postgres.LoginAttempt {
	return postgres.LoginAttempt{Account: account, Address: address, PairLimit: 3, AddressLimit: 6, AccountKeep: 4, Window: time.Minute}
}

func mustCount(t *testing.T, db *postgres.DB, a postgres.LoginAttempt) postgres.LoginCount {
	t.Helper()
	c, err := db.CountLogin(context.Background(), a)
	if err != nil {
		t.Fatalf("CountLogin(%s, %s): %v", a.Account, a.Address, err)
	}
	return c
}

func TestCountLoginLimits(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	victim := attempt("korban@uji.id", "127.0.0.1")

	for i := range 3 {
		c := mustCount(t, db, victim)
		if !c.Allowed || c.AccountFailures != i {
			t.Fatalf("attempt %d: %+v; want allowed after %d account failures", i, c, i)
		}
	}
	// The pair is full: refused, with a wait inside the window.
	c := mustCount(t, db, victim)
	if c.Allowed || c.RetryAfter <= 50*time.Second || c.RetryAfter > time.Minute {
		t.Fatalf("4th attempt from the same address: %+v; want refused for about a minute", c)
	}
	// The same account from another address is counted, not refused: the
	// account alone only reports its failures (for the caller's delay).
	owner := attempt("korban@uji.id", "127.0.0.2")
	if c := mustCount(t, db, owner); !c.Allowed || c.AccountFailures != 3 {
		t.Fatalf("from another address: %+v; want allowed after 3 account failures", c)
	}
	// The owner's success clears that pair and gives its attempt back.
	if err := db.ForgiveLogin(ctx, owner, true); err != nil {
		t.Fatal(err)
	}
	if c := mustCount(t, db, owner); !c.Allowed || c.AccountFailures != 3 {
		t.Fatalf("after the success: %+v; want 3 account failures (the success given back)", c)
	}
	// The guesser's pair stays refused: a success elsewhere clears only its own pair.
	if c := mustCount(t, db, victim); c.Allowed {
		t.Fatalf("the guesser's pair was cleared by the owner's success: %+v", c)
	}
	// A refused attempt counted nothing.
	if c := mustCount(t, db, attempt("lain@uji.id", "127.0.0.9")); !c.Allowed || c.AccountFailures != 0 {
		t.Fatalf("fresh key: %+v", c)
	}

	// The address limit: 6 failures from 127.0.0.1 in all (3 above) refuse every account there.
	for i := range 3 {
		if c := mustCount(t, db, attempt(fmt.Sprintf("tebak%d@uji.id", i), "127.0.0.1")); !c.Allowed {
			t.Fatalf("address failure %d refused early: %+v", 4+i, c)
		}
	}
	if c := mustCount(t, db, attempt("baru@uji.id", "127.0.0.1")); c.Allowed || c.RetryAfter <= 0 {
		t.Fatalf("7th failure from one address: %+v; want refused", c)
	}
	if c := mustCount(t, db, attempt("baru@uji.id", "127.0.0.3")); !c.Allowed {
		t.Fatalf("another address: %+v; want allowed", c)
	}
}

func TestForgiveUnjudgedLogin(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	a := attempt("guru@uji.id", "127.0.0.1")
	// Attempts that were never judged (an outage) are taken back whole.
	for i := range 10 {
		if c := mustCount(t, db, a); !c.Allowed || c.AccountFailures != 0 {
			t.Fatalf("attempt %d: %+v; every earlier one was taken back", i, c)
		}
		if err := db.ForgiveLogin(context.Background(), a, false); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		mustCount(t, db, a)
	}
	if c := mustCount(t, db, a); c.Allowed {
		t.Fatal("the 4th counted attempt passed a pair limit of 3")
	}
	// Forgiving keys that have no row, or an empty attempt, is no error.
	if err := db.ForgiveLogin(context.Background(), attempt("tidak-ada@uji.id", "10.0.0.1"), true); err != nil {
		t.Fatal(err)
	}
	if c, err := db.CountLogin(context.Background(), postgres.LoginAttempt{Window: time.Minute}); err != nil || !c.Allowed {
		t.Fatalf("empty attempt: %+v, %v", c, err)
	}
}

// Parallel guesses, from one pool or two (two instances), are judged one
// after another: exactly the limit of them get through.
func TestCountLoginParallel(t *testing.T) {
	t.Parallel()
	name := pgtest.NewDatabase(t)
	var dbs []*postgres.DB
	for range 2 {
		db, err := postgres.Open(context.Background(), pgtest.URL(name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	run := func(n int, a func(i int) postgres.LoginAttempt) int {
		var wg sync.WaitGroup
		var passed atomic.Int32
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := dbs[i%2].CountLogin(context.Background(), a(i))
				if err != nil {
					t.Errorf("CountLogin: %v", err)
					return
				}
				if c.Allowed {
					passed.Add(1)
				}
			}()
		}
		wg.Wait()
		return int(passed.Load())
	}
	if n := run(30, func(int) postgres.LoginAttempt { return attempt("korban@uji.id", "127.0.0.1") }); n != 3 {
		t.Fatalf("%d parallel guesses on one pair passed, want exactly 3", n)
	}
	if n := run(30, func(i int) postgres.LoginAttempt { return attempt(fmt.Sprintf("u%d@uji.id", i), "127.0.0.2") }); n != 6 {
		t.Fatalf("%d parallel guesses from one address passed, want exactly 6", n)
	}
	// Mixed keys that share rows in different combinations never deadlock.
	n := run(40, func(i int) postgres.LoginAttempt {
		return attempt(fmt.Sprintf("m%d@uji.id", i%3), fmt.Sprintf("127.0.1.%d", i%4))
	})
	if n == 0 || n > 4*6 {
		t.Fatalf("%d mixed guesses passed", n)
	}
}

// Failures leave the window, and rows whose failures all left are swept.
func TestCountLoginWindow(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	a := attempt("lama@uji.id", "127.0.0.1")
	a.Window = time.Second
	for range 3 {
		mustCount(t, db, a)
	}
	if c := mustCount(t, db, a); c.Allowed || c.RetryAfter > time.Second {
		t.Fatalf("full pair: %+v; want refused for at most the 1 s window", c)
	}
	time.Sleep(1100 * time.Millisecond)
	b := attempt("baru@uji.id", "127.0.0.5")
	b.Window = time.Second
	if c := mustCount(t, db, b); !c.Allowed {
		t.Fatalf("new key: %+v", c)
	}
	var rows int
	if err := db.SQL().QueryRowContext(context.Background(), `SELECT count(*) FROM login_throttle WHERE account = 'lama@uji.id' OR address = '127.0.0.1'`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Fatalf("%d expired rows left after a counted attempt swept", rows)
	}
	if c := mustCount(t, db, a); !c.Allowed || c.AccountFailures != 0 {
		t.Fatalf("after the window: %+v; want allowed with no failures", c)
	}
}
