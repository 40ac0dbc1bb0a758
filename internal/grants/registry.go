package grants

import (
	"cmp"
	"context"
	"errors"
	"fmt"

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
// verifier inside their own region). Every rule of SPEC §2 is checked at
// once; the province and regency are matched against the official list and
// stored by their codes. A group registered already (same SK number, same
// bank account, or of the same kind with more than half of the same
// members) is EConflict naming it to whoever may see it.
func (s *Service) CreateGroup(ctx context.Context, a workflow.Actor, g workflow.Group) (workflow.Group, error) {
	if err := require(a, workflow.RoleAdmin, workflow.RoleVerifier); err != nil {
		return g, err
	}
	const msg = "data kelompok tidak valid"
	g.ID = 0
	g.Normalize()
	// Either the names or the codes may be given; the codes stored are the
	// list's, whatever was typed.
	g.Province, g.Regency = cmp.Or(g.Province, g.ProvinceCode), cmp.Or(g.Regency, g.RegencyCode)
	g.ProvinceCode, g.RegencyCode = "", ""
	place, rp := validate.Region(g.Province, g.Regency)
	if len(rp) == 0 && place.Regency.Code != "" {
		g.Province, g.Regency = place.Names()
		g.ProvinceCode, g.RegencyCode = place.Codes()
	}
	if err := validate.With(g, withProblems(g.Validate(), rp, msg), msg); err != nil {
		return g, err
	}
	if !a.Has(workflow.RoleAdmin) && !a.Sees(0, g.ProvinceCode, g.RegencyCode) {
		return g, workflow.Errorf(workflow.EForbidden, "kelompok di luar wilayah kerja Anda")
	}
	var out workflow.Group
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		if err := tx.LockGroupRegistry(ctx); err != nil {
			return err
		}
		r, found, err := tx.RepeatedGroup(ctx, g)
		if err != nil {
			return err
		}
		if found {
			return repeated(a, r)
		}
		out, err = tx.CreateGroup(ctx, g)
		return err
	})
	return out, err
}

// repeated is the EConflict for a group registered again. Its name and id
// go only to those who may see the existing group; anyone else learns only
// that it exists, so a registration form cannot be used to look groups up.
func repeated(a workflow.Actor, r postgres.Repeat) error {
	why := map[string]string{
		"sk_number":           "nomor SK yang sama",
		"bank_account_number": "nomor rekening yang sama",
		"members":             fmt.Sprintf("%d anggota yang sama (lebih dari separuh anggota)", r.Shared),
	}[r.Field]
	existing := "kelompok lain"
	if a.Sees(r.Group.ID, r.Group.ProvinceCode, r.Group.RegencyCode) {
		existing = fmt.Sprintf("kelompok %q (id %d)", r.Group.Name, r.Group.ID)
	}
	err := workflow.Errorf(workflow.EConflict, "kelompok ini sudah terdaftar: %s memakai %s", existing, why)
	err.Details = []workflow.Detail{{Field: r.Field, Message: "sudah terdaftar pada " + existing}}
	return err
}

// withProblems returns rules (a workflow Validate result) with more
// problems added, as one EUnprocessable error with message msg; an error
// of another kind is returned as it is.
func withProblems(rules error, more workflow.Problems, msg string) error {
	if len(more) == 0 {
		return rules
	}
	var we *workflow.Error
	if rules != nil && !errors.As(rules, &we) {
		return rules
	}
	var ps workflow.Problems
	if we != nil {
		if we.Code != workflow.EUnprocessable {
			return rules
		}
		ps = append(ps, we.Details...)
	}
	return append(ps, more...).Err(msg)
}

// Group returns a group with its members when a may see it, else ENotFound.
func (s *Service) Group(ctx context.Context, a workflow.Actor, id int64) (workflow.Group, error) {
	g, err := s.db.Group(ctx, id)
	if err != nil {
		return g, err
	}
	if !a.Sees(g.ID, g.ProvinceCode, g.RegencyCode) {
		return workflow.Group{}, workflow.Errorf(workflow.ENotFound, "kelompok %d tidak ditemukan", id)
	}
	return g, nil
}

// Groups returns the groups a may see.
func (s *Service) Groups(ctx context.Context, a workflow.Actor) ([]workflow.Group, error) {
	return s.db.Groups(ctx, scopeOf(a))
}
