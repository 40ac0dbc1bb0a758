package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
	"grantflow/workflow"
)

// actFixture is a funded KKG grant made with raw SQL (the service layer is
// being reworked in another branch): a programme, a group of four members,
// a chair, a treasurer and a verifier, activities In, On, In, two budget
// lines and tranche 1 transferred on day0.
type actFixture struct {
	db                      *postgres.DB
	grant, group, other     int64
	chair, treasurer, verif workflow.Actor
	members                 []int64
	acts                    []int64 // by seq: In, On, In
	konsumsi, atk           int64   // budget lines
	prog                    workflow.Program
	day0                    workflow.Date
}

func mustID(t *testing.T, db *postgres.DB, query string, args ...any) int64 {
	t.Helper()
	var id int64
	if err := db.SQL().QueryRow(query, args...).Scan(&id); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return id
}

func newActFixture(t *testing.T) *actFixture {
	t.Helper()
	db := pgtest.New(t)
	f := &actFixture{db: db, day0: workflow.MustDate("2026-03-02")}
	prog := mustID(t, db, `INSERT INTO programs (name, year, proposal_opens_on, proposal_closes_on, activity_ends_on, report_due_on,
		budget_total, at_risk_after_days, dormant_after_days, settings)
		VALUES ('Program Uji', 2026, '2026-01-01', '2026-02-28', '2026-10-31', '2026-12-31', 1000000000, 45, 90, '{}') RETURNING id`)
	f.prog = workflow.Program{ID: prog, Year: 2026, ProposalOpensOn: workflow.MustDate("2026-01-01"), ProposalClosesOn: workflow.MustDate("2026-02-28"),
		ActivityEndsOn: workflow.MustDate("2026-10-31"), ReportDueOn: workflow.MustDate("2026-12-31"), BudgetTotal: 1_000_000_000}
	group := func(name, sk, account string) int64 {
		return mustID(t, db, `INSERT INTO groups (kind, name, level, province, regency, province_code, regency_code, sk_number, bank_name,
			bank_account_number, bank_account_name)
			VALUES ('KKG', $1, 'MI', 'Jawa Barat', 'Kabupaten Bogor', '32', '32.01', $2, 'BSI', $3, $1) RETURNING id`, name, sk, account)
	}
	f.group, f.other = group("KKG Cibinong", "SK-1", "7100001"), group("KKG Lain", "SK-2", "7100002")
	for i, pos := range []string{"ketua", "bendahara", "sekretaris", "anggota"} {
		f.members = append(f.members, mustID(t, db, `INSERT INTO members (group_id, seq, name, madrasah, position)
			VALUES ($1, $2, $3, 'MI Nurul Huda', $4) RETURNING id`, f.group, i+1, fmt.Sprintf("Guru %d", i+1), pos))
	}
	mustID(t, db, `INSERT INTO members (group_id, seq, name, madrasah, position) VALUES ($1, 1, 'Guru lain', 'MI Lain', 'ketua') RETURNING id`, f.other)
	user := func(email string, role workflow.Role, group any) workflow.Actor {
		id := mustID(t, db, `INSERT INTO users (email, name, password_hash, roles, group_id) VALUES ($1, $1, 'x', $2, $3) RETURNING id`,
			email, pq.Array([]string{string(role)}), group)
		a := workflow.Actor{UserID: id, Name: email, Roles: []workflow.Role{role}}
		if group != nil {
			a.GroupID = f.group
		}
		return a
	}
	f.chair = user("ketua@uji.id", workflow.RoleChair, f.group)
	f.treasurer = user("bendahara@uji.id", workflow.RoleTreasurer, f.group)
	f.verif = user("verifikator@uji.id", workflow.RoleVerifier, nil)
	f.grant = mustID(t, db, `INSERT INTO grants (number, program_id, group_id, state, amount_requested, amount_approved)
		VALUES ('KKG-2026-000001', $1, $2, 'funded', 10000000, 10000000) RETURNING id`, prog, f.group)
	for i, k := range []string{"in", "on", "in"} {
		f.acts = append(f.acts, mustID(t, db, `INSERT INTO activities (grant_id, seq, kind, title, planned_on, planned_participants)
			VALUES ($1, $2, $3, $4, $5, 4) RETURNING id`, f.grant, i+1, k, fmt.Sprintf("%s %d", k, i+1), workflow.MustDate("2026-04-01").AddDays(i+1)))
	}
	f.konsumsi = mustID(t, db, `INSERT INTO budget_lines (grant_id, seq, category, description, quantity, unit, unit_price, amount)
		VALUES ($1, 1, 'konsumsi', 'Konsumsi', 100, 'orang', 50000, 5000000) RETURNING id`, f.grant)
	f.atk = mustID(t, db, `INSERT INTO budget_lines (grant_id, seq, category, description, quantity, unit, unit_price, amount)
		VALUES ($1, 2, 'atk_bahan', 'ATK', 1, 'paket', 5000000, 5000000) RETURNING id`, f.grant)
	mustID(t, db, `INSERT INTO disbursements (grant_id, tranche, amount, transferred_on, reference, recorded_by)
		VALUES ($1, 1, 7000000, $2, 'BSI-1', $3) RETURNING id`, f.grant, f.day0, f.verif.UserID)
	return f
}

