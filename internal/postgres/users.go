package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/lib/pq"

	"grantflow/workflow"
)

// User is a person who can log in.
type User struct {
	ID           int64
	Email        string
	Name         string
	PasswordHash string
	Roles        []workflow.Role
	GroupID      int64
	// Province and Regency are the scope's official names, ProvinceCode
	// and RegencyCode its codes, which scope checks compare; "" = no scope.
	Province     string
	Regency      string
	ProvinceCode string
	RegencyCode  string
	Disabled     bool
	CreatedAt    time.Time
}

// Actor returns the identity the workflow checks.
func (u User) Actor() workflow.Actor {
	return workflow.Actor{UserID: u.ID, Name: u.Name, Roles: u.Roles, GroupID: u.GroupID,
		Province: u.Province, Regency: u.Regency, ProvinceCode: u.ProvinceCode, RegencyCode: u.RegencyCode}
}

const userColumns = `id, email, name, password_hash, roles, COALESCE(group_id, 0), province, regency, province_code, regency_code, disabled, created_at`

func scanUser(sc interface{ Scan(...any) error }) (User, error) {
	var u User
	var roles []string
	err := sc.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, pq.Array(&roles), &u.GroupID, &u.Province, &u.Regency, &u.ProvinceCode, &u.RegencyCode, &u.Disabled, &u.CreatedAt)
	for _, r := range roles {
		u.Roles = append(u.Roles, workflow.Role(r))
	}
	return u, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// CreateUser inserts u; a taken e-mail address answers EConflict.
func (q q) CreateUser(ctx context.Context, u User) (User, error) {
	roles := make([]string, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = string(r)
	}
	const query = `INSERT INTO users (email, name, password_hash, roles, group_id, province, regency, province_code, regency_code)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ` + userColumns
	out, err := scanUser(q.x.QueryRowxContext(ctx, query, u.Email, u.Name, u.PasswordHash, pq.Array(roles), nullID(u.GroupID),
		u.Province, u.Regency, u.ProvinceCode, u.RegencyCode))
	if workflow.ErrorCode(mapErr(err)) == workflow.EConflict {
		return out, workflow.Errorf(workflow.EConflict, "email %s sudah terdaftar", u.Email)
	}
	return out, mapErr(err)
}

// UserByEmail returns the user with that address (any case), or ENotFound.
func (q q) UserByEmail(ctx context.Context, email string) (User, error) {
	const query = `SELECT ` + userColumns + ` FROM users WHERE lower(email) = lower($1)`
	u, err := scanUser(q.x.QueryRowxContext(ctx, query, email))
	if err != nil {
		return u, notFound(err, "pengguna", 0)
	}
	return u, nil
}

// User returns one user, or ENotFound.
func (q q) User(ctx context.Context, id int64) (User, error) {
	const query = `SELECT ` + userColumns + ` FROM users WHERE id = $1`
	u, err := scanUser(q.x.QueryRowxContext(ctx, query, id))
	if err != nil {
		return u, notFound(err, "pengguna", id)
	}
	return u, nil
}

// CountUsers returns how many users exist (the demo seeds an empty database only).
func (q q) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := q.x.GetContext(ctx, &n, `SELECT count(*) FROM users`)
	return n, mapErr(err)
}

// CreateSession stores a session under the hash of its token.
func (q q) CreateSession(ctx context.Context, tokenHash string, userID int64, expiresAt time.Time) error {
	const query = `INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`
	_, err := q.x.ExecContext(ctx, query, tokenHash, userID, expiresAt)
	return mapErr(err)
}

// SessionUser returns the user of a live session and marks it used. A
// session is live until revoked, past its absolute expiry, or idle longer
// than idle; otherwise EUnauthorized.
func (q q) SessionUser(ctx context.Context, tokenHash string, idle time.Duration) (User, error) {
	// last_seen_at moves at most once a minute, so that reads do not each
	// write (and flush) a row; idle expiry is minutes or hours anyway.
	const query = `WITH s AS (
			SELECT id, user_id, last_seen_at FROM sessions
			WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now() AND last_seen_at > now() - $2 * interval '1 second'),
		touched AS (
			UPDATE sessions SET last_seen_at = now()
			WHERE id = (SELECT id FROM s) AND last_seen_at < now() - interval '1 minute')
		SELECT ` + userColumns + ` FROM users WHERE id = (SELECT user_id FROM s) AND NOT disabled`
	u, err := scanUser(q.x.QueryRowxContext(ctx, query, tokenHash, int64(idle/time.Second)))
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return u, workflow.Errorf(workflow.EUnauthorized, "sesi tidak berlaku atau sudah berakhir, silakan masuk lagi")
		}
		return u, mapErr(err)
	}
	return u, nil
}

// RevokeSession ends a session.
func (q q) RevokeSession(ctx context.Context, tokenHash string) error {
	_, err := q.x.ExecContext(ctx, `UPDATE sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL`, tokenHash)
	return mapErr(err)
}
