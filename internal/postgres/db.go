// Package postgres holds every SQL statement of grantflow: opening and
// migrating the database, transactions, and the queries of each record kind.
// Database errors leave this package as *workflow.Error with a code chosen by
// SQLSTATE, so callers never inspect driver errors: every method returns
// ENotFound for a missing row, EConflict for a duplicate or a lost race,
// EUnprocessable for a broken constraint, EUnavailable when PostgreSQL cannot
// be reached in time, and EInternal otherwise.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/jmoiron/sqlx/reflectx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"grantflow/migrations"
	"grantflow/workflow"
)

// ext is what both *sqlx.DB and *sqlx.Tx offer; the query methods run on either.
type ext interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// q carries the query methods shared by DB (autocommit reads) and Tx.
type q struct{ x ext }

// DB is the connection pool.
type DB struct {
	q
	db  *sqlx.DB
	dsn string // for connections of their own (ListenSessions)

	stmts     sync.Map // query → *sqlx.Stmt, see prepared
	preparing sync.Map // query → struct{}, see prepareLater
}

// Tx is one transaction; obtain it through DB.InTx.
type Tx struct {
	q
	now time.Time
}

// Now returns the transaction's clock reading, truncated to what PostgreSQL
// stores, so that every event of one transaction carries the same time.
func (tx *Tx) Now() time.Time { return tx.now }

// Open connects to the database of dsn, creating the database first when it
// does not exist. It returns an EUnavailable error when PostgreSQL cannot be reached.
func Open(ctx context.Context, dsn string) (*DB, error) {
	dsn = withConnectTimeout(dsn)
	if err := ensureDatabase(ctx, dsn); err != nil {
		return nil, err
	}
	connector, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, workflow.Wrap(workflow.EInternal, err, "database URL tidak valid")
	}
	connector.Dialer(recordingDialer{})
	db := sqlx.NewDb(sql.OpenDB(deadlineConnector{connector}), "postgres")
	// Domain types carry json tags only; columns are named like their JSON fields.
	db.Mapper = reflectx.NewMapperFunc("json", strings.ToLower)
	db.SetMaxOpenConns(DefaultMaxConns)
	db.SetMaxIdleConns(DefaultMaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, mapErr(err)
	}
	d := &DB{db: db, dsn: dsn}
	d.q = q{stmtExt{ext: db, db: d}}
	return d, nil
}

// DefaultMaxConns is the pool size: on the 2-core machine this was sized
// for, with the API, the load and PostgreSQL sharing the cores, more
// connections only queue inside PostgreSQL (measured with cmd/bench -pool,
// see the README); uploads hold a connection only for their short
// transaction, never during the transfer.
const DefaultMaxConns = 24

// SetMaxConns resizes the pool (open and idle connections alike), for the
// benchmark's pool sweep and for operators with more cores.
func (db *DB) SetMaxConns(n int) {
	db.db.SetMaxOpenConns(n)
	db.db.SetMaxIdleConns(n)
}

// withConnectTimeout adds connect_timeout so that an unreachable server fails
// a request in seconds instead of hanging it, binary_parameters and
// client_connection_check_interval, unless the URL sets them.
func withConnectTimeout(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	v := u.Query()
	if v.Get("connect_timeout") == "" {
		v.Set("connect_timeout", "3")
	}
	// One round trip per statement instead of prepare-then-execute: lib/pq
	// then sends []byte arguments as binary, so JSON goes in as text.
	if v.Get("binary_parameters") == "" {
		v.Set("binary_parameters", "yes")
	}
	// The server checks every second whether the client of a running query
	// is gone and stops the query then (see deadlineStmt).
	if v.Get("client_connection_check_interval") == "" {
		v.Set("client_connection_check_interval", "1000")
	}
	u.RawQuery = v.Encode()
	return u.String()
}

// ensureDatabase creates the database named in dsn when it is missing, by
// connecting to the server's "postgres" database.
func ensureDatabase(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return workflow.Wrap(workflow.EInternal, err, "database URL tidak valid")
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || name == "postgres" {
		return nil
	}
	admin := *u
	admin.Path = "/postgres"
	db, err := sql.Open("postgres", admin.String())
	if err != nil {
		return workflow.Wrap(workflow.EInternal, err, "database URL tidak valid")
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return mapErr(err)
	}
	if exists {
		return nil
	}
	_, err = db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
	var pqErr *pq.Error
	// Created meanwhile by another instance: PostgreSQL reports the race as
	// duplicate_database or, when both inserts reach pg_database together, as
	// a unique violation on its name index.
	if errors.As(err, &pqErr) && (pqErr.Code == "42P04" || pqErr.Code == "23505") {
		return nil
	}
	return mapErr(err)
}

