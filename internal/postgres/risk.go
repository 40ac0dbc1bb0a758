package postgres

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/lib/pq"

	"grantflow/workflow"
)

// RiskFilter chooses the grants of the risk ranking: those in the scope
// (province, regency) of one programme or of all (ProgramID 0), as of the
// Jakarta day Today (report_overdue).
type RiskFilter struct {
	Scope
	ProgramID int64
	Today     workflow.Date
	// PhotoReuseBits is the Hamming distance photo_matches was filled with
	// (evidence.PhotoReuseDistance); identical files always count.
	PhotoReuseBits int
}

// riskStates are the grants the ranking weighs: money was paid.
var riskStates = []string{string(workflow.Funded), string(workflow.ReportSubmitted), string(workflow.Closed)}

// riskQueryTemplate computes every risk signal of every grant in one
// statement, set-based: each CTE reads its table once for all grants, never
// a loop per grant; %XL% is the CTE xl, the standing expenses' aggregates
// per grant and budget line (riskLineAgg), stored (RiskQuery) or computed
// in one pass over every expense (RiskScratchQuery). The few
// grants whose spending days or lines qualify are then looked up by the
// expenses_risk index (outside_period, line_spike).
// Peers (peer_outlier) are the programme's grants of the kind, in scope or
// not: a scoped auditor must see the same outliers as the national one.
// When evidence came is read from its add_evidence event (the hash-chained
// record of the upload, stamped by the service's clock), not from the file
// row's created_at.
//
// $1 province code, $2 regency code, $3 programme (0: all), $4 today, $5 session
// categories, $6 round unit, $7 round minimum, $8 round minimum count,
// $9 round minimum percent, $10 line spike percent, $11 late evidence days,
// $12 attendance drop percent, $13 peer percentile, $14 minimum peers,
// $15 large refund percent, $16 states, $17 photo reuse bits.
const riskQueryTemplate = `WITH
pg AS MATERIALIZED (
	SELECT g.id, g.number, g.program_id, g.state, g.amount_approved, gr.kind, gr.name AS group_name,
	       p.activity_ends_on, p.report_due_on,
	       ($1 = '' OR gr.province_code = $1) AND ($2 = '' OR gr.regency_code = $2) AS in_scope,
	       (SELECT min(d.transferred_on) FROM disbursements d WHERE d.grant_id = g.id) AS first_transfer,
	       (SELECT COALESCE(sum(d.amount), 0) FROM disbursements d WHERE d.grant_id = g.id) AS disbursed,
	       (SELECT COALESCE(sum(r.amount), 0) FROM refunds r WHERE r.grant_id = g.id) AS refunded,
	       (SELECT max(x.spent_on) FROM expenses x WHERE x.grant_id = g.id AND x.voided_at IS NULL) AS last_day
	FROM grants g JOIN groups gr ON gr.id = g.group_id JOIN programs p ON p.id = g.program_id
	WHERE g.state = ANY($16) AND ($3 = 0 OR g.program_id = $3)),
%XL%xg AS (
	SELECT grant_id, sum(spent) AS spent, sum(n) AS n, sum(round_n) AS round_n FROM xl GROUP BY grant_id),
dx AS (
	SELECT x.grant_id, x.id, v.sha256
	FROM evidence_shared d JOIN evidence v ON v.sha256 = d.sha256 AND v.kind = 'receipt'
	JOIN expenses x ON x.receipt_id = v.id AND x.voided_at IS NULL),
psha AS (
	SELECT m.sha256, m.other_sha256 FROM photo_matches m WHERE m.distance <= $17
	UNION ALL
	SELECT d.sha256, d.sha256 FROM evidence_shared d JOIN photo_facts f ON f.sha256 = d.sha256),
im AS MATERIALIZED (
	SELECT v.id, v.grant_id, g.group_id, v.sha256,
	       COALESCE(v.activity_id, (SELECT x.activity_id FROM expenses x WHERE x.receipt_id = v.id AND x.voided_at IS NULL
	                                ORDER BY x.id LIMIT 1)) AS activity_id
	FROM evidence v JOIN grants g ON g.id = v.grant_id
	WHERE v.sha256 IN (SELECT sha256 FROM psha)),
fev AS (
	SELECT e.grant_id, CAST(e.data->>'activity_id' AS bigint) AS activity_id, min(e.at) AS first_at
	FROM grant_events e
	WHERE e.action = 'add_evidence' AND e.grant_id IN (SELECT id FROM pg WHERE in_scope)
	GROUP BY 1, 2),
lr AS (
	SELECT DISTINCT ON (r.activity_id) r.activity_id, r.id, r.held_on
	FROM activity_realizations r
	WHERE r.grant_id IN (SELECT id FROM pg WHERE in_scope)
	ORDER BY r.activity_id, r.version DESC),
ses AS MATERIALIZED (
	SELECT a.grant_id, a.id, a.seq, lr.held_on, fev.first_at AS first_evidence, COALESCE(t.present, 0) AS present
	FROM lr JOIN activities a ON a.id = lr.activity_id
	LEFT JOIN fev ON fev.grant_id = a.grant_id AND fev.activity_id = a.id
	LEFT JOIN (SELECT realization_id, count(*) AS present FROM activity_attendees
	           WHERE realization_id IN (SELECT id FROM lr) GROUP BY realization_id) t ON t.realization_id = lr.id),
peers AS (
	SELECT c.program_id, c.kind, count(*) AS n,
	       percentile_cont($13) WITHIN GROUP (ORDER BY COALESCE(xg.spent, 0)) AS p_spent,
	       percentile_cont($13) WITHIN GROUP (ORDER BY c.amount_approved) AS p_approved
	FROM pg c LEFT JOIN xg ON xg.grant_id = c.id GROUP BY c.program_id, c.kind),
sig AS (
	SELECT grant_id, 'duplicate_receipt' AS code,
	       jsonb_build_object('expense_ids', array_agg(id ORDER BY id), 'count', count(*)) AS facts
	FROM dx WHERE sha256 IN (SELECT sha256 FROM dx GROUP BY sha256 HAVING count(*) > 1) GROUP BY grant_id
	UNION ALL
	SELECT a.grant_id, 'photo_reused',
	       jsonb_build_object('evidence_ids', array_agg(DISTINCT a.id), 'count', count(DISTINCT a.id),
	                          'other_evidence_ids', array_agg(DISTINCT b.id))
	FROM im a JOIN psha p ON p.sha256 = a.sha256 JOIN im b ON b.sha256 = p.other_sha256 AND b.id <> a.id
	WHERE b.group_id <> a.group_id OR b.activity_id IS DISTINCT FROM a.activity_id
	GROUP BY a.grant_id
	UNION ALL
	SELECT id, 'report_overdue', jsonb_build_object('report_due_on', report_due_on, 'days_overdue', CAST($4 AS date) - report_due_on)
	FROM pg WHERE state = 'funded' AND CAST($4 AS date) > report_due_on
	UNION ALL
	SELECT grant_id, 'missing_evidence', jsonb_build_object('activity_ids', array_agg(id ORDER BY seq), 'count', count(*))
	FROM ses WHERE first_evidence IS NULL GROUP BY grant_id
	UNION ALL
	SELECT grant_id, 'late_evidence', jsonb_build_object('activity_ids', array_agg(id ORDER BY seq), 'count', count(*),
	       'max_days', max(CAST(first_evidence AT TIME ZONE 'Asia/Jakarta' AS date) - held_on), 'after_days', CAST($11 AS int))
	FROM ses WHERE CAST(first_evidence AT TIME ZONE 'Asia/Jakarta' AS date) - held_on > $11 GROUP BY grant_id
	UNION ALL
	SELECT c.id, 'outside_period', jsonb_build_object('expense_ids', o.ids, 'count', o.n)
	FROM pg c
	JOIN (SELECT grant_id, min(first_on) AS first_on, max(last_on) AS last_on FROM xl GROUP BY grant_id) s
	     ON s.grant_id = c.id AND (s.first_on < c.first_transfer OR s.last_on > c.activity_ends_on)
	CROSS JOIN LATERAL (SELECT array_agg(x.id ORDER BY x.id) AS ids, count(*) AS n FROM expenses x
		WHERE x.grant_id = c.id AND x.voided_at IS NULL
		  AND (x.spent_on < c.first_transfer OR x.spent_on > c.activity_ends_on)) o
	UNION ALL
	SELECT xl.grant_id, 'no_session', jsonb_build_object('expense_ids', array_agg(y.id ORDER BY y.id), 'count', count(*))
	FROM xl JOIN budget_lines b ON b.id = xl.budget_line_id AND b.category = ANY($5)
	-- ARRAY(…), a subplan per line: a lateral join was flattened into a
	-- merge join over every unassigned expense (1.5 million in the bench)
	CROSS JOIN LATERAL unnest(ARRAY(SELECT y.id FROM expenses y WHERE y.grant_id = xl.grant_id
		AND y.budget_line_id = xl.budget_line_id AND y.activity_id IS NULL AND y.voided_at IS NULL)) y (id)
	WHERE xl.unassigned > 0
	GROUP BY xl.grant_id
	UNION ALL
	SELECT xl.grant_id, 'line_spike', jsonb_build_object('budget_line_ids', array_agg(xl.budget_line_id ORDER BY b.seq),
	       'count', count(*), 'last_day', min(c.last_day), 'percent', CAST($10 AS int))
	FROM xl JOIN budget_lines b ON b.id = xl.budget_line_id JOIN pg c ON c.id = xl.grant_id
	CROSS JOIN LATERAL (SELECT COALESCE(sum(y.amount), 0) AS on_last FROM expenses y
		WHERE y.grant_id = xl.grant_id AND y.spent_on = c.last_day AND y.budget_line_id = xl.budget_line_id
		  AND y.voided_at IS NULL) l
	WHERE xl.spent * 100 > b.amount * $10 AND xl.last_on = c.last_day AND (xl.spent - l.on_last) * 100 <= b.amount * $10
	GROUP BY xl.grant_id
	UNION ALL
	SELECT grant_id, 'round_amount', jsonb_build_object('count', round_n, 'of', n, 'unit', CAST($6 AS bigint), 'min', CAST($7 AS bigint))
	FROM xg WHERE round_n >= $8 AND round_n * 100 >= n * $9
	UNION ALL
	SELECT s.grant_id, 'attendance_drop', jsonb_build_object('first_present', min(f.present),
	       'activity_ids', array_agg(s.id ORDER BY s.seq), 'count', count(*), 'min_present', min(s.present))
	FROM ses s JOIN (SELECT DISTINCT ON (grant_id) grant_id, present FROM ses ORDER BY grant_id, held_on, seq) f
	     ON f.grant_id = s.grant_id
	WHERE s.present * 100 < f.present * $12
	GROUP BY s.grant_id
	UNION ALL
	SELECT c.id, 'peer_outlier', jsonb_build_object('spent', COALESCE(xg.spent, 0), 'approved', c.amount_approved,
	       'peers', p.n, 'p95_spent', round(p.p_spent), 'p95_approved', round(p.p_approved))
	FROM pg c JOIN peers p ON p.program_id = c.program_id AND p.kind = c.kind LEFT JOIN xg ON xg.grant_id = c.id
	WHERE p.n >= $14 AND (COALESCE(xg.spent, 0) > p.p_spent OR c.amount_approved > p.p_approved)
	UNION ALL
	SELECT id, 'large_refund', jsonb_build_object('refunded', refunded, 'disbursed', disbursed,
	       'percent', round(refunded * 100.0 / disbursed, 1))
	FROM pg WHERE disbursed > 0 AND refunded * 100 > disbursed * $15)
SELECT c.id, c.number, c.group_name, c.program_id,
       COALESCE(jsonb_agg(jsonb_build_object('code', s.code, 'facts', s.facts)) FILTER (WHERE s.code IS NOT NULL), '[]')
FROM pg c LEFT JOIN sig s ON s.grant_id = c.id
WHERE c.in_scope
GROUP BY c.id, c.number, c.group_name, c.program_id`

