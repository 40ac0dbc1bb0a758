package workflow

import (
	"reflect"
	"testing"
	"time"
)

// applyFail applies r to g, expects a refusal and checks g did not change.
func applyFail(t *testing.T, g Grant, r Request) error {
	t.Helper()
	before := cloneGrant(g)
	_, err := Apply(&g, r)
	if err == nil {
		t.Fatalf("%s succeeded", r.Action)
	}
	if !reflect.DeepEqual(g, before) {
		t.Errorf("%s changed the grant on error", r.Action)
	}
	return err
}

func TestSubmitGuardsAllAtOnce(t *testing.T) {
	g := grantIn(Draft)
	g.Background, g.Objectives, g.SustainabilityPlan = "  ", "", "\n"
	g.Activities = []Activity{
		{Seq: 1, Kind: In, Title: "In 1", PlannedOn: MustDate("2026-06-01"), Status: ActivityPlanned},
		{Seq: 2, Kind: In, Title: "In 2", PlannedOn: MustDate("2026-11-15"), PlannedParticipants: 15, Status: ActivityPlanned}, // after the activity period
		{Seq: 3, Kind: On, Title: "On 1", PlannedOn: MustDate("2026-05-01"), PlannedParticipants: 15, Status: ActivityPlanned}, // before the first In
		{Seq: 4, Kind: On, Title: "On 2", Status: ActivityPlanned},                                                             // no date
		{Seq: 5, Kind: In, Title: "In 3", PlannedOn: MustDate("2026-07-01"), Status: ActivityCancelled},
	}
	g.Budget = []BudgetLine{
		{Seq: 1, Category: "honorarium", Description: "Narasumber", Quantity: 1, Unit: "orang", UnitPrice: 10_000_000, Amount: 10_000_000},
		{Seq: 2, Category: "konsumsi", Description: "Makan", Quantity: 1, Unit: "paket", UnitPrice: 6_000_000, Amount: 6_000_000},
		{Seq: 3, Category: "jalan_jalan", Description: "Wisata", Quantity: 1, Unit: "paket", UnitPrice: 1_000_000, Amount: 1_000_000},
	}
	r := goodRequest(g, Submit, actorWith(9, RoleChair))
	r.Group = testGroup(KKG, 12)
	r.Now = time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)

	err := applyFail(t, g, r)
	wantDetails(t, err,
		"background: wajib diisi",
		"objectives: wajib diisi",
		"sustainability_plan: wajib diisi",
		"activities: paling sedikit 3 sesi In dan 2 sesi On (sekarang 2 In, 2 On)",
		"activities[1].planned_on: tidak boleh setelah akhir masa kegiatan (2026-10-31)",
		"activities[3].planned_on: wajib diisi",
		"activities[0].planned_participants: jumlah peserta yang direncanakan wajib diisi",
		"activities[3].planned_participants: jumlah peserta yang direncanakan wajib diisi", // beside its missing date
		"activities: sesi On pertama (2026-05-01) tidak boleh sebelum sesi In pertama (2026-06-01)",
		"budget: total anggaran Rp 17.000.000 melebihi pagu Rp 15.000.000 untuk KKG",
		"budget[2].category: \"jalan_jalan\" tidak dikenal",
		"budget: Honorarium narasumber Rp 10.000.000 melebihi batas 30% dari total anggaran (Rp 5.100.000)",
		"group.members: jumlah anggota kelompok 12; harus 15 sampai 30",
		"proposal_window: sudah ditutup 2026-03-31",
	)
	if asError(t, err).Message != `aksi "ajukan proposal" belum memenuhi syarat` {
		t.Errorf("message %q", asError(t, err).Message)
	}
}

