package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// sessionChannel is where migration 0160's triggers announce changed
// sessions ("s:<token_hash>") and users ("u:<id>").
const sessionChannel = "grantflow_sessions"

// SessionChanges are the callbacks of ListenSessions.
type SessionChanges struct {
	Session func(tokenHash string) // a session was revoked, moved or deleted
	User    func(id int64)         // a user changed (password, disabled, roles, scope) or was deleted
	// Reset: the connection was lost or regained, and whatever changed
	// meanwhile went unannounced.
	Reset func()
}

// ListenSessions calls h for every session and user change committed on
// any instance, on a connection of its own (lib/pq's Listener, which
// reconnects by itself), until ctx ends. It returns an EUnavailable error
// when the first connection fails; the caller's cache must then rely on
// its TTL alone.
func (db *DB) ListenSessions(ctx context.Context, h SessionChanges) error {
	l := pq.NewListener(db.dsn, 100*time.Millisecond, 5*time.Second, func(ev pq.ListenerEventType, _ error) {
		if ev == pq.ListenerEventDisconnected || ev == pq.ListenerEventReconnected {
			h.Reset()
		}
	})
	if err := l.Listen(sessionChannel); err != nil {
		_ = l.Close()
		return mapErr(err)
	}
	go func() {
		defer l.Close()
		ping := time.NewTicker(60 * time.Second) // finds a silently dead connection
		defer ping.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case n, ok := <-l.Notify:
				if !ok {
					return
				}
				if n == nil { // nil after a reconnection: notifications may be lost
					h.Reset()
					continue
				}
				dispatchSessionChange(n.Extra, h)
			case <-ping.C:
				go func() { _ = l.Ping() }()
			}
		}
	}()
	return nil
}

func dispatchSessionChange(payload string, h SessionChanges) {
	kind, rest, _ := strings.Cut(payload, ":")
	switch kind {
	case "s":
		h.Session(rest)
	case "u":
		if id, err := strconv.ParseInt(rest, 10, 64); err == nil {
			h.User(id)
			return
		}
		h.Reset()
	default:
		h.Reset() // not understood: forget everything rather than serve stale answers
	}
}
