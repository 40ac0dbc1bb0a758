package monitor_test

import (
	"testing"

	"grantflow/internal/grants"
	"grantflow/internal/monitor"
	"grantflow/workflow"
)

// TestCohorts checks the survival figures on a hand-computed fixture: 20
// funded groups in two programmes whose funding ended seven months apart,
// two kinds, two provinces, scanned 14 months after the first programme
// ended. A group meets ten days before each checkpoint listed for it, which
// keeps it active on that day only (checkpoints lie ≥ 59 days apart, the
// at-risk window is 45 days); one month after the end every group is still
// inside the window that the funding end opens.
func TestCohorts(t *testing.T) {
	t.Parallel()
	f := newFix(t, monitor.Options{})
	E1 := endOn(f.today, 70)
	E2 := addMonths(E1, 7)
	asOf := addMonths(E1, 14)
	p1, p2 := f.program(E1), f.program(E2)
	tengah := where{workflow.MGMP, "Jawa Tengah", "Kota Semarang"}
	plan := []struct {
		p      workflow.Program
		w      where
		meets  []int // months after the end with a meeting ten days before
		copies int
	}{
		{p1, bandung, []int{3, 6, 12}, 2}, {p1, bandung, []int{3, 6}, 1}, {p1, bandung, []int{3}, 1}, {p1, bandung, nil, 2},
		{p1, tengah, []int{3, 6, 12}, 1}, {p1, tengah, []int{6, 12}, 1}, {p1, tengah, []int{12}, 1}, {p1, tengah, nil, 3},
		{p2, bandung, []int{3, 6}, 3}, {p2, bandung, []int{6}, 2}, {p2, bandung, []int{3}, 1}, {p2, bandung, nil, 2},
	}
	total := 0
	for _, pl := range plan {
		for range pl.copies {
			g := f.funded(pl.p, pl.w)
			for _, m := range pl.meets {
				f.meet(g, addMonths(pl.p.ActivityEndsOn, m).AddDays(-10))
			}
			total++
		}
	}
	if total < 20 {
		t.Fatalf("fixture has %d groups", total)
	}
	never := f.newGroup(bandung)
	f.recommended(p1, &never, workflow.KKG)
	auditor := f.user(grants.NewUser{Roles: []workflow.Role{workflow.RoleAuditor}})
	tengahVerifier := f.user(grants.NewUser{Roles: []workflow.Role{workflow.RoleVerifier}, Province: "Jawa Tengah"})
	f.setClock(asOf)
	if res := f.scan(asOf); res.Monitored != 20 {
		t.Fatalf("%d groups monitored, want 20", res.Monitored)
	}

	type key struct {
		program  int64
		kind     string
		province string
	}
	// eligible/active at 1, 3, 6, 12 months, counted by hand from the plan.
	want := map[key][4][2]int{
		{p1.ID, "KKG", "Jawa Barat"}:   {{6, 6}, {6, 4}, {6, 3}, {6, 2}},
		{p1.ID, "MGMP", "Jawa Tengah"}: {{6, 6}, {6, 1}, {6, 2}, {6, 3}},
		{p2.ID, "KKG", "Jawa Barat"}:   {{8, 8}, {8, 4}, {8, 5}, {0, 0}}, // 12 months not yet passed
	}
	check := func(who string, a workflow.Actor, keys ...key) {
		t.Helper()
		cs, err := f.mon.Cohorts(ctxOf(t), a)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != len(keys) {
			t.Fatalf("%s: %d cohorts %+v, want %d", who, len(cs), cs, len(keys))
		}
		for _, c := range cs {
			k := key{c.ProgramID, c.Kind, c.Province}
			w, ok := want[k]
			if !ok {
				t.Fatalf("%s: unexpected cohort %+v", who, k)
			}
			for i, months := range []int{1, 3, 6, 12} {
				pt := c.Points[i]
				share := 0.0
				if w[i][0] > 0 {
					share = float64(w[i][1]) / float64(w[i][0])
				}
				if pt.Months != months || pt.Eligible != w[i][0] || pt.Active != w[i][1] || pt.Share != share {
					t.Errorf("%s: cohort %+v at %d months: %+v, want eligible %d active %d", who, k, months, pt, w[i][0], w[i][1])
				}
			}
		}
	}
	all := []key{{p1.ID, "KKG", "Jawa Barat"}, {p1.ID, "MGMP", "Jawa Tengah"}, {p2.ID, "KKG", "Jawa Barat"}}
	check("unscoped auditor", auditor, all...)
	check("Jawa Tengah verifier", tengahVerifier, all[1])

	// Scanning as of 14 months again changes nothing, even in the cohorts.
	if res := f.scan(asOf); res.Changed != 0 || res.Notifications != 0 {
		t.Fatalf("second scan: %+v", res)
	}
	check("unscoped auditor, second scan", auditor, all...)
	// As of a month and a half after the first end only the one-month point has passed.
	f.scan(addMonths(E1, 1).AddDays(15))
	cs, err := f.mon.Cohorts(ctxOf(t), grants.System)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.ProgramID != p1.ID || c.Points[0].Eligible != 6 || c.Points[1].Eligible != 0 {
			t.Fatalf("as of E1+1½ months: %+v", c)
		}
	}
}