// Close closes the pool.
func (db *DB) Close() error { return db.db.Close() }

// SQL returns the underlying pool, for baselines in benchmarks and for goose.
func (db *DB) SQL() *sql.DB { return db.db.DB }

func (db *DB) provider() (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, db.db.DB, migrations.FS, goose.WithSessionLocker(locker),
		goose.WithGoMigrations(goMigrations()...))
}

// Migrate applies every pending migration. A PostgreSQL advisory lock makes
// instances that start together take turns; a failed migration rolls back.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.provider()
	if err != nil {
		return workflow.Wrap(workflow.EInternal, err, "migrasi tidak dapat disiapkan")
	}
	if _, err := p.Up(ctx); err != nil {
		return workflow.Wrap(workflow.EInternal, err, "migrasi gagal")
	}
	return nil
}

// Ready returns nil when the database answers and has no pending migration,
// else an EUnavailable error.
func (db *DB) Ready(ctx context.Context) error {
	var version int64
	err := db.db.GetContext(ctx, &version, `SELECT COALESCE(max(version_id), 0) FROM goose_db_version WHERE is_applied`)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "42P01" { // undefined_table: never migrated
		return workflow.Errorf(workflow.EUnavailable, "basis data belum dimigrasi")
	}
	if err != nil {
		return mapErr(err)
	}
	if version < latestMigration() {
		return workflow.Errorf(workflow.EUnavailable, "basis data belum dimigrasi (versi %d)", version)
	}
	return nil
}

// latestMigration is the highest version embedded in the binary, SQL or Go.
func latestMigration() int64 {
	entries, _ := migrations.FS.ReadDir(".")
	var max int64
	for _, m := range goMigrations() {
		if m.Version > max {
			max = m.Version
		}
	}
	for _, e := range entries {
		var v int64
		if _, err := fmt.Sscanf(e.Name(), "%d_", &v); err == nil && v > max {
			max = v
		}
	}
	return max
}

// InTx runs fn in one transaction and commits when fn returns nil. The
// transaction is rolled back on error or panic.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	return db.inTx(ctx, nil, fn)
}

// InReadTx runs fn in one read-only REPEATABLE READ transaction: every
// statement of fn sees the same snapshot, so a grant's totals, its budget
// lines and its ledger agree even while expenses are being recorded. (Under
// READ COMMITTED each statement would see the commits made since the last.)
func (db *DB) InReadTx(ctx context.Context, fn func(tx *Tx) error) error {
	return db.inTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, fn)
}

func (db *DB) inTx(ctx context.Context, opts *sql.TxOptions, fn func(tx *Tx) error) (err error) {
	sqlTx, err := db.db.BeginTxx(ctx, opts)
	if err != nil {
		return mapErr(err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = sqlTx.Rollback()
		}
	}()
	tx := &Tx{q: q{stmtExt{ext: sqlTx, db: db, tx: sqlTx}}, now: time.Now().UTC().Truncate(time.Microsecond)}
	if err = fn(tx); err != nil {
		return mapErr(err)
	}
	return mapErr(sqlTx.Commit())
}

// mapErr turns driver and context errors into *workflow.Error by SQLSTATE
// class; *workflow.Error passes through unchanged.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var we *workflow.Error
	if errors.As(err, &we) {
		return err
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code {
		case "23505": // unique_violation
			return workflow.Wrap(workflow.EConflict, err, "data yang sama sudah ada")
		case "23503": // foreign_key_violation
			return workflow.Wrap(workflow.EUnprocessable, err, "data rujukan tidak ditemukan")
		case "23514", "23502", "22001", "22003", "22007", "22008", "22P02": // check, not null, too long, out of range, bad datetime, bad text
			return workflow.Wrap(workflow.EUnprocessable, err, "data tidak memenuhi aturan")
		case "40001", "40P01", "55P03": // serialization, deadlock, lock not available
			return workflow.Wrap(workflow.EConflict, err, "data sedang diubah oleh orang lain, coba lagi")
		case "57014": // query_canceled (statement timeout or cancel)
			return workflow.Wrap(workflow.EUnavailable, err, "basis data tidak menjawab tepat waktu")
		}
		switch pqErr.Code.Class() {
		case "08", "57", "53": // connection exception, operator intervention, insufficient resources
			return workflow.Wrap(workflow.EUnavailable, err, "basis data sedang tidak tersedia")
		case "22": // data exception: the input itself (a NUL byte in text or jsonb, 22021/22P05, …)
			return workflow.Wrap(workflow.EUnprocessable, err, "data tidak memenuhi aturan")
		}
		return workflow.Wrap(workflow.EInternal, err, "kesalahan basis data")
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.As(err, &netErr):
		return workflow.Wrap(workflow.EUnavailable, err, "basis data sedang tidak tersedia")
	}
	return workflow.Wrap(workflow.EInternal, err, "kesalahan basis data")
}

