package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/lib/pq"

	"grantflow/internal/demo"
	"grantflow/internal/evidence"
	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/internal/postgres"
	"grantflow/workflow"
)

// The activities bench (issue #7): realising a session with 30 attendees
// and two evidence files, and submit_report on a grant with 7 sessions and
// 300 expenses, each through grants.Service (one client, so the figures are
// latencies) beside the bare SQL those actions need, in the same run and
// interleaved sample by sample. The bare SQL writes to scratch copies of the
// tables (same columns, checks and indexes, no triggers), so the audit
// chains stay whole. It runs on a database of its own (the bench database's
// name + "_activities").

const (
	actGrants   = 4   // funded KKGs of 30 members whose sessions are realised
	actExpenses = 300 // of the submit_report grant
)

// activitiesBench prints the figures to out; its own errors go to log, so
// that a failure here leaves the rest of the bench standing.
func activitiesBench(ctx context.Context, cfg config, out, log io.Writer) {
	if err := runActivitiesBench(ctx, cfg, out, log); err != nil {
		fmt.Fprintln(log, "activities bench:", err)
	}
}

// actWorld is the activities bench's database, service and people.
type actWorld struct {
	db                          *postgres.DB
	svc                         *grants.Service
	prog                        workflow.Program
	today                       workflow.Date
	verifier, approver, finance workflow.Actor
	auditor                     workflow.Actor
	n                           int
}