func (f *actFixture) realization(held string, attendees ...int64) workflow.Realization {
	return workflow.Realization{HeldOn: workflow.MustDate(held), Location: "Aula MI Nurul Huda", Hours: 8,
		Facilitator: "Dr. Siti Aminah", AttendeeIDs: attendees, Summary: "Lokakarya asesmen formatif.", Outputs: "Modul ajar."}
}

// realize runs what the service will: lock, workflow.Realize, the event,
// the row with its attendees, in one transaction.
func (f *actFixture) realize(ctx context.Context, who workflow.Actor, activity int64, r workflow.Realization) (workflow.Realization, error) {
	var out workflow.Realization
	err := f.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, err := tx.GrantForUpdate(ctx, f.grant)
		if err != nil {
			return err
		}
		grp, err := tx.Group(ctx, f.group)
		if err != nil {
			return err
		}
		ds, err := tx.Disbursements(ctx, f.grant)
		if err != nil {
			return err
		}
		rz, ev, err := workflow.Realize(&g, workflow.RealizeRequest{Actor: who, Now: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC),
			ActivityID: activity, Realization: r, Program: f.prog, FirstTransfer: workflow.FirstTransfer(ds), Members: grp.Members})
		if err != nil {
			return err
		}
		if ev, err = tx.AppendEvent(ctx, ev); err != nil {
			return err
		}
		rz.EventID = ev.ID
		out, err = tx.InsertRealization(ctx, rz)
		return err
	})
	return out, err
}

