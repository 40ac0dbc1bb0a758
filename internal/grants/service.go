// Package grants holds grantflow's use cases: one method per user action,
// each one transaction that checks the caller's role and scope, applies the
// workflow and appends an audit event. Handlers and the CLI call only this.
package grants

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"grantflow/internal/auth"
	"grantflow/internal/evidence"
	"grantflow/internal/postgres"
	"grantflow/workflow"
)

// DefaultSessionCacheTTL is the session cache's bound the server runs with
// (Options.SessionCache): short enough that a lost notification still ends
// a revoked session within seconds everywhere.
const DefaultSessionCacheTTL = 2 * time.Second

// Options tune a Service; zero fields take the defaults.
type Options struct {
	SessionIdle time.Duration    // default 2 h
	SessionMax  time.Duration    // default 12 h
	Now         func() time.Time // default time.Now; tests move the clock
	Store       evidence.Store   // evidence files; required for uploads
	// LoginLimits are the failed-login limits, counted in PostgreSQL so
	// that every instance shares them; zero means auth.DefaultLoginLimits.
	LoginLimits auth.LoginLimits
	// BackgroundPreviews makes image previews in a background worker right
	// after each upload (the server); without it they are made when first
	// viewed. Call Close to stop the worker.
	BackgroundPreviews bool
	Logger             *slog.Logger // for the background work; default: discard
	// PublicURL is GRANTFLOW_PUBLIC_URL, the base of the verification link
	// and QR code printed in every LPJ ("https://hibah.example.id").
	PublicURL string
	// SessionCache, when > 0, answers session lookups from memory for at
	// most this long (a few seconds), so an authenticated request costs no
	// database round trip. Logouts and user changes on any instance reach
	// the cache at once through PostgreSQL NOTIFY (migration 0160); the TTL
	// bounds staleness if a notification is lost. Call Close to stop
	// listening.
	SessionCache time.Duration
	// ReadCache keeps grant reads (postgres.ReadCache) in memory under the
	// grant's version, which triggers change with every write (migration
	// 0190): a grant answer then costs one single-row SELECT while the
	// grant is unchanged, and is never stale on any instance. Off by
	// default; the server and the benchmark turn it on.
	ReadCache bool
}

// Service carries out user actions against the database.
type Service struct {
	db       *postgres.DB
	store    evidence.Store
	now      func() time.Time
	idle     time.Duration
	max      time.Duration
	throttle auth.LoginLimits
	log      *slog.Logger
	public   string // Options.PublicURL without a trailing slash

	previews   chan previewJob // nil without BackgroundPreviews
	previewsWG sync.WaitGroup
	previewMu  sync.Mutex // orders sends against Close
	closing    atomic.Bool

	sessions   *auth.SessionCache[postgres.User] // nil without Options.SessionCache
	reads      *postgres.ReadCache               // nil without Options.ReadCache
	stopListen context.CancelFunc
}

// New returns a Service on db.
func New(db *postgres.DB, o Options) *Service {
	s := &Service{db: db, store: o.Store, now: o.Now, idle: o.SessionIdle, max: o.SessionMax, throttle: o.LoginLimits,
		public: strings.TrimRight(o.PublicURL, "/")}
	if s.now == nil {
		s.now = time.Now
	}
	if s.idle <= 0 {
		s.idle = 2 * time.Hour
	}
	if s.max <= 0 {
		s.max = 12 * time.Hour
	}
	if s.log = o.Logger; s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.throttle == (auth.LoginLimits{}) {
		s.throttle = auth.DefaultLoginLimits()
	}
	if o.SessionCache > 0 {
		s.sessions = auth.NewSessionCache[postgres.User](o.SessionCache, 0)
		ctx, cancel := context.WithCancel(context.Background())
		s.stopListen = cancel
		err := db.ListenSessions(ctx, postgres.SessionChanges{
			Session: s.sessions.Forget, User: s.sessions.ForgetUser, Reset: s.sessions.Reset})
		if err != nil {
			// The TTL alone still bounds how long a revoked session is served.
			s.log.Warn("session cache: LISTEN failed; entries expire by their TTL only", "err", err)
		}
	}
	if o.ReadCache {
		s.reads = postgres.NewReadCache(0)
	}
	if o.BackgroundPreviews && o.Store != nil {
		s.previews = make(chan previewJob, 256)
		s.previewsWG.Add(1)
		go s.previewWorker()
	}
	return s
}

