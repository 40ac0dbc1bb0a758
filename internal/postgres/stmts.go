package postgres

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"
)

// Every statement that returns rows runs prepared, once per pooled
// connection, instead of being parsed and planned at each execution
// (binary_parameters sends unnamed statements otherwise). Planning is what
// the hot paths paid for most: the one-statement grant read that every
// write locks and reads costs about 5 ms to plan and 1 ms to run, and an
// upload's transaction planned a dozen statements (measured with
// pg_stat_statements.track_planning during `bench -phases uploads`; see
// ARCHITECTURE.md). The statements are the package's constants, so the
// set of prepared statements per connection stays bounded.
//
// ExecContext stays unprepared: some of its statements are several
// commands in one string (SET LOCAL …; SET LOCAL …), which PostgreSQL does
// not prepare, and none of them is on a hot path.

// prepared returns query as a statement prepared on every connection that
// runs it (database/sql prepares it again on each connection as needed).
func (db *DB) prepared(ctx context.Context, query string) (*sqlx.Stmt, error) {
	if st, ok := db.stmts.Load(query); ok {
		return st.(*sqlx.Stmt), nil
	}
	st, err := db.db.PreparexContext(ctx, query)
	if err != nil {
		return nil, mapErr(err)
	}
	if prev, loaded := db.stmts.LoadOrStore(query, st); loaded {
		_ = st.Close()
		return prev.(*sqlx.Stmt), nil
	}
	return st, nil
}

// prepareLater prepares query in the background. A transaction must not
// prepare a statement on the pool itself: that takes a second connection
// while it holds one, and a pool full of such transactions would wait on
// itself. Its first execution of a query runs unprepared instead, and the
// next ones find the statement ready.
func (db *DB) prepareLater(query string) {
	if _, busy := db.preparing.LoadOrStore(query, struct{}{}); busy {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := db.prepared(ctx, query); err != nil {
			// A later execution tries again (the statement itself
			// reports its error to its caller, unprepared).
			db.preparing.Delete(query)
		}
	}()
}

// stmtExt is the ext of DB and Tx: the row-returning methods run prepared
// statements (see above), the rest go straight to the pool or transaction.
type stmtExt struct {
	ext
	db *DB
	tx *sqlx.Tx // nil: autocommit on the pool
}

// stmt returns query prepared for this pool or transaction, or nil to run it
// unprepared (not prepared yet inside a transaction, or preparing failed:
// the unprepared execution then reports the error).
func (s stmtExt) stmt(ctx context.Context, query string) *sqlx.Stmt {
	if s.tx == nil {
		st, err := s.db.prepared(ctx, query)
		if err != nil {
			return nil
		}
		return st
	}
	st, ok := s.db.stmts.Load(query)
	if !ok {
		s.db.prepareLater(query)
		return nil
	}
	// Reuses the statement where it is already prepared on the
	// transaction's connection, else prepares it there once for the pool.
	return s.tx.StmtxContext(ctx, st.(*sqlx.Stmt))
}

func (s stmtExt) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.ext.QueryContext(ctx, query, args...)
}

func (s stmtExt) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryxContext(ctx, args...)
	}
	return s.ext.QueryxContext(ctx, query, args...)
}

func (s stmtExt) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryRowxContext(ctx, args...)
	}
	return s.ext.QueryRowxContext(ctx, query, args...)
}

func (s stmtExt) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := s.stmt(ctx, query); st != nil {
		return st.GetContext(ctx, dest, args...)
	}
	return s.ext.GetContext(ctx, dest, query, args...)
}

func (s stmtExt) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := s.stmt(ctx, query); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return s.ext.SelectContext(ctx, dest, query, args...)
}
