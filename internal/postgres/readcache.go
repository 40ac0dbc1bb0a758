package postgres

import (
	"context"
	"slices"
	"sync"
)

// ReadCache keeps ReadGrant's reads in memory, each under the grant's
// version (grant_versions, migration 0190) that its statement saw. A read
// through it costs one indexed single-row SELECT of the version while the
// grant has not changed, instead of ReadGrant's statement.
//
// It is never stale: every change to a row ReadGrant reads takes the grant
// a new version in the same transaction (triggers, whoever writes), so a
// version equal to the cached one means no change committed since the
// cached read's snapshot. A read that races a write stores what its
// snapshot saw under the version of that same snapshot; the next read
// compares with the committed version and reads anew.
//
// It caches the data only; who may see it and what they may do with it is
// decided on every request from the data by the caller.
type ReadCache struct {
	max int

	mu      sync.Mutex
	entries map[readCacheKey]GrantRead
}

type readCacheKey struct {
	id      int64
	options string // readKey
}

// NewReadCache returns a cache of at most max reads (a full cache is
// emptied rather than swept: it refills on the next reads); max ≤ 0 means 10000.
func NewReadCache(max int) *ReadCache {
	if max <= 0 {
		max = 10000
	}
	return &ReadCache{max: max, entries: map[readCacheKey]GrantRead{}}
}

const grantVersionSQL = `SELECT COALESCE((SELECT version FROM grant_versions WHERE grant_id = $1), 0)`

// GrantVersion returns grant id's committed version (0 before its first
// change, and for a grant that does not exist).
func (db *DB) GrantVersion(ctx context.Context, id int64) (int64, error) {
	st, err := db.prepared(ctx, grantVersionSQL)
	if err != nil {
		return 0, err
	}
	var v int64
	if err := st.QueryRowxContext(ctx, id).Scan(&v); err != nil {
		return 0, mapErr(err)
	}
	return v, nil
}

// ReadGrant answers db.ReadGrant(ctx, id, o) from the cache when the
// grant's version is the cached read's, else reads and caches it. The
// answer is the caller's to change: its lists are copies.
func (c *ReadCache) ReadGrant(ctx context.Context, db *DB, id int64, o ReadOptions) (GrantRead, error) {
	v, err := db.GrantVersion(ctx, id)
	if err != nil {
		return GrantRead{}, err
	}
	key := readCacheKey{id, readKey(o)}
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && e.Version == v {
		return e.clone(), nil
	}
	r, err := db.ReadGrant(ctx, id, o)
	if err != nil {
		return r, err
	}
	c.mu.Lock()
	if old, ok := c.entries[key]; !ok || old.Version < r.Version {
		if !ok && len(c.entries) >= c.max {
			clear(c.entries)
		}
		c.entries[key] = r.clone()
	}
	c.mu.Unlock()
	return r, nil
}

// clone copies r's lists, so that neither the cache nor a caller sees the
// other change them. The programme's parsed settings are shared as
// ReadGrant already shares them (settingsCache): nobody changes them.
func (r GrantRead) clone() GrantRead {
	r.Grant.Activities = slices.Clone(r.Grant.Activities)
	r.Grant.Budget = slices.Clone(r.Grant.Budget)
	r.Group.Members = slices.Clone(r.Group.Members)
	r.Disbursements = slices.Clone(r.Disbursements)
	r.Expenses = slices.Clone(r.Expenses)
	r.Refunds = slices.Clone(r.Refunds)
	return r
}
