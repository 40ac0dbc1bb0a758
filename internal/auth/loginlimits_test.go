package auth

import (
	"testing"
	"time"
)

func TestLoginDelay(t *testing.T) {
	l := DefaultLoginLimits()
	for failures, want := range []time.Duration{0, 0, 0, 0, 0, 250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 2 * time.Second} {
		if got := l.Delay(failures); got != want {
			t.Errorf("Delay(%d) = %v, want %v", failures, got, want)
		}
	}
	if got := l.Delay(1_000_000); got != 2*time.Second {
		t.Errorf("Delay(1e6) = %v, want the 2 s cap", got)
	}
	// Remembering AccountKeep failures is enough to reach the cap.
	if k := l.AccountKeep(); l.Delay(k-1) != l.MaxDelay || l.Delay(k-2) == l.MaxDelay {
		t.Errorf("AccountKeep %d: Delay(%d) = %v, Delay(%d) = %v", k, k-1, l.Delay(k-1), k-2, l.Delay(k-2))
	}
	if (LoginLimits{AccountFree: 1}).Delay(5) != 0 {
		t.Error("no MaxDelay must mean no delay")
	}
}

func TestLoginKeys(t *testing.T) {
	if LoginAccountKey("  Ketua@Contoh.ID ") != "ketua@contoh.id" {
		t.Error("account key not trimmed and lowercased")
	}
	for in, want := range map[string]string{"127.0.0.2": "127.0.0.2", "127.0.0.2:5555": "127.0.0.2", "::ffff:10.0.0.1": "10.0.0.1", "2001:db8:1:2::9": "2001:db8:1:2::/64"} {
		if got := LoginAddressKey(in); got != want {
			t.Errorf("LoginAddressKey(%q) = %q, want %q", in, got, want)
		}
	}
}
