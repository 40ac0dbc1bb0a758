package workflow

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// tNow lies inside testProgram's proposal window.
var tNow = time.Date(2026, 2, 15, 10, 30, 0, 123456789, time.UTC)

const (
	testGrantID   = 7
	testGroupID   = 3
	testVerifier  = 101 // who started review / recommended, on fixture grants
	testApprover  = 102 // who approved, on fixture grants
	testActorID   = 1   // the actor of the table test: neither of the above
	testTotal     = 12_000_000
	testTranche1  = 8_400_000
	testTranche2  = 3_600_000
	otherGroupID  = 4
	testPoolTotal = 1_000_000_000
)

func testProgram() Program {
	p := Program{
		ID:               1,
		Name:             "Bantuan Kelompok Kerja 2026",
		Year:             2026,
		ProposalOpensOn:  MustDate("2026-01-01"),
		ProposalClosesOn: MustDate("2026-03-31"),
		ActivityEndsOn:   MustDate("2026-10-31"),
		ReportDueOn:      MustDate("2026-12-31"),
		BudgetTotal:      testPoolTotal,
	}
	p.ApplyDefaults()
	return p
}

// testGroup returns a valid group of kind k with n members: one ketua, one
// bendahara, one sekretaris, the rest anggota.
func testGroup(k Kind, n int) Group {
	level := map[Kind]string{KKG: "MI", MGMP: "MTs", MGBK: "MA", KKM: "MI", POKJAWAS: "MA"}[k]
	g := Group{
		ID:                testGroupID,
		Kind:              k,
		Name:              string(k) + " Kecamatan Cibinong",
		Level:             level,
		Province:          "Jawa Barat",
		Regency:           "Kabupaten Bogor",
		SKNumber:          "B-123/Kk.10.01/PP.00/01/2026",
		BankName:          "Bank Syariah Indonesia",
		BankAccountNumber: "7123456789",
		BankAccountName:   string(k) + " Kec Cibinong",
		NPWP:              "012345678901000",
	}
	if k == MGMP {
		g.Subject = "Matematika"
	}
	for i := range n {
		pos := PosAnggota
		switch i {
		case 0:
			pos = PosKetua
		case 1:
			pos = PosBendahara
		case 2:
			pos = PosSekretaris
		}
		m := Member{Name: fmt.Sprintf("Guru %d", i+1), Madrasah: "MI Nurul Huda", Position: pos}
		if i%2 == 0 {
			m.NIP = fmt.Sprintf("1980010120050110%02d", i)
		} else {
			m.SimpatikaID = fmt.Sprintf("33010000000000%02d", i)
		}
		g.Members = append(g.Members, m)
	}
	return g
}

// testProposal is complete for a KKG (3 In + 2 On, In first, dates inside
// the activity period) with a 12 000 000 budget whose honorarium is 25 %.
// Its activities are held with attendance and evidence so that the same
// grant also passes the tranche-2 and LPJ guards.
func testProposal() Proposal {
	act := func(seq int, k ActivityKind, date string) Activity {
		return Activity{ID: int64(seq), Seq: seq, Kind: k, Title: fmt.Sprintf("Sesi %d", seq), PlannedOn: MustDate(date),
			PlannedParticipants: 20, Status: ActivityHeld, HeldOn: MustDate(date), AttendeeCount: 18, EvidenceCount: 3}
	}
	line := func(seq int, cat string, qty, price int64) BudgetLine {
		return BudgetLine{ID: int64(seq), Seq: seq, Category: cat, Description: "Belanja " + cat, Quantity: qty, Unit: "paket", UnitPrice: price, Amount: qty * price}
	}
	return Proposal{
		Background:         "Latar belakang.",
		Objectives:         "Tujuan.",
		SustainabilityPlan: "Pertemuan bulanan setelah hibah.",
		Activities: []Activity{
			act(1, In, "2026-04-10"),
			act(2, On, "2026-05-10"),
			act(3, In, "2026-06-10"),
			act(4, On, "2026-07-10"),
			act(5, In, "2026-08-10"),
		},
		Budget: []BudgetLine{
			line(1, "konsumsi", 100, 50_000),    // 5 000 000
			line(2, "honorarium", 2, 1_500_000), // 3 000 000 = 25 %
			line(3, "transport", 20, 100_000),   // 2 000 000
			line(4, "atk_bahan", 1, 2_000_000),  // 2 000 000
		},
	}
}

// grantIn returns a grant in state s whose facts satisfy the guards of every
// action that may start from s, so that a table cell tests only the table.
func grantIn(s State) Grant {
	g := Grant{ID: testGrantID, Number: "KKG-2026-000007", ProgramID: 1, GroupID: testGroupID, State: s, Proposal: testProposal()}
	if s != Draft {
		g.AmountRequested = testTotal
	}
	if s != Draft && s != Submitted {
		g.VerifierID = testVerifier
	}
	switch s {
	case Recommended, Approved, Funded, ReportSubmitted, Closed:
		g.AmountApproved = testTotal
	}
	switch s {
	case Approved, Funded, ReportSubmitted, Closed:
		g.ApproverID = testApprover
	}
	switch s {
	case Funded, ReportSubmitted, Closed:
		g.TranchesPaid = 1
		g.Disbursed = testTranche1
		g.Spent = testTranche1
		g.Receipted = testTranche1
	}
	return g
}

func actorWith(id int64, roles ...Role) Actor {
	a := Actor{UserID: id, Name: fmt.Sprintf("Pengguna %d", id), Roles: roles}
	for _, r := range roles {
		if r.IsGroupRole() {
			a.GroupID = testGroupID
		}
	}
	return a
}

// goodRequest returns a request whose data passes the guards of action a on g.
func goodRequest(g Grant, a Action, actor Actor) Request {
	prog := testProgram()
	r := Request{
		Action:  a,
		Actor:   actor,
		Now:     tNow,
		Comment: "  Catatan pemeriksa.  ",
		Tranche: g.TranchesPaid + 1,
		Program: prog,
		Group:   testGroup(KKG, 20),
	}
	if a == Recommend { // the only action that takes an amount
		r.ApprovedAmount = g.AmountRequested
	}
	if shares := prog.TrancheAmounts(g.AmountApproved); r.Tranche <= len(shares) {
		r.Amount = shares[r.Tranche-1]
	}
	return r
}

// cloneGrant copies g deeply enough for reflect.DeepEqual comparisons.
func cloneGrant(g Grant) Grant {
	g.Activities = slices.Clone(g.Activities)
	g.Budget = slices.Clone(g.Budget)
	return g
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *workflow.Error", err, err)
	}
	return e
}

// wantDetails asserts that err is EUnprocessable and carries exactly the
// given details, each as "field: substring of the message", in any order.
func wantDetails(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want unprocessable with %q", want)
	}
	e := asError(t, err)
	if e.Code != EUnprocessable {
		t.Fatalf("code = %s (%s), want unprocessable", e.Code, e.Message)
	}
	used := make([]bool, len(e.Details))
	for _, w := range want {
		field, sub, _ := strings.Cut(w, ": ")
		found := false
		for i, d := range e.Details {
			if !used[i] && d.Field == field && strings.Contains(d.Message, sub) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("missing detail %q in %s", w, dumpDetails(e.Details))
		}
	}
	for i, d := range e.Details {
		if !used[i] {
			t.Errorf("unexpected detail %s: %s", d.Field, d.Message)
		}
	}
}

func dumpDetails(ds []Detail) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "\n\t%s: %s", d.Field, d.Message)
	}
	return b.String()
}
