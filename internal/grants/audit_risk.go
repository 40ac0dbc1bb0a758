package grants

import (
	"context"

	"grantflow/internal/evidence"
	"grantflow/internal/postgres"
	"grantflow/internal/validate"
	"grantflow/workflow"
)

// RiskInput narrows and pages the risk ranking. Limit 0 means every grant
// (the exports); the API sets its own default page.
type RiskInput struct {
	ProgramID int64 `json:"program_id" validate:"min=0" label:"Program"`
	Limit     int   `json:"limit" validate:"min=0,max=10000" label:"Batas baris"`
	Offset    int   `json:"offset" validate:"min=0" label:"Posisi awal"`
}

// RiskRanking is one page of the ranking and how many grants it ranks.
type RiskRanking struct {
	Items []workflow.RiskItem `json:"items"`
	Total int                 `json:"total"`
}

// RefreshRiskFacts brings the stored expense facts of the risk ranking up
// to date (every grant without facts, every grant marked since) and returns
// how many grants it computed. serve runs it once at start, off the request
// path, so that the first ranking after migration 0175 does not fill the
// facts of every grant inside its request deadline.
func (s *Service) RefreshRiskFacts(ctx context.Context) (int, error) {
	n, _, err := s.db.RefreshRiskFacts(ctx)
	return n, err
}

// RiskRanking ranks the funded, report-submitted and closed grants in the
// caller's scope (auditors and verifiers; others get EForbidden) by the
// weighted risk signals of their rows: each signal weighed by its
// programme's risk_weights, score descending, then number. The signals are
// computed for all grants at once in one read-only snapshot
// (postgres.RiskSignals); weighing and ordering are workflow's. Before it,
// the stored expense facts of the grants whose expenses changed are brought
// up to date in a short read-write transaction of their own
// (postgres.RefreshRiskFacts); the read is right without it (what is still
// marked is read from the expenses), only slower.
func (s *Service) RiskRanking(ctx context.Context, a workflow.Actor, in RiskInput) (RiskRanking, error) {
	if err := require(a, workflow.RoleAuditor, workflow.RoleVerifier); err != nil {
		return RiskRanking{}, workflow.Errorf(workflow.EForbidden, "hanya auditor dan verifikator yang dapat melihat peringkat risiko")
	}
	if err := validate.Err(in, "permintaan peringkat risiko tidak valid"); err != nil {
		return RiskRanking{}, err
	}
	if _, _, err := s.db.RefreshRiskFacts(ctx); err != nil {
		return RiskRanking{}, err
	}
	var items []workflow.RiskItem
	weights := map[int64]map[string]int{}
	err := s.db.InReadTx(ctx, func(tx *postgres.Tx) error {
		var err error
		items, err = tx.RiskSignals(ctx, postgres.RiskFilter{Scope: scopeOf(a), ProgramID: in.ProgramID, Today: s.today(),
			PhotoReuseBits: evidence.PhotoReuseDistance})
		if err != nil {
			return err
		}
		progs, err := tx.Programs(ctx)
		if err != nil {
			return err
		}
		for _, p := range progs {
			weights[p.ID] = p.RiskWeightsOrDefault()
		}
		return nil
	})
	if err != nil {
		return RiskRanking{}, err
	}
	for i := range items {
		workflow.ScoreRisk(&items[i], weights[items[i].ProgramID])
	}
	workflow.RankRisk(items)
	out := RiskRanking{Total: len(items)}
	from := min(in.Offset, len(items))
	to := len(items)
	if in.Limit > 0 {
		to = min(from+in.Limit, len(items))
	}
	out.Items = items[from:to]
	return out, nil
}
