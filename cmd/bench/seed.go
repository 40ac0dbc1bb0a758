package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"grantflow/internal/auth"
	"grantflow/internal/demo"
	"grantflow/internal/evidence"
	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/internal/postgres"
	"grantflow/workflow"
)

// password is the password of every user the bench creates.
const password = "bench-password-123"

// maxGroups is the most groups the bench registers. The schema allows one
// grant per group per programme, so N grants take ceil(N/groups) programmes;
// that keeps the chairs (one argon2id hash each, ~30 ms) to 100 however many
// grants are seeded.
const maxGroups = 100

// seedWorkers is how many grants are opened, written and submitted at once.
const seedWorkers = 8

// fundedGrant is a funded grant that receives receipt uploads, with the
// budget line the expenses are charged to and its treasurer's session.
type fundedGrant struct {
	id     int64
	lineID int64
	token  string
}

// world is the seeded database and what the phases need from it.
type world struct {
	db        *postgres.DB
	svc       *grants.Service
	storeDir  string
	today     workflow.Date
	ids       []int64 // every seeded grant
	review    []int64 // submitted grants kept for start_review, each used once
	funded    []fundedGrant
	auditor   workflow.Actor
	auditTok  []string // one auditor session per API client
	verifyTok []string // one verifier session per API client
}

// benchURL returns the database URL of the run: GRANTFLOW_BENCH_DATABASE_URL or the default.
func benchURL(env string) string {
	if env != "" {
		return env
	}
	return "postgres://postgres@127.0.0.1:5432/grantflow_bench?sslmode=disable"
}

// recreateDatabase drops the database named in dsn. postgres.Open creates it
// again. It refuses names without "bench" in them, so a mistyped URL cannot
// drop a real database; it returns an error when the server cannot be reached.
func recreateDatabase(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return fmt.Errorf("database URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if !strings.Contains(name, "bench") {
		return fmt.Errorf("refusing to drop database %q: its name must contain \"bench\"", name)
	}
	admin := *u
	admin.Path = "/postgres"
	db, err := sql.Open("postgres", admin.String())
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)")
	return err
}

// phaseDSN names the database of one phase beside the bench's own:
// dsn's database name with suffix appended ("_monitor", "_risk").
func phaseDSN(dsn, suffix string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("database URL: %w", err)
	}
	u.Path += suffix
	return u.String(), nil
}

