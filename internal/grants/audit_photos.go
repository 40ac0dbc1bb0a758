package grants

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"grantflow/internal/evidence"
	"grantflow/internal/postgres"
	"grantflow/workflow"
)

// PhotoDateSlackDays is how many days a photo of a session may be taken
// before or after the session's date before photo_date_mismatch is raised:
// a phone's clock in the wrong zone, or a photo of the room set up the day
// before, are no reason for an auditor to look.
const PhotoDateSlackDays = 2

// recordPhotoFacts reads the stored original of an image and records its
// perceptual hash, EXIF capture time and GPS. It must run on the original:
// the preview is re-encoded without EXIF. An image that does not decode is
// no error here (the upload already proved it whole; nothing to record).
func (s *Service) recordPhotoFacts(ctx context.Context, sha256 string) error {
	if s.store == nil {
		return workflow.Errorf(workflow.EInternal, "penyimpanan berkas belum dikonfigurasi")
	}
	data, err := s.readOriginal(ctx, sha256)
	if err != nil {
		return err
	}
	f, err := evidence.InspectPhoto(ctx, data)
	return s.savePhotoFacts(ctx, sha256, f, err)
}

// recordFactsAndPreview is recordPhotoFacts and makePreview of one new
// upload with one decoding of its pixels (evidence.InspectAndPreview).
func (s *Service) recordFactsAndPreview(ctx context.Context, sha256 string) error {
	if s.store == nil {
		return workflow.Errorf(workflow.EInternal, "penyimpanan berkas belum dikonfigurasi")
	}
	data, err := s.readOriginal(ctx, sha256)
	if err != nil {
		return err
	}
	f, p, err := evidence.InspectAndPreview(ctx, s.store, data)
	// As when run apart: facts that cannot be saved keep no preview from
	// being recorded.
	factsErr := s.savePhotoFacts(ctx, sha256, f, err)
	if p == nil {
		return factsErr
	}
	return errors.Join(factsErr, s.db.SetPreview(ctx, sha256, p.SHA256))
}

// readOriginal reads a stored original whole, as the photo checks need it.
func (s *Service) readOriginal(ctx context.Context, sha256 string) ([]byte, error) {
	rc, err := s.store.Open(ctx, sha256)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(rc, evidence.MaxFileBytes+1))
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", sha256, err)
	}
	return data, nil
}

// savePhotoFacts records f, what inspecting sha256 answered with err; an
// image that does not decode (EUnsupported) records nothing and is no error.
func (s *Service) savePhotoFacts(ctx context.Context, sha256 string, f evidence.PhotoFacts, err error) error {
	if workflow.ErrorCode(err) == workflow.EUnsupported {
		return nil
	}
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *postgres.Tx) error {
		return tx.SavePhotoFacts(ctx, postgres.PhotoFacts{SHA256: sha256, PHash: f.PHash, TakenAt: f.TakenAt,
			TakenZoned: f.TakenAtZoned, HasGPS: f.HasGPS, Latitude: f.Latitude, Longitude: f.Longitude}, evidence.PhotoReuseDistance)
	})
}

// PhotoFlag is one plausibility flag of an image: photo_reused or
// photo_date_mismatch, with the facts that raised it. Flags never block.
type PhotoFlag struct {
	Code  string         `json:"code"`
	Facts map[string]any `json:"facts"`
}

// PhotoView is an image of a grant with what its pixels and camera say, as
// staff see it.
type PhotoView struct {
	EvidenceID int64       `json:"evidence_id"`
	ActivityID int64       `json:"activity_id"`
	Kind       string      `json:"kind"`
	SHA256     string      `json:"sha256"`
	PHash      string      `json:"phash"` // 16 hex digits
	TakenAt    *time.Time  `json:"taken_at"`
	TakenZoned bool        `json:"taken_at_zoned"`
	Latitude   *float64    `json:"latitude"`
	Longitude  *float64    `json:"longitude"`
	Flags      []PhotoFlag `json:"flags"`
}

// Photos returns the images of grant id whose facts the background worker
// has recorded, each with its flags, for staff in scope. Group roles get
// EForbidden: the facts include where a member's phone was.
func (s *Service) Photos(ctx context.Context, a workflow.Actor, id int64) ([]PhotoView, error) {
	if !a.IsStaff() {
		return nil, workflow.Errorf(workflow.EForbidden, "hanya petugas yang dapat melihat data foto")
	}
	return readInScope(ctx, s, a, id, func(tx *postgres.Tx) ([]PhotoView, error) {
		rows, err := tx.GrantPhotos(ctx, id)
		if err != nil {
			return nil, err
		}
		reuses, err := tx.PhotoReuses(ctx, id, evidence.PhotoReuseDistance)
		if err != nil {
			return nil, err
		}
		dates, err := tx.PhotoDateMismatches(ctx, id, PhotoDateSlackDays)
		if err != nil {
			return nil, err
		}
		flags := map[int64][]PhotoFlag{}
		for _, r := range reuses {
			flags[r.EvidenceID] = append(flags[r.EvidenceID], PhotoFlag{Code: "photo_reused", Facts: map[string]any{
				"evidence_id": r.EvidenceID, "activity_id": r.ActivityID,
				"other_evidence_id": r.OtherEvidenceID, "other_activity_id": r.OtherActivityID,
				"other_grant_id": r.OtherGrantID, "other_number": r.OtherNumber, "other_group_name": r.OtherGroupName,
				"distance_bits": r.Distance}})
		}
		for _, d := range dates {
			flags[d.EvidenceID] = append(flags[d.EvidenceID], PhotoFlag{Code: "photo_date_mismatch", Facts: map[string]any{
				"evidence_id": d.EvidenceID, "activity_id": d.ActivityID,
				"taken_on": d.TakenOn, "session_on": d.SessionOn, "days_between": d.DaysBetween}})
		}
		out := make([]PhotoView, len(rows))
		for i, r := range rows {
			v := PhotoView{EvidenceID: r.EvidenceID, ActivityID: r.ActivityID, Kind: r.Kind, SHA256: r.SHA256,
				PHash: fmt.Sprintf("%016x", r.PHash), TakenZoned: r.TakenZoned, Flags: flags[r.EvidenceID]}
			if v.Flags == nil {
				v.Flags = []PhotoFlag{}
			}
			if !r.TakenAt.IsZero() {
				t := r.TakenAt
				v.TakenAt = &t
			}
			if r.HasGPS {
				lat, lon := r.Latitude, r.Longitude
				v.Latitude, v.Longitude = &lat, &lon
			}
			out[i] = v
		}
		return out, nil
	})
}