func runActivitiesBench(ctx context.Context, cfg config, out, log io.Writer) error {
	dsn, err := phaseDSN(cfg.dsn, "_activities")
	if err != nil {
		return err
	}
	db, err := freshDatabase(ctx, dsn, true)
	if err != nil {
		return err
	}
	defer db.Close()
	dir, err := os.MkdirTemp("", "grantflow-bench-activities-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := evidence.NewLocal(dir)
	if err != nil {
		return err
	}
	w := &actWorld{db: db, svc: grants.New(db, grants.Options{Store: st}), today: workflow.DateOf(time.Now().In(workflow.Jakarta))}
	defer w.svc.Close()
	if err := w.people(ctx); err != nil {
		return fmt.Errorf("people: %w", err)
	}
	rounds := 6
	if cfg.quick {
		rounds = 2
	}
	t0 := time.Now()
	fmt.Fprintf(log, "activities: seeding %d funded grants of 30 members and one of 7 sessions and %d expenses\n", actGrants, actExpenses)
	if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE bench_act_events (LIKE grant_events INCLUDING ALL);
		CREATE TABLE bench_act_realizations (LIKE activity_realizations INCLUDING ALL);
		CREATE TABLE bench_act_attendees (LIKE activity_attendees INCLUDING ALL);
		CREATE TABLE bench_act_evidence (LIKE evidence INCLUDING ALL)`); err != nil {
		return fmt.Errorf("scratch tables: %w", err)
	}

	// 1. Realisations: every session of every grant once, then corrections.
	type session struct {
		grant, activity, group int64
		treasurer              workflow.Actor
		ids                    []int64
	}
	var sessions []session
	for i := range actGrants {
		v, tr, grp, err := w.funded(ctx, workflow.KKG, 30)
		if err != nil {
			return fmt.Errorf("funded grant %d: %w", i, err)
		}
		ids := make([]int64, len(grp.Members))
		for j, m := range grp.Members {
			ids[j] = m.ID
		}
		for _, a := range v.Activities {
			sessions = append(sessions, session{v.ID, a.ID, grp.ID, tr, ids})
		}
	}
	jpg := jpegPayload(500_000, 1600, 1200)
	sheet, err := w.svc.Ingest(ctx, bytes.NewReader(sheetPDF(0)))
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	photo, err := w.svc.Ingest(ctx, jpg.file(0))
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	var bare, rows, whole []time.Duration
	seq := uint64(1)
	for r := range rounds {
		for _, s := range sessions {
			in := grants.RealizationInput{HeldOn: w.today, Location: "Aula MIN 1 Kota Bandung", Hours: 4, Facilitator: "Pengawas madrasah",
				AttendeeIDs: s.ids, Summary: fmt.Sprintf("Lokakarya modul ajar, catatan %d.", r), Outputs: "Draf modul ajar per anggota."}
			t := time.Now()
			if err := bareRealize(ctx, db.SQL(), s.grant, s.activity, s.group, s.ids, sheet, photo, w.auditor); err != nil {
				return fmt.Errorf("bare realisation: %w", err)
			}
			bare = append(bare, time.Since(t))

			t = time.Now()
			if err := w.realize(ctx, s.treasurer, s.grant, s.activity, in, &sheet, &photo); err != nil {
				return err
			}
			rows = append(rows, time.Since(t))

			// As a person does it: the two files arrive and are stored too.
			t = time.Now()
			seq++
			sh, err := w.svc.Ingest(ctx, bytes.NewReader(sheetPDF(seq)))
			if err != nil {
				return fmt.Errorf("ingest: %w", err)
			}
			ph, err := w.svc.Ingest(ctx, jpg.file(seq))
			if err != nil {
				return fmt.Errorf("ingest: %w", err)
			}
			if err := w.realize(ctx, s.treasurer, s.grant, s.activity, in, &sh, &ph); err != nil {
				return err
			}
			whole = append(whole, time.Since(t))
		}
	}

	// 2. submit_report on a KKM (5 In + 2 On) with 300 expenses, returned
	// by the auditor after each sample so that it can be submitted again.
	id, treasurer, err := w.accountable(ctx, &sheet)
	if err != nil {
		return fmt.Errorf("submit_report grant: %w", err)
	}
	var bareSubmit, submit []time.Duration
	for range rounds * 5 {
		t := time.Now()
		if err := bareSubmitReport(ctx, db.SQL(), id, w.auditor); err != nil {
			return fmt.Errorf("bare submit_report: %w", err)
		}
		bareSubmit = append(bareSubmit, time.Since(t))
		t = time.Now()
		if _, err := w.svc.Act(ctx, treasurer, id, workflow.SubmitReport, grants.ActInput{}); err != nil {
			return fmt.Errorf("submit_report: %w", err)
		}
		submit = append(submit, time.Since(t))
		if _, err := w.svc.Act(ctx, w.auditor, id, workflow.ReturnReport, grants.ActInput{Comment: "Uji ulang."}); err != nil {
			return fmt.Errorf("return_report: %w", err)
		}
	}
	fmt.Fprintf(log, "activities: %.0f s\n", time.Since(t0).Seconds())

	fmt.Fprintf(out, "\nactivities (one client, median and p90 of interleaved samples, service calls without HTTP):\n")
	line := func(key, name string, ds []time.Duration, base []time.Duration) {
		r := ""
		if base != nil {
			r = fmt.Sprintf("%.2f× the bare SQL", ratio(median(ds), median(base)))
		}
		fmt.Fprintf(out, "  %-3s %-64s %9s  p90 %9s  n %3d  %s\n", key, name, ms(median(ds)), ms(percentile(sorted(ds), 0.9)), len(ds), r)
	}
	line("Ar", "bare SQL: realisation + 30 attendees + 2 evidence rows, 3 tx", bare, nil)
	line("8", "RealizeActivity (30 attendees) + 2 × AddActivityEvidence", rows, bare)
	line("8f", fmt.Sprintf("the same with Ingest of both files (1-page PDF, %s)", jpg.label), whole, bare)
	line("As", "bare SQL: lock, sums, session facts, update, event, 1 tx", bareSubmit, nil)
	line("9", fmt.Sprintf("Act(submit_report), 7 sessions, %d expenses", actExpenses), submit, bareSubmit)
	fmt.Fprintln(out, "  8 counts first realisations and corrections alike (each a new version, its attendees and its event); 8f adds")
	fmt.Fprintln(out, "    content sniffing, whole decoding, hashing, fsync and rename of both files; 9 is followed, untimed, by return_report")
	return nil
}

// sheetPDF is the n-th attendance sheet: a real one-page PDF (uploads are
// parsed and validated whole, so a PDF-like blob would be refused).
func sheetPDF(n uint64) []byte { return evidencetest.Sheet(fmt.Sprintf("Daftar hadir sesi %d", n), 30) }

// sorted returns a sorted copy of ds.
func sorted(ds []time.Duration) []time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s
}

// realize records one realisation and two evidence files through the service.
func (w *actWorld) realize(ctx context.Context, tr workflow.Actor, grant, activity int64, in grants.RealizationInput, sheet, photo *evidence.Object) error {
	if _, err := w.svc.RealizeActivity(ctx, tr, grant, activity, in); err != nil {
		return fmt.Errorf("RealizeActivity: %w", err)
	}
	if _, err := w.svc.AddActivityEvidence(ctx, tr, grant, activity, "attendance", sheet); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if _, err := w.svc.AddActivityEvidence(ctx, tr, grant, activity, "photo", photo); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
}

// people creates the staff the grants need and the programme.
func (w *actWorld) people(ctx context.Context) error {
	var err error
	w.prog, err = w.svc.CreateProgram(ctx, grants.System, workflow.Program{Name: "Bench kegiatan", Year: w.today.Year(),
		ProposalOpensOn: w.today.AddDays(-30), ProposalClosesOn: w.today.AddDays(30), ActivityEndsOn: w.today.AddDays(200),
		ReportDueOn: w.today.AddDays(230), BudgetTotal: 1_000_000_000})
	if err != nil {
		return err
	}
	for _, p := range []struct {
		dst  *workflow.Actor
		role workflow.Role
	}{{&w.verifier, workflow.RoleVerifier}, {&w.approver, workflow.RoleApprover}, {&w.finance, workflow.RoleFinance}, {&w.auditor, workflow.RoleAuditor}} {
		if *p.dst, err = w.user(ctx, grants.NewUser{Roles: []workflow.Role{p.role}}); err != nil {
			return err
		}
	}
	return nil
}

func (w *actWorld) user(ctx context.Context, in grants.NewUser) (workflow.Actor, error) {
	w.n++
	in.Email, in.Name, in.Password = fmt.Sprintf("kegiatan%d@bench.grantflow.id", w.n), fmt.Sprintf("Pengguna Kegiatan %d", w.n), "bench-kegiatan-123"
	u, err := w.svc.CreateUser(ctx, grants.System, in)
	return workflow.Actor{UserID: u.ID, Name: u.Name, Roles: u.Roles, GroupID: u.GroupID}, err
}

// activityGroups numbers the groups this phase registers, after the
// seeded ones (at most a few tens of thousands).
const activityGroups = 1_000_000

// funded registers a group of kind with members members and drives its
// grant to funded (tranche 1 today), returning it, its treasurer and the group.
func (w *actWorld) funded(ctx context.Context, kind workflow.Kind, members int) (grants.View, workflow.Actor, workflow.Group, error) {
	w.n++
	// Far above the seeded groups' numbers: its SK number, account and
	// members must not repeat a seeded group's (one group once).
	g := benchGroup(activityGroups + w.n)
	g.Kind, g.Name, g.BankAccountName = kind, fmt.Sprintf("%s Bench Kegiatan %d", kind, w.n), fmt.Sprintf("%s Bench Kegiatan %d", kind, w.n)
	if kind == workflow.KKM {
		g.Level = "MTs"
	}
	g.Members = demo.Members(activityGroups+w.n, members, "MIS Bench 1", "MIS Bench 2")
	grp, err := w.svc.CreateGroup(ctx, grants.System, g)
	if err != nil {
		return grants.View{}, workflow.Actor{}, grp, err
	}
	tr, err := w.user(ctx, grants.NewUser{Roles: []workflow.Role{workflow.RoleTreasurer}, GroupID: grp.ID})
	if err != nil {
		return grants.View{}, tr, grp, err
	}
	v, err := w.svc.OpenGrant(ctx, tr, w.prog.ID, grp.ID)
	if err != nil {
		return v, tr, grp, err
	}
	if v, err = w.svc.SaveProposal(ctx, tr, v.ID, demo.Proposal(kind, w.today.AddDays(5))); err != nil {
		return v, tr, grp, err
	}
	for _, s := range []struct {
		who    workflow.Actor
		action workflow.Action
		in     grants.ActInput
	}{
		{tr, workflow.Submit, grants.ActInput{}},
		{w.verifier, workflow.StartReview, grants.ActInput{}},
		{w.verifier, workflow.Recommend, grants.ActInput{Comment: "Lengkap.", ApprovedAmount: v.AmountRequested}},
		{w.approver, workflow.Approve, grants.ActInput{Comment: "Disetujui."}},
	} {
		if v, err = w.svc.Act(ctx, s.who, v.ID, s.action, s.in); err != nil {
			return v, tr, grp, fmt.Errorf("%s: %w", s.action, err)
		}
	}
	if _, err := w.svc.Disburse(ctx, w.finance, v.ID, grants.DisbursementInput{Tranche: 1, Amount: w.prog.TrancheAmounts(v.AmountApproved)[0],
		TransferredOn: w.today, Reference: fmt.Sprintf("BENCH-KEG-%d", v.ID)}); err != nil {
		return v, tr, grp, err
	}
	v, err = w.svc.Grant(ctx, grants.System, v.ID)
	return v, tr, grp, err
}

// accountable builds a KKM grant ready for submit_report: its 7 sessions
// held with evidence, 300 expenses with receipts and the balance refunded.
func (w *actWorld) accountable(ctx context.Context, receipt *evidence.Object) (int64, workflow.Actor, error) {
	v, tr, grp, err := w.funded(ctx, workflow.KKM, 20)
	if err != nil {
		return 0, tr, err
	}
	ids := []int64{}
	for _, m := range grp.Members {
		ids = append(ids, m.ID)
	}
	for _, a := range v.Activities {
		in := grants.RealizationInput{HeldOn: w.today, Location: "Aula MTsN 1", Hours: 4, Facilitator: "Pengawas madrasah",
			AttendeeIDs: ids, Summary: "Sesi " + a.Title, Outputs: "Laporan sesi."}
		if _, err := w.svc.RealizeActivity(ctx, tr, v.ID, a.ID, in); err != nil {
			return 0, tr, fmt.Errorf("realise %s: %w", a.Title, err)
		}
		if _, err := w.svc.AddActivityEvidence(ctx, tr, v.ID, a.ID, "attendance", receipt); err != nil {
			return 0, tr, err
		}
	}
	lines := map[string]int64{}
	for _, l := range v.Budget {
		lines[l.Category] = l.ID
	}
	// 300 purchases of Rp 20 000 over four lines, session costs naming a session.
	plan := []struct {
		category string
		n        int
	}{{"konsumsi", 150}, {"transport", 60}, {"atk_bahan", 50}, {"penggandaan", 40}}
	k := 0
	for _, p := range plan {
		for range p.n {
			in := grants.ExpenseInput{SpentOn: w.today, BudgetLineID: lines[p.category], Vendor: "Toko Bench",
				Description: fmt.Sprintf("Belanja %s %d", p.category, k), Amount: 20_000}
			if p.category == "konsumsi" || p.category == "transport" {
				in.ActivityID = v.Activities[k%len(v.Activities)].ID
			}
			if _, err := w.svc.RecordExpense(ctx, tr, v.ID, in, receipt); err != nil {
				return 0, tr, fmt.Errorf("expense %d: %w", k, err)
			}
			k++
		}
	}
	g, err := w.svc.Grant(ctx, grants.System, v.ID)
	if err != nil {
		return 0, tr, err
	}
	if _, err := w.svc.RecordRefund(ctx, tr, v.ID, grants.RefundInput{Amount: g.Balance, PaidOn: w.today, NTPN: "BENCH0KEGIATAN01"}, nil); err != nil {
		return 0, tr, fmt.Errorf("refund: %w", err)
	}
	return v.ID, tr, nil
}

// benchEvent appends an event for grant id to bench_act_events in tx, chained
// to the last one there, as AppendEvent chains grant_events.
func benchEvent(ctx context.Context, tx *sql.Tx, id int64, action string, actor workflow.Actor, data string) (int64, error) {
	var last int
	var prev string
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM bench_act_events WHERE grant_id = $1 ORDER BY seq DESC LIMIT 1`, id).Scan(&last, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%d|%d|%s", prev, id, last+1, data))
	var evID int64
	err = tx.QueryRowContext(ctx, `INSERT INTO bench_act_events (grant_id, seq, action, from_state, to_state, actor_id, actor_name,
		actor_role, comment, data, at, prev_hash, hash) VALUES ($1, $2, $3, 'funded', 'funded', $4, $5, 'treasurer', '', $6, now(), $7, $8) RETURNING id`,
		id, last+1, action, actor.UserID, actor.Name, data, prev, hex.EncodeToString(sum[:])).Scan(&evID)
	return evID, err
}

// bareRealize is the bare SQL of a realisation and its two evidence files:
// three transactions, each locking the grant and appending an event, the
// first also reading the members and the sessions the rules check.
func bareRealize(ctx context.Context, db *sql.DB, grant, activity, group int64, ids []int64, sheet, photo evidence.Object, actor workflow.Actor) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT id FROM grants WHERE id = $1 FOR UPDATE`, grant); err != nil {
		return err
	}
	if _, err := drainTx(ctx, tx, `SELECT id FROM members WHERE group_id = $1`, group); err != nil {
		return err
	}
	if _, err := drainTx(ctx, tx, `SELECT a.id, a.kind, (SELECT max(held_on) FROM activity_realizations r WHERE r.activity_id = a.id)
		FROM activities a WHERE a.grant_id = $1`, grant); err != nil {
		return err
	}
	var version int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(max(version), 0) FROM bench_act_realizations WHERE activity_id = $1`, activity).Scan(&version); err != nil {
		return err
	}
	evID, err := benchEvent(ctx, tx, grant, "realize_activity", actor, fmt.Sprintf(`{"activity_id": %d, "version": %d}`, activity, version+1))
	if err != nil {
		return err
	}
	var rid int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO bench_act_realizations (activity_id, grant_id, version, held_on, location, hours, facilitator,
		summary, outputs, recorded_by, recorded_at, event_id) VALUES ($1, $2, $3, CURRENT_DATE, 'Aula', 4, 'Pengawas', 'Ringkasan', 'Hasil', $4, now(), $5)
		RETURNING id`, activity, grant, version+1, actor.UserID, evID).Scan(&rid); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO bench_act_attendees (realization_id, member_id) SELECT $1, unnest($2::bigint[])`, rid, pq.Array(ids)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, f := range []struct {
		kind string
		obj  evidence.Object
	}{{"attendance", sheet}, {"photo", photo}} {
		if err := bareEvidence(ctx, db, grant, activity, f.kind, f.obj, actor); err != nil {
			return err
		}
	}
	return nil
}

