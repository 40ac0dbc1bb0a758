package auth

import (
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/unicode/norm"
)

// Login throttling defaults used by the server: 5 failures per account and 20
// per client address within 15 minutes.
const (
	DefaultAccountFailures = 5
	DefaultAddressFailures = 20
	DefaultThrottleWindow  = 15 * time.Minute
)

// DefaultMaxKeys bounds the entries a Throttle keeps per kind of key.
const DefaultMaxKeys = 100_000

// Throttle limits failed logins in memory, counted separately per account
// (the e-mail address, trimmed and lowercased) and per client address (an
// IPv6 address counts as its /64, which one client usually controls whole).
// It keeps the time of each recent failure, so the window slides: a key is
// refused while it has Limit failures within the last window, and is allowed
// again as soon as the oldest of those leaves the window.
//
// Entries whose failures have all left the window are dropped, and each map
// holds at most MaxKeys entries (the stalest is evicted first), so memory
// stays bounded under a flood of distinct names or addresses.
//
// A Throttle is safe for concurrent use. Being in memory, each server
// instance counts on its own and a restart forgets; that is accepted for a
// brake on password guessing.
type Throttle struct {
	// AccountLimit and AddressLimit are the failures allowed per account
	// and per address within the window; a value below 1 disables that
	// limit. MaxKeys bounds each map. Set them before first use.
	AccountLimit int
	AddressLimit int
	MaxKeys      int

	window time.Duration
	now    func() time.Time

	mu        sync.Mutex
	accounts  map[string][]time.Time
	addrs     map[string][]time.Time
	lastSweep time.Time
}

// NewThrottle returns a Throttle allowing maxFailures failed logins per
// account and per address within window; set AddressLimit afterwards for a
// different per-address limit. now is the clock (nil means time.Now).
func NewThrottle(maxFailures int, window time.Duration, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{
		AccountLimit: maxFailures,
		AddressLimit: maxFailures,
		MaxKeys:      DefaultMaxKeys,
		window:       window,
		now:          now,
		accounts:     make(map[string][]time.Time),
		addrs:        make(map[string][]time.Time),
	}
}

// Attempt reports whether a login attempt for email from addr may proceed
// and, when it may, counts it as a failure before the password is checked,
// so that parallel guesses cannot all pass before any failure is recorded.
// When it may not, retryAfter is how long until it may (round it up to whole
// seconds for a Retry-After header); the longer wait of the two limits wins.
// An empty email or addr is not counted.
func (t *Throttle) Attempt(email, addr string) (ok bool, retryAfter time.Duration) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if retryAfter = t.waitLocked(email, addr, now); retryAfter > 0 {
		return false, retryAfter
	}
	if now.Sub(t.lastSweep) >= t.window {
		t.sweep(now)
	}
	t.record(t.accounts, accountKey(email), t.AccountLimit, now)
	t.record(t.addrs, addrKey(addr), t.AddressLimit, now)
	return true, 0
}

// waitLocked is how long an attempt must wait, 0 if it may proceed; the
// caller holds t.mu.
func (t *Throttle) waitLocked(email, addr string, now time.Time) time.Duration {
	a := t.wait(t.accounts, accountKey(email), t.AccountLimit, now)
	b := t.wait(t.addrs, addrKey(addr), t.AddressLimit, now)
	return max(a, b)
}

// wait returns how long key must wait, 0 if it may proceed now. It drops the
// entry once all its failures have expired.
func (t *Throttle) wait(m map[string][]time.Time, key string, limit int, now time.Time) time.Duration {
	if key == "" || limit < 1 {
		return 0
	}
	times, ok := m[key]
	if !ok {
		return 0
	}
	times = t.live(times, now)
	if len(times) == 0 {
		delete(m, key)
		return 0
	}
	m[key] = times
	if len(times) < limit {
		return 0
	}
	d := times[len(times)-limit].Add(t.window).Sub(now)
	return min(max(d, time.Nanosecond), t.window)
}

// record appends a failure, keeping only the newest limit failures: older
// ones cannot change the answer of wait.
func (t *Throttle) record(m map[string][]time.Time, key string, limit int, now time.Time) {
	if key == "" || limit < 1 {
		return
	}
	times, ok := m[key]
	if !ok && t.MaxKeys > 0 && len(m) >= t.MaxKeys {
		t.sweep(now)
		if len(m) >= t.MaxKeys {
			evictStalest(m)
		}
	}
	times = append(t.live(times, now), now)
	if n := len(times) - limit; n > 0 {
		times = append(times[:0], times[n:]...)
	}
	m[key] = times
}

// live drops failures that have left the window; times is in time order.
func (t *Throttle) live(times []time.Time, now time.Time) []time.Time {
	cut := now.Add(-t.window)
	i := 0
	for i < len(times) && !times[i].After(cut) {
		i++
	}
	if i == 0 {
		return times
	}
	return append(times[:0], times[i:]...)
}

// sweep drops every entry whose failures have all left the window.
func (t *Throttle) sweep(now time.Time) {
	cut := now.Add(-t.window)
	for _, m := range []map[string][]time.Time{t.accounts, t.addrs} {
		for k, times := range m {
			if len(times) == 0 || !times[len(times)-1].After(cut) {
				delete(m, k)
			}
		}
	}
	t.lastSweep = now
}

func evictStalest(m map[string][]time.Time) {
	var stalest string
	var at time.Time
	first := true
	for k, times := range m {
		newest := times[len(times)-1]
		if first || newest.Before(at) {
			stalest, at, first = k, newest, false
		}
	}
	delete(m, stalest)
}

// maxKeyLen bounds the bytes a key may hold; longer input (never a real
// e-mail address) is replaced by its hash.
const maxKeyLen = 320

// NormalizeEmail is the one form an e-mail address is stored, looked up and
// throttled by: trimmed, in Unicode's composed form (NFC: "é" typed as
// e + U+0301 and as U+00E9 are one address, not two accounts that look
// alike) and lower case.
func NormalizeEmail(email string) string {
	return strings.ToLower(norm.NFC.String(strings.TrimSpace(email)))
}

func accountKey(email string) string {
	k := NormalizeEmail(email)
	if len(k) > maxKeyLen {
		k = "sha256:" + TokenHash(k)
	}
	return k
}

func addrKey(addr string) string {
	addr = strings.TrimSpace(addr)
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil {
			if len(addr) > maxKeyLen {
				return "sha256:" + TokenHash(addr)
			}
			return addr
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.WithZone("").Prefix(64)
		return p.String()
	}
	return ip.String()
}