func TestSubmitGuardsMore(t *testing.T) {
	chair := actorWith(9, RoleChair)

	// Empty budget, before the window opens.
	g := grantIn(Draft)
	g.Budget = nil
	r := goodRequest(g, Submit, chair)
	r.Now = time.Date(2025, 12, 31, 23, 59, 0, 0, time.UTC)
	wantDetails(t, applyFail(t, g, r),
		"budget: total anggaran harus lebih besar dari 0",
		"proposal_window: baru dibuka 2026-01-01")

	// The window's edges are inside; the date is r.Now's own calendar date.
	for _, now := range []time.Time{
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2026, 3, 31, 23, 0, 0, 0, time.FixedZone("WIB", 7*3600)),
	} {
		g := grantIn(Draft)
		r := goodRequest(g, Submit, chair)
		r.Now = now
		if _, err := Apply(&g, r); err != nil {
			t.Errorf("submit at %v: %v", now, err)
		}
	}

	// KKM needs 5 In; remote groups may have 10 members; the kind's ceiling applies.
	g = grantIn(Draft)
	r = goodRequest(g, Submit, chair)
	r.Group = testGroup(KKM, 10)
	wantDetails(t, applyFail(t, g, r), "activities: KKM memerlukan paling sedikit 5 sesi In dan 2 sesi On (sekarang 3 In, 2 On)")
	r.Group = testGroup(KKG, 10)
	r.Group.Remote = true
	if _, err := Apply(&g, r); err != nil {
		t.Errorf("remote group of 10: %v", err)
	}

	// A programme with its own rules and categories is obeyed.
	g = grantIn(Draft)
	r = goodRequest(g, Submit, chair)
	r.Program.ActivityRules = map[Kind]ActivityRule{KKG: {In: 1, On: 0}}
	r.Program.Ceilings = map[Kind]int64{KKG: 11_999_999}
	r.Program.Categories = []Category{{Code: "konsumsi", Name: "Konsumsi", CapPercent: 40}, {Code: "honorarium", Name: "Honor"}, {Code: "transport", Name: "Transport"}}
	wantDetails(t, applyFail(t, g, r),
		"budget: melebihi pagu Rp 11.999.999",
		"budget[3].category: \"atk_bahan\" tidak dikenal",
		"budget: Konsumsi Rp 5.000.000 melebihi batas 40% dari total anggaran (Rp 4.800.000)")

	// A cap reached exactly passes: honorarium 3 600 000 of 12 000 000 is 30 %.
	g = grantIn(Draft)
	g.Budget[1].Quantity, g.Budget[1].UnitPrice, g.Budget[1].Amount = 1, 3_600_000, 3_600_000
	g.Budget[0].Quantity, g.Budget[0].Amount = 88, 88*50_000
	r = goodRequest(g, Submit, chair)
	if _, err := Apply(&g, r); err != nil || g.AmountRequested != 12_000_000 {
		t.Errorf("cap exactly reached: %v, %d", err, g.AmountRequested)
	}

	// Unknown group kind; an On on the same day as the first In is fine.
	g = grantIn(Draft)
	g.Activities[1].PlannedOn = g.Activities[0].PlannedOn
	r = goodRequest(g, Submit, chair)
	r.Group.Kind = "RT"
	wantDetails(t, applyFail(t, g, r), `group.kind: "RT" tidak dikenal`)
}

func TestCommentRequired(t *testing.T) {
	cases := []struct {
		s    State
		a    Action
		role Role
		msg  string
	}{
		{InReview, RequestRevision, RoleVerifier, "catatan wajib diisi"},
		{InReview, Reject, RoleVerifier, "catatan wajib diisi"},
		{Recommended, Reject, RoleApprover, "catatan wajib diisi"},
		{ReportSubmitted, ReturnReport, RoleAuditor, "temuan wajib diisi"},
		{Draft, Cancel, RoleAdmin, "alasan pembatalan wajib diisi"},
	}
	for _, c := range cases {
		// Spaces, and what only looks empty: a zero-width space, a
		// non-breaking space, a byte-order mark.
		for _, blank := range []string{" \t\n ", "\u200b", "\u00a0\ufeff "} {
			g := grantIn(c.s)
			r := goodRequest(g, c.a, actorWith(9, c.role))
			r.Comment = blank
			wantDetails(t, applyFail(t, g, r), "comment: "+c.msg)
		}
	}
	if Blank("\u200bok") || !Blank("") {
		t.Error("Blank: a word beside a zero-width space is no blank; the empty string is")
	}
	// Long comments are refused everywhere, even where none is required.
	g := grantIn(Submitted)
	r := goodRequest(g, StartReview, actorWith(9, RoleVerifier))
	long := make([]rune, MaxTextLen+1)
	for i := range long {
		long[i] = 'é'
	}
	r.Comment = string(long)
	wantDetails(t, applyFail(t, g, r), "comment: paling banyak 10000 karakter")
}

