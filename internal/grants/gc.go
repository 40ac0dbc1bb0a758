package grants

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"grantflow/workflow"
)

// GCResult counts what CollectGarbage did.
type GCResult struct {
	Kept    int // stored files a row points to, or younger than the grace
	Removed int // stored files no row points to
	Temp    int // abandoned staging files of interrupted uploads
}

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
	tempCutoff := cutoff
	if floor := s.now().Add(-minStagingAge); floor.Before(tempCutoff) {
		tempCutoff = floor
	}
	res.Temp, err = sweepTemp(s.store.TempDir(), tempCutoff)
	return res, err
}

// minStagingAge is how long a staging file is kept whatever grace gc is
// given: an upload may arrive for up to 30 minutes (the server's upload
// ceiling) and its file is written only every 256 KiB, so a younger one may
// belong to an upload still arriving (`gc --grace 0s` cut one off).
const minStagingAge = time.Hour

// sweepTemp removes the staging files of uploads that were interrupted (a
// crash between create and rename) once they are older than cutoff. Only the
// store's own name patterns are touched: the staging directory may be shared.
func sweepTemp(dir string, cutoff time.Time) (int, error) {
	n := 0
	for _, pattern := range []string{"upload-*", "copy-*"} {
		names, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return n, workflow.Wrap(workflow.EInternal, err, "direktori sementara tidak dapat dibaca")
		}
		for _, name := range names {
			fi, err := os.Lstat(name)
			if err != nil || !fi.Mode().IsRegular() || fi.ModTime().After(cutoff) {
				continue
			}
			if err := os.Remove(name); err == nil {
				n++
			}
		}
	}
	return n, nil
}
