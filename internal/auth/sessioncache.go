package auth

import (
	"sync"
	"time"
)

// SessionCache answers session lookups from memory for at most TTL, so that
// an authenticated request costs no database round trip. Staleness is
// bounded twice: an entry is never used after TTL, and the instance drops
// entries as soon as PostgreSQL tells it a session or user changed
// (Forget, ForgetUser, Reset from the LISTEN connection). A logout or a
// password change on any instance therefore takes effect everywhere within
// TTL even when a notification is lost.
//
// A lookup that races an invalidation must not store what it read before
// the invalidation: Begin returns the invalidation generation, and Put
// stores only when none happened since.
type SessionCache[U any] struct {
	ttl time.Duration
	now func() time.Time
	max int

	mu      sync.Mutex
	gen     uint64
	entries map[string]sessionEntry[U]
}

type sessionEntry[U any] struct {
	user   U
	userID int64
	until  time.Time
}

// NewSessionCache returns a cache whose entries live ttl, holding at most
// max sessions (a full cache is emptied rather than swept: it refills on
// the next lookups). A ttl ≤ 0 gives a cache that stores nothing.
func NewSessionCache[U any](ttl time.Duration, max int) *SessionCache[U] {
	if max <= 0 {
		max = 10000
	}
	return &SessionCache[U]{ttl: ttl, now: time.Now, max: max, entries: map[string]sessionEntry[U]{}}
}

// Get returns the cached user of the session with tokenHash while its entry is fresh.
func (c *SessionCache[U]) Get(tokenHash string) (U, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[tokenHash]
	if !ok || !c.now().Before(e.until) {
		var zero U
		return zero, false
	}
	return e.user, true
}

// Begin returns the generation to hand Put after the database lookup.
func (c *SessionCache[U]) Begin() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// Put caches u (of user userID) for tokenHash unless an invalidation came
// after Begin returned gen: what was read may already be stale.
func (c *SessionCache[U]) Put(gen uint64, tokenHash string, userID int64, u U) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= c.max {
		clear(c.entries)
	}
	c.entries[tokenHash] = sessionEntry[U]{user: u, userID: userID, until: c.now().Add(c.ttl)}
}

// Forget drops the session with tokenHash.
func (c *SessionCache[U]) Forget(tokenHash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, tokenHash)
}

// ForgetUser drops every session of user id.
func (c *SessionCache[U]) ForgetUser(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, e := range c.entries {
		if e.userID == id {
			delete(c.entries, k)
		}
	}
}

// Reset drops everything: the notifications may have been missed (the
// LISTEN connection was lost and is back).
func (c *SessionCache[U]) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}
