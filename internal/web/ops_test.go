package web

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.do("GET", "/healthz", "", nil)
	expect(t, r, 200, "healthz")
	if !strings.Contains(string(r.body), "ok") {
		t.Fatalf("healthz body %s", r.body)
	}
	r = h.do("GET", "/readyz", "", nil)
	expect(t, r, 200, "readyz")
	if !strings.Contains(string(r.body), "ready") {
		t.Fatalf("readyz body %s", r.body)
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	hexID := regexp.MustCompile(`^[0-9a-f]{16}$`)

	// A sensible id from the client is echoed, on success and on error.
	for _, path := range []string{"/healthz", "/api/v1/grants", "/nothing"} {
		req := request("GET", path, "", nil)
		req.Header.Set("X-Request-ID", "req-abc.123_X")
		if got := h.send(req).header.Get("X-Request-ID"); got != "req-abc.123_X" {
			t.Errorf("%s: X-Request-ID %q, want it echoed", path, got)
		}
	}
	// None, or one that could forge log lines, is replaced by a fresh one.
	seen := map[string]bool{}
	for _, id := range []string{"", "bad id with spaces", "evil\"}\n{\"x", strings.Repeat("a", 65)} {
		req := request("GET", "/healthz", "", nil)
		if id != "" {
			req.Header.Set("X-Request-ID", id)
		}
		got := h.send(req).header.Get("X-Request-ID")
		if !hexID.MatchString(got) || seen[got] {
			t.Errorf("sent %q, got X-Request-ID %q", id, got)
		}
		seen[got] = true
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.grantIn(t, h.prog, h.groupA, workflow.Draft)
	admin := h.token("admin")
	expect(t, h.do("GET", fmt.Sprintf("/api/v1/grants/%d", g.ID), admin, nil), 200, "grant")
	expect(t, h.do("GET", fmt.Sprintf("/api/v1/grants/%d", g.ID), admin, nil), 200, "grant")
	expect(t, h.do("GET", "/api/v1/grants/999999", admin, nil), http.StatusNotFound, "missing grant")
	expect(t, h.do("POST", fmt.Sprintf("/api/v1/grants/%d/actions/cancel", g.ID), admin, map[string]string{"comment": "uji"}), 200, "cancel")
	h.do("GET", "/no/such/path/12345", "", nil)

	r := h.do("GET", "/metrics", "", nil)
	expect(t, r, 200, "metrics")
	body := string(r.body)
	for _, want := range []string{
		`grantflow_http_requests_total{method="GET",route="/api/v1/grants/:id",status="200"} 2`,
		`grantflow_http_requests_total{method="GET",route="/api/v1/grants/:id",status="404"} 1`,
		`grantflow_http_requests_total{method="POST",route="/api/v1/grants/:id/actions/:action",status="200"} 1`,
		`grantflow_http_requests_total{method="POST",route="/api/v1/session",status="201"}`,
		`grantflow_http_request_duration_seconds_bucket{method="GET",route="/api/v1/grants/:id"`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Raw paths never become labels: the label set stays bounded.
	for _, bad := range []string{fmt.Sprintf(`route="/api/v1/grants/%d"`, g.ID), `route="/api/v1/grants/999999"`, `12345`} {
		if strings.Contains(body, bad) {
			t.Errorf("metrics contain raw path %s", bad)
		}
	}
}

// proxy is a TCP forwarder to PostgreSQL that a test can cut and restore,
// to play a database outage without touching the real server.
type proxy struct {
	t      testing.TB
	addr   string
	target string

	frozen atomic.Bool // forward nothing, close nothing: a database that stopped answering

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, addr: ln.Addr().String(), target: target, conns: map[net.Conn]bool{}}
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.DialTimeout("tcp", p.target, 3*time.Second)
			if err != nil {
				c.Close()
				continue
			}
			if !p.track(c, up) {
				continue
			}
			go p.pipe(c, up)
			go p.pipe(up, c)
		}
	}()
}

// track records a live pair; it refuses (and closes) it when the proxy was
// cut meanwhile.
func (p *proxy) track(c, up net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		c.Close()
		up.Close()
		return false
	}
	p.conns[c], p.conns[up] = true, true
	return true
}

// pipe copies src to dst until either closes; while the proxy is frozen the
// bytes are swallowed.
func (p *proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.frozen.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
}