func (f *actFixture) grantNow(t *testing.T) workflow.Grant {
	t.Helper()
	g, err := f.db.Grant(ctxT(t), f.grant)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// A realisation and its correction are two rows; the grant reads the latest,
// the history keeps the earlier values, each version links its own event.
func TestRealizeAndCorrect(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newActFixture(t)
	m := f.members

	first, err := f.realize(ctx, f.chair, f.acts[0], f.realization("2026-04-02", m[2], m[0], m[1]))
	if err != nil {
		t.Fatalf("realize: %v", err)
	}
	if first.ID == 0 || first.Version != 1 || first.EventID == 0 || !slices.Equal(first.AttendeeIDs, []int64{m[0], m[1], m[2]}) {
		t.Fatalf("first realisation %+v", first)
	}
	g := f.grantNow(t)
	a := g.Activities[0]
	if a.Status != workflow.ActivityHeld || a.HeldOn != workflow.MustDate("2026-04-02") || a.AttendeeCount != 3 || a.Version != 1 {
		t.Fatalf("activity after realisation %+v", a)
	}
	if g.Activities[1].Status != workflow.ActivityPlanned || g.Activities[1].Version != 0 {
		t.Errorf("other activity %+v", g.Activities[1])
	}

	fixed := f.realization("2026-04-03", m[0], m[3])
	fixed.Hours, fixed.Location = 6, "MI Nurul Huda kelas 2"
	second, err := f.realize(ctx, f.treasurer, f.acts[0], fixed)
	if err != nil {
		t.Fatalf("correct: %v", err)
	}
	if second.Version != 2 || second.EventID == first.EventID {
		t.Fatalf("correction %+v", second)
	}
	a = f.grantNow(t).Activities[0]
	if a.HeldOn != workflow.MustDate("2026-04-03") || a.AttendeeCount != 2 || a.Version != 2 {
		t.Errorf("activity after correction %+v", a)
	}

	hist, err := f.db.RealizationHistory(ctx, f.grant, f.acts[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Hours != 8 || hist[0].Location != "Aula MI Nurul Huda" || len(hist[0].AttendeeIDs) != 3 ||
		hist[1].Hours != 6 || !slices.Equal(hist[1].AttendeeIDs, []int64{m[0], m[3]}) || hist[0].RecordedBy != f.chair.UserID {
		t.Errorf("history %+v", hist)
	}
	if other, err := f.db.RealizationHistory(ctx, f.grant, f.acts[1]); err != nil || len(other) != 0 {
		t.Errorf("history of a session never held: %v, %+v", err, other)
	}
	latest, err := f.db.Realizations(ctx, f.grant)
	if err != nil || len(latest) != 1 || latest[0].Version != 2 || latest[0].ID != second.ID {
		t.Errorf("Realizations = %+v, %v", latest, err)
	}

	evs, err := f.db.Events(ctx, f.grant)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Action != workflow.EventRealizeActivity || evs[1].Action != workflow.EventCorrectRealization ||
		evs[0].ID != first.EventID || evs[1].ID != second.EventID || evs[1].PrevHash != evs[0].Hash {
		t.Fatalf("events %+v", evs)
	}
	if evs[0].Data["location"] != "Aula MI Nurul Huda" || evs[1].Data["previous_version"] == nil || evs[1].Data["held_on"] != "2026-04-03" {
		t.Errorf("event data %v / %v", evs[0].Data, evs[1].Data)
	}
}

// The On waits for an In; a refusal writes nothing.
func TestRealizeOnBeforeInWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newActFixture(t)
	_, err := f.realize(ctx, f.chair, f.acts[1], f.realization("2026-04-05", f.members[0]))
	wantCode(t, "On before any In", err, workflow.EUnprocessable)
	var e *workflow.Error
	if !errors.As(err, &e) || len(e.Details) != 1 || !strings.Contains(e.Details[0].Message, "belum ada sesi In") {
		t.Errorf("details %+v", e)
	}
	var rows, events int
	if err := f.db.SQL().QueryRow(`SELECT (SELECT count(*) FROM activity_realizations), (SELECT count(*) FROM grant_events)`).Scan(&rows, &events); err != nil {
		t.Fatal(err)
	}
	if rows != 0 || events != 0 {
		t.Errorf("a refused realisation left %d rows and %d events", rows, events)
	}
	if _, err := f.realize(ctx, f.chair, f.acts[0], f.realization("2026-04-05", f.members[0])); err != nil {
		t.Fatal(err)
	}
	if _, err := f.realize(ctx, f.chair, f.acts[1], f.realization("2026-04-05", f.members[0])); err != nil {
		t.Errorf("On on the day of the In: %v", err)
	}
}

// The schema refuses what the domain refuses, whoever writes.
func TestRealizationConstraints(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newActFixture(t)
	r, err := f.realize(ctx, f.chair, f.acts[0], f.realization("2026-04-02", f.members[0]))
	if err != nil {
		t.Fatal(err)
	}
	insert := func(mod func(*workflow.Realization)) error {
		return f.db.InTx(ctx, func(tx *postgres.Tx) error {
			g, err := tx.GrantForUpdate(ctx, f.grant)
			if err != nil {
				return err
			}
			ev, err := tx.AppendEvent(ctx, workflow.NewEvent(g, "note", f.chair, workflow.RoleChair, tx.Now(), "", nil))
			if err != nil {
				return err
			}
			x := r
			x.ID, x.Version, x.EventID = 0, 2, ev.ID
			mod(&x)
			_, err = tx.InsertRealization(ctx, x)
			return err
		})
	}
	wantCode(t, "same version twice", insert(func(x *workflow.Realization) { x.Version = 1 }), workflow.EConflict)
	wantCode(t, "13 JP", insert(func(x *workflow.Realization) { x.Hours = 13 }), workflow.EUnprocessable)
	wantCode(t, "0 JP", insert(func(x *workflow.Realization) { x.Hours = 0 }), workflow.EUnprocessable)
	wantCode(t, "blank location", insert(func(x *workflow.Realization) { x.Location = "  " }), workflow.EUnprocessable)
	wantCode(t, "version 0", insert(func(x *workflow.Realization) { x.Version = 0 }), workflow.EUnprocessable)
	wantCode(t, "unknown member", insert(func(x *workflow.Realization) { x.AttendeeIDs = []int64{f.members[0], 999999} }), workflow.EUnprocessable)
	wantCode(t, "member twice", insert(func(x *workflow.Realization) { x.AttendeeIDs = []int64{f.members[0], f.members[0]} }), workflow.EUnprocessable)
	other := mustID(t, f.db, `INSERT INTO grants (number, program_id, group_id, state) VALUES ('KKG-2026-000002', $1, $2, 'funded') RETURNING id`, f.prog.ID, f.other)
	wantCode(t, "activity of another grant", insert(func(x *workflow.Realization) { x.GrantID = other }), workflow.EUnprocessable)
	wantCode(t, "no such event", insert(func(x *workflow.Realization) { x.EventID = 999999 }), workflow.EUnprocessable)
	var otherEvent int64
	err = f.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, err := tx.GrantForUpdate(ctx, other)
		if err != nil {
			return err
		}
		ev, err := tx.AppendEvent(ctx, workflow.NewEvent(g, "note", f.chair, workflow.RoleChair, tx.Now(), "", nil))
		otherEvent = ev.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "event of another grant", insert(func(x *workflow.Realization) { x.EventID = otherEvent }), workflow.EUnprocessable)
	if n := len(mustRealizations(t, f)); n != 1 {
		t.Errorf("%d realisations after refused inserts, want 1", n)
	}
	// Receipts are not activity evidence.
	_, err = f.db.SQL().ExecContext(ctx, `INSERT INTO evidence (grant_id, activity_id, kind, sha256, size, mime, uploaded_by)
		VALUES ($1, $2, 'receipt', repeat('a', 64), 10, 'image/png', $3)`, f.grant, f.acts[0], f.chair.UserID)
	wantCode(t, "receipt linked to an activity", postgres.MapErr(err), workflow.EUnprocessable)
}

func mustRealizations(t *testing.T, f *actFixture) []workflow.Realization {
	t.Helper()
	rs, err := f.db.Realizations(ctxT(t), f.grant)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// Realisations, attendees and cancellations are append-only, like events.
func TestActivityRowsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newActFixture(t)
	if _, err := f.realize(ctx, f.chair, f.acts[0], f.realization("2026-04-02", f.members[0])); err != nil {
		t.Fatal(err)
	}
	cancel(t, f, f.acts[2], "Madrasah libur")
	for _, stmt := range []string{
		`UPDATE activity_realizations SET hours = 2`,
		`DELETE FROM activity_realizations`,
		`TRUNCATE activity_realizations CASCADE`,
		`UPDATE activity_attendees SET member_id = member_id`,
		`DELETE FROM activity_attendees`,
		`TRUNCATE activity_attendees`,
		`UPDATE activity_cancellations SET reason = 'lain'`,
		`DELETE FROM activity_cancellations`,
		`TRUNCATE activity_cancellations`,
		`UPDATE grant_events SET comment = 'x'`,
	} {
		_, err := f.db.SQL().ExecContext(ctx, stmt)
		var pqErr *pq.Error
		if !errors.As(err, &pqErr) || pqErr.Code != "42501" {
			t.Errorf("%s: %v, want insufficient_privilege", stmt, err)
			continue
		}
		table := strings.Fields(strings.TrimPrefix(strings.TrimPrefix(stmt, "DELETE FROM "), "TRUNCATE "))
		name := table[0]
		if name == "UPDATE" {
			name = table[1]
		}
		if !strings.Contains(pqErr.Message, name+" is append-only") {
			t.Errorf("%s: message %q does not name %s", stmt, pqErr.Message, name)
		}
	}
	g := f.grantNow(t)
	if g.Activities[0].AttendeeCount != 1 || g.Activities[2].Status != workflow.ActivityCancelled {
		t.Errorf("rows changed: %+v", g.Activities)
	}
}

// cancel runs the verifier's cancellation as the service will.
func cancel(t *testing.T, f *actFixture, activity int64, reason string) {
	t.Helper()
	ctx := ctxT(t)
	err := f.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, err := tx.GrantForUpdate(ctx, f.grant)
		if err != nil {
			return err
		}
		ev, err := workflow.CancelActivity(&g, workflow.CancelActivityRequest{Actor: f.verif, Now: tx.Now(), ActivityID: activity, Reason: reason})
		if err != nil {
			return err
		}
		if ev, err = tx.AppendEvent(ctx, ev); err != nil {
			return err
		}
		_, err = tx.InsertCancellation(ctx, postgres.Cancellation{ActivityID: activity, GrantID: f.grant, Reason: ev.Comment,
			CancelledBy: f.verif.UserID, EventID: ev.ID})
		return err
	})
	if err != nil {
		t.Fatalf("cancel: %v", err)
	}
}

