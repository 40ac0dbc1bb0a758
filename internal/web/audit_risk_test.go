package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"grantflow/internal/demo"
	"grantflow/internal/evidence"
	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/internal/postgres"
	"grantflow/workflow"
)

// riskWorld is the risk ranking's fixture: grants of group A (Kota Bandung)
// each raising one signal in a programme of its own (peers are per
// programme), one raising every signal in a programme whose LPJ was due on
// 15 March, beside 19 KKGs of Kabupaten Garut in that programme that only
// spent nothing (peers, each overdue), and one clean grant.
type riskWorld struct {
	h      *harness
	ids    map[string]int64 // grant id by fixture name
	number map[int64]string
}

// riskRank is the part of the ranking the tests read.
type riskRank struct {
	Items []struct {
		GrantID   int64  `json:"grant_id"`
		Number    string `json:"number"`
		GroupName string `json:"group_name"`
		Score     int    `json:"score"`
		Signals   []struct {
			Code   string         `json:"code"`
			Weight int            `json:"weight"`
			Facts  map[string]any `json:"facts"`
		} `json:"signals"`
	} `json:"items"`
	Total int `json:"total"`
}

// codes returns the signal codes of grant id in the ranking, and its score.
func (r riskRank) codes(id int64) ([]string, int, bool) {
	for _, it := range r.Items {
		if it.GrantID == id {
			out := []string{}
			for _, s := range it.Signals {
				out = append(out, s.Code)
			}
			return out, it.Score, true
		}
	}
	return nil, 0, false
}

func (r riskRank) ids() []int64 {
	out := []int64{}
	for _, it := range r.Items {
		out = append(out, it.GrantID)
	}
	return out
}

func (h *harness) risk(t *testing.T, who, query string) riskRank {
	t.Helper()
	r := h.do("GET", "/api/v1/audit/risk"+query, h.token(who), nil)
	expect(t, r, 200, "GET /audit/risk"+query+" as "+who)
	var out riskRank
	r.decode(t, &out)
	return out
}