func TestRecommendGuards(t *testing.T) {
	v := actorWith(9, RoleVerifier)
	g := grantIn(InReview)
	r := goodRequest(g, Recommend, v)
	r.Comment = ""
	r.ApprovedAmount = testTotal + 1
	wantDetails(t, applyFail(t, g, r),
		"comment: catatan wajib diisi",
		"approved_amount: Rp 12.000.001 melebihi jumlah yang diajukan Rp 12.000.000")

	r = goodRequest(g, Recommend, v)
	r.ApprovedAmount = 0
	wantDetails(t, applyFail(t, g, r), "approved_amount: harus lebih besar dari 0")
	r.ApprovedAmount = -5
	wantDetails(t, applyFail(t, g, r), "approved_amount: harus lebih besar dari 0")

	// The ceiling holds even if the requested amount was above it (a
	// programme whose ceiling was lowered after submission).
	g.AmountRequested = 20_000_000
	r = goodRequest(g, Recommend, v)
	r.ApprovedAmount = 16_000_000
	wantDetails(t, applyFail(t, g, r), "approved_amount: melebihi pagu Rp 15.000.000 untuk KKG")
}

func TestApproveGuards(t *testing.T) {
	g := grantIn(Recommended)
	r := goodRequest(g, Approve, actorWith(9, RoleApprover))
	r.Program.BudgetTotal = 20_000_000
	r.PoolCommitted = 10_000_000
	wantDetails(t, applyFail(t, g, r),
		"budget_total: pagu program Rp 20.000.000 sudah terikat Rp 10.000.000; sisa Rp 10.000.000 tidak cukup untuk Rp 12.000.000")

	r.PoolCommitted = 8_000_000 // exactly enough
	if _, err := Apply(&g, r); err != nil || g.ApproverID != 9 {
		t.Errorf("approve with pool exactly covering: %v", err)
	}

	g = grantIn(Recommended)
	r = goodRequest(g, Approve, actorWith(9, RoleApprover))
	r.PoolCommitted = testPoolTotal + 1 // over-committed pool: remaining shown as 0
	wantDetails(t, applyFail(t, g, r), "budget_total: sisa Rp 0 tidak cukup")

	// Another amount is refused, not silently ignored; the recommended one
	// repeated is accepted.
	g = grantIn(Recommended)
	r = goodRequest(g, Approve, actorWith(9, RoleApprover))
	r.ApprovedAmount = 999_999_999
	wantDetails(t, applyFail(t, g, r), "approved_amount: jumlah disetujui ditetapkan saat rekomendasi (Rp 12.000.000)")
	r.ApprovedAmount = g.AmountApproved
	if _, err := Apply(&g, r); err != nil {
		t.Errorf("approve repeating the recommended amount: %v", err)
	}
}

func TestDisburseGuards(t *testing.T) {
	fin := actorWith(9, RoleFinance)

	// First tranche, wrong amount.
	g := grantIn(Approved)
	r := goodRequest(g, Disburse, fin)
	r.Amount = 9_000_000
	wantDetails(t, applyFail(t, g, r), "amount: termin 1 harus tepat Rp 8.400.000 (70% dari Rp 12.000.000), bukan Rp 9.000.000")
	r.Tranche, r.Amount = 2, testTranche2
	wantDetails(t, applyFail(t, g, r), "tranche: termin berikutnya adalah termin 1, bukan 2")

	// Second tranche with every precondition broken at once.
	g = grantIn(Funded)
	g.Spent, g.Receipted = testTranche1, testTranche1/2-1 // just under 50 %
	for i := range g.Activities {
		if g.Activities[i].Kind == In {
			g.Activities[i].Status = ActivityPlanned
		}
	}
	r = goodRequest(g, Disburse, fin)
	r.Tranche, r.Amount = 3, 5_000_000
	wantDetails(t, applyFail(t, g, r),
		"tranche: termin berikutnya adalah termin 2, bukan 3",
		"amount: total penyaluran Rp 13.400.000 akan melebihi jumlah yang disetujui Rp 12.000.000",
		"receipts: bukti belanja baru Rp 4.199.999; paling sedikit 50% dari dana yang sudah disalurkan (Rp 8.400.000)",
		"activities: belum ada sesi In yang terlaksana")

	// All tranches paid.
	g = grantIn(Funded)
	g.TranchesPaid, g.Disbursed, g.Spent, g.Receipted = 2, testTotal, testTotal, testTotal
	r = goodRequest(g, Disburse, fin)
	r.Tranche, r.Amount = 3, 1
	wantDetails(t, applyFail(t, g, r),
		"tranche: semua 2 termin sudah disalurkan",
		"amount: akan melebihi jumlah yang disetujui")

	r.Amount = 0
	wantDetails(t, applyFail(t, g, r), "tranche: semua 2 termin", "amount: harus lebih besar dari 0")
}