// riskLineAgg is what the ranking needs of a grant's standing expenses per
// budget line (the columns of risk_line_facts), over expenses x grouped by
// the line; unit and least are the placeholders of the round-receipt
// definition (workflow.RoundAmountUnit, RoundAmountMin). One text for the
// stored facts, the grants read live and the from-scratch reference.
func riskLineAgg(unit, least string) string {
	return `sum(x.amount) AS spent, count(*) AS n,
	       count(*) FILTER (WHERE x.amount % ` + unit + ` = 0 AND x.amount >= ` + least + `) AS round_n,
	       min(x.spent_on) AS first_on, max(x.spent_on) AS last_on,
	       count(*) FILTER (WHERE x.activity_id IS NULL) AS unassigned`
}

// RiskQuery computes every risk signal of every grant in one statement
// (riskQueryTemplate), reading each grant's expense aggregates from
// risk_line_facts where they are fresh: stored with today's round-receipt
// definition and not marked in risk_dirty as of the statement's snapshot.
// The others (marked since the last refresh, or never stored) are
// aggregated from their expenses here, one index descent per grant
// (expenses_risk), so the result is the from-scratch one (RiskScratchQuery)
// whatever the refresh did or did not get to: the facts only save work.
// Every test of freshness is a NOT IN over a small set (a hashed subplan):
// no join whose plan depends on the facts' statistics.
// Lines of grants outside the ranking do no harm: every signal is joined
// with pg in the end.
var RiskQuery = strings.Replace(riskQueryTemplate, "%XL%", `xl AS MATERIALIZED (
	SELECT f.grant_id, f.budget_line_id, CAST(f.spent AS numeric) AS spent, f.n, f.round_n, f.first_on, f.last_on, f.unassigned
	FROM risk_line_facts f
	WHERE f.round_unit = $6 AND f.round_min = $7 AND f.grant_id NOT IN (SELECT grant_id FROM risk_dirty)
	UNION ALL
	SELECT c.id, l.* FROM pg c
	CROSS JOIN LATERAL (SELECT x.budget_line_id, `+riskLineAgg("$6", "$7")+`
		FROM expenses x WHERE x.grant_id = c.id AND x.voided_at IS NULL GROUP BY x.budget_line_id) l
	WHERE c.id NOT IN (SELECT k.grant_id FROM risk_facts k
		WHERE k.round_unit = $6 AND k.round_min = $7 AND k.grant_id NOT IN (SELECT grant_id FROM risk_dirty))),
`, 1)