// newRiskWorld builds the fixture through the service on a clock that the
// test moves: everything at fixedNow (10 March 2026, first tranches on 1
// March), then ten days later the late evidence, so the ranking is taken
// on 20 March. Its service runs the background worker, which records the
// photo facts (and their matches) the photo_reused signal reads.
func newRiskWorld(t *testing.T) *riskWorld {
	t.Helper()
	h := newHarness(t)
	st, err := evidence.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var skew atomic.Int64
	h.svc = grants.New(h.db, grants.Options{Store: st, BackgroundPreviews: true,
		Now: func() time.Time { return fixedNow.Add(time.Duration(skew.Load())) }})
	t.Cleanup(h.svc.Close)
	h.srv = New(h.svc, Options{})
	w := &riskWorld{h: h, ids: map[string]int64{}, number: map[int64]string{}}
	ctx := context.Background()
	chairA, treasurer := h.actor("chairA"), h.actor("treasurerA")

	// fund drives a KKG grant of grp to funded (tranche 1 on 1 March).
	fund := func(name string, prog workflow.Program, grp workflow.Group, chair workflow.Actor, from workflow.Date) grants.View {
		t.Helper()
		v, err := h.svc.OpenGrant(ctx, chair, prog.ID, grp.ID)
		if err != nil {
			t.Fatalf("%s: OpenGrant: %v", name, err)
		}
		if v, err = h.svc.SaveProposal(ctx, chair, v.ID, demo.Proposal(grp.Kind, from)); err != nil {
			t.Fatalf("%s: SaveProposal: %v", name, err)
		}
		for _, s := range []struct {
			who workflow.Actor
			a   workflow.Action
			in  grants.ActInput
		}{{chair, workflow.Submit, grants.ActInput{}}, {h.actor("verifier"), workflow.StartReview, grants.ActInput{}},
			{h.actor("verifier"), workflow.Recommend, grants.ActInput{Comment: "Sesuai juknis.", ApprovedAmount: v.AmountRequested}},
			{h.actor("approver"), workflow.Approve, grants.ActInput{Comment: "Disetujui."}}} {
			if v, err = h.svc.Act(ctx, s.who, v.ID, s.a, s.in); err != nil {
				t.Fatalf("%s: %s: %v", name, s.a, err)
			}
		}
		h.fundFirst(t, prog, v)
		w.ids[name], w.number[v.ID] = v.ID, v.Number
		return v
	}
	line := func(v grants.View, cat string) int64 {
		i := slices.IndexFunc(v.Budget, func(l workflow.BudgetLine) bool { return l.Category == cat })
		if i < 0 {
			t.Fatalf("no %s line", cat)
		}
		return v.Budget[i].ID
	}
	act := func(v grants.View, prefix string) int64 {
		i := slices.IndexFunc(v.Activities, func(a workflow.Activity) bool { return strings.HasPrefix(a.Title, prefix+":") })
		if i < 0 {
			t.Fatalf("no session %s", prefix)
		}
		return v.Activities[i].ID
	}
	ingest := func(data []byte) *evidence.Object {
		t.Helper()
		obj, err := h.svc.Ingest(ctx, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		return &obj
	}
	// spend records an expense with a PDF receipt (no photo facts), the
	// same file for the same note: made once, since actSheet leaves fpdf's
	// ModDate at the current second, so two calls may differ in bytes.
	sheets := map[string][]byte{}
	spend := func(v grants.View, cat string, activity int64, day string, amount int64, note string) {
		t.Helper()
		if sheets[note] == nil {
			sheets[note] = actSheet(t, note)
		}
		if _, err := h.svc.RecordExpense(ctx, treasurer, v.ID, grants.ExpenseInput{SpentOn: workflow.MustDate(day),
			BudgetLineID: line(v, cat), ActivityID: activity, Vendor: "Toko dan Katering Barokah", Description: "Belanja " + cat,
			Amount: amount}, ingest(sheets[note])); err != nil {
			t.Fatalf("expense %s %d on %s: %v %+v", cat, amount, day, err, err)
		}
	}
	realize := func(v grants.View, session, day string, present int) {
		t.Helper()
		if _, err := h.svc.RealizeActivity(ctx, chairA, v.ID, act(v, session), grants.RealizationInput{HeldOn: workflow.MustDate(day),
			Location: "Aula MIN 1 Kota Bandung", Hours: 3, Facilitator: "Pengawas madrasah", AttendeeIDs: h.memberIDs(t, h.groupA.ID, present),
			Summary: "Anggota menyusun modul ajar.", Outputs: "Draf modul ajar."}); err != nil {
			t.Fatalf("realise %s: %v", session, err)
		}
	}
	addEvidence := func(v grants.View, session, kind string, data []byte) {
		t.Helper()
		if _, err := h.svc.AddActivityEvidence(ctx, treasurer, v.ID, act(v, session), kind, ingest(data)); err != nil {
			t.Fatalf("evidence %s: %v", session, err)
		}
	}
	own := func() workflow.Program { return h.newProgram(t, 5_000_000_000) }
	scene := evidencetest.Scene(1, 800, 600)
	photo := evidencetest.EncodeJPEG(t, scene, 90)
	photoAgain := evidencetest.EncodeJPEG(t, evidencetest.Resized(scene, 320, 240), 85)

	// Each signal alone, in a programme of its own.
	clean := fund("clean", own(), h.groupA, chairA, proposalStart)
	spend(clean, "atk_bahan", 0, "2026-03-05", 100_000, "bersih")

	dup := fund("duplicate_receipt", own(), h.groupA, chairA, proposalStart)
	spend(dup, "atk_bahan", 0, "2026-03-05", 100_000, "nota kembar")
	spend(dup, "atk_bahan", 0, "2026-03-06", 120_000, "nota kembar")

	reused := fund("photo_reused", own(), h.groupA, chairA, proposalStart)
	addEvidence(reused, "In-1", "photo", evidencetest.EncodeJPEG(t, evidencetest.Scene(7, 800, 600), 90))
	addEvidence(reused, "On-1", "photo", evidencetest.EncodeJPEG(t, evidencetest.Resized(evidencetest.Scene(7, 800, 600), 400, 300), 80))

	late := fund("late_evidence", own(), h.groupA, chairA, proposalStart)
	realize(late, "In-1", "2026-03-02", 12)

	// Its programme weighs missing evidence 40 instead of 15: above
	// outside_period's 20, which outweighs it by default.
	mp := programInput("Program bobot", 5_000_000_000)
	mp.RiskWeights = map[string]int{workflow.RiskMissingEvidence: 40}
	weighted, err := h.svc.CreateProgram(ctx, grants.System, mp)
	if err != nil {
		t.Fatal(err)
	}
	missing := fund("missing_evidence", weighted, h.groupA, chairA, proposalStart)
	realize(missing, "In-1", "2026-03-02", 12)

	// Spending before the first transfer is refused; after the activity
	// end (15 March here) it is recorded and flagged: spent below, once
	// the clock has moved.
	op := programInput("Program usai", 5_000_000_000)
	op.ProposalOpensOn, op.ProposalClosesOn, op.ActivityEndsOn = workflow.MustDate("2026-01-01"), workflow.MustDate("2026-03-10"), workflow.MustDate("2026-03-15")
	ended, err := h.svc.CreateProgram(ctx, grants.System, op)
	if err != nil {
		t.Fatal(err)
	}
	outside := fund("outside_period", ended, h.groupA, chairA, workflow.MustDate("2026-01-10"))

	noSession := fund("no_session", own(), h.groupA, chairA, proposalStart)
	spend(noSession, "konsumsi", 0, "2026-03-05", 100_000, "konsumsi tanpa sesi")

	spike := fund("line_spike", own(), h.groupA, chairA, proposalStart)
	spend(spike, "penggandaan", 0, "2026-03-03", 100_000, "penggandaan awal")
	spend(spike, "atk_bahan", 0, "2026-03-05", 1_250_000, "atk sekaligus")

	round := fund("round_amount", own(), h.groupA, chairA, proposalStart)
	for i := range 3 {
		spend(round, "konsumsi", act(round, "In-1"), "2026-03-05", 1_000_000, fmt.Sprintf("katering bulat %d", i))
	}

	drop := fund("attendance_drop", own(), h.groupA, chairA, proposalStart)
	realize(drop, "In-1", "2026-03-02", 12)
	realize(drop, "On-1", "2026-03-03", 5)
	addEvidence(drop, "In-1", "minutes", actSheet(t, "notulen in-1"))
	addEvidence(drop, "On-1", "minutes", actSheet(t, "notulen on-1"))

	refund := fund("large_refund", own(), h.groupA, chairA, proposalStart)
	if _, err := h.svc.RecordRefund(ctx, treasurer, refund.ID, grants.RefundInput{Amount: 3_000_000, PaidOn: workflow.MustDate("2026-03-09"),
		NTPN: "RISK000000000001"}, nil); err != nil {
		t.Fatal(err)
	}

	// The peers' programme: its LPJ was due on 15 March.
	p := programInput("Program terlambat", 5_000_000_000)
	p.ProposalOpensOn, p.ProposalClosesOn = workflow.MustDate("2026-01-01"), workflow.MustDate("2026-03-10")
	p.ActivityEndsOn, p.ReportDueOn = workflow.MustDate("2026-03-15"), workflow.MustDate("2026-03-15")
	dueProg, err := h.svc.CreateProgram(ctx, grants.System, p)
	if err != nil {
		t.Fatal(err)
	}
	early := workflow.MustDate("2026-01-10")
	for i := range workflow.PeerOutlierMinPeers - 1 {
		gv := validGroup(workflow.KKG, fmt.Sprintf("KKG MI Kecamatan Garut %02d", i+1), "Kabupaten Garut", 15)
		gv.Members = demo.Members(100*(i+1), 15)
		grp, err := h.svc.CreateGroup(ctx, grants.System, gv)
		if err != nil {
			var we *workflow.Error
			errors.As(err, &we)
			t.Fatalf("group: %v %v", err, we.Details)
		}
		u, err := h.svc.CreateUser(ctx, grants.System, grants.NewUser{Email: fmt.Sprintf("ketua.garut%02d@uji.grantflow.id", i+1),
			Name: "Ketua Garut", Password: testPassword, Roles: []workflow.Role{workflow.RoleChair}, GroupID: grp.ID})
		if err != nil {
			t.Fatal(err)
		}
		fund(fmt.Sprintf("peer%02d", i+1), dueProg, grp, workflow.Actor{UserID: u.ID, Name: u.Name, Roles: u.Roles, GroupID: grp.ID}, early)
	}

	// Every signal at once, in the peers' programme.
	all := fund("all", dueProg, h.groupA, chairA, early)
	spend(all, "atk_bahan", 0, "2026-03-05", 100_000, "nota kembar semua")
	spend(all, "atk_bahan", 0, "2026-03-05", 100_000, "nota kembar semua")
	spend(all, "transport", 0, "2026-03-05", 100_000, "transport tanpa sesi")
	for i := range 3 {
		spend(all, "konsumsi", act(all, "In-1"), "2026-03-05", 1_000_000, fmt.Sprintf("katering bulat semua %d", i))
	}
	realize(all, "In-1", "2026-03-02", 12)
	realize(all, "On-1", "2026-03-03", 5)
	realize(all, "In-2", "2026-03-04", 10) // no evidence
	addEvidence(all, "In-1", "photo", photo)
	if _, err := h.svc.RecordRefund(ctx, treasurer, all.ID, grants.RefundInput{Amount: 3_000_000, PaidOn: workflow.MustDate("2026-03-09"),
		NTPN: "RISK000000000002"}, nil); err != nil {
		t.Fatal(err)
	}

	// Ten days on: evidence of sessions held on 2 and 3 March comes in.
	skew.Store(int64(10 * 24 * time.Hour))
	addEvidence(late, "In-1", "attendance", actSheet(t, "daftar hadir terlambat"))
	spend(outside, "atk_bahan", 0, "2026-03-18", 100_000, "sesudah kegiatan berakhir")
	addEvidence(all, "On-1", "photo", photoAgain)
	// After its activity end (15 March): outside the period, and the last
	// day of spending takes atk to 1 200 000 of 1 250 000.
	spend(all, "penggandaan", 0, "2026-03-18", 100_000, "sesudah kegiatan semua")
	spend(all, "atk_bahan", 0, "2026-03-18", 1_000_000, "atk hari terakhir")

	// The background worker records the four photos' facts.
	waitFor(t, 60*time.Second, "photo facts", func() bool {
		var n int
		_ = h.db.SQL().QueryRow(`SELECT count(*) FROM photo_facts`).Scan(&n)
		return n == 4
	})
	return w
}

// TestRiskRanking: every signal alone on a grant of its own and all of
// them on one grant, with the ranking, the scope, the programme's weights,
// pagination and the exports.
func TestRiskRanking(t *testing.T) {
	t.Parallel()
	w := newRiskWorld(t)
	h := w.h
	r := h.risk(t, "verifier", "?limit=1000") // Jawa Barat: every grant
	if r.Total != len(w.ids) || len(r.Items) != len(w.ids) {
		t.Fatalf("total %d, %d items; want %d grants", r.Total, len(r.Items), len(w.ids))
	}

	alone := []string{workflow.RiskDuplicateReceipt, workflow.RiskPhotoReused, workflow.RiskLateEvidence, workflow.RiskMissingEvidence,
		workflow.RiskOutsidePeriod, workflow.RiskNoSession, workflow.RiskLineSpike, workflow.RiskRoundAmount, workflow.RiskAttendanceDrop,
		workflow.RiskLargeRefund}
	def := workflow.DefaultRiskWeights()
	for _, code := range alone {
		want := def[code]
		if code == workflow.RiskMissingEvidence {
			want = 40 // its programme's weight
		}
		got, score, ok := r.codes(w.ids[code])
		if !ok || !slices.Equal(got, []string{code}) || score != want {
			t.Errorf("grant %s: signals %v score %d, want only %s (%d)", code, got, score, code, want)
		}
	}
	// The programme's weight changed the order: by default outside_period
	// (20) ranks above missing_evidence (15).
	if def[workflow.RiskOutsidePeriod] <= def[workflow.RiskMissingEvidence] ||
		slices.Index(r.ids(), w.ids["missing_evidence"]) > slices.Index(r.ids(), w.ids["outside_period"]) {
		t.Errorf("missing_evidence weighted 40 does not rank above outside_period: %v", r.ids())
	}
	if got, score, _ := r.codes(w.ids["clean"]); len(got) != 0 || score != 0 {
		t.Errorf("clean grant: %v %d", got, score)
	}
	// A peer spent nothing: only the overdue LPJ.
	if got, _, _ := r.codes(w.ids["peer01"]); !slices.Equal(got, []string{workflow.RiskReportOverdue}) {
		t.Errorf("peer: %v, want report_overdue alone", got)
	}
	got, score, _ := r.codes(w.ids["all"])
	if !slices.Equal(got, workflow.RiskCodes) {
		t.Errorf("grant with every signal: %v\nwant %v", got, workflow.RiskCodes)
	}
	sum := 0
	for _, v := range def {
		sum += v
	}
	if score != sum {
		t.Errorf("score %d, want the sum of the default weights %d", score, sum)
	}

	// Facts: the numbers behind two signals.
	for _, it := range r.Items {
		if it.GrantID != w.ids["all"] {
			continue
		}
		for _, s := range it.Signals {
			switch s.Code {
			case workflow.RiskDuplicateReceipt:
				if s.Facts["count"] != float64(2) || len(s.Facts["expense_ids"].([]any)) != 2 {
					t.Errorf("duplicate facts %v", s.Facts)
				}
			case workflow.RiskAttendanceDrop:
				if s.Facts["first_present"] != float64(12) || s.Facts["min_present"] != float64(5) {
					t.Errorf("attendance facts %v", s.Facts)
				}
			case workflow.RiskPeerOutlier:
				if s.Facts["peers"] != float64(workflow.PeerOutlierMinPeers) || s.Facts["spent"] != float64(4_400_000) {
					t.Errorf("peer facts %v", s.Facts)
				}
			case workflow.RiskLateEvidence:
				if s.Facts["max_days"] != float64(17) {
					t.Errorf("late facts %v", s.Facts)
				}
			}
		}
	}

	// The ranking: score descending, then number.
	for i := 1; i < len(r.Items); i++ {
		a, b := r.Items[i-1], r.Items[i]
		if a.Score < b.Score || a.Score == b.Score && a.Number > b.Number {
			t.Fatalf("out of order at %d: %s (%d) before %s (%d)", i, a.Number, a.Score, b.Number, b.Score)
		}
	}
	// every signal (165), missing_evidence weighted 40, duplicate_receipt
	// 30, photo_reused 25, outside_period 20
	top := []int64{w.ids["all"], w.ids["missing_evidence"], w.ids["duplicate_receipt"], w.ids["photo_reused"], w.ids["outside_period"]}
	if !slices.Equal(r.ids()[:5], top) {
		t.Errorf("top five %v, want %v", r.ids()[:5], top)
	}
	if last := r.Items[len(r.Items)-1]; last.GrantID != w.ids["clean"] {
		t.Errorf("last %s, want the clean grant", last.Number)
	}

	t.Run("pages", func(t *testing.T) {
		p := h.risk(t, "verifier", "?limit=3&offset=2")
		if p.Total != r.Total || !slices.Equal(p.ids(), r.ids()[2:5]) {
			t.Errorf("page 3..5: %v, want %v (total %d)", p.ids(), r.ids()[2:5], p.Total)
		}
		prog := h.risk(t, "verifier", fmt.Sprintf("?program_id=%d", h.gProgram(t, w.ids["all"])))
		if prog.Total != workflow.PeerOutlierMinPeers || prog.Items[0].GrantID != w.ids["all"] {
			t.Errorf("programme filter: total %d, first %v", prog.Total, prog.ids())
		}
		expect(t, h.do("GET", "/api/v1/audit/risk?limit=x", h.token("verifier"), nil), 400, "limit=x")
		expect(t, h.do("GET", "/api/v1/audit/risk?format=pdf", h.token("verifier"), nil), 400, "format=pdf")
		expect(t, h.do("GET", "/api/v1/audit/risk?limit=20000", h.token("verifier"), nil), 422, "limit=20000")
	})

	t.Run("scope", func(t *testing.T) {
		for _, who := range []string{"chairA", "treasurerA", "approver", "finance", "admin"} {
			expect(t, h.do("GET", "/api/v1/audit/risk", h.token(who), nil), 403, who)
		}
		// The auditor sees Kota Bandung only: group A's grants, never Garut's.
		a := h.risk(t, "auditor", "?limit=1000")
		for _, it := range a.Items {
			if strings.Contains(it.GroupName, "Garut") {
				t.Fatalf("auditor of Kota Bandung sees %s", it.GroupName)
			}
		}
		if a.Total != len(w.ids)-(workflow.PeerOutlierMinPeers-1) {
			t.Errorf("auditor sees %d grants, want group A's %d", a.Total, len(w.ids)-(workflow.PeerOutlierMinPeers-1))
		}
		// Peers are the programme's, in scope or not: the same outlier.
		if got, _, _ := a.codes(w.ids["all"]); !slices.Contains(got, workflow.RiskPeerOutlier) {
			t.Errorf("scoped auditor misses peer_outlier: %v", got)
		}
		// A verifier of Kabupaten Garut sees only its 19 groups.
		v, err := h.svc.CreateUser(context.Background(), grants.System, grants.NewUser{Email: "verifikator.garut@uji.grantflow.id",
			Name: "Verifikator Garut", Password: testPassword, Roles: []workflow.Role{workflow.RoleVerifier},
			Province: "Jawa Barat", Regency: "Kabupaten Garut"})
		if err != nil {
			t.Fatal(err)
		}
		h.mu.Lock()
		h.accounts["verifier_garut"] = &account{view: v, actor: workflow.Actor{UserID: v.ID, Roles: v.Roles, Province: v.Province, Regency: v.Regency}}
		h.mu.Unlock()
		g := h.risk(t, "verifier_garut", "?limit=1000")
		if g.Total != workflow.PeerOutlierMinPeers-1 {
			t.Errorf("Garut verifier sees %d grants, want %d", g.Total, workflow.PeerOutlierMinPeers-1)
		}
		for _, it := range g.Items {
			if !strings.Contains(it.GroupName, "Garut") {
				t.Errorf("Garut verifier sees %s", it.GroupName)
			}
		}
		if out := h.risk(t, "verifier_out", ""); out.Total != 0 {
			t.Errorf("Jawa Timur verifier sees %d grants", out.Total)
		}
	})

	t.Run("exports", func(t *testing.T) {
		res := h.do("GET", "/api/v1/audit/risk?format=csv", h.token("verifier"), nil)
		expect(t, res, 200, "csv")
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(res.body, []byte("\ufeff")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != len(r.Items)+1 || !slices.Equal(recs[0], []string{"Peringkat", "Nomor", "Kelompok", "Skor", "Sinyal", "Rincian"}) {
			t.Fatalf("csv: %d records, header %v", len(recs), recs[0])
		}
		for i, it := range r.Items {
			rec := recs[i+1]
			if rec[0] != fmt.Sprint(i+1) || rec[1] != it.Number || rec[2] != it.GroupName || rec[3] != fmt.Sprint(it.Score) {
				t.Fatalf("csv row %d: %v, want %s %d", i+1, rec, it.Number, it.Score)
			}
			for _, s := range it.Signals {
				if !strings.Contains(rec[4], fmt.Sprintf("%s (%d)", s.Code, s.Weight)) || !strings.Contains(rec[5], s.Code+": {") {
					t.Fatalf("csv row %d lacks %s: %v", i+1, s.Code, rec)
				}
			}
		}
		res = h.do("GET", "/api/v1/audit/risk?format=xlsx&limit=5", h.token("verifier"), nil)
		expect(t, res, 200, "xlsx")
		f, err := excelize.OpenReader(bytes.NewReader(res.body))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows("Risiko")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 6 {
			t.Fatalf("xlsx: %d rows, want header and 5", len(rows))
		}
		for i, it := range r.Items[:5] {
			if rows[i+1][1] != it.Number || rows[i+1][3] != fmt.Sprint(it.Score) {
				t.Errorf("xlsx row %d: %v, want %s %d", i+1, rows[i+1], it.Number, it.Score)
			}
		}
	})
}

// TestRiskPage: the auditor's page lists the ranking with each signal
// named and explained in Indonesian, is linked from the LPJ queue, exports
// with the page's session, and passes axe-core at phone and desktop width.
func TestRiskPage(t *testing.T) {
	t.Parallel()
	w := newRiskWorld(t)
	h := w.h
	p := h.client(t)
	p.login("auditor")
	r := p.get("/lpj")
	expect(t, r, 200, "/lpj")
	if !strings.Contains(string(r.body), `href="/risiko"`) {
		t.Fatalf("the LPJ queue does not link the ranking")
	}
	r = p.get("/risiko")
	expect(t, r, 200, "/risiko")
	body := string(r.body)
	for _, want := range []string{"Peringkat risiko", `<th scope="col">Tanda dan alasannya</th>`, w.number[w.ids["all"]],
		"Nota ganda</span> (bobot 30): 2 belanja memakai berkas nota yang juga dipakai belanja lain",
		"Kehadiran anjlok</span> (bobot 10): 1 sesi dihadiri kurang dari separuh peserta sesi pertama (12 orang); terendah 5 orang",
		"Bukti kegiatan tidak ada</span> (bobot 40)", `<label for="f-program">Program</label>`, "Arti tanda"} {
		if !strings.Contains(body, want) {
			t.Errorf("/risiko lacks %q", want)
		}
	}
	if strings.Contains(body, "Garut") {
		t.Errorf("the Kota Bandung auditor's page shows Garut")
	}
	ex := p.get("/risiko/ekspor?format=csv")
	expect(t, ex, 200, "export")
	if !bytes.Contains(ex.body, []byte(w.number[w.ids["all"]])) {
		t.Errorf("export lacks the top grant")
	}
	// Group roles get the error page.
	c := h.client(t)
	c.login("chairA")
	if r := c.get("/risiko"); r.status != 403 {
		t.Errorf("/risiko as chair: %d", r.status)
	}

	b := newBrowser(t, h.listen(t))
	b.login(h.user("auditor").view.Email)
	b.open("/risiko")
	b.contains("Peringkat risiko", w.number[w.ids["all"]], "Nota ganda")
	b.check("peringkat-risiko")
}

// gProgram returns the programme of grant id.
func (h *harness) gProgram(t *testing.T, id int64) int64 {
	t.Helper()
	v, err := h.svc.Grant(context.Background(), grants.System, id)
	if err != nil {
		t.Fatal(err)
	}
	return v.ProgramID
}

// TestRiskWeightsSetting: risk_weights in POST /programs takes known codes
// with 0–100, refuses the rest naming each key, and is read back.
func TestRiskWeightsSetting(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	bad := programInput("Program bobot salah", 1_000_000_000)
	bad.RiskWeights = map[string]int{"nota_palsu": 5, workflow.RiskRoundAmount: 101, workflow.RiskNoSession: -1}
	e := expect(t, h.do("POST", "/api/v1/programs", h.token("admin"), bad), 422, "bad weights")
	for _, f := range []string{"risk_weights.nota_palsu", "risk_weights.round_amount", "risk_weights.no_session"} {
		if !e.hasField(f) {
			t.Errorf("no detail on %s: %+v", f, e.Details)
		}
	}
	if n := len(h.programs(t)); n != 1 {
		t.Fatalf("%d programmes after a refused one, want the harness's 1", n)
	}
	good := programInput("Program bobot", 1_000_000_000)
	good.RiskWeights = map[string]int{workflow.RiskRoundAmount: 0, workflow.RiskLargeRefund: 100}
	r := h.do("POST", "/api/v1/programs", h.token("admin"), good)
	expect(t, r, 201, "good weights")
	var p workflow.Program
	r.decode(t, &p)
	r = h.do("GET", fmt.Sprintf("/api/v1/programs/%d", p.ID), h.token("auditor"), nil)
	expect(t, r, 200, "read back")
	var back workflow.Program
	r.decode(t, &back)
	if back.RiskWeights[workflow.RiskRoundAmount] != 0 || back.RiskWeights[workflow.RiskLargeRefund] != 100 || len(back.RiskWeights) != 2 {
		t.Fatalf("risk_weights read back %v", back.RiskWeights)
	}
	if _, ok := back.RiskWeights[workflow.RiskRoundAmount]; !ok {
		t.Fatalf("a weight of 0 was dropped: %v", back.RiskWeights)
	}
}

// TestRiskFactsFollowWrites: the ranking read from the stored expense facts
// (risk_line_facts) equals the one computed from the expenses alone after
// expenses are recorded and voided — while the grants are still marked
// (read live) and after the next ranking refreshed their facts — and a
// void committed while a ranking refreshes keeps its mark.
func TestRiskFactsFollowWrites(t *testing.T) {
	t.Parallel()
	w := newRiskWorld(t)
	h := w.h
	ctx := context.Background()
	treasurer := h.actor("treasurerA")
	f := postgres.RiskFilter{Today: h.svc.Today(), PhotoReuseBits: evidence.PhotoReuseDistance}
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := h.db.SQL().QueryRow(query, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// same returns the signal codes of each grant from the stored facts,
	// after checking that they equal the from-scratch ones in one snapshot.
	same := func(stage string) map[int64][]string {
		t.Helper()
		var stored, scratch []workflow.RiskItem
		if err := h.db.InReadTx(ctx, func(tx *postgres.Tx) error {
			var err error
			if stored, err = tx.RiskSignals(ctx, f); err != nil {
				return err
			}
			scratch, err = tx.RiskSignalsFromScratch(ctx, f)
			return err
		}); err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
		codes := map[int64][]string{}
		for _, items := range [][]workflow.RiskItem{stored, scratch} {
			slices.SortFunc(items, func(a, b workflow.RiskItem) int { return int(a.GrantID - b.GrantID) })
			for i := range items {
				slices.SortFunc(items[i].Signals, func(a, b workflow.RiskSignal) int { return strings.Compare(a.Code, b.Code) })
			}
		}
		if len(stored) != len(w.ids) || !reflect.DeepEqual(stored, scratch) {
			t.Fatalf("%s: from the facts\n%+v\nfrom scratch\n%+v", stage, stored, scratch)
		}
		for _, it := range stored {
			for _, s := range it.Signals {
				codes[it.GrantID] = append(codes[it.GrantID], s.Code)
			}
		}
		return codes
	}

	h.risk(t, "verifier", "") // the first ranking stores every grant's facts
	if n, marks := count(`SELECT count(*) FROM risk_facts`), count(`SELECT count(*) FROM risk_dirty`); n != len(w.ids) || marks != 0 {
		t.Fatalf("after the first ranking: facts of %d grants, %d marks; want %d, 0", n, marks, len(w.ids))
	}
	before := same("stored")

	// The clean grant gets three round receipts (round_amount); the grant
	// spending after its activity end voids that expense (outside_period
	// gone); "all" voids its last day's atk expense (line_spike gone).
	clean := w.ids["clean"]
	v, err := h.svc.Grant(ctx, treasurer, clean)
	if err != nil {
		t.Fatal(err)
	}
	konsumsi := v.Budget[slices.IndexFunc(v.Budget, func(l workflow.BudgetLine) bool { return l.Category == "konsumsi" })].ID
	session := v.Activities[slices.IndexFunc(v.Activities, func(a workflow.Activity) bool { return strings.HasPrefix(a.Title, "In-1:") })].ID
	for i := range 3 {
		obj, err := h.svc.Ingest(ctx, bytes.NewReader(actSheet(t, fmt.Sprintf("nota bulat baru %d", i))))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.RecordExpense(ctx, treasurer, clean, grants.ExpenseInput{SpentOn: workflow.MustDate("2026-03-06"),
			BudgetLineID: konsumsi, ActivityID: session, Vendor: "Katering Barokah", Description: "Makan siang peserta",
			Amount: 1_000_000}, &obj); err != nil {
			t.Fatalf("round expense %d: %v", i, err)
		}
	}
	voidLast := func(name string) {
		t.Helper()
		xs, err := h.svc.Expenses(ctx, treasurer, w.ids[name])
		if err != nil || len(xs) == 0 {
			t.Fatalf("%s: %d expenses, %v", name, len(xs), err)
		}
		last := slices.MaxFunc(xs, func(a, b workflow.Expense) int { return int(a.ID - b.ID) })
		if _, err := h.svc.VoidExpense(ctx, treasurer, w.ids[name], last.ID, "Salah catat, dibatalkan"); err != nil {
			t.Fatalf("%s: void: %v", name, err)
		}
	}
	voidLast("outside_period")
	voidLast("all")

	// Marked, not yet refreshed: those three grants are read live.
	if marks := count(`SELECT count(DISTINCT grant_id) FROM risk_dirty`); marks != 3 {
		t.Fatalf("%d grants marked, want 3", marks)
	}
	marked := same("marked")
	for _, c := range []struct {
		name, code string
		had, has   bool
	}{{"clean", workflow.RiskRoundAmount, false, true}, {"outside_period", workflow.RiskOutsidePeriod, true, false},
		{"all", workflow.RiskLineSpike, true, false}} {
		id := w.ids[c.name]
		if slices.Contains(before[id], c.code) != c.had || slices.Contains(marked[id], c.code) != c.has {
			t.Errorf("%s: %s before %v after %v; want %v then %v", c.name, c.code, before[id], marked[id], c.had, c.has)
		}
	}

	// The next ranking refreshes them: no mark left, their facts stored anew.
	h.risk(t, "verifier", "")
	if marks := count(`SELECT count(*) FROM risk_dirty`); marks != 0 {
		t.Fatalf("%d marks after the ranking", marks)
	}
	if n := count(`SELECT CAST(sum(n) AS int) FROM risk_line_facts WHERE grant_id = $1`, clean); n != 4 {
		t.Errorf("clean: facts count %d standing expenses, want 4", n)
	}
	if refreshed := same("refreshed"); !reflect.DeepEqual(refreshed, marked) {
		t.Errorf("refreshed signals %v, marked %v", refreshed, marked)
	}

	// A void still uncommitted while a ranking refreshes: its mark is not
	// the refresh's to take, so once committed the grant is read live.
	xs, err := h.svc.Expenses(ctx, treasurer, clean)
	if err != nil {
		t.Fatal(err)
	}
	voidLast("duplicate_receipt") // a committed mark, for the refresh to take meanwhile
	writer, err := h.db.SQL().Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Rollback()
	if _, err := writer.Exec(`UPDATE expenses SET voided_at = now(), voided_by = $2, void_reason = 'Uji pembatalan bersamaan'
		WHERE id = $1`, xs[0].ID, treasurer.UserID); err != nil {
		t.Fatal(err)
	}
	h.risk(t, "verifier", "")
	if err := writer.Commit(); err != nil {
		t.Fatal(err)
	}
	if marks := count(`SELECT count(*) FROM risk_dirty WHERE grant_id = $1`, clean); marks != 1 {
		t.Fatalf("clean: %d marks after the concurrent void, want 1", marks)
	}
	if n := count(`SELECT CAST(sum(n) AS int) FROM risk_line_facts WHERE grant_id = $1`, clean); n != 4 {
		t.Errorf("clean: facts count %d standing expenses, want the 4 stored before the void", n)
	}
	same("concurrent void")
	h.risk(t, "verifier", "")
	if marks := count(`SELECT count(*) FROM risk_dirty`); marks != 0 {
		t.Fatalf("%d marks after the next ranking", marks)
	}
	if n := count(`SELECT CAST(sum(n) AS int) FROM risk_line_facts WHERE grant_id = $1`, clean); n != 3 {
		t.Errorf("clean: facts count %d standing expenses after the next ranking, want 3", n)
	}
	same("after the concurrent void")
}