func TestSubmitReportGuards(t *testing.T) {
	g := grantIn(Funded)
	g.Activities[0].Status = ActivityPlanned
	g.Activities[1].AttendeeCount = 0
	g.Activities[2].EvidenceCount = 0
	g.Activities[3].Status = ActivityCancelled
	g.Activities[3].AttendeeCount, g.Activities[3].EvidenceCount = 0, 0 // cancelled: no facts needed
	g.ExpensesWithoutReceipt = 2
	g.Spent = testTranche1 - 1_000_000
	r := goodRequest(g, SubmitReport, actorWith(9, RoleTreasurer))
	wantDetails(t, applyFail(t, g, r),
		`activities[0].status: kegiatan "Sesi 1" belum terlaksana`,
		`activities[1].attendee_count: daftar hadir "Sesi 2"`,
		`activities[2].evidence_count: bukti kegiatan "Sesi 3"`,
		"expenses: 2 belanja belum memiliki bukti",
		"balance: saldo harus nol (sekarang Rp 1.000.000)")
}

func TestCancelGuards(t *testing.T) {
	for _, s := range []State{Funded, ReportSubmitted} {
		g := grantIn(s)
		g.Spent = 8_000_000
		r := goodRequest(g, Cancel, actorWith(1, RoleAdmin))
		r.Comment = ""
		wantDetails(t, applyFail(t, g, r),
			"comment: alasan pembatalan wajib diisi",
			"balance: saldo dana Rp 400.000 harus disetor kembali")
		g.Refunded = 400_000
		r.Comment = "Kelompok bubar"
		if _, err := Apply(&g, r); err != nil || g.State != Cancelled {
			t.Errorf("cancel %s after refund: %v", s, err)
		}
	}
}

// A session planned before the programme opened cannot be paid by it.
func TestSubmitRefusesSessionsBeforeTheProgramme(t *testing.T) {
	g := grantIn(Draft)
	g.Activities[0].PlannedOn = MustDate("2025-12-31") // the test programme opens 2026-01-01
	err := applyFail(t, g, goodRequest(g, Submit, actorWith(9, RoleChair)))
	if !hasDetail(asError(t, err), "activities[0].planned_on") {
		t.Fatalf("details %+v do not name activities[0].planned_on", asError(t, err).Details)
	}
}

func hasDetail(e *Error, field string) bool {
	for _, d := range e.Details {
		if d.Field == field {
			return true
		}
	}
	return false
}

// The tranche gate: each half fails alone with its numbers, and both together.
func TestTrancheGateEachAlone(t *testing.T) {
	fin := actorWith(9, RoleFinance)
	noIn := func(g *Grant) {
		for i := range g.Activities {
			if g.Activities[i].Kind == In {
				g.Activities[i].Status = ActivityPlanned
			}
		}
	}
	cases := []struct {
		name string
		edit func(*Grant)
		want []string
	}{
		{"receipts", func(g *Grant) { g.Receipted = 1_000_000 },
			[]string{"receipts: bukti belanja baru Rp 1.000.000; paling sedikit 50% dari dana yang sudah disalurkan (Rp 8.400.000) harus berbukti, yaitu Rp 4.200.000: kurang Rp 3.200.000"}},
		{"no In held", noIn, []string{"activities: belum ada sesi In yang terlaksana (0 dari 3 sesi In yang direncanakan)"}},
		{"only On held", func(g *Grant) { noIn(g); g.Activities[1].Status = ActivityHeld }, []string{"activities: belum ada sesi In"}},
		{"cancelled In is not held", func(g *Grant) { noIn(g); g.Activities[0].Status = ActivityCancelled }, []string{"activities: belum ada sesi In"}},
		{"both", func(g *Grant) { noIn(g); g.Receipted = 0 }, []string{"receipts: kurang Rp 4.200.000", "activities: belum ada sesi In"}},
	}
	for _, c := range cases {
		g := grantIn(Funded)
		c.edit(&g)
		wantDetails(t, applyFail(t, g, goodRequest(g, Disburse, fin)), c.want...)
	}
	// One In held and exactly half receipted: the gate opens.
	g := grantIn(Funded)
	noIn(&g)
	g.Activities[2].Status = ActivityHeld
	g.Receipted = testTranche1 / 2
	if _, err := Apply(&g, goodRequest(g, Disburse, fin)); err != nil {
		t.Errorf("gate met exactly: %v", err)
	}
}