// RiskScratchQuery is RiskQuery computed from the expenses alone, in one
// pass over every expense of the grants ranked (seconds at three million):
// the reference the stored facts are tested against, and the bare SQL the
// benchmark shows beside the ranking.
var RiskScratchQuery = strings.Replace(riskQueryTemplate, "%XL%", `xl AS MATERIALIZED (
	SELECT x.grant_id, x.budget_line_id, `+riskLineAgg("$6", "$7")+`
	FROM expenses x
	WHERE x.voided_at IS NULL
	  -- the grants of pg, named from the table: a CTE scan would keep this,
	  -- the one pass over every expense, from running in parallel
	  AND x.grant_id IN (SELECT g.id FROM grants g WHERE g.state = ANY($16) AND ($3 = 0 OR g.program_id = $3))
	GROUP BY x.grant_id, x.budget_line_id),
`, 1)

// riskFactsLock is the advisory lock key of the risk facts' refresh: one
// refresh at a time across every instance.
const riskFactsLock = 7428013

// RefreshRiskFacts stores the expense aggregates (risk_line_facts) of the
// grants whose expenses changed since the last refresh (marked in
// risk_dirty by the triggers of migration 0175), and of the grants of the
// ranking that have none or have them for another round-receipt
// definition, in one read-write transaction of its own, and returns how
// many grants it computed. When another refresh holds the lock it returns
// at once (0, false): RiskQuery reads what is still marked from the
// expenses, so a ranking is right without waiting, only slower.
//
// The marks are taken (DELETE … RETURNING) in a statement whose snapshot
// precedes the one the facts are computed from (READ COMMITTED): every
// write whose mark was taken is in the facts; a mark committed after the
// first statement stays for the next refresh, and until then RiskQuery
// reads that grant live (at worst once too often, never stale).
func (db *DB) RefreshRiskFacts(ctx context.Context) (int, bool, error) {
	var ids pq.Int64Array
	acquired := false
	err := db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.x.ExecContext(ctx, `SET LOCAL work_mem = '64MB'; SET LOCAL jit = off`); err != nil {
			return err
		}
		if err := tx.x.GetContext(ctx, &acquired, `SELECT pg_try_advisory_xact_lock($1)`, riskFactsLock); err != nil || !acquired {
			return err
		}
		// A marked grant is computed again whatever its state, so that no
		// stale row outlives its mark.
		const take = `WITH taken AS (DELETE FROM risk_dirty RETURNING grant_id),
		stale AS MATERIALIZED (
			SELECT g.id FROM grants g LEFT JOIN risk_facts k ON k.grant_id = g.id
			WHERE g.id IN (SELECT grant_id FROM taken)
			   OR (g.state = ANY($3) AND (k.grant_id IS NULL OR k.round_unit <> $1 OR k.round_min <> $2))),
		gone AS (DELETE FROM risk_line_facts f WHERE f.grant_id IN (SELECT id FROM stale))
		SELECT COALESCE(array_agg(id ORDER BY id), '{}') FROM stale`
		if err := tx.x.GetContext(ctx, &ids, take, workflow.RoundAmountUnit, workflow.RoundAmountMin, pq.Array(riskStates)); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		fill := `WITH lines AS (
			INSERT INTO risk_line_facts (grant_id, budget_line_id, spent, n, round_n, first_on, last_on, unassigned, round_unit, round_min)
			SELECT x.grant_id, x.budget_line_id, ` + riskLineAgg("$1", "$2") + `, $1, $2
			FROM expenses x WHERE x.voided_at IS NULL AND x.grant_id = ANY($3)
			GROUP BY x.grant_id, x.budget_line_id)
		INSERT INTO risk_facts AS k (grant_id, round_unit, round_min) SELECT unnest(CAST($3 AS bigint[])), $1, $2
		ON CONFLICT (grant_id) DO UPDATE SET round_unit = EXCLUDED.round_unit, round_min = EXCLUDED.round_min`
		_, err := tx.x.ExecContext(ctx, fill, workflow.RoundAmountUnit, workflow.RoundAmountMin, ids)
		return err
	})
	return len(ids), acquired, mapErr(err)
}

