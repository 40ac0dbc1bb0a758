package postgres

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"grantflow/workflow"
)

// LoginAttempt names the counters one login attempt is counted against and
// the limits that refuse it. Keys are compared as given: the caller
// normalizes them (auth.LoginAccountKey, auth.LoginAddressKey).
type LoginAttempt struct {
	Account string // "" counts neither the account nor the pair
	Address string // "" counts neither the address nor the pair
	// PairLimit and AddressLimit are the failures within Window, per
	// (account, address) and per address, after which an attempt is
	// refused; below 1 the counter is not kept.
	PairLimit    int
	AddressLimit int
	// AccountKeep is how many of the account's recent failures are
	// remembered: they never refuse, they only tell the caller how long to
	// delay. Below 1 the account is not counted.
	AccountKeep int
	Window      time.Duration
}

// LoginCount is the verdict on one attempt.
type LoginCount struct {
	// Allowed means the attempt was counted as a failure and may go on to
	// the password check; a success must be given back with ForgiveLogin.
	Allowed bool
	// RetryAfter, when refused, is how long until the attempt would be
	// allowed (the longer wait of the pair and the address).
	RetryAfter time.Duration
	// AccountFailures is the account's failures within the window before
	// this attempt, at most AccountKeep.
	AccountFailures int
}

// throttleKey is one counter row and how many failures it keeps.
type throttleKey struct {
	account, address string
	keep             int
	refuses          bool // a full row refuses the attempt (pair, address); else it only counts
}

// keys returns the counters of a in primary-key order, so that concurrent
// attempts lock shared rows in the same order and never deadlock.
func (a LoginAttempt) keys() []throttleKey {
	var ks []throttleKey
	if a.Account != "" && a.AccountKeep > 0 {
		ks = append(ks, throttleKey{account: a.Account, keep: a.AccountKeep})
	}
	if a.Address != "" && a.AddressLimit > 0 {
		ks = append(ks, throttleKey{address: a.Address, keep: a.AddressLimit, refuses: true})
	}
	if a.Account != "" && a.Address != "" && a.PairLimit > 0 {
		ks = append(ks, throttleKey{account: a.Account, address: a.Address, keep: a.PairLimit, refuses: true})
	}
	slices.SortFunc(ks, func(x, y throttleKey) int {
		if c := strings.Compare(x.account, y.account); c != 0 {
			return c
		}
		return strings.Compare(x.address, y.address)
	})
	return ks
}

func columns(ks []throttleKey) (accounts, addresses []string, keep []int64) {
	for _, k := range ks {
		accounts = append(accounts, k.account)
		addresses = append(addresses, k.address)
		keep = append(keep, int64(k.keep))
	}
	return accounts, addresses, keep
}

// errRefused rolls back the transaction of a refused attempt, which must
// count nothing; CountLogin turns it into its verdict.
var errRefused = workflow.Errorf(workflow.ETooMany, "login refused")

