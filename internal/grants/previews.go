package grants

import (
	"context"
	"time"

	"grantflow/internal/evidence"
	"grantflow/workflow"
)

// previewJob is a stored image whose preview, photo facts or both are
// still to be made.
type previewJob struct {
	sha256, mime   string
	preview, facts bool
}

// Previews of images are made after the upload has answered, by one
// background worker per service (Options.BackgroundPreviews), so that a treasurer's upload is not held up
// decoding a phone photo (about 150 ms of CPU each; see make bench). A
// preview that is asked for before the worker reached it is made on the spot
// (OpenEvidence). A job lost to a full queue or a restart is found again by
// BackfillPreviews.

// schedulePreview queues the preview and the photo facts of a stored image;
// a full queue drops the job (BackfillPreviews or the first viewer will make it).
func (s *Service) schedulePreview(sha256, mime string) {
	s.scheduleImage(previewJob{sha256: sha256, mime: mime, preview: true, facts: true})
}

// scheduleImage queues job; a full queue drops it (see schedulePreview).
func (s *Service) scheduleImage(job previewJob) {
	if s.previews == nil || (job.mime != evidence.MIMEJPEG && job.mime != evidence.MIMEPNG) {
		return
	}
	// Under the lock Close takes, so that no job is sent on a closed queue
	// by an upload that finishes during shutdown.
	s.previewMu.Lock()
	defer s.previewMu.Unlock()
	if s.closing.Load() {
		return
	}
	select {
	case s.previews <- job:
	default:
	}
}

// Close stops the session cache's LISTEN connection and the background
// preview worker once the job at hand is done; queued jobs are left to
// BackfillPreviews at the next start. Call it once, after the last upload.
func (s *Service) Close() {
	if s.stopListen != nil {
		s.stopListen()
	}
	if s.previews != nil {
		s.previewMu.Lock()
		s.closing.Store(true)
		close(s.previews)
		s.previewMu.Unlock()
		s.previewsWG.Wait()
	}
}

func (s *Service) previewWorker() {
	defer s.previewsWG.Done()
	for job := range s.previews {
		if s.closing.Load() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if job.facts && job.preview {
			// A new upload: one decoding of its pixels for both.
			if err := s.recordFactsAndPreview(ctx, job.sha256); err != nil {
				s.log.Warn("photo facts or preview failed", "sha256", job.sha256, "error", err.Error())
			}
			cancel()
			continue
		}
		// The facts first: they are read from the original, whose EXIF the
		// preview drops (see recordPhotoFacts).
		if job.facts {
			if err := s.recordPhotoFacts(ctx, job.sha256); err != nil {
				s.log.Warn("photo facts failed", "sha256", job.sha256, "error", err.Error())
			}
		}
		if job.preview {
			if _, err := s.makePreview(ctx, job.sha256, job.mime); err != nil {
				s.log.Warn("preview failed", "sha256", job.sha256, "error", err.Error())
			}
		}
		cancel()
	}
}

// makePreview stores the preview of a stored image and records it on every
// evidence row of that file. It returns "" when the image has no preview
// (too large or undecodable).
func (s *Service) makePreview(ctx context.Context, sha256, mime string) (string, error) {
	p, err := evidence.MakePreview(ctx, s.store, sha256, mime)
	if err != nil || p == nil {
		return "", err
	}
	return p.SHA256, s.db.SetPreview(ctx, sha256, p.SHA256)
}

// BackfillPreviews queues the previews of up to limit images that have none,
// and the photo facts of up to limit images that have none, such as those
// whose job was lost when the server stopped. It returns how many jobs it queued.
func (s *Service) BackfillPreviews(ctx context.Context, limit int) (int, error) {
	if s.previews == nil {
		return 0, workflow.Errorf(workflow.EInternal, "pratinjau latar belakang tidak aktif")
	}
	jobs, err := s.db.ImagesWithoutPreview(ctx, limit)
	if err != nil {
		return 0, err
	}
	for _, j := range jobs {
		s.scheduleImage(previewJob{sha256: j.SHA256, mime: j.MIME, preview: true})
	}
	facts, err := s.db.ImagesWithoutPhotoFacts(ctx, limit)
	if err != nil {
		return len(jobs), err
	}
	for _, j := range facts {
		s.scheduleImage(previewJob{sha256: j.SHA256, mime: j.MIME, facts: true})
	}
	return len(jobs) + len(facts), nil
}