// freshDatabase drops the database named in dsn (when recreate), opens it
// (postgres.Open creates it when missing) and migrates it.
func freshDatabase(ctx context.Context, dsn string, recreate bool) (*postgres.DB, error) {
	if recreate {
		if err := recreateDatabase(ctx, dsn); err != nil {
			return nil, err
		}
	}
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// seed builds a fresh database and fills it through grants.Service: staff,
// programmes with a big pool, 100 groups with their chairs, cfg.grants
// submitted grants, cfg.funded of them funded with a treasurer each, and the
// sessions the load clients use. Progress goes to log. It returns the first
// error any step meets.
// benchHistory is the number of expenses each funded grant has before the
// phases start.
const benchHistory = 12

func seed(ctx context.Context, cfg config, storeDir string, log io.Writer) (*world, error) {
	db, err := freshDatabase(ctx, cfg.dsn, true)
	if err != nil {
		return nil, err
	}
	st, err := evidence.NewLocal(storeDir)
	if err != nil {
		db.Close()
		return nil, err
	}
	w := &world{db: db, svc: grants.New(db, grants.Options{Store: st, BackgroundPreviews: true, SessionCache: grants.DefaultSessionCacheTTL, ReadCache: true}), storeDir: storeDir,
		today: workflow.DateOf(time.Now().In(workflow.Jakarta))}
	if err := w.fill(ctx, cfg, log); err != nil {
		db.Close()
		return nil, err
	}
	return w, nil
}

// fill does the seeding steps of seed on an empty migrated database.
func (w *world) fill(ctx context.Context, cfg config, log io.Writer) error {
	t0 := time.Now()
	step := func(format string, args ...any) {
		fmt.Fprintf(log, "  %6.1fs  %s\n", time.Since(t0).Seconds(), fmt.Sprintf(format, args...))
	}
	svc, sys := w.svc, grants.System

	staff := map[workflow.Role]workflow.Actor{}
	for _, r := range []workflow.Role{workflow.RoleAuditor, workflow.RoleVerifier, workflow.RoleApprover, workflow.RoleFinance} {
		u, err := svc.CreateUser(ctx, sys, grants.NewUser{Email: string(r) + "@bench.grantflow.id", Name: "Bench " + string(r),
			Password: password, Roles: []workflow.Role{r}})
		if err != nil {
			return fmt.Errorf("staff %s: %w", r, err)
		}
		staff[r] = workflow.Actor{UserID: u.ID, Name: u.Name, Roles: u.Roles}
	}
	w.auditor = staff[workflow.RoleAuditor]

	// A tenth of the grants, so that a small run has few chairs to hash,
	// but at least one group per funded grant.
	nGroups := min(maxGroups, max(cfg.funded, cfg.grants/10))
	nProgs := (cfg.grants + nGroups - 1) / nGroups
	progs := make([]workflow.Program, nProgs)
	for i := range progs {
		p, err := svc.CreateProgram(ctx, sys, workflow.Program{
			Name: fmt.Sprintf("Bench programme %d", i+1), Year: w.today.Year(),
			ProposalOpensOn: w.today.AddDays(-30), ProposalClosesOn: w.today.AddDays(60),
			ActivityEndsOn: w.today.AddDays(240), ReportDueOn: w.today.AddDays(270),
			BudgetTotal: 1_000_000_000_000, // Rp 1 trillion: approvals never run out of pool
		})
		if err != nil {
			return fmt.Errorf("programme: %w", err)
		}
		progs[i] = p
	}

	groups := make([]workflow.Group, nGroups)
	for i := range groups {
		g, err := svc.CreateGroup(ctx, sys, benchGroup(i))
		if err != nil {
			return fmt.Errorf("group %d: %w", i, err)
		}
		groups[i] = g
	}
	step("%d programmes, %d groups, 4 staff", nProgs, nGroups)

	// Argon2id runs two at a time (auth bounds it to the core count), so
	// two workers keep both cores busy hashing.
	chairs := make([]workflow.Actor, nGroups)
	treasurers := make([]string, cfg.funded) // e-mail addresses
	treasurerActors := make([]workflow.Actor, cfg.funded)
	err := parallel(nGroups+cfg.funded, 2, func(i int) error {
		role, gi := workflow.RoleChair, i
		if i >= nGroups {
			role, gi = workflow.RoleTreasurer, i-nGroups
		}
		email := fmt.Sprintf("%s%03d@bench.grantflow.id", role, gi)
		u, err := svc.CreateUser(ctx, sys, grants.NewUser{Email: email, Name: fmt.Sprintf("Bench %s %d", role, gi),
			Password: password, Roles: []workflow.Role{role}, GroupID: groups[gi].ID})
		if err != nil {
			return fmt.Errorf("%s of group %d: %w", role, gi, err)
		}
		if role == workflow.RoleChair {
			chairs[gi] = workflow.Actor{UserID: u.ID, Name: u.Name, Roles: u.Roles, GroupID: u.GroupID}
		} else {
			treasurers[gi] = email
			treasurerActors[gi] = workflow.Actor{UserID: u.ID, Name: u.Name, Roles: u.Roles, GroupID: u.GroupID}
		}
		return nil
	})
	if err != nil {
		return err
	}
	step("%d chairs, %d treasurers", nGroups, cfg.funded)

	// Every grant goes the way a group takes it: open, write the proposal, submit.
	w.ids = make([]int64, cfg.grants)
	views := make([]grants.View, cfg.grants)
	var done atomic.Int64
	err = parallel(cfg.grants, seedWorkers, func(i int) error {
		prog, gi := progs[i/nGroups], i%nGroups
		chair := chairs[gi]
		v, err := svc.OpenGrant(ctx, chair, prog.ID, groups[gi].ID)
		if err != nil {
			return fmt.Errorf("open grant %d: %w", i, err)
		}
		if _, err := svc.SaveProposal(ctx, chair, v.ID, demo.Proposal(groups[gi].Kind, w.today.AddDays(30))); err != nil {
			return fmt.Errorf("proposal of grant %d: %w", v.ID, err)
		}
		if v, err = svc.Act(ctx, chair, v.ID, workflow.Submit, grants.ActInput{}); err != nil {
			return fmt.Errorf("submit grant %d: %w", v.ID, err)
		}
		w.ids[i], views[i] = v.ID, v
		if n := done.Add(1); n%2000 == 0 {
			step("%d grants submitted", n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if cfg.grants%2000 != 0 {
		step("%d grants submitted", cfg.grants)
	}

	// The first cfg.funded grants (programme 1, one per group) are reviewed,
	// recommended, approved and paid their first tranche.
	w.funded = make([]fundedGrant, cfg.funded)
	verifier, approver, finance := staff[workflow.RoleVerifier], staff[workflow.RoleApprover], staff[workflow.RoleFinance]
	err = parallel(cfg.funded, 4, func(i int) error {
		v := views[i]
		steps := []struct {
			who workflow.Actor
			act workflow.Action
			in  grants.ActInput
		}{
			{verifier, workflow.StartReview, grants.ActInput{}},
			{verifier, workflow.Recommend, grants.ActInput{Comment: "Lengkap.", ApprovedAmount: v.AmountRequested}},
			{approver, workflow.Approve, grants.ActInput{Comment: "Disetujui."}},
		}
		for _, s := range steps {
			if _, err := svc.Act(ctx, s.who, v.ID, s.act, s.in); err != nil {
				return fmt.Errorf("%s grant %d: %w", s.act, v.ID, err)
			}
		}
		amount := progs[0].TrancheAmounts(v.AmountRequested)[0]
		if _, err := svc.Disburse(ctx, finance, v.ID, grants.DisbursementInput{Tranche: 1, Amount: amount,
			TransferredOn: w.today, Reference: fmt.Sprintf("BENCH-%d", v.ID)}); err != nil {
			return fmt.Errorf("disburse grant %d: %w", v.ID, err)
		}
		w.funded[i] = fundedGrant{id: v.ID, lineID: v.Budget[0].ID}
		// A history of spending, as a grant has some weeks into its
		// funding: the uploads measured then check against a ledger,
		// and the statistics below describe money tables that are not
		// empty (planned for empty ones, reads of a grant's expenses
		// scanned every expense of every grant).
		for k := range benchHistory {
			obj, err := svc.Ingest(ctx, bytes.NewReader(evidencetest.NotePDF(fmt.Sprintf("bench history %d-%d", v.ID, k))))
			if err != nil {
				return fmt.Errorf("history receipt of grant %d: %w", v.ID, err)
			}
			if _, err := svc.RecordExpense(ctx, treasurerActors[i], v.ID, grants.ExpenseInput{SpentOn: w.today,
				BudgetLineID: v.Budget[k%len(v.Budget)].ID, Vendor: "Toko Riwayat", Description: "Belanja sebelum bench",
				Amount: 1000}, &obj); err != nil {
				return fmt.Errorf("history expense of grant %d: %w", v.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.review = w.ids[cfg.funded:]
	step("%d grants funded, %d expenses each", cfg.funded, benchHistory)

	// One session per load client, so that clients do not queue on one
	// session row (every request updates its session's last_seen_at). Each
	// person logs in once through the service; the other sessions of the
	// auditor and the verifier are stored directly, as Login would store
	// them, because each Login costs an argon2id verification.
	w.auditTok = make([]string, cfg.clients)
	w.verifyTok = make([]string, cfg.clients)
	err = parallel(2+cfg.funded, 2, func(i int) error {
		var email string
		var dst *string
		switch i {
		case 0:
			email, dst = "auditor@bench.grantflow.id", &w.auditTok[0]
		case 1:
			email, dst = "verifier@bench.grantflow.id", &w.verifyTok[0]
		default:
			email, dst = treasurers[i-2], &w.funded[i-2].token
		}
		tok, _, err := svc.Login(ctx, email, password, "127.0.0.1")
		*dst = tok
		return err
	})
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	for i := 1; i < cfg.clients; i++ {
		for _, s := range []struct {
			user int64
			dst  *string
		}{{staff[workflow.RoleAuditor].UserID, &w.auditTok[i]}, {staff[workflow.RoleVerifier].UserID, &w.verifyTok[i]}} {
			tok, hash, err := auth.NewToken()
			if err != nil {
				return err
			}
			if err := w.db.CreateSession(ctx, hash, s.user, time.Now().Add(svc.SessionMax())); err != nil {
				return fmt.Errorf("session: %w", err)
			}
			*s.dst = tok
		}
	}
	step("%d logins, %d sessions", 2+cfg.funded, 2*cfg.clients+cfg.funded)

	// Fresh statistics after the bulk load, as autovacuum would give a
	// database that has been running for a while.
	if _, err := w.db.SQL().ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	step("vacuum analyze")
	return nil
}

var regencies = []string{"Kota Bandung", "Kabupaten Garut", "Kabupaten Tasikmalaya", "Kota Bogor", "Kabupaten Sumedang",
	"Kabupaten Cianjur", "Kabupaten Bekasi", "Kabupaten Pangandaran"}

// benchGroup returns a valid KKG of 15 members, the i-th of the run.
func benchGroup(i int) workflow.Group {
	name := fmt.Sprintf("KKG MI Bench %03d", i+1)
	g := workflow.Group{Kind: workflow.KKG, Name: name, Level: "MI", Province: "Jawa Barat", Regency: regencies[i%len(regencies)],
		SKNumber: fmt.Sprintf("B-%d/Kk.10/PP.00/2026", 5000+i), BankName: "Bank Syariah Indonesia",
		BankAccountNumber: fmt.Sprintf("72%08d", 1000+i), BankAccountName: name}
	g.Members = demo.Members(i, 15, "MIS Bench 1", "MIS Bench 2", "MIS Bench 3")
	return g
}

// parallel runs fn(0) … fn(n-1) on workers goroutines and returns the first
// error; after an error the remaining indices are skipped.
func parallel(n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var once sync.Once
	var first error
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	return first
}
