package workflow

import (
	"cmp"
	"slices"
)

// Risk signal codes of the auditor's ranking (issue #13). Each is a fact
// about a grant's rows that makes a receipt or a session worth a look; none
// is a finding by itself.
const (
	RiskDuplicateReceipt = "duplicate_receipt" // a receipt file backs another expense anywhere
	RiskPhotoReused      = "photo_reused"      // an image near-identical to one of another session or group
	RiskReportOverdue    = "report_overdue"    // funded after the programme's report_due_on
	RiskLateEvidence     = "late_evidence"     // a session's first evidence came LateEvidenceDays after it
	RiskMissingEvidence  = "missing_evidence"  // a session held without any evidence
	RiskOutsidePeriod    = "outside_period"    // spent before the first transfer or after the activity end
	RiskNoSession        = "no_session"        // a session cost naming no session (SessionFlags)
	RiskLineSpike        = "line_spike"        // the last day of spending took a line above LineSpikePercent
	RiskRoundAmount      = "round_amount"      // many receipts of round sums (RoundAmount)
	RiskAttendanceDrop   = "attendance_drop"   // a session with under half the first session's attendees
	RiskPeerOutlier      = "peer_outlier"      // approved or spent above the peers' 95th percentile
	RiskLargeRefund      = "large_refund"      // refunded more than LargeRefundPercent of the disbursed money
)

// Thresholds of the risk signals. They are rules of thumb an auditor can
// read in the facts of each signal; the weights, not these, are the
// programme's to tune.
const (
	// LateEvidenceDays: a held session whose earliest evidence file was
	// uploaded more than this many days (Jakarta calendar) after its
	// held_on has late evidence — attendance sheets and photos are made on
	// the day; weeks later they may have been made up for the LPJ.
	LateEvidenceDays = 14
	// LineSpikePercent: a budget line realised above this share of its
	// amount only by the grant's last day of spending.
	LineSpikePercent = 95
	// RoundAmountUnit and RoundAmountMin define a round receipt: a gross
	// amount that is a multiple of 100 000 and at least 1 000 000 rupiah
	// (real purchases rarely come to such sums; invented ones often do).
	RoundAmountUnit = 100_000
	RoundAmountMin  = 1_000_000
	// RoundAmountMinCount and RoundAmountMinPercent: round_amount is raised
	// when at least this many of the unvoided expenses are round and they
	// are at least this share of them; one round invoice is ordinary.
	RoundAmountMinCount   = 3
	RoundAmountMinPercent = 25
	// AttendanceDropPercent: a session whose attendance is below this
	// share of the first held session's.
	AttendanceDropPercent = 50
	// PeerOutlierPercentile and PeerOutlierMinPeers: a grant whose approved
	// or spent amount exceeds this percentile (continuous) of the grants of
	// its programme and group kind, counted only when there are at least
	// this many of them — among fewer, the top 5 % is no one or everyone.
	PeerOutlierPercentile = 0.95
	PeerOutlierMinPeers   = 20
	// LargeRefundPercent: refunds above this share of the disbursed money.
	LargeRefundPercent = 30
	// MaxRiskWeight bounds a weight in the programme's risk_weights.
	MaxRiskWeight = 100
)

// RiskCodes lists every risk signal code in the order the ranking explains
// them (the order of DefaultRiskWeights' table in the README).
var RiskCodes = []string{RiskDuplicateReceipt, RiskPhotoReused, RiskReportOverdue, RiskLateEvidence, RiskMissingEvidence,
	RiskOutsidePeriod, RiskNoSession, RiskLineSpike, RiskRoundAmount, RiskAttendanceDrop, RiskPeerOutlier, RiskLargeRefund}

// IsRiskCode reports whether code is a risk signal code.
func IsRiskCode(code string) bool { return slices.Contains(RiskCodes, code) }

// DefaultRiskWeights returns the weight of each signal when the programme
// sets none: the ones that point at a receipt or photo used twice weigh
// most, since they are the closest to a finding; the statistical ones
// (round sums, peers, spikes) least.
func DefaultRiskWeights() map[string]int {
	return map[string]int{
		RiskDuplicateReceipt: 30, RiskPhotoReused: 25, RiskOutsidePeriod: 20,
		RiskReportOverdue: 15, RiskMissingEvidence: 15, RiskLargeRefund: 15,
		RiskLateEvidence: 10, RiskNoSession: 10, RiskAttendanceDrop: 10,
		RiskLineSpike: 5, RiskRoundAmount: 5, RiskPeerOutlier: 5,
	}
}

// RiskWeightsOrDefault returns the weights p ranks with: DefaultRiskWeights with
// each code p.RiskWeights sets replaced (0 switches a signal off). Codes
// p.RiskWeights may hold that are not signals are ignored here; the
// programme's validation refuses them.
func (p Program) RiskWeightsOrDefault() map[string]int {
	w := DefaultRiskWeights()
	for code, v := range p.RiskWeights {
		if IsRiskCode(code) {
			w[code] = v
		}
	}
	return w
}

// RiskSignal is one signal raised on a grant: its code, the weight it adds
// to the score and the numbers behind it (expense or session ids, counts,
// amounts), so an auditor sees why.
type RiskSignal struct {
	Code   string         `json:"code"`
	Weight int            `json:"weight"`
	Facts  map[string]any `json:"facts"`
}

// RiskItem is a grant in the ranking.
type RiskItem struct {
	GrantID   int64        `json:"grant_id"`
	Number    string       `json:"number"`
	GroupName string       `json:"group_name"`
	ProgramID int64        `json:"-"` // whose weights apply
	Score     int          `json:"score"`
	Signals   []RiskSignal `json:"signals"`
}

// ScoreRisk weighs item's signals (weights by code), drops those weighing
// 0 (switched off by the programme), orders the rest as RiskCodes does and
// sets the score to the sum of their weights.
func ScoreRisk(item *RiskItem, weights map[string]int) {
	kept := item.Signals[:0]
	item.Score = 0
	for _, s := range item.Signals {
		s.Weight = weights[s.Code]
		if s.Weight <= 0 {
			continue
		}
		item.Score += s.Weight
		kept = append(kept, s)
	}
	slices.SortStableFunc(kept, func(a, b RiskSignal) int {
		return cmp.Compare(slices.Index(RiskCodes, a.Code), slices.Index(RiskCodes, b.Code))
	})
	if kept == nil {
		kept = []RiskSignal{}
	}
	item.Signals = kept
}

// RankRisk orders items as the ranking shows them: score descending, then
// grant number ascending, so equal scores keep a stable, readable order.
func RankRisk(items []RiskItem) {
	slices.SortFunc(items, func(a, b RiskItem) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Number, b.Number)
	})
}
