package grants

import (
	"context"
	"time"

	"grantflow/workflow"
)

// GCResult counts what CollectGarbage did.
type GCResult struct{ Kept, Removed int }

// CollectGarbage deletes stored files that no evidence row points to (as
// original or preview) and that are older than grace, so that an upload whose
// row is not yet committed is never swept. Uploads write the file first and
// the row after, so a crash leaves only such orphans, never a dangling row.
func (s *Service) CollectGarbage(ctx context.Context, grace time.Duration) (GCResult, error) {
	var res GCResult
	if s.store == nil {
		return res, workflow.Errorf(workflow.EInternal, "penyimpanan berkas belum dikonfigurasi")
	}
	referenced, err := s.db.ReferencedFiles(ctx)
	if err != nil {
		return res, err
	}
	cutoff := s.now().Add(-grace)
	var orphans []string
	err = s.store.List(ctx, func(key string, mod time.Time) error {
		if referenced[key] || mod.After(cutoff) {
			res.Kept++
			return nil
		}
		orphans = append(orphans, key)
		return nil
	})
	if err != nil {
		return res, err
	}
	// Look again after listing: a row committed meanwhile saves its file.
	if referenced, err = s.db.ReferencedFiles(ctx); err != nil {
		return res, err
	}
	for _, key := range orphans {
		if referenced[key] {
			res.Kept++
			continue
		}
		if err := s.store.Delete(ctx, key); err != nil {
			return res, err
		}
		res.Removed++
	}
	return res, nil
}
