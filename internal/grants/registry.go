package grants

import (
	"context"

	"grantflow/internal/postgres"
	"grantflow/internal/validate"
	"grantflow/workflow"
)

// CreateProgram adds a programme (admin only), filling every unset juknis
// setting with its default before validating.
func (s *Service) CreateProgram(ctx context.Context, a workflow.Actor, p workflow.Program) (workflow.Program, error) {
	if err := require(a, workflow.RoleAdmin); err != nil {
		return p, err
	}
	p.ID = 0
	p.ApplyDefaults()
	if err := validate.With(p, p.Validate(), "data program tidak valid"); err != nil {
		return p, err
	}
	return s.db.CreateProgram(ctx, p)
}

// Program returns one programme; every signed-in user may read programmes.
func (s *Service) Program(ctx context.Context, a workflow.Actor, id int64) (workflow.Program, error) {
	return s.db.Program(ctx, id)
}

// Programs returns every programme.
func (s *Service) Programs(ctx context.Context, a workflow.Actor) ([]workflow.Program, error) {
	return s.db.Programs(ctx)
}

// CreateGroup registers a working group with its members (admin, or a
// verifier inside their own region). Every rule of SPEC §2 is checked at once.
func (s *Service) CreateGroup(ctx context.Context, a workflow.Actor, g workflow.Group) (workflow.Group, error) {
	if err := require(a, workflow.RoleAdmin, workflow.RoleVerifier); err != nil {
		return g, err
	}
	g.ID = 0
	g.Normalize()
	if err := validate.With(g, g.Validate(), "data kelompok tidak valid"); err != nil {
		return g, err
	}
	if !a.Has(workflow.RoleAdmin) && !a.Sees(0, g.Province, g.Regency) {
		return g, workflow.Errorf(workflow.EForbidden, "kelompok di luar wilayah kerja Anda")
	}
	var out workflow.Group
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		var err error
		out, err = tx.CreateGroup(ctx, g)
		return err
	})
	return out, err
}

// Group returns a group with its members when a may see it, else ENotFound.
func (s *Service) Group(ctx context.Context, a workflow.Actor, id int64) (workflow.Group, error) {
	g, err := s.db.Group(ctx, id)
	if err != nil {
		return g, err
	}
	if !a.Sees(g.ID, g.Province, g.Regency) {
		return workflow.Group{}, workflow.Errorf(workflow.ENotFound, "kelompok %d tidak ditemukan", id)
	}
	return g, nil
}

// Groups returns the groups a may see.
func (s *Service) Groups(ctx context.Context, a workflow.Actor) ([]workflow.Group, error) {
	return s.db.Groups(ctx, scopeOf(a))
}
