package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"grantflow/internal/web"
)

// bench is one run: the seeded world, the settings and the load client.
type bench struct {
	cfg    config
	w      *world
	client *http.Client
	base   string    // the grantflow server, "http://127.0.0.1:port"
	logs   logSample // what the server logged at warning level and above
}

// logSample keeps a count of the log lines written to it and the first few,
// so that the cause of failed requests can be shown without a flood.
type logSample struct {
	mu    sync.Mutex
	n     int
	first []string
}

// Write counts and keeps one line; it never fails.
func (l *logSample) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	if len(l.first) < 3 {
		l.first = append(l.first, strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// randIDs returns one random source per worker, each seeded differently, so
// that workers pick grants without sharing a locked generator.
func randIDs(workers int) []*rand.Rand {
	out := make([]*rand.Rand, workers)
	for i := range out {
		out[i] = rand.New(rand.NewPCG(uint64(i)+1, 0x9e3779b97f4a7c15))
	}
	return out
}

// serve starts a Fiber app on a fresh loopback port and returns its base URL
// and a function that shuts it down. It returns an error when no port can be had.
func serve(app *fiber.App) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() { _ = app.Listener(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = app.ShutdownWithTimeout(5 * time.Second) }, nil
}

// startServer serves the real grantflow app (web.New on the seeded service)
// and returns a function that shuts it down.
func (b *bench) startServer() (func(), error) {
	logger := slog.New(slog.NewTextHandler(&b.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := web.New(b.w.svc, web.Options{Logger: logger})
	base, stop, err := serve(srv.App())
	b.base = base
	return stop, err
}

// startBareFiber serves baseline A's app: one Fiber handler answering a
// small JSON object, on its own loopback port. It returns the handler's URL
// and a function that shuts the app down.
func startBareFiber() (string, func(), error) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/ping", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	base, stop, err := serve(app)
	return base + "/ping", stop, err
}

// bareFiber is baseline A: GET url on the bare Fiber app by the same client
// over the same loopback; what HTTP alone costs on this machine.
func (b *bench) bareFiber(url string) load {
	return load{clients: b.cfg.clients, op: func(int, int) (int64, error) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		return 0, send(b.client, req, http.StatusOK)
	}}
}

// svcGrant calls grants.Service.Grant directly (its transaction, sqlx
// mapping and scope check, but no HTTP and no authentication).
func (b *bench) svcGrant(ctx context.Context) load {
	rngs, ids := randIDs(b.cfg.clients), b.w.ids
	return load{clients: b.cfg.clients, op: func(w, _ int) (int64, error) {
		_, err := b.w.svc.Grant(ctx, b.w.auditor, ids[rngs[w].IntN(len(ids))])
		return 0, err
	}}
}

// svcAuth calls grants.Service.Authenticate directly: the session lookup
// that precedes every API request (an UPDATE of last_seen_at, committed).
func (b *bench) svcAuth(ctx context.Context) load {
	return load{clients: b.cfg.clients, op: func(w, _ int) (int64, error) {
		_, err := b.w.svc.Authenticate(ctx, b.w.auditTok[w])
		return 0, err
	}}
}

// getGrants drives GET /api/v1/grants/{id} over random seeded grants as the
// unscoped auditor from clients clients; client w uses session
// tokens[w % len(tokens)].
func (b *bench) getGrants(clients int, tokens []string) load {
	rngs, ids := randIDs(clients), b.w.ids
	return load{clients: clients, op: func(w, _ int) (int64, error) {
		id := ids[rngs[w].IntN(len(ids))]
		req, _ := http.NewRequest(http.MethodGet, b.base+"/api/v1/grants/"+strconv.FormatInt(id, 10), nil)
		req.Header.Set("Authorization", "Bearer "+tokens[w%len(tokens)])
		return 0, send(b.client, req, http.StatusOK)
	}}
}

// createScratchEvents makes bench_events, a copy of grant_events' columns,
// checks, indexes and foreign keys (not its append-only triggers), for the
// bare-SQL write baseline to append to without touching the audit chains.
func (b *bench) createScratchEvents(ctx context.Context) error {
	_, err := b.w.db.SQL().ExecContext(ctx, `CREATE TABLE bench_events (LIKE grant_events INCLUDING ALL);
		ALTER TABLE bench_events ADD FOREIGN KEY (grant_id) REFERENCES grants (id),
			ADD FOREIGN KEY (actor_id) REFERENCES users (id)`)
	return err
}

// rawTransition is the write baseline: the least PostgreSQL work of a locked
// transition with an audit event, in one transaction on the service's pool:
// lock the grant row, update it, read its last event, append one. Grants are
// picked at random (states are left alone); events go to bench_events.
func (b *bench) rawTransition(ctx context.Context) load {
	rngs, ids, db, actor := randIDs(b.cfg.clients), b.w.ids, b.w.db.SQL(), b.w.auditor
	return load{clients: b.cfg.clients, op: func(w, seq int) (int64, error) {
		id := ids[rngs[w].IntN(len(ids))]
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		defer tx.Rollback()
		var state string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM grants WHERE id = $1 FOR UPDATE`, id).Scan(&state); err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE grants SET updated_at = now() WHERE id = $1`, id); err != nil {
			return 0, err
		}
		var last int
		var prev string
		err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM bench_events WHERE grant_id = $1 ORDER BY seq DESC LIMIT 1`, id).Scan(&last, &prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
		sum := sha256.Sum256(fmt.Appendf(nil, "%s|%d|%d|%d", prev, id, last+1, seq))
		if _, err := tx.ExecContext(ctx, `INSERT INTO bench_events (grant_id, seq, action, from_state, to_state, actor_id,
			actor_name, actor_role, comment, data, at, prev_hash, hash) VALUES ($1, $2, 'start_review', $3, $3, $4, $5, 'verifier', '', '{}', now(), $6, $7)`,
			id, last+1, state, actor.UserID, actor.Name, prev, hex.EncodeToString(sum[:])); err != nil {
			return 0, err
		}
		return 0, tx.Commit()
	}}
}

// startReview drives POST /api/v1/grants/{id}/actions/start_review as the
// unscoped verifier over the submitted grants kept for it, each once: every
// request is a real submitted → in_review transition under the grant's row
// lock, with its event. A worker stops when the grants run out; the pool is
// shared by every run of the returned load.
func (b *bench) startReview() load {
	next := new(atomic.Int64)
	pool := b.w.review
	return load{clients: b.cfg.clients, op: func(w, _ int) (int64, error) {
		i := next.Add(1) - 1
		if i >= int64(len(pool)) {
			return 0, errStop
		}
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v1/grants/%d/actions/start_review", b.base, pool[i]), nil)
		req.Header.Set("Authorization", "Bearer "+b.w.verifyTok[w])
		return 0, send(b.client, req, http.StatusOK)
	}}
}

// diskBaseline is baseline C: clients goroutines each writing unique copies
// of p into dir, on the evidence store's disk, hashing, fsyncing and
// renaming (writeHashed).
func (b *bench) diskBaseline(dir string, p payload, clients int) load {
	bufs := make([][]byte, clients)
	for i := range bufs {
		bufs[i] = make([]byte, 32<<10) // io.Copy's buffer size, as Ingest gets
	}
	return load{clients: clients, op: func(w, _ int) (int64, error) {
		return writeHashed(dir, p, uploadSeq.Add(1), bufs[w])
	}}
}

// uploads drives POST /api/v1/grants/{id}/expenses with unique copies of p as
// the receipt and an expense of Rp 1, each client as the treasurer of the
// funded grants it owns: client w uses grants w, w+clients, … so that no
// two clients ever wait on the same grant's row lock.
func (b *bench) uploads(p payload, clients int) load {
	funded := b.w.funded
	today := b.w.today.String()
	return load{clients: clients, op: func(w, seq int) (int64, error) {
		g := funded[(w+seq*clients)%len(funded)]
		body, ctype, length := multipartBody(p, uploadSeq.Add(1), [][2]string{
			{"spent_on", today}, {"budget_line_id", strconv.FormatInt(g.lineID, 10)},
			{"vendor", "Toko Bench"}, {"description", "Konsumsi rapat (bench)"}, {"amount", "1"}})
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v1/grants/%d/expenses", b.base, g.id), body)
		req.ContentLength = length
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+g.token)
		if err := send(b.client, req, http.StatusCreated); err != nil {
			return 0, err
		}
		return p.size(), nil
	}}
}
