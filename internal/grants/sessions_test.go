package grants_test

import (
	"context"
	"testing"
	"time"

	"grantflow/internal/grants"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

// Two instances on one database, each answering session lookups from its
// own cache: a logout on one, or a user disabled behind both, is refused by
// the other long before the cache's TTL (NOTIFY reaches it), and in any
// case within the TTL.
func TestSessionCacheHonoursLogoutAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	db := pgtest.New(t)
	const ttl = 20 * time.Second // long, so that only the notification can explain a quick refusal
	const bound = 3 * time.Second
	a := grants.New(db, grants.Options{SessionCache: ttl})
	b := grants.New(db, grants.Options{SessionCache: ttl})
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)

	newSession := func(email string) (string, int64) {
		u, err := a.CreateUser(ctx, grants.System, grants.NewUser{Email: email, Name: "Pengguna " + email,
			Password: "rahasia-uji-123", Roles: []workflow.Role{workflow.RoleAuditor}})
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := a.Login(ctx, email, "rahasia-uji-123", "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		// Both instances now hold the session in their caches.
		for _, s := range []*grants.Service{a, b, b} {
			if got, err := s.Authenticate(ctx, token); err != nil || got.ID != u.ID {
				t.Fatalf("Authenticate: %+v, %v", got, err)
			}
		}
		return token, u.ID
	}
	refusedWithin := func(what, token string) {
		t.Helper()
		start := time.Now()
		for {
			_, err := b.Authenticate(ctx, token)
			if workflow.ErrorCode(err) == workflow.EUnauthorized {
				t.Logf("%s: refused by the other instance after %s", what, time.Since(start).Round(time.Millisecond))
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if time.Since(start) > bound {
				t.Fatalf("%s: the other instance still accepts the session after %s", what, bound)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	token, _ := newSession("keluar@uji.grantflow.id")
	if err := a.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, token); workflow.ErrorCode(err) != workflow.EUnauthorized {
		t.Fatalf("the instance that logged out still accepts the session: %v", err)
	}
	refusedWithin("logout", token)

	// A change to the user row made by no service method at all (an
	// administrator's UPDATE) reaches the caches through the trigger too.
	token, id := newSession("nonaktif@uji.grantflow.id")
	if _, err := db.SQL().ExecContext(ctx, `UPDATE users SET disabled = true WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	refusedWithin("user disabled", token)

	// A session is served from the cache: a row removed behind the
	// triggers' back (session_replication_role = replica skips them) is not
	// noticed until the TTL, which is the bound the cache promises.
	token, _ = newSession("cache@uji.grantflow.id")
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{`SET session_replication_role = replica`,
		`UPDATE sessions SET revoked_at = now() WHERE revoked_at IS NULL`, `SET session_replication_role = origin`} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Authenticate(context.Background(), token); err != nil {
		t.Fatalf("a cached session was looked up in the database: %v", err)
	}
}
