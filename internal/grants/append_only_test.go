package grants_test

import (
	"fmt"
	"strings"
	"testing"

	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/internal/postgres"
)

// moneyWorld is a funded grant with one of every money row: the
// transfer, a standing expense, a voided one, a refund with its proof.
func moneyWorld(t *testing.T) (*fixture, *testGrant, map[string]int64) {
	t.Helper()
	ctx := ctxT(t)
	f := newFixture(t, localStore(t))
	g := f.fundedGrant(t)
	kept, err := f.spend(t, g, "konsumsi", 500_000, f.ingest(t, evidencetest.PNG(t, 61, 8, 6)))
	if err != nil {
		t.Fatal(err)
	}
	voided, err := f.spend(t, g, "transport", 200_000, f.ingest(t, evidencetest.JPEG(t, 62, 8, 6)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.VoidExpense(ctx, g.treasurer, g.id, voided.ID, "Nota ganda"); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.RecordRefund(ctx, g.treasurer, g.id, grants.RefundInput{Amount: 100_000, PaidOn: f.today, NTPN: "1A2B3C4D5E6F7G8H"}, f.ingest(t, evidencetest.NotePDF("setoran")))
	if err != nil {
		t.Fatal(err)
	}
	var disb int64
	if err := f.db.SQL().QueryRowContext(ctx, `SELECT id FROM disbursements WHERE grant_id = $1`, g.id).Scan(&disb); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{"disbursement": disb, "expense": kept.ID, "voided": voided.ID, "refund": r.ID, "receipt": kept.ReceiptID, "proof": r.ProofID}
	if probs, err := f.svc.VerifyRows(ctx); err != nil || len(probs) != 0 {
		t.Fatalf("VerifyRows on an untouched database: %+v, %v", probs, err)
	}
	return f, g, ids
}

// Money rows refuse every change but filling, once, the columns filled
// later: the void's and the preview's.
func TestMoneyRowsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f, _, ids := moneyWorld(t)
	sqlDB := f.db.SQL()
	if _, err := sqlDB.ExecContext(ctx, `UPDATE evidence SET preview_sha256 = repeat('a', 64) WHERE id = $1 AND preview_sha256 IS NULL`, ids["receipt"]); err != nil {
		t.Fatalf("filling a preview from NULL: %v", err)
	}
	for _, stmt := range []string{
		fmt.Sprintf(`UPDATE disbursements SET amount = amount + 1 WHERE id = %d`, ids["disbursement"]),
		fmt.Sprintf(`UPDATE disbursements SET row_sha256 = NULL WHERE id = %d`, ids["disbursement"]),
		`DELETE FROM disbursements`,
		`TRUNCATE disbursements`,
		`TRUNCATE disbursements CASCADE`,
		fmt.Sprintf(`UPDATE expenses SET amount = 1 WHERE id = %d`, ids["expense"]),
		fmt.Sprintf(`UPDATE expenses SET vendor = 'Toko Lain' WHERE id = %d`, ids["expense"]),
		fmt.Sprintf(`UPDATE expenses SET void_reason = 'alasan lain' WHERE id = %d`, ids["voided"]),
		fmt.Sprintf(`UPDATE expenses SET voided_at = NULL, voided_by = NULL, void_reason = NULL WHERE id = %d`, ids["voided"]),
		`DELETE FROM expenses`,
		`TRUNCATE expenses`,
		`TRUNCATE expenses CASCADE`,
		fmt.Sprintf(`UPDATE refunds SET amount = 1 WHERE id = %d`, ids["refund"]),
		fmt.Sprintf(`UPDATE refunds SET proof_id = NULL WHERE id = %d`, ids["refund"]),
		`DELETE FROM refunds`,
		`TRUNCATE refunds`,
		fmt.Sprintf(`UPDATE evidence SET sha256 = repeat('b', 64) WHERE id = %d`, ids["receipt"]),
		fmt.Sprintf(`UPDATE evidence SET preview_sha256 = repeat('c', 64) WHERE id = %d`, ids["receipt"]),
		fmt.Sprintf(`UPDATE evidence SET preview_sha256 = NULL WHERE id = %d`, ids["receipt"]),
		`DELETE FROM evidence`,
		`TRUNCATE evidence CASCADE`,
	} {
		_, err := sqlDB.ExecContext(ctx, stmt)
		if err == nil {
			t.Errorf("%s: executed", stmt)
			continue
		}
		if !strings.Contains(err.Error(), "append-only") && !strings.Contains(err.Error(), "filled once") {
			t.Errorf("%s: refused for another reason: %v", stmt, err)
		}
	}
	if probs, err := f.svc.VerifyRows(ctx); err != nil || len(probs) != 0 {
		t.Fatalf("VerifyRows after refused statements: %+v, %v", probs, err)
	}
}

// A superuser who switches the triggers off can change rows, but audit
// verify names every row that no longer matches its event.
func TestVerifyRowsBehindDisabledTriggers(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f, g, ids := moneyWorld(t)
	tx, err := f.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var added int64
	for _, stmt := range []string{
		`ALTER TABLE disbursements DISABLE TRIGGER ALL`, `ALTER TABLE expenses DISABLE TRIGGER ALL`,
		`ALTER TABLE refunds DISABLE TRIGGER ALL`, `ALTER TABLE evidence DISABLE TRIGGER ALL`,
		fmt.Sprintf(`UPDATE disbursements SET amount = amount * 2 WHERE id = %d`, ids["disbursement"]),
		// Altered with its own hash recomputed: only the event still tells.
		fmt.Sprintf(`UPDATE expenses e SET vendor = 'Toko Fiktif' WHERE id = %d`, ids["expense"]),
		fmt.Sprintf(`UPDATE expenses e SET row_sha256 = expense_row_sha256(e) WHERE id = %d`, ids["expense"]),
		fmt.Sprintf(`UPDATE expenses SET void_reason = 'alasan diganti' WHERE id = %d`, ids["voided"]),
		fmt.Sprintf(`DELETE FROM refunds WHERE id = %d`, ids["refund"]),
		fmt.Sprintf(`UPDATE evidence SET size = size + 1 WHERE id = %d`, ids["proof"]),
		`ALTER TABLE disbursements ENABLE TRIGGER ALL`, `ALTER TABLE refunds ENABLE TRIGGER ALL`,
		`ALTER TABLE evidence ENABLE TRIGGER ALL`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	// An expense nobody recorded, inserted with the triggers still off.
	if err := tx.QueryRowContext(ctx, `INSERT INTO expenses (grant_id, spent_on, budget_line_id, vendor, description, amount, receipt_id, created_by)
		SELECT grant_id, spent_on, budget_line_id, vendor, 'Belanja siluman', amount, receipt_id, created_by FROM expenses WHERE id = $1
		RETURNING id`, ids["expense"]).Scan(&added); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `ALTER TABLE expenses ENABLE TRIGGER ALL`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	probs, err := f.svc.VerifyRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[postgres.RowProblem]bool{
		{Table: "disbursements", ID: ids["disbursement"], GrantID: g.id, Reason: "isi baris berubah sejak dicatat"}:               true,
		{Table: "expenses", ID: ids["expense"], GrantID: g.id, Reason: "hash baris tidak sama dengan peristiwa yang mencatatnya"}: true,
		{Table: "expenses", ID: ids["voided"], GrantID: g.id, Reason: "kolom pembatalan tidak sama dengan peristiwa pembatalan"}:  true,
		{Table: "expenses", ID: added, GrantID: g.id, Reason: "baris tanpa hash: ditambahkan di luar aplikasi"}:                   true,
		{Table: "refunds", ID: ids["refund"], GrantID: g.id, Reason: "baris yang dicatat peristiwa record_refund hilang"}:         true,
		{Table: "evidence", ID: ids["proof"], GrantID: g.id, Reason: "isi baris berubah sejak dicatat"}:                           true,
	}
	for _, p := range probs {
		if !want[p] {
			t.Errorf("unexpected problem %+v", p)
		}
		delete(want, p)
	}
	for p := range want {
		t.Errorf("not named: %+v", p)
	}
}

// Sessions: an attendee added after the session was recorded is refused
// even with the append-only triggers on (they guarded changes, not
// additions), and with every trigger off audit verify names a realisation
// whose facts or attendees no longer match its event, a cancellation whose
// reason changed, and an event whose row is gone.
func TestVerifySessionRows(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newFixture(t, localStore(t))
	g := f.fundedGrant(t)
	grp, err := f.svc.Group(ctx, grants.System, g.view.GroupID)
	if err != nil {
		t.Fatal(err)
	}
	acts := g.view.Activities
	held, err := f.svc.RealizeActivity(ctx, g.treasurer, g.id, acts[0].ID, grants.RealizationInput{HeldOn: f.today.AddDays(-3),
		Location: "Aula MIN 2", Hours: 4, Facilitator: "Pengawas madrasah", AttendeeIDs: []int64{grp.Members[0].ID, grp.Members[1].ID},
		Summary: "Lokakarya modul ajar.", Outputs: "Draf modul ajar."})
	if err != nil {
		t.Fatalf("RealizeActivity: %v", err)
	}
	if _, err := f.svc.CancelActivity(ctx, f.verifier, g.id, acts[4].ID, grants.CancelActivityInput{Reason: "Madrasah libur."}); err != nil {
		t.Fatalf("CancelActivity: %v", err)
	}
	var rz int64
	sqlDB := f.db.SQL()
	if err := sqlDB.QueryRowContext(ctx, `SELECT id FROM activity_realizations WHERE activity_id = $1`, held.ID).Scan(&rz); err != nil {
		t.Fatal(err)
	}
	if probs, err := f.svc.VerifyRows(ctx); err != nil || len(probs) != 0 {
		t.Fatalf("VerifyRows on untouched sessions: %+v, %v", probs, err)
	}
	late := fmt.Sprintf(`INSERT INTO activity_attendees (realization_id, member_id) VALUES (%d, %d)`, rz, grp.Members[2].ID)
	if _, err := sqlDB.ExecContext(ctx, late); err == nil || !strings.Contains(err.Error(), "not later") {
		t.Fatalf("a late attendee: %v, want refused", err)
	}
	// Even with its session, in one transaction, an attendee is a member of
	// the grant's group (the service checks it first; the trigger holds
	// behind it). The session row names the grant's first event, which
	// the insert trigger only asks to exist.
	f.draftGrant(t) // another group, whose member is no attendee here
	stranger, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var rz2, outsider int64
	if err := stranger.QueryRowContext(ctx, `INSERT INTO activity_realizations (activity_id, grant_id, version, held_on, location, hours,
			facilitator, summary, outputs, recorded_by, recorded_at, event_id)
		SELECT $1, $2, 1, $3, 'Aula', 2, 'Pengawas', 'Ringkasan.', 'Hasil.', $4, now(), min(id) FROM grant_events WHERE grant_id = $2
		RETURNING id`, acts[1].ID, g.id, f.today.String(), g.treasurer.UserID).Scan(&rz2); err != nil {
		t.Fatal(err)
	}
	if err := stranger.QueryRowContext(ctx, `SELECT id FROM members WHERE group_id <> $1 LIMIT 1`, g.view.GroupID).Scan(&outsider); err != nil {
		t.Fatal(err)
	}
	_, err = stranger.ExecContext(ctx, `INSERT INTO activity_attendees (realization_id, member_id) VALUES ($1, $2)`, rz2, outsider)
	_ = stranger.Rollback()
	if err == nil || !strings.Contains(err.Error(), "is not of the group") {
		t.Fatalf("another group's member as an attendee: %v, want refused", err)
	}

	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, stmt := range []string{
		`ALTER TABLE activity_realizations DISABLE TRIGGER ALL`, `ALTER TABLE activity_attendees DISABLE TRIGGER ALL`,
		`ALTER TABLE activity_cancellations DISABLE TRIGGER ALL`,
		fmt.Sprintf(`UPDATE activity_realizations SET location = 'Hotel Bali' WHERE id = %d`, rz),
		late,
		fmt.Sprintf(`UPDATE activity_cancellations SET reason = 'alasan diganti' WHERE activity_id = %d`, acts[4].ID),
		`ALTER TABLE activity_realizations ENABLE TRIGGER ALL`, `ALTER TABLE activity_attendees ENABLE TRIGGER ALL`,
		`ALTER TABLE activity_cancellations ENABLE TRIGGER ALL`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	want := map[postgres.RowProblem]bool{
		{Table: "activity_realizations", ID: rz, GrantID: g.id, Reason: "daftar hadir tidak sama dengan peristiwa yang mencatatnya"}:       true,
		{Table: "activity_cancellations", ID: acts[4].ID, GrantID: g.id, Reason: "isi baris tidak sama dengan peristiwa yang mencatatnya"}: true,
	}
	check := func() {
		t.Helper()
		probs, err := f.svc.VerifyRows(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range probs {
			if !want[p] {
				t.Errorf("unexpected problem %+v", p)
			}
		}
		if len(probs) != len(want) {
			t.Errorf("problems %+v, want %d", probs, len(want))
		}
	}
	check()
	// The late attendee and the cancellation removed: the location alone
	// still disagrees, and the cancellation's event names a missing row.
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, stmt := range []string{
		`SET session_replication_role = replica`,
		fmt.Sprintf(`DELETE FROM activity_attendees WHERE realization_id = %d AND member_id = %d`, rz, grp.Members[2].ID),
		fmt.Sprintf(`DELETE FROM activity_cancellations WHERE activity_id = %d`, acts[4].ID),
		`RESET session_replication_role`,
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	want = map[postgres.RowProblem]bool{
		{Table: "activity_realizations", ID: rz, GrantID: g.id, Reason: "isi baris tidak sama dengan peristiwa yang mencatatnya"}:       true,
		{Table: "activity_cancellations", ID: acts[4].ID, GrantID: g.id, Reason: "baris yang dicatat peristiwa cancel_activity hilang"}: true,
	}
	check()
}