// bareEvidence is the bare SQL of one evidence row: lock, insert, event.
func bareEvidence(ctx context.Context, db *sql.DB, grant, activity int64, kind string, obj evidence.Object, actor workflow.Actor) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT id FROM grants WHERE id = $1 FOR UPDATE`, grant); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO bench_act_evidence (grant_id, activity_id, kind, sha256, size, mime, uploaded_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, now())`, grant, activity, kind, obj.SHA256, obj.Size, obj.MIME, actor.UserID); err != nil {
		return err
	}
	if _, err := benchEvent(ctx, tx, grant, "add_evidence", actor, fmt.Sprintf(`{"sha256": %q}`, obj.SHA256)); err != nil {
		return err
	}
	return tx.Commit()
}

// bareSubmitReport is the bare SQL of submit_report: lock the grant, read
// the money sums and the facts of every session (held, attendance,
// evidence), update the grant and append the event, in one transaction.
func bareSubmitReport(ctx context.Context, db *sql.DB, grant int64, actor workflow.Actor) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT id FROM grants WHERE id = $1 FOR UPDATE`, grant); err != nil {
		return err
	}
	var disbursed, spent, missing, refunded int64
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT COALESCE(sum(amount), 0) FROM disbursements WHERE grant_id = $1),
		(SELECT COALESCE(sum(amount), 0) FROM expenses WHERE grant_id = $1 AND voided_at IS NULL),
		(SELECT count(*) FROM expenses WHERE grant_id = $1 AND voided_at IS NULL AND receipt_id IS NULL),
		(SELECT COALESCE(sum(amount), 0) FROM refunds WHERE grant_id = $1)`, grant).Scan(&disbursed, &spent, &missing, &refunded); err != nil {
		return err
	}
	if _, err := drainTx(ctx, tx, `SELECT a.id, a.kind, r.held_on,
		(SELECT count(*) FROM activity_attendees t WHERE t.realization_id = r.id),
		(SELECT count(*) FROM evidence v WHERE v.activity_id = a.id),
		EXISTS (SELECT 1 FROM activity_cancellations c WHERE c.activity_id = a.id)
		FROM activities a LEFT JOIN LATERAL (SELECT id, held_on FROM activity_realizations WHERE activity_id = a.id ORDER BY version DESC LIMIT 1) r ON true
		WHERE a.grant_id = $1 ORDER BY a.seq`, grant); err != nil {
		return err
	}
	if disbursed-spent-refunded != 0 || missing != 0 {
		return fmt.Errorf("grant %d is not accounted for", grant)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE grants SET updated_at = now() WHERE id = $1`, grant); err != nil {
		return err
	}
	if _, err := benchEvent(ctx, tx, grant, "submit_report", actor, `{}`); err != nil {
		return err
	}
	return tx.Commit()
}

// drainTx runs query in tx and reads every row, returning how many.
func drainTx(ctx context.Context, tx *sql.Tx, query string, arg int64) (int, error) {
	rows, err := tx.QueryContext(ctx, query, arg)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}