// notFound maps sql.ErrNoRows to an ENotFound error naming what was missing.
func notFound(err error, what string, id int64) error {
	if errors.Is(err, sql.ErrNoRows) {
		return workflow.Errorf(workflow.ENotFound, "%s %d tidak ditemukan", what, id)
	}
	return mapErr(err)
}

// deadlineGrace is how long after a statement's context deadline its socket
// gives up, leaving lib/pq's own cancel request the first chance to end it.
const deadlineGrace = 500 * time.Millisecond

// deadlineConnector opens lib/pq connections whose socket reads and writes
// stop at the deadline of the statement's context. lib/pq ends a query on a
// context deadline by sending PostgreSQL a cancel request, but a server that
// has stopped answering (hung, or behind a silent network) never acts on it,
// and the blocked read would hold the request and its pooled connection
// forever. With the socket deadline the statement fails with a network
// error (EUnavailable), lib/pq marks the connection bad and the pool drops
// it. Statements without a deadline (the command line) are not bounded.
type deadlineConnector struct{ pq *pq.Connector }

// connSlot carries, through the context of Connect, where recordingDialer
// leaves the socket it dialled for that connection.
type connSlot struct{}

func (c deadlineConnector) Connect(ctx context.Context) (driver.Conn, error) {
	var nc net.Conn
	cn, err := c.pq.Connect(context.WithValue(ctx, connSlot{}, &nc))
	if err != nil {
		return nil, err
	}
	return &deadlineConn{Conn: cn, nc: nc}, nil
}

func (c deadlineConnector) Driver() driver.Driver { return c.pq.Driver() }

// recordingDialer is lib/pq's default dialer that also hands the socket to
// the deadlineConnector asking for it.
type recordingDialer struct{ d net.Dialer }

func (d recordingDialer) Dial(network, address string) (net.Conn, error) {
	return d.d.Dial(network, address)
}

func (d recordingDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

func (d recordingDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.d.DialContext(ctx, network, address)
	if slot, ok := ctx.Value(connSlot{}).(*net.Conn); ok && err == nil {
		*slot = c
	}
	return c, err
}

// deadlineConn is a lib/pq connection that arms its socket's deadline from
// the context of every call that starts talking to the server. Rows read
// and a transaction committed later stay under the deadline armed by the
// query or BeginTx that started them.
type deadlineConn struct {
	driver.Conn
	nc net.Conn
}

func (c *deadlineConn) arm(ctx context.Context) {
	if c.nc == nil {
		return
	}
	var t time.Time // zero: no deadline
	if dl, ok := ctx.Deadline(); ok {
		t = dl.Add(deadlineGrace)
	}
	_ = c.nc.SetDeadline(t)
}

func (c *deadlineConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.arm(ctx)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *deadlineConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.arm(ctx)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *deadlineConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.arm(ctx)
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &deadlineStmt{Stmt: st, c: c}, nil
}

// deadlineStmt is a prepared statement of a deadlineConn: each execution
// arms the socket's deadline from its own context, like the connection's
// queries (else it would run under whatever deadline the last one left).
//
// lib/pq gets the context without its cancellation. For a prepared
// statement whose context ends, lib/pq sends PostgreSQL a cancel request
// and makes the statement wait for it, up to connect_timeout more when the
// server has stopped answering (a request then took 8 s instead of 5.5 s in
// TestDatabaseHangs). The socket deadline ends the statement instead, and
// the server, which sees the connection close, stops the query within
// client_connection_check_interval (set in withConnectTimeout). A context
// cancelled before its deadline no longer stops a prepared statement; the
// statements prepared here are short.
type deadlineStmt struct {
	driver.Stmt
	c *deadlineConn
}

func (s *deadlineStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.c.arm(ctx)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(context.WithoutCancel(ctx), args)
}

func (s *deadlineStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.c.arm(ctx)
	return s.Stmt.(driver.StmtExecContext).ExecContext(context.WithoutCancel(ctx), args)
}

func (c *deadlineConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.arm(ctx)
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *deadlineConn) Ping(ctx context.Context) error {
	c.arm(ctx)
	return c.Conn.(driver.Pinger).Ping(ctx)
}

func (c *deadlineConn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *deadlineConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

func (c *deadlineConn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.Conn.(driver.NamedValueChecker).CheckNamedValue(nv)
}
