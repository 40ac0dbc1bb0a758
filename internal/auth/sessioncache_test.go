package auth

import (
	"testing"
	"time"
)

func TestSessionCache(t *testing.T) {
	now := time.Date(2026, 3, 10, 3, 0, 0, 0, time.UTC)
	c := NewSessionCache[string](2*time.Second, 3)
	c.now = func() time.Time { return now }

	c.Put(c.Begin(), "h1", 1, "ani")
	if u, ok := c.Get("h1"); !ok || u != "ani" {
		t.Fatalf("Get h1 = %q, %v", u, ok)
	}
	now = now.Add(2 * time.Second)
	if _, ok := c.Get("h1"); ok {
		t.Fatal("an entry is served at its TTL")
	}

	// A lookup that began before an invalidation stores nothing.
	gen := c.Begin()
	c.Forget("other")
	c.Put(gen, "h2", 2, "budi")
	if _, ok := c.Get("h2"); ok {
		t.Fatal("stored a lookup that raced an invalidation")
	}

	c.Put(c.Begin(), "h3", 3, "citra")
	c.Put(c.Begin(), "h4", 3, "citra")
	c.Put(c.Begin(), "h5", 5, "dewi")
	c.ForgetUser(3)
	if _, ok := c.Get("h3"); ok {
		t.Fatal("ForgetUser kept a session of the user")
	}
	if _, ok := c.Get("h4"); ok {
		t.Fatal("ForgetUser kept a session of the user")
	}
	if _, ok := c.Get("h5"); !ok {
		t.Fatal("ForgetUser dropped another user's session")
	}
	c.Reset()
	if _, ok := c.Get("h5"); ok {
		t.Fatal("Reset kept an entry")
	}

	off := NewSessionCache[string](0, 0)
	off.Put(off.Begin(), "h", 1, "x")
	if _, ok := off.Get("h"); ok {
		t.Fatal("a cache with no TTL stored an entry")
	}
}
