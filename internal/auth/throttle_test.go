package auth

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable time source safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func mustAllow(t *testing.T, th *Throttle, email, addr string) {
	t.Helper()
	if ok, d := th.allow(email, addr); !ok || d != 0 {
		t.Fatalf("Allow(%q, %q) = %v, %v; want allowed", email, addr, ok, d)
	}
}

func mustRefuse(t *testing.T, th *Throttle, email, addr string, want time.Duration) {
	t.Helper()
	if ok, d := th.allow(email, addr); ok || d != want {
		t.Fatalf("Allow(%q, %q) = %v, %v; want refused for %v", email, addr, ok, d, want)
	}
}

// allow asks, without counting, whether an attempt may proceed now.
func (t *Throttle) allow(email, addr string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.waitLocked(email, addr, t.now())
	return d == 0, d
}

func TestThrottleAccount(t *testing.T) {
	c := newClock()
	th := NewThrottle(DefaultAccountFailures, DefaultThrottleWindow, c.Now)
	th.AddressLimit = DefaultAddressFailures
	for range DefaultAccountFailures {
		mustAllow(t, th, "Ketua@Contoh.id", "10.0.0.1")
		th.Attempt("Ketua@Contoh.id", "10.0.0.1")
		c.Advance(time.Minute)
	}
	// Five failures at 08:00..08:04; now 08:05. The first leaves the window at 08:15.
	mustRefuse(t, th, "ketua@contoh.id", "10.9.9.9", 10*time.Minute)
	mustRefuse(t, th, "  KETUA@contoh.id ", "", 10*time.Minute)
	mustAllow(t, th, "lain@contoh.id", "10.0.0.1") // the address has only 5 of 20

	c.Advance(10*time.Minute - time.Second)
	mustRefuse(t, th, "ketua@contoh.id", "10.0.0.1", time.Second)
	c.Advance(time.Second)
	mustAllow(t, th, "ketua@contoh.id", "10.0.0.1") // sliding: one failure left the window
	th.Attempt("ketua@contoh.id", "10.0.0.1")
	mustRefuse(t, th, "ketua@contoh.id", "10.0.0.1", time.Minute) // the 08:01 failure leaves at 08:16
}

func TestThrottleAddress(t *testing.T) {
	c := newClock()
	th := NewThrottle(DefaultAccountFailures, DefaultThrottleWindow, c.Now)
	th.AddressLimit = DefaultAddressFailures
	for i := range DefaultAddressFailures {
		email := fmt.Sprintf("tebakan%d@contoh.id", i)
		mustAllow(t, th, email, "203.0.113.7")
		th.Attempt(email, "203.0.113.7")
	}
	mustRefuse(t, th, "baru@contoh.id", "203.0.113.7", DefaultThrottleWindow)
	mustRefuse(t, th, "", "203.0.113.7:51234", DefaultThrottleWindow)  // port ignored
	mustRefuse(t, th, "", "::ffff:203.0.113.7", DefaultThrottleWindow) // IPv4-mapped
	mustAllow(t, th, "baru@contoh.id", "203.0.113.8")

	c.Advance(DefaultThrottleWindow)
	mustAllow(t, th, "baru@contoh.id", "203.0.113.7")
}

func TestThrottleIPv6Prefix(t *testing.T) {
	c := newClock()
	th := NewThrottle(2, time.Minute, c.Now)
	th.Attempt("a@x.id", "2001:db8:1:2::1")
	th.Attempt("b@x.id", "[2001:db8:1:2:ffff::9]:443")
	mustRefuse(t, th, "c@x.id", "2001:db8:1:2:abcd::5", time.Minute)
	mustAllow(t, th, "c@x.id", "2001:db8:1:3::1")
}

func TestThrottleSeparateLimitsAndDisabled(t *testing.T) {
	c := newClock()
	th := NewThrottle(3, time.Minute, c.Now)
	th.AddressLimit = 0 // disabled
	for range 3 {
		th.Attempt("a@x.id", "10.0.0.1")
	}
	mustRefuse(t, th, "a@x.id", "10.0.0.1", time.Minute)
	for i := range 50 {
		th.Attempt(fmt.Sprintf("u%d@x.id", i), "10.0.0.1")
	}
	mustAllow(t, th, "z@x.id", "10.0.0.1")
	mustAllow(t, th, "", "")
	th.Attempt("", "")
	mustAllow(t, th, "", "")
}

func TestThrottleBoundedMemory(t *testing.T) {
	c := newClock()
	th := NewThrottle(5, time.Minute, c.Now)
	th.MaxKeys = 100
	for i := range 1000 {
		th.Attempt(fmt.Sprintf("u%d@x.id", i), fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if n, m := len(th.accounts), len(th.addrs); n > 100 || m > 100 {
		t.Fatalf("maps hold %d and %d entries, over MaxKeys", n, m)
	}
	// Each key keeps at most its limit of failures.
	for range 50 {
		th.Attempt("keras@x.id", "10.1.1.1")
	}
	if n := len(th.accounts["keras@x.id"]); n != 5 {
		t.Fatalf("kept %d failures, want 5", n)
	}
	// After the window every entry is dropped by the next sweep.
	c.Advance(time.Minute)
	th.Attempt("terakhir@x.id", "10.2.2.2")
	if n, m := len(th.accounts), len(th.addrs); n != 1 || m != 1 {
		t.Fatalf("after the window maps hold %d and %d entries, want 1 and 1", n, m)
	}
	// A long key is stored hashed.
	long := string(make([]byte, 10_000))
	th.Attempt(long+"@x.id", long)
	for k := range th.accounts {
		if len(k) > maxKeyLen {
			t.Fatalf("stored a %d-byte account key", len(k))
		}
	}
	for k := range th.addrs {
		if len(k) > maxKeyLen {
			t.Fatalf("stored a %d-byte address key", len(k))
		}
	}
}

// TestThrottleConcurrent runs with -race: many goroutines failing, allowing
// and succeeding at once must neither race nor lose a failure.
func TestThrottleConcurrent(t *testing.T) {
	c := newClock()
	th := NewThrottle(1000, time.Hour, c.Now)
	th.AddressLimit = 10_000
	const workers, each = 8, 100
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				th.Attempt("bersama@x.id", "10.0.0.1")
				th.allow("bersama@x.id", "10.0.0.1")
				th.Attempt(fmt.Sprintf("w%d@x.id", w), "10.0.0.2")
				c.Advance(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	// Exactly workers*each = 800 shared failures: under the limit of 1000 …
	mustAllow(t, th, "bersama@x.id", "10.0.0.9")
	for range 1000 - workers*each - 1 {
		th.Attempt("bersama@x.id", "10.0.0.9")
	}
	mustAllow(t, th, "bersama@x.id", "10.0.0.9")
	// … and the 1000th refuses.
	th.Attempt("bersama@x.id", "10.0.0.9")
	if ok, _ := th.allow("bersama@x.id", "10.0.0.9"); ok {
		t.Fatal("1000 failures allowed")
	}
}

// Parallel guesses each take one attempt: no more than the limit get through.
func TestAttemptCountsParallelGuesses(t *testing.T) {
	th := NewThrottle(5, time.Minute, nil)
	th.AddressLimit = 0 // only the account limit here
	var wg sync.WaitGroup
	var passed atomic.Int32
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _ := th.Attempt("korban@contoh.id", "198.51.100.7"); ok {
				passed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := passed.Load(); n != 5 {
		t.Fatalf("%d parallel attempts passed, want exactly the limit 5", n)
	}
}