func TestCancelActivity(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newActFixture(t)
	cancel(t, f, f.acts[2], "  Madrasah libur  ")
	g := f.grantNow(t)
	if a := g.Activities[2]; a.Status != workflow.ActivityCancelled || a.CancelReason != "Madrasah libur" {
		t.Fatalf("cancelled activity %+v", a)
	}
	cs, err := f.db.Cancellations(ctx, f.grant)
	if err != nil || len(cs) != 1 || cs[0].CancelledBy != f.verif.UserID || cs[0].EventID == 0 || cs[0].Reason != "Madrasah libur" {
		t.Fatalf("Cancellations = %+v, %v", cs, err)
	}
	// The domain refuses a second cancellation; the schema too, for a writer that skips it.
	err = f.db.InTx(ctx, func(tx *postgres.Tx) error {
		_, err := tx.InsertCancellation(ctx, postgres.Cancellation{ActivityID: f.acts[2], GrantID: f.grant, Reason: "lagi",
			CancelledBy: f.verif.UserID, EventID: cs[0].EventID})
		return err
	})
	wantCode(t, "second cancellation", err, workflow.EConflict)
	if _, err := f.realize(ctx, f.chair, f.acts[2], f.realization("2026-04-02", f.members[0])); workflow.ErrorCode(err) != workflow.EConflict {
		t.Errorf("realising a cancelled activity: %v", err)
	}
}

