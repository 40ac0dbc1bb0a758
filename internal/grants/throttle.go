package grants

import (
	"context"
	"time"

	"grantflow/internal/auth"
	"grantflow/internal/postgres"
	"grantflow/workflow"
)

// loginAttempt is what one login for email from addr is counted against.
func (s *Service) loginAttempt(email, addr string) postgres.LoginAttempt {
	return postgres.LoginAttempt{
		Account:      auth.LoginAccountKey(email),
		Address:      auth.LoginAddressKey(addr),
		PairLimit:    s.throttle.PairFailures,
		AddressLimit: s.throttle.AddressFailures,
		AccountKeep:  s.throttle.AccountKeep(),
		Window:       s.throttle.Window,
	}
}

// loginDelay waits d, the account's delay, before a password is checked.
// A request that runs out of time while waiting answers EUnavailable, like
// any request the server could not finish in time.
func loginDelay(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return workflow.Wrap(workflow.EUnavailable, ctx.Err(), "server sibuk, coba lagi")
	}
}

// forgiveUnjudged takes back an attempt whose password was never judged,
// on a context of its own: the request's may be what ran out.
func (s *Service) forgiveUnjudged(ctx context.Context, at postgres.LoginAttempt) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	if err := s.db.ForgiveLogin(ctx, at, false); err != nil {
		s.log.Warn("login attempt not taken back", "err", err)
	}
}