// DB returns the database the service runs on.
func (s *Service) DB() *postgres.DB { return s.db }

// today is the service clock's calendar date (dates in the contract are
// Jakarta calendar days).
func (s *Service) today() workflow.Date { return workflow.DateOf(s.now().In(workflow.Jakarta)) }

// require returns EForbidden unless a holds one of roles.
func require(a workflow.Actor, roles ...workflow.Role) error {
	for _, r := range roles {
		if a.Has(r) {
			return nil
		}
	}
	return workflow.Errorf(workflow.EForbidden, "peran Anda tidak diizinkan melakukan tindakan ini")
}

// scopeOf returns the listing scope of a: group roles see their group, staff their region.
func scopeOf(a workflow.Actor) postgres.Scope {
	if a.Has(workflow.RoleAdmin) {
		return postgres.Scope{}
	}
	if !a.IsStaff() {
		return postgres.Scope{GroupID: a.GroupID}
	}
	return postgres.Scope{ProvinceCode: a.ProvinceCode, RegencyCode: a.RegencyCode}
}

// visibleGrant loads grant id and its group (without members); out-of-scope grants answer
// ENotFound exactly like missing ones, so ids reveal nothing.
func visibleGrant(ctx context.Context, tx *postgres.Tx, a workflow.Actor, id int64) (workflow.Grant, workflow.Group, error) {
	g, err := tx.Grant(ctx, id)
	if err != nil {
		return g, workflow.Group{}, err
	}
	return inScope(ctx, tx, a, g)
}

// lockedGrant is visibleGrant holding the grant's row lock until the
// transaction ends: every change starts here.
func lockedGrant(ctx context.Context, tx *postgres.Tx, a workflow.Actor, id int64) (workflow.Grant, workflow.Group, error) {
	g, err := tx.GrantForUpdate(ctx, id)
	if err != nil {
		return g, workflow.Group{}, err
	}
	return inScope(ctx, tx, a, g)
}

func inScope(ctx context.Context, tx *postgres.Tx, a workflow.Actor, g workflow.Grant) (workflow.Grant, workflow.Group, error) {
	grp, err := tx.GroupHeader(ctx, g.GroupID)
	if err != nil {
		return g, grp, err
	}
	if !a.Sees(grp.ID, grp.ProvinceCode, grp.RegencyCode) {
		return g, grp, workflow.Errorf(workflow.ENotFound, "hibah %d tidak ditemukan", g.ID)
	}
	return g, grp, nil
}

// readInScope runs read in one read-only snapshot once a is known to see
// grant id; else it returns ENotFound like a missing grant.
func readInScope[T any](ctx context.Context, s *Service, a workflow.Actor, id int64, read func(*postgres.Tx) (T, error)) (T, error) {
	var out T
	err := s.db.InReadTx(ctx, func(tx *postgres.Tx) error {
		if _, _, err := visibleGrant(ctx, tx, a, id); err != nil {
			return err
		}
		var err error
		out, err = read(tx)
		return err
	})
	return out, err
}

// Today is the service clock's calendar date in Jakarta, for callers outside
// the package that drive the service (the demo seeding).
func (s *Service) Today() workflow.Date { return s.today() }

// HasStore reports whether the service was given an evidence store, so that
// a caller can skip uploads a store-less service would refuse.
func (s *Service) HasStore() bool { return s.store != nil }
