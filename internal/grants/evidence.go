package grants

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"grantflow/internal/evidence"
	"grantflow/internal/postgres"
	"grantflow/workflow"
)

// Ingest streams an uploaded file into the evidence store, checking its type
// by content and its size. Its preview is made later (schedulePreview). The file has no database row yet: a later failure
// leaves an orphan that gc sweeps, never a row without a file.
func (s *Service) Ingest(ctx context.Context, r io.Reader) (evidence.Object, error) {
	if s.store == nil {
		return evidence.Object{}, workflow.Errorf(workflow.EInternal, "penyimpanan berkas belum dikonfigurasi")
	}
	return evidence.IngestOriginal(ctx, s.store, r, evidence.MaxFileBytes)
}

// CanUpload answers nil when a may upload files of kind to grant id now, so
// that a refused upload is refused before its bytes are stored.
func (s *Service) CanUpload(ctx context.Context, a workflow.Actor, id int64, roles ...workflow.Role) error {
	// One statement: this runs before every upload, and the record itself
	// checks everything again under the grant's lock.
	p, err := s.db.GrantPlace(ctx, id)
	if err != nil {
		return err
	}
	if !a.Sees(p.GroupID, p.ProvinceCode, p.RegencyCode) {
		return workflow.Errorf(workflow.ENotFound, "hibah %d tidak ditemukan", id)
	}
	return ownGroupFunded(a, workflow.Grant{ID: id, GroupID: p.GroupID, State: p.State}, roles...)
}

// FileView is a stored file as the API shows it: the storage row's fields
// without tying the API to internal/postgres.
type FileView struct {
	ID            int64     `json:"id"`
	GrantID       int64     `json:"grant_id"`
	ActivityID    int64     `json:"activity_id"`
	Kind          string    `json:"kind"`
	SHA256        string    `json:"sha256"`
	Size          int64     `json:"size"`
	MIME          string    `json:"mime"`
	PreviewSHA256 string    `json:"preview_sha256"`
	UploadedBy    int64     `json:"uploaded_by"`
	CreatedAt     time.Time `json:"created_at"`
}

func viewFile(f postgres.File) FileView {
	return FileView{ID: f.ID, GrantID: f.GrantID, ActivityID: f.ActivityID, Kind: f.Kind, SHA256: f.SHA256, Size: f.Size,
		MIME: f.MIME, PreviewSHA256: f.PreviewSHA256, UploadedBy: f.UploadedBy, CreatedAt: f.CreatedAt}
}

func fileRow(o evidence.Object, grantID, activityID int64, kind string, a workflow.Actor) postgres.File {
	f := postgres.File{GrantID: grantID, ActivityID: activityID, Kind: kind, SHA256: o.SHA256, Size: o.Size, MIME: o.MIME, UploadedBy: a.UserID}
	if o.Preview != nil {
		f.PreviewSHA256 = o.Preview.SHA256
	}
	return f
}

// Evidence returns every file of a grant — receipts, refund proofs and
// activity evidence — in upload order, when a may see the grant.
func (s *Service) Evidence(ctx context.Context, a workflow.Actor, id int64) ([]FileView, error) {
	return readInScope(ctx, s, a, id, func(tx *postgres.Tx) ([]FileView, error) {
		fs, err := tx.Files(ctx, id)
		out := make([]FileView, len(fs))
		for i, f := range fs {
			out[i] = viewFile(f)
		}
		return out, err
	})
}

// EvidenceKinds are the kinds of activity evidence a group may upload.
var EvidenceKinds = []string{"attendance", "photo", "minutes", "output", "other"}