// Attendance per member, evidence per activity, money per activity and the
// days sessions were held, each from its own statement.
func TestActivityReads(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newActFixture(t)
	m := f.members
	if _, err := f.realize(ctx, f.chair, f.acts[0], f.realization("2026-04-02", m[0], m[1], m[2])); err != nil {
		t.Fatal(err)
	}
	if _, err := f.realize(ctx, f.chair, f.acts[0], f.realization("2026-04-02", m[0], m[1])); err != nil { // correction: m[2] was absent
		t.Fatal(err)
	}
	if _, err := f.realize(ctx, f.chair, f.acts[1], f.realization("2026-04-02", m[0])); err != nil { // two sessions on one day
		t.Fatal(err)
	}
	if _, err := f.realize(ctx, f.chair, f.acts[2], f.realization("2026-04-09", m[0], m[3])); err != nil {
		t.Fatal(err)
	}

	att, err := f.db.MemberAttendance(ctx, f.grant)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{3, 1, 0, 1}
	if len(att) != 4 {
		t.Fatalf("attendance %+v", att)
	}
	for i, a := range att {
		if a.MemberID != m[i] || a.Present != want[i] || a.Of != 3 {
			t.Errorf("member %d attendance %+v, want %d of 3", i, a, want[i])
		}
	}
	// The same figures from the domain over the latest realisations.
	grp, err := f.db.Group(ctx, f.group)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := f.db.RealizationHistory(ctx, f.grant, f.acts[0])
	if err != nil {
		t.Fatal(err)
	}
	dom := workflow.MembersAttendance(grp.Members, append(mustRealizations(t, f), hist...))
	for i := range dom {
		if dom[i].Attendance != att[i].Attendance {
			t.Errorf("member %d: domain %+v, SQL %+v", i, dom[i], att[i])
		}
	}

	file := func(activity any, kind, sha string) int64 {
		return mustID(t, f.db, `INSERT INTO evidence (grant_id, activity_id, kind, sha256, size, mime, uploaded_by)
			VALUES ($1, $2, $3, repeat($4, 64), 10, 'image/jpeg', $5) RETURNING id`, f.grant, activity, kind, sha, f.chair.UserID)
	}
	photo := file(f.acts[0], "photo", "a")
	sheet := file(f.acts[0], "attendance", "b")
	minutes := file(f.acts[2], "minutes", "c")
	receipt := file(nil, "receipt", "d")
	files, err := f.db.ActivityFiles(ctx, f.grant, f.acts[0])
	if err != nil || len(files) != 2 || files[0].ID != photo || files[1].ID != sheet || files[0].UploaderName != f.chair.Name ||
		files[0].ActivityID != f.acts[0] || files[1].Kind != "attendance" || files[0].SHA256 != strings.Repeat("a", 64) {
		t.Errorf("ActivityFiles(In 1) = %+v, %v", files, err)
	}
	if all, err := f.db.ActivityFiles(ctx, f.grant, 0); err != nil || len(all) != 3 || all[2].ID != minutes {
		t.Errorf("ActivityFiles(all) = %+v, %v", all, err)
	}
	if g := f.grantNow(t); g.Activities[0].EvidenceCount != 2 || g.Activities[1].EvidenceCount != 0 || g.Activities[2].EvidenceCount != 1 {
		t.Errorf("evidence counts %+v", g.Activities)
	}

	expense := func(line int64, activity any, amount int64) int64 {
		return mustID(t, f.db, `INSERT INTO expenses (grant_id, spent_on, budget_line_id, activity_id, vendor, description, amount, receipt_id, created_by)
			VALUES ($1, '2026-04-02', $2, $3, 'Warung', 'Belanja', $4, $5, $6) RETURNING id`, f.grant, line, activity, amount, receipt, f.treasurer.UserID)
	}
	expense(f.konsumsi, f.acts[0], 400_000)
	expense(f.konsumsi, f.acts[0], 150_000)
	void := expense(f.konsumsi, f.acts[0], 99_000)
	expense(f.atk, f.acts[2], 70_000)
	expense(f.atk, nil, 1_000_000)
	if _, err := f.db.SQL().ExecContext(ctx, `UPDATE expenses SET voided_at = now(), voided_by = $2, void_reason = 'salah' WHERE id = $1`, void, f.treasurer.UserID); err != nil {
		t.Fatal(err)
	}
	spent, err := f.db.ActivitySpending(ctx, f.grant)
	if err != nil || len(spent) != 2 || spent[f.acts[0]] != 550_000 || spent[f.acts[2]] != 70_000 {
		t.Errorf("ActivitySpending = %v, %v", spent, err)
	}

	days, err := f.db.HeldSessionDays(ctx, f.group)
	if err != nil || len(days) != 2 || days[0] != workflow.MustDate("2026-04-02") || days[1] != workflow.MustDate("2026-04-09") {
		t.Errorf("HeldSessionDays = %v, %v", days, err)
	}
	if days, err := f.db.HeldSessionDays(ctx, f.other); err != nil || len(days) != 0 {
		t.Errorf("HeldSessionDays(other group) = %v, %v", days, err)
	}
}