// cut closes the listener and every live connection: new connections are
// refused and pooled ones break, as when PostgreSQL goes away.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// restore listens again on the same address.
func (p *proxy) restore() {
	p.t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("restore proxy on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// proxiedDB opens a fresh migrated database through a new proxy.
func proxiedDB(t testing.TB) (*postgres.DB, *proxy) {
	t.Helper()
	name := pgtest.NewDatabase(t)
	u, err := url.Parse(pgtest.URL(name))
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr
	db, err := postgres.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, p
}

// TestDatabaseOutage cuts the database away under a running server: readiness
// and requests answer 503 within seconds, and everything recovers by itself
// once the database is back.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	db, p := proxiedDB(t)
	h := newHarnessOn(t, db, Options{})
	admin, verifier := h.token("admin"), h.token("verifier")
	g := h.grantIn(t, h.prog, h.groupA, workflow.Submitted)
	expect(t, h.do("GET", "/readyz", "", nil), 200, "ready before")
	expect(t, h.do("GET", "/api/v1/grants", admin, nil), 200, "grants before")

	p.cut()
	const limit = 8 * time.Second
	for _, c := range []struct {
		name, method, path, token string
		body                      any
	}{
		{"readyz", "GET", "/readyz", "", nil},
		{"list", "GET", "/api/v1/grants", admin, nil},
		{"read", "GET", fmt.Sprintf("/api/v1/grants/%d", g.ID), admin, nil},
		{"write", "POST", fmt.Sprintf("/api/v1/grants/%d/actions/start_review", g.ID), verifier, nil},
		{"login", "POST", "/api/v1/session", "", map[string]string{"email": h.user("admin").view.Email, "password": testPassword}},
		{"list again", "GET", "/api/v1/grants", admin, nil},
	} {
		r := h.do(c.method, c.path, c.token, c.body)
		e := expect(t, r, http.StatusServiceUnavailable, "during the outage: "+c.name)
		if e.Code != "unavailable" {
			t.Errorf("%s: code %q", c.name, e.Code)
		}
		if r.took > limit {
			t.Errorf("%s: answered after %v", c.name, r.took)
		}
		if r.header.Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", c.name)
		}
	}
	// The process itself is alive.
	expect(t, h.do("GET", "/healthz", "", nil), 200, "healthz during the outage")

	p.restore()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := h.do("GET", "/readyz", "", nil)
		if r.status == 200 {
			break
		}
		if r.status != http.StatusServiceUnavailable {
			t.Fatalf("readyz while recovering: %d %s", r.status, r.body)
		}
		if time.Now().After(deadline) {
			t.Fatal("not ready 15 s after the database came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Requests work again on the same server and pool; a pooled connection
	// broken by the outage may fail one request (503), never more than the
	// pool holds.
	ok := 0
	for i := 0; i < 40 && ok < 5; i++ {
		r := h.do("GET", "/api/v1/grants", admin, nil)
		switch r.status {
		case 200:
			ok++
		case http.StatusServiceUnavailable:
			if ok > 0 {
				t.Fatalf("503 after recovery: %s", r.body)
			}
		default:
			t.Fatalf("after recovery: %d %s", r.status, r.body)
		}
	}
	if ok < 5 {
		t.Fatal("requests did not recover")
	}
	// The write that failed during the outage changed nothing and can now be made.
	if got := h.getGrant(t, "admin", g.ID); got.State != workflow.Submitted {
		t.Fatalf("state %s", got.State)
	}
	expect(t, h.act("verifier", g.ID, workflow.StartReview, nil), 200, "write after recovery")
	h.events(t, "admin", g.ID)
}

// TestDatabaseHangs freezes the database instead: connections stay open but
// nothing comes back, as with a hung server or a silent network. Requests
// on pooled connections must still answer 503 within seconds instead of
// waiting forever, and the server recovers when the database answers again.
func TestDatabaseHangs(t *testing.T) {
	t.Parallel()
	db, p := proxiedDB(t)
	h := newHarnessOn(t, db, Options{})
	admin := h.token("admin")
	// Warm the pool with several connections, so the frozen requests land
	// on established ones.
	h.race(t, 6, func(int) *http.Request { return request("GET", "/api/v1/grants", admin, nil) })
	// The grant read runs a prepared statement: prepare it before the freeze.
	expect(t, h.do("GET", "/api/v1/grants/1", admin, nil), 404, "grant read before the freeze")

	p.frozen.Store(true)
	const limit = 8 * time.Second
	statuses := make([]int, 4)
	var wg sync.WaitGroup
	for i := range statuses {
		path := "/api/v1/grants"
		switch i {
		case 0:
			path = "/readyz"
		case 1:
			path = "/api/v1/grants/1"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			// A bounded app.Test: a hang fails the test instead of stalling it.
			resp, err := h.srv.App().Test(request("GET", path, admin, nil), int((limit + 2*time.Second).Milliseconds()))
			if err != nil {
				t.Errorf("%s during the freeze: %v after %v", path, err, time.Since(start))
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
			if took := time.Since(start); took > limit {
				t.Errorf("%s during the freeze answered after %v", path, took)
			}
		}()
	}
	wg.Wait()
	for i, st := range statuses {
		if st != http.StatusServiceUnavailable && st != 0 {
			t.Errorf("request %d during the freeze: %d, want 503", i, st)
		}
	}

	p.frozen.Store(false)
	deadline := time.Now().Add(15 * time.Second)
	for ok := 0; ok < 3; {
		r := h.do("GET", "/api/v1/grants", admin, nil)
		switch {
		case r.status == 200:
			ok++
		case r.status != http.StatusServiceUnavailable:
			t.Fatalf("after the freeze: %d %s", r.status, r.body)
		case time.Now().After(deadline):
			t.Fatal("requests did not recover after the freeze")
		}
	}
	expect(t, h.do("GET", "/readyz", "", nil), 200, "ready after the freeze")
}

// TestGracefulShutdown runs the real server on a port. A request is held
// in flight by a row lock the test takes on its grant (no test-only route
// is needed: the request is a real one, waiting inside its transaction).
// Shutdown must make /readyz answer 503 at once, stop taking connections,
// wait for the request, which completes normally, and then return.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	verifier := h.token("verifier")
	g := h.grantIn(t, h.prog, h.groupA, workflow.Submitted)

	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()
	listenErr := make(chan error, 1)
	go func() { listenErr <- h.srv.Listen(addr) }()
	client := &http.Client{Timeout: 10 * time.Second}
	waitFor(t, 5*time.Second, "server listening", func() bool {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	// Hold the grant's row so that start_review waits inside its transaction.
	ctx := t.Context()
	tx, err := h.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT id FROM grants WHERE id = $1 FOR UPDATE`, g.ID); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		status int
		body   string
		err    error
	}
	inflight := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest("POST", fmt.Sprintf("http://%s/api/v1/grants/%d/actions/start_review", addr, g.ID), nil)
		req.Header.Set("Authorization", "Bearer "+verifier)
		resp, err := client.Do(req)
		if err != nil {
			inflight <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b := new(strings.Builder)
		_, err = io.Copy(b, resp.Body)
		inflight <- answer{status: resp.StatusCode, body: b.String(), err: err}
	}()
	waitFor(t, 5*time.Second, "request waiting on the row lock", func() bool {
		var n int
		err := h.db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		return err == nil && n == 1
	})

	// While Shutdown waits, Fiber holds the app's mutex, so app.Test (and
	// App().Handler()) would block until it returns; the listener is closed
	// too. The handler is taken beforehand to ask /readyz during the wait,
	// as a connection already inside the server would.
	handler := h.srv.App().Handler()
	readyz := func() (int, string) {
		var fc fasthttp.RequestCtx
		fc.Request.Header.SetMethod("GET")
		fc.Request.SetRequestURI("/readyz")
		handler(&fc)
		return fc.Response.StatusCode(), string(fc.Response.Body())
	}
	if st, body := readyz(); st != 200 {
		t.Fatalf("readyz before shutdown: %d %s", st, body)
	}

	shutdown := make(chan error, 1)
	go func() { shutdown <- h.srv.Shutdown(5 * time.Second) }()

	// Readiness turns 503 at once.
	waitFor(t, 2*time.Second, "readyz 503 during shutdown", func() bool {
		st, _ := readyz()
		return st == http.StatusServiceUnavailable
	})
	if _, body := readyz(); !strings.Contains(body, `"code":"unavailable"`) {
		t.Fatalf("readyz during shutdown: %s", body)
	}
	// New connections are refused.
	waitFor(t, 2*time.Second, "listener closed", func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	// Shutdown is still waiting for the request in flight.
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned (%v) while a request was in flight", err)
	case a := <-inflight:
		t.Fatalf("in-flight request ended early: %+v", a)
	case <-time.After(300 * time.Millisecond):
	}

	// Release the row: the request completes normally, then Shutdown returns.
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-inflight:
		if a.err != nil || a.status != 200 || !strings.Contains(a.body, `"state":"in_review"`) {
			t.Fatalf("in-flight request: %+v", a)
		}
	case <-time.After(6 * time.Second):
		t.Fatal("in-flight request never completed")
	}
	select {
	case err := <-shutdown:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(6 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	select {
	case err := <-listenErr:
		if err != nil {
			t.Fatalf("Listen: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Listen did not return after Shutdown")
	}
	if got := h.getGrant(t, "admin", g.ID); got.State != workflow.InReview {
		t.Fatalf("state %s", got.State)
	}
}

// waitFor polls cond until it holds, failing the test after limit.
func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// During the shutdown drain the server still answers, and /readyz says 503,
// so a load balancer stops sending before connections are refused.
func TestShutdownDrainAnswersNotReady(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, pgtest.New(t), Options{ShutdownDrain: 1500 * time.Millisecond})
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()
	go func() { _ = h.srv.Listen(addr) }()
	client := &http.Client{Timeout: 5 * time.Second}
	status := func() int {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor(t, 5*time.Second, "server ready", func() bool { return status() == http.StatusOK })

	done := make(chan error, 1)
	go func() { done <- h.srv.Shutdown(5 * time.Second) }()
	waitFor(t, time.Second, "/readyz 503 during the drain", func() bool { return status() == http.StatusServiceUnavailable })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s := status(); s != 0 {
		t.Fatalf("after shutdown /readyz answered %d; the listener should be closed", s)
	}
}