// RiskSignals returns every grant of f (funded, report submitted or closed)
// with the risk signals its rows raise (RiskQuery), unweighted and in no
// order: the weights are the programme's and the order theirs
// (workflow.ScoreRisk, workflow.RankRisk).
func (tx *Tx) RiskSignals(ctx context.Context, f RiskFilter) ([]workflow.RiskItem, error) {
	return tx.riskSignals(ctx, RiskQuery, f)
}

// RiskSignalsFromScratch is RiskSignals computed from the expenses alone
// (RiskScratchQuery), without the stored facts: the reference they are
// checked against.
func (tx *Tx) RiskSignalsFromScratch(ctx context.Context, f RiskFilter) ([]workflow.RiskItem, error) {
	return tx.riskSignals(ctx, RiskScratchQuery, f)
}

func (tx *Tx) riskSignals(ctx context.Context, query string, f RiskFilter) ([]workflow.RiskItem, error) {
	// The expenses are grouped per budget line of every grant at once
	// (tens of thousands of groups): with the default 4 MB the aggregate
	// sorts on disk instead of hashing in memory.
	// JIT compiling this many expressions costs seconds and saves nothing
	// on a statement that runs once. The planner guesses five times the
	// budget lines there are and so prices the parallel partial aggregate
	// of the expenses too high: cheaper parallel costs let the one pass
	// over every expense use the other cores (half the time on two).
	if _, err := tx.x.ExecContext(ctx, RiskSettings); err != nil {
		return nil, mapErr(err)
	}
	rows, err := tx.x.QueryxContext(ctx, query, RiskArgs(f)...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []workflow.RiskItem{}
	for rows.Next() {
		var it workflow.RiskItem
		var sigs []byte
		if err := rows.Scan(&it.GrantID, &it.Number, &it.GroupName, &it.ProgramID, &sigs); err != nil {
			return nil, mapErr(err)
		}
		if err := json.Unmarshal(sigs, &it.Signals); err != nil {
			return nil, workflow.Wrap(workflow.EInternal, err, "sinyal risiko tidak terbaca")
		}
		out = append(out, it)
	}
	return out, mapErr(rows.Err())
}

// RiskSettings are the transaction-local settings RiskQuery runs with.
const RiskSettings = `SET LOCAL work_mem = '64MB'; SET LOCAL jit = off;
	SET LOCAL parallel_setup_cost = 100; SET LOCAL parallel_tuple_cost = 0.001`

// RiskArgs returns RiskQuery's parameters for f: the filter and the
// thresholds of workflow/risk.go. The benchmark runs the bare statement
// with them beside the service.
func RiskArgs(f RiskFilter) []any {
	return []any{f.ProvinceCode, f.RegencyCode, f.ProgramID, f.Today,
		pq.Array(workflow.SessionCategories), workflow.RoundAmountUnit, workflow.RoundAmountMin,
		workflow.RoundAmountMinCount, workflow.RoundAmountMinPercent, workflow.LineSpikePercent,
		workflow.LateEvidenceDays, workflow.AttendanceDropPercent, workflow.PeerOutlierPercentile,
		workflow.PeerOutlierMinPeers, workflow.LargeRefundPercent, pq.Array(riskStates), f.PhotoReuseBits}
}
