package auth

import "time"

// LoginLimits are the failed-login limits of the server. Failures are
// counted per (account, address) and per address, and either limit refuses
// further attempts for the window (429). Per account alone, failures only
// delay each further attempt, by at most MaxDelay: a guesser spread over
// many addresses is slowed, while the owner signing in from another address
// is never locked out by someone else's guesses.
type LoginLimits struct {
	PairFailures    int           // per (account, address) within Window; below 1 disables
	AddressFailures int           // per address within Window; below 1 disables
	AccountFree     int           // failures of an account before its attempts are delayed
	MaxDelay        time.Duration // the longest delay of one attempt
	Window          time.Duration
}

// DefaultLoginLimits returns the server's limits: 5 failures per account and
// address and 20 per address within 15 minutes; from an account's 5th
// recent failure on, each attempt on it waits 250 ms, doubling up to 2 s.
func DefaultLoginLimits() LoginLimits {
	return LoginLimits{
		PairFailures:    DefaultAccountFailures,
		AddressFailures: DefaultAddressFailures,
		AccountFree:     DefaultAccountFailures,
		MaxDelay:        2 * time.Second,
		Window:          DefaultThrottleWindow,
	}
}

// firstDelay is the delay of the first attempt past AccountFree.
const firstDelay = 250 * time.Millisecond

// Delay returns how long an attempt on an account with failures recent
// failures waits before its password is checked: 0 below AccountFree, then
// 250 ms doubling with each further failure, never more than MaxDelay. It
// depends on the count only, never on the password, so it reveals nothing.
func (l LoginLimits) Delay(failures int) time.Duration {
	n := failures - l.AccountFree
	if n < 0 || l.MaxDelay <= 0 {
		return 0
	}
	d := firstDelay
	for ; n > 0 && d < l.MaxDelay; n-- {
		d *= 2
	}
	return min(d, l.MaxDelay)
}

// AccountKeep is how many of an account's failures decide its delay: past
// it the delay no longer grows, so older ones need not be remembered.
func (l LoginLimits) AccountKeep() int {
	n := l.AccountFree
	for d := firstDelay; d < l.MaxDelay; d *= 2 {
		n++
	}
	return n + 1
}

// LoginAccountKey is the key an e-mail address is counted under: trimmed
// and lowercased, hashed when longer than any real address.
func LoginAccountKey(email string) string { return accountKey(email) }

// LoginAddressKey is the key a client address is counted under: the IP
// without its port, an IPv4-mapped address as IPv4, an IPv6 address as its
// /64 (which one client usually controls whole).
func LoginAddressKey(addr string) string { return addrKey(addr) }
