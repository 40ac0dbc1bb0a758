package postgres

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sync"

	"grantflow/workflow"
)

// programSettings is the jsonb column of the juknis settings read whole.
type programSettings struct {
	Ceilings        map[workflow.Kind]int64                 `json:"ceilings"`
	ActivityRules   map[workflow.Kind]workflow.ActivityRule `json:"activity_rules"`
	TranchePercents []int                                   `json:"tranche_percents"`
	Categories      []workflow.Category                     `json:"categories"`
	TaxRates        workflow.TaxRates                       `json:"tax_rates"`
	// Absent in rows stored before issue #13: false, the default.
	RequireChairConfirmation bool `json:"require_chair_confirmation,omitempty"`
	AuditSampleSize          int  `json:"audit_sample_size,omitempty"`
	// Absent unless the programme overrides DefaultRiskWeights.
	RiskWeights map[string]int `json:"risk_weights,omitempty"`
}

const programColumns = `id, name, year, proposal_opens_on, proposal_closes_on, activity_ends_on, report_due_on,
	budget_total, at_risk_after_days, dormant_after_days, settings, created_at`

func scanProgram(sc interface{ Scan(...any) error }) (workflow.Program, error) {
	var p workflow.Program
	var settings []byte
	err := sc.Scan(&p.ID, &p.Name, &p.Year, &p.ProposalOpensOn, &p.ProposalClosesOn, &p.ActivityEndsOn, &p.ReportDueOn,
		&p.BudgetTotal, &p.AtRiskAfterDays, &p.DormantAfterDays, &settings, &p.CreatedAt)
	if err != nil {
		return p, err
	}
	s, err := parseSettings(settings)
	if err != nil {
		return p, err
	}
	p.Ceilings, p.ActivityRules, p.TranchePercents, p.Categories, p.TaxRates = s.Ceilings, s.ActivityRules, s.TranchePercents, s.Categories, s.TaxRates
	p.RequireChairConfirmation, p.AuditSampleSize, p.RiskWeights = s.RequireChairConfirmation, s.AuditSampleSize, s.RiskWeights
	return p, nil
}

// settingsCache keeps programSettings parsed, keyed by the settings'
// text itself: every grant read scans its programme, and decoding the same
// few hundred bytes of JSON on every read was a third of the read's Go
// time. Keyed by content, an entry can never be stale, whether or not a
// programme's settings ever change; the map is emptied when it holds
// settingsCacheMax texts, far more programmes than a deployment has.
var settingsCache struct {
	sync.RWMutex
	m map[string]programSettings
}

const settingsCacheMax = 256

// parseSettings decodes the settings column through settingsCache. What
// it returns is the caller's own: the maps and slices are copies, so no
// Program shares mutable state with another or with the cache.
func parseSettings(b []byte) (programSettings, error) {
	settingsCache.RLock()
	s, ok := settingsCache.m[string(b)] // no allocation: the compiler looks up the bytes
	settingsCache.RUnlock()
	if !ok {
		if err := json.Unmarshal(b, &s); err != nil {
			return s, workflow.Wrap(workflow.EInternal, err, "pengaturan program rusak")
		}
		settingsCache.Lock()
		if settingsCache.m == nil || len(settingsCache.m) >= settingsCacheMax {
			settingsCache.m = make(map[string]programSettings)
		}
		settingsCache.m[string(b)] = s
		settingsCache.Unlock()
	}
	s.Ceilings, s.ActivityRules = maps.Clone(s.Ceilings), maps.Clone(s.ActivityRules)
	s.TranchePercents, s.Categories = slices.Clone(s.TranchePercents), slices.Clone(s.Categories)
	return s, nil
}

// CreateProgram inserts p (already validated) and returns it with its id.
func (q q) CreateProgram(ctx context.Context, p workflow.Program) (workflow.Program, error) {
	settings, err := json.Marshal(programSettings{p.Ceilings, p.ActivityRules, p.TranchePercents, p.Categories, p.TaxRates, p.RequireChairConfirmation, p.AuditSampleSize, p.RiskWeights})
	if err != nil {
		return p, workflow.Wrap(workflow.EInternal, err, "pengaturan program tidak dapat disimpan")
	}
	const query = `INSERT INTO programs (name, year, proposal_opens_on, proposal_closes_on, activity_ends_on, report_due_on,
		budget_total, at_risk_after_days, dormant_after_days, settings)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ` + programColumns
	row := q.x.QueryRowxContext(ctx, query, p.Name, p.Year, p.ProposalOpensOn, p.ProposalClosesOn, p.ActivityEndsOn, p.ReportDueOn,
		p.BudgetTotal, p.AtRiskAfterDays, p.DormantAfterDays, string(settings))
	out, err := scanProgram(row)
	return out, mapErr(err)
}

// Program returns one programme, or ENotFound.
func (q q) Program(ctx context.Context, id int64) (workflow.Program, error) {
	const query = `SELECT ` + programColumns + ` FROM programs WHERE id = $1`
	p, err := scanProgram(q.x.QueryRowxContext(ctx, query, id))
	if err != nil {
		return p, notFound(err, "program", id)
	}
	return p, nil
}

// ProgramForUpdate returns a programme and locks its row until the
// transaction ends, so that approvals checking the pool take turns.
func (tx *Tx) ProgramForUpdate(ctx context.Context, id int64) (workflow.Program, error) {
	const query = `SELECT ` + programColumns + ` FROM programs WHERE id = $1 FOR UPDATE`
	p, err := scanProgram(tx.x.QueryRowxContext(ctx, query, id))
	if err != nil {
		return p, notFound(err, "program", id)
	}
	return p, nil
}

// Programs returns every programme, newest first.
func (q q) Programs(ctx context.Context) ([]workflow.Program, error) {
	const query = `SELECT ` + programColumns + ` FROM programs ORDER BY year DESC, id DESC`
	rows, err := q.x.QueryxContext(ctx, query)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []workflow.Program{}
	for rows.Next() {
		p, err := scanProgram(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, p)
	}
	return out, mapErr(rows.Err())
}

// PoolCommitted returns what the programme's other grants (all but except)
// take from its pool: the approved amount of every grant that holds or held
// it, and for a cancelled grant what it kept (disbursed − refunded).
func (q q) PoolCommitted(ctx context.Context, programID, except int64) (int64, error) {
	const query = `SELECT COALESCE(sum(CASE
			WHEN g.state IN ('approved', 'funded', 'report_submitted', 'closed') THEN g.amount_approved
			WHEN g.state = 'cancelled' THEN
				COALESCE((SELECT sum(amount) FROM disbursements d WHERE d.grant_id = g.id), 0)
				- COALESCE((SELECT sum(amount) FROM refunds r WHERE r.grant_id = g.id), 0)
			ELSE 0 END), 0)
		FROM grants g WHERE g.program_id = $1 AND g.id <> $2`
	var n int64
	err := q.x.GetContext(ctx, &n, query, programID, except)
	return n, mapErr(err)
}