// AddActivityEvidence links a stored file to a held or planned activity of a
// funded grant (the group's chair or treasurer).
func (s *Service) AddActivityEvidence(ctx context.Context, a workflow.Actor, id, activityID int64, kind string, obj *evidence.Object) (FileView, error) {
	var p workflow.Problems
	if !slices.Contains(EvidenceKinds, kind) {
		p.Add("kind", "jenis bukti harus salah satu dari: %s", strings.Join(EvidenceKinds, ", "))
	}
	if obj == nil {
		p.Add("file", "berkas (JPEG, PNG atau PDF) wajib diunggah")
	}
	var out FileView
	err := s.db.InTx(ctx, func(tx *postgres.Tx) error {
		g, err := lockFunded(ctx, tx, a, id, workflow.RoleChair, workflow.RoleTreasurer)
		if err != nil {
			return err
		}
		act, ok := activityOf(g, activityID)
		if !ok {
			return workflow.Errorf(workflow.ENotFound, "kegiatan %d tidak ditemukan pada hibah ini", activityID)
		}
		// A cancelled session was not held: nothing can prove it was.
		if act.Status == workflow.ActivityCancelled {
			return workflow.Errorf(workflow.EConflict, "kegiatan %d sudah dibatalkan; bukti tidak dapat ditambahkan", activityID)
		}
		if err := p.Err("bukti kegiatan tidak valid"); err != nil {
			return err
		}
		row, err := tx.InsertFile(ctx, fileRow(*obj, id, activityID, kind, a))
		if err != nil {
			return err
		}
		out = viewFile(row)
		ev := workflow.NewEvent(g, "add_evidence", a, actingRole(a, workflow.RoleChair, workflow.RoleTreasurer), s.now(), "",
			map[string]any{"evidence_id": out.ID, "activity_id": activityID, "kind": kind, "sha256": out.SHA256, "row_sha256": row.RowSHA256})
		_, err = tx.AppendEvent(ctx, ev)
		return err
	})
	if err == nil {
		s.schedulePreview(out.SHA256, out.MIME)
	}
	return out, err
}

// OpenEvidence returns an evidence row and its content (or its EXIF-free
// preview) when a may see the grant it belongs to; else ENotFound.
func (s *Service) OpenEvidence(ctx context.Context, a workflow.Actor, fileID int64, preview bool) (FileView, io.ReadCloser, error) {
	var f FileView
	err := s.db.InReadTx(ctx, func(tx *postgres.Tx) error {
		row, err := tx.File(ctx, fileID)
		if err != nil {
			return err
		}
		f = viewFile(row)
		_, _, err = visibleGrant(ctx, tx, a, f.GrantID)
		if workflow.ErrorCode(err) == workflow.ENotFound {
			return workflow.Errorf(workflow.ENotFound, "berkas %d tidak ditemukan", fileID)
		}
		return err
	})
	if err != nil {
		return f, nil, err
	}
	if s.store == nil {
		return f, nil, workflow.Errorf(workflow.EInternal, "penyimpanan berkas belum dikonfigurasi")
	}
	key := f.SHA256
	if preview {
		if f.PreviewSHA256 == "" {
			// Not made yet by the background worker: make it now.
			p, err := s.makePreview(ctx, f.SHA256, f.MIME)
			if err != nil {
				return f, nil, err
			}
			f.PreviewSHA256 = p
		}
		if f.PreviewSHA256 == "" {
			return f, nil, workflow.Errorf(workflow.ENotFound, "berkas %d tidak memiliki pratinjau", fileID)
		}
		key, f.MIME, f.Size = f.PreviewSHA256, evidence.MIMEJPEG, -1
	}
	// The content is streamed after the handler returns, when the request's
	// context is already cancelled: a store that reads lazily (S3) would fail
	// mid-response. The stream gets its own bounded context, ended by Close.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), evidenceStreamTimeout)
	rc, err := s.store.Open(sctx, key)
	if err != nil {
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return f, nil, workflow.Wrap(workflow.EUnavailable, err, "penyimpanan berkas tidak menjawab")
		}
		return f, nil, fmt.Errorf("open evidence %d: %w", fileID, err)
	}
	return f, cancelOnClose{rc, cancel}, nil
}

// evidenceStreamTimeout bounds how long one evidence download may stream.
const evidenceStreamTimeout = 2 * time.Minute

// cancelOnClose releases the stream's context when the stream is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
