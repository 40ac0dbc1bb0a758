package workflow

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// confirmationProblems returns why the LPJ of g waits for the chair's
// co-signature: when the programme requires it (RequireChairConfirmation)
// and no confirm_report stands since the last change to expenses or sessions.
// Apply (submit_report) and NextSteps both read it.
func confirmationProblems(g Grant, prog Program) Problems {
	var ps Problems
	if prog.RequireChairConfirmation && !g.ReportConfirmed {
		ps.Add("report_confirmed", "ketua kelompok belum mengonfirmasi belanja dan daftar hadir (konfirmasi LPJ); perubahan belanja atau kegiatan sesudah konfirmasi membatalkannya")
	}
	return ps
}

// MinAuditSample is the smallest audit sample: fewer expenses than this
// are all drawn.
const MinAuditSample = 5

// AuditFlagWeight is how much more likely a flagged expense (any review
// flag, e.g. duplicate_receipt, outside_period, meterai_required) is to be
// drawn than an unflagged one at each pick of an audit sample.
const AuditFlagWeight = 4

// Audit finding results.
const (
	FindingOK    = "ok"
	FindingIssue = "issue"
)

// AuditSampleSize returns how many of n expenses an audit sample draws:
// size when the programme sets one (AuditSampleSize > 0), else ceil(√n);
// at least MinAuditSample, and never more than n.
func AuditSampleSize(n, size int) int {
	k := size
	if k <= 0 {
		k = int(math.Ceil(math.Sqrt(float64(n))))
	}
	return min(max(k, MinAuditSample), n)
}

// SampleCandidate is an expense that may be drawn into an audit sample.
type SampleCandidate struct {
	ExpenseID int64
	Flagged   bool
}

// DrawAuditSample draws k of the candidates without replacement, weighted
// (AuditFlagWeight for a flagged expense, 1 otherwise), reproducibly from
// seed: the same candidates (in any order), k and seed give the same sample,
// so anyone may redraw it from the seed in the event. It is the
// Efraimidis–Spirakis method: each candidate gets the key ln(u)/w with u
// uniform in (0, 1] from a PCG stream seeded by seed and walked in expense id
// order, and the k largest keys are drawn; at each pick a candidate's chance
// is its weight over the weights left. It returns the drawn expense ids in
// ascending order; all of them when k ≥ len(candidates).
func DrawAuditSample(candidates []SampleCandidate, k int, seed uint64) []int64 {
	cs := slices.Clone(candidates)
	slices.SortFunc(cs, func(a, b SampleCandidate) int { return cmp.Compare(a.ExpenseID, b.ExpenseID) })
	type keyed struct {
		id  int64
		key float64
	}
	r := rand.New(rand.NewPCG(seed, 0x6772616e74666c6f)) // "grantflo"
	ks := make([]keyed, len(cs))
	for i, c := range cs {
		w := 1.0
		if c.Flagged {
			w = AuditFlagWeight
		}
		ks[i] = keyed{c.ExpenseID, math.Log(1-r.Float64()) / w}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return cmp.Compare(b.key, a.key) })
	k = min(max(k, 0), len(ks))
	out := make([]int64, k)
	for i := range out {
		out[i] = ks[i].id
	}
	slices.Sort(out)
	return out
}

// SampledExpense is one expense of a grant's audit sample and the auditor's
// finding on it ("" while none is recorded).
type SampledExpense struct {
	ExpenseID int64  `json:"expense_id"`
	Flagged   bool   `json:"flagged"`
	Result    string `json:"result"`
	Note      string `json:"note"`
}

// sampleProblems returns why the auditor may not accept the LPJ yet: a
// drawn audit sample with expenses that have no finding. Apply
// (accept_report) and NextSteps both read it.
func sampleProblems(g Grant) Problems {
	var ps Problems
	var open []string
	for _, s := range g.AuditSample {
		if s.Result == "" {
			open = append(open, strconv.FormatInt(s.ExpenseID, 10))
		}
	}
	if len(open) > 0 {
		ps.Add("audit_sample", "%d belanja dalam sampel audit belum memiliki temuan (belanja %s)", len(open), strings.Join(open, ", "))
	}
	return ps
}