// CountLogin judges one login attempt and, when it is allowed, counts it as
// a failure on every counter of a, all in one transaction that holds the
// counters' row locks: parallel guesses are judged one after another, so
// no more than the limit of them get through. A refused attempt counts
// nothing. The database's clock times the failures, so that every instance
// shares one clock. It returns EUnavailable (and counts nothing) when
// PostgreSQL cannot be reached.
func (db *DB) CountLogin(ctx context.Context, a LoginAttempt) (LoginCount, error) {
	ks := a.keys()
	if len(ks) == 0 {
		return LoginCount{Allowed: true}, nil
	}
	accounts, addresses, keep := columns(ks)
	window := a.Window.Seconds()
	var out LoginCount
	err := db.InTx(ctx, func(tx *Tx) error {
		// The upsert creates missing rows and locks every row, in key
		// order; RETURNING shows each row's live failures after any
		// concurrent attempt that held the lock first.
		const lock = `INSERT INTO login_throttle (account, address)
			SELECT k.account, k.address FROM unnest(CAST($1 AS text[]), CAST($2 AS text[])) AS k (account, address)
			ORDER BY k.account, k.address
			ON CONFLICT (account, address) DO UPDATE SET updated_at = login_throttle.updated_at
			RETURNING account, address,
				ARRAY(SELECT CAST(extract(epoch FROM f) * 1000000 AS bigint) FROM unnest(login_throttle.failures) AS f
					WHERE f > now() - make_interval(secs => $3) ORDER BY f),
				CAST(extract(epoch FROM now()) * 1000000 AS bigint)`
		rows, err := tx.x.QueryxContext(ctx, lock, pq.Array(accounts), pq.Array(addresses), window)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var account, address string
			var failures pq.Int64Array
			var now int64
			if err := rows.Scan(&account, &address, &failures, &now); err != nil {
				return err
			}
			i := slices.IndexFunc(ks, func(k throttleKey) bool { return k.account == account && k.address == address })
			if i < 0 {
				continue
			}
			k := ks[i]
			if !k.refuses {
				out.AccountFailures = min(len(failures), k.keep)
				continue
			}
			if len(failures) >= k.keep {
				// Allowed again when the oldest of the newest limit failures leaves the window.
				oldest := time.UnixMicro(failures[len(failures)-k.keep])
				wait := oldest.Add(a.Window).Sub(time.UnixMicro(now))
				out.RetryAfter = max(out.RetryAfter, min(max(wait, time.Microsecond), a.Window))
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if out.RetryAfter > 0 {
			return errRefused
		}
		// Count the attempt: append now, drop what left the window, keep
		// the newest keep failures (older ones cannot change a verdict).
		const count = `UPDATE login_throttle AS t
			SET failures = ARRAY(SELECT f FROM (
					SELECT f FROM unnest(t.failures || now()) AS f
					WHERE f > now() - make_interval(secs => $4)
					ORDER BY f DESC LIMIT k.keep) AS newest ORDER BY f),
				updated_at = now()
			FROM unnest(CAST($1 AS text[]), CAST($2 AS text[]), CAST($3 AS bigint[])) AS k (account, address, keep)
			WHERE t.account = k.account AND t.address = k.address`
		if _, err := tx.x.ExecContext(ctx, count, pq.Array(accounts), pq.Array(addresses), pq.Array(keep), window); err != nil {
			return err
		}
		// Rows whose failures have all expired say nothing any more; a
		// few are swept on each counted attempt, skipping rows another
		// attempt holds, so the table stays as small as recent traffic.
		const sweep = `DELETE FROM login_throttle WHERE ctid = ANY (ARRAY(
			SELECT ctid FROM login_throttle WHERE updated_at < now() - make_interval(secs => $1)
			ORDER BY updated_at LIMIT 100 FOR UPDATE SKIP LOCKED))`
		_, err = tx.x.ExecContext(ctx, sweep, window)
		return err
	})
	if err == errRefused {
		return LoginCount{RetryAfter: out.RetryAfter}, nil
	}
	if err != nil {
		return LoginCount{}, err
	}
	out.Allowed = true
	return out, nil
}

// ForgiveLogin gives back an attempt CountLogin allowed. After a success
// (succeeded) the pair's failures are cleared — the owner has shown the
// password from that address — and the newest failure of the account and
// of the address is taken back, so that people signing in one after another
// from one office address do not fill its limit. An attempt that was never
// judged (the user could not be looked up) is taken back from every
// counter: an outage must not lock anyone out. It returns EUnavailable
// when PostgreSQL cannot be reached; keys without a row are no error.
func (db *DB) ForgiveLogin(ctx context.Context, a LoginAttempt, succeeded bool) error {
	ks := a.keys()
	if len(ks) == 0 {
		return nil
	}
	accounts, addresses, _ := columns(ks)
	clear := make([]bool, len(ks))
	for i, k := range ks {
		clear[i] = succeeded && k.account != "" && k.address != ""
	}
	return db.InTx(ctx, func(tx *Tx) error {
		// Locked in key order first, as CountLogin does, so that the
		// update's own join order cannot deadlock against it.
		const lock = `SELECT 1 FROM login_throttle AS t
			JOIN unnest(CAST($1 AS text[]), CAST($2 AS text[])) AS k (account, address)
				ON t.account = k.account AND t.address = k.address
			ORDER BY t.account, t.address FOR UPDATE OF t`
		if _, err := tx.x.ExecContext(ctx, lock, pq.Array(accounts), pq.Array(addresses)); err != nil {
			return err
		}
		// failures is in time order: the slice drops the newest.
		const forgive = `UPDATE login_throttle AS t
			SET failures = CASE WHEN k.clear THEN CAST('{}' AS timestamptz[])
				ELSE t.failures[1:cardinality(t.failures) - 1] END
			FROM unnest(CAST($1 AS text[]), CAST($2 AS text[]), CAST($3 AS boolean[])) AS k (account, address, clear)
			WHERE t.account = k.account AND t.address = k.address`
		_, err := tx.x.ExecContext(ctx, forgive, pq.Array(accounts), pq.Array(addresses), pq.Array(clear))
		return err
	})
}