// The grant read gives submit_report what it checks: it fails while a
// session lacks evidence and the balance stands, and passes once both are done.
func TestSubmitReportReadsTheRows(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newActFixture(t)
	m := f.members
	for i, day := range []string{"2026-04-02", "2026-04-03", "2026-04-04"} {
		if _, err := f.realize(ctx, f.chair, f.acts[i], f.realization(day, m...)); err != nil {
			t.Fatal(err)
		}
	}
	for i, sha := range []string{"a", "b"} {
		mustID(t, f.db, `INSERT INTO evidence (grant_id, activity_id, kind, sha256, size, mime, uploaded_by)
			VALUES ($1, $2, 'photo', repeat($3, 64), 10, 'image/jpeg', $4) RETURNING id`, f.grant, f.acts[i], sha, f.chair.UserID)
	}
	submit := func() error {
		g := f.grantNow(t)
		_, err := workflow.Apply(&g, workflow.Request{Action: workflow.SubmitReport, Actor: f.treasurer, Now: time.Now(), Program: f.prog})
		return err
	}
	err := submit()
	var e *workflow.Error
	if !errors.As(err, &e) || e.Code != workflow.EUnprocessable || len(e.Details) != 2 ||
		e.Details[0].Field != "activities[2].evidence_count" || e.Details[1].Field != "balance" {
		t.Fatalf("submit_report before evidence and refund: %+v", err)
	}
	// The group's next steps: the tranche-2 gate (nothing receipted yet),
	// then the LPJ's reasons, word for word.
	g := f.grantNow(t)
	fin := workflow.Actor{UserID: 999, Name: "Keuangan", Roles: []workflow.Role{workflow.RoleFinance}}
	_, gate := workflow.Apply(&g, workflow.Request{Action: workflow.Disburse, Actor: fin, Now: time.Now(), Program: f.prog, Tranche: 2, Amount: 3_000_000})
	var ge *workflow.Error
	if !errors.As(gate, &ge) || len(ge.Details) != 1 || ge.Details[0].Field != "receipts" {
		t.Fatalf("tranche 2 gate: %v", gate)
	}
	want := []string{ge.Details[0].Message, e.Details[0].Message, e.Details[1].Message}
	if steps := workflow.NextSteps(g, workflow.Request{Actor: f.treasurer, Now: time.Now(), Program: f.prog}); !slices.Equal(steps, want) {
		t.Errorf("next steps %q, want the guards' reasons %q", steps, want)
	}
	mustID(t, f.db, `INSERT INTO evidence (grant_id, activity_id, kind, sha256, size, mime, uploaded_by)
		VALUES ($1, $2, 'minutes', repeat('c', 64), 10, 'application/pdf', $3) RETURNING id`, f.grant, f.acts[2], f.chair.UserID)
	mustID(t, f.db, `INSERT INTO refunds (grant_id, amount, paid_on, ntpn, created_by) VALUES ($1, 7000000, '2026-05-01', '0A1B2C3D4E5F6G7H', $2) RETURNING id`,
		f.grant, f.treasurer.UserID)
	if err := submit(); err != nil {
		t.Errorf("submit_report once complete: %v", err)
	}
}