// Every submit_report guard fails alone, and all of them together.
func TestSubmitReportGuardsEachAlone(t *testing.T) {
	tr := actorWith(9, RoleTreasurer)
	cases := []struct {
		name string
		edit func(*Grant)
		want string
	}{
		{"planned", func(g *Grant) { g.Activities[2].Status = ActivityPlanned }, `activities[2].status: kegiatan "Sesi 3" belum terlaksana`},
		{"no attendance", func(g *Grant) { g.Activities[0].AttendeeCount = 0 }, `activities[0].attendee_count: daftar hadir "Sesi 1"`},
		{"no evidence", func(g *Grant) { g.Activities[4].EvidenceCount = 0 }, `activities[4].evidence_count: bukti kegiatan "Sesi 5"`},
		{"On not followed by an In", func(g *Grant) { g.Activities[4].Status = ActivityCancelled },
			`activities[3].held_on: sesi On "Sesi 4" (2026-07-10) belum diikuti`},
		{"the In after the On was held before it", func(g *Grant) { g.Activities[4].HeldOn = MustDate("2026-07-09") },
			`activities[3].held_on: sesi On "Sesi 4" (2026-07-10) belum diikuti`},
		{"receipt missing", func(g *Grant) { g.ExpensesWithoutReceipt = 1 }, "expenses: 1 belanja belum memiliki bukti"},
		{"balance", func(g *Grant) { g.Refunded = -1 }, "balance: saldo harus nol (sekarang Rp 1)"},
	}
	for _, c := range cases {
		one := grantIn(Funded)
		c.edit(&one)
		wantDetails(t, applyFail(t, one, goodRequest(one, SubmitReport, tr)), c.want)
	}
	// All together: the last In held before the last On (which breaks the
	// rhythm without hiding its own evidence problem) and everything else.
	g := grantIn(Funded)
	g.Activities[0].AttendeeCount = 0
	g.Activities[2].Status = ActivityPlanned
	g.Activities[4].HeldOn, g.Activities[4].EvidenceCount = MustDate("2026-07-09"), 0
	g.ExpensesWithoutReceipt, g.Refunded = 1, -1
	wantDetails(t, applyFail(t, g, goodRequest(g, SubmitReport, tr)),
		`activities[0].attendee_count: daftar hadir "Sesi 1"`,
		`activities[2].status: kegiatan "Sesi 3" belum terlaksana`,
		`activities[4].evidence_count: bukti kegiatan "Sesi 5"`,
		`activities[3].held_on: sesi On "Sesi 4" (2026-07-10) belum diikuti`,
		"expenses: 1 belanja belum memiliki bukti",
		"balance: saldo harus nol (sekarang Rp 1)")

	// An In held on the day of the On, later in the plan, closes the rhythm;
	// a cancelled activity needs neither attendance nor evidence.
	ok := grantIn(Funded)
	ok.Activities[4].HeldOn = ok.Activities[3].HeldOn
	ok.Activities[1].Status, ok.Activities[1].AttendeeCount, ok.Activities[1].EvidenceCount = ActivityCancelled, 0, 0
	if _, err := Apply(&ok, goodRequest(ok, SubmitReport, tr)); err != nil {
		t.Errorf("complete LPJ: %v", err)
	}
}