// The report_overdue filter lists funded grants whose programme's LPJ due
// date has passed, and nothing else.
func TestGrantsReportOverdueFilter(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newActFixture(t) // funded, LPJ due 2026-12-31
	submitted := mustID(t, f.db, `INSERT INTO grants (number, program_id, group_id, state) VALUES ('KKG-2026-000009', $1, $2, 'report_submitted') RETURNING id`,
		f.prog.ID, f.other)
	ids := func(day string) []int64 {
		t.Helper()
		filter := postgres.GrantFilter{}
		if day != "" {
			filter.ReportOverdueOn = workflow.MustDate(day)
		}
		ls, err := f.db.Grants(ctx, filter)
		if err != nil {
			t.Fatal(err)
		}
		out := []int64{}
		for _, l := range ls {
			out = append(out, l.Grant.ID)
		}
		return out
	}
	if got := ids(""); !slices.Equal(got, []int64{submitted, f.grant}) {
		t.Errorf("no filter: %v", got)
	}
	if got := ids("2026-12-31"); len(got) != 0 {
		t.Errorf("on the due date: %v", got)
	}
	if got := ids("2027-01-01"); !slices.Equal(got, []int64{f.grant}) {
		t.Errorf("the day after: %v, want only the funded grant %d", got, f.grant)
	}
}
