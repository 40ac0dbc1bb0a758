package web

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"net/http"
	"testing"

	"grantflow/internal/evidence"
	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/postgres"
	"grantflow/internal/postgres/pgtest"
)

func TestMoneyEvidence(t *testing.T) {
	t.Parallel()
	h := newHarnessStore(t, pgtest.New(t), moneyOptions, nil)
	evidenceFlow(t, h)
}

// TestMoneyExtEvidenceS3 runs the same uploads and downloads against the
// S3-compatible store (gofakes3 in memory).
func TestMoneyEvidenceS3(t *testing.T) {
	t.Parallel()
	st, err := evidence.NewS3(context.Background(), evidence.S3Config{Endpoint: evidencetest.FakeS3(t), Region: "us-east-1", Bucket: "evidence",
		AccessKey: "test", SecretKey: "test-secret", Prefix: "blobs", TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessStore(t, pgtest.New(t), moneyOptions, st)
	evidenceFlow(t, h)
}

func evidenceFlow(t *testing.T, h *harness) {
	g := h.fundedGrant(t)
	other := h.fundedGrant(t)
	tr := g.treasurer
	auditor := "auditor"
	get := func(u string, id int64, q string) result {
		return h.sendAs(t, u, http.MethodGet, fmt.Sprintf("/api/v1/evidence/%d%s", id, q), "", nil)
	}

	t.Run("receipt download", func(t *testing.T) {
		receipt := evidencetest.PNG(t, 42, 8, 6)
		x := h.mustExpense(t, g, nil, receipt)
		for _, u := range []string{tr, auditor} {
			r := get(u, x.ReceiptID, "")
			if r.status != 200 || !bytes.Equal(r.body, receipt) {
				t.Fatalf("download by %s: %d, %d bytes", u, r.status, len(r.body))
			}
			if r.header.Get("Content-Type") != evidence.MIMEPNG {
				t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
			}
			wantAttachment(t, r, ".png")
		}
		for _, u := range []string{"auditor_out", other.treasurer} {
			wantErr(t, "out of scope", get(u, x.ReceiptID, ""), http.StatusNotFound, "")
		}
		wantErr(t, "missing id", get(tr, 999999, ""), http.StatusNotFound, "")
		wantErr(t, "bad id", h.sendAs(t, tr, http.MethodGet, "/api/v1/evidence/abc", "", nil), http.StatusNotFound, "")
		wantErr(t, "anonymous", get("", x.ReceiptID, ""), http.StatusUnauthorized, "")
		// A PNG has a preview, converted to JPEG.
		p := get(tr, x.ReceiptID, "?preview=1")
		if p.status != 200 || p.header.Get("Content-Type") != evidence.MIMEJPEG {
			t.Fatalf("png preview: %d %s", p.status, p.header)
		}
		if _, err := jpeg.Decode(bytes.NewReader(p.body)); err != nil {
			t.Fatalf("png preview is not a JPEG: %v", err)
		}
	})

	t.Run("activity evidence and EXIF-free preview", func(t *testing.T) {
		aid := g.acts[0].ID
		path := fmt.Sprintf("/api/v1/grants/%d/activities/%d/evidence", g.id, aid)
		photo := exifJPEG(t, 5)
		if !bytes.Contains(photo, []byte("Exif")) {
			t.Fatal("fixture lacks EXIF")
		}
		before := h.counts(t, g)
		for _, tc := range []struct {
			name   string
			who    string
			path   string
			fields [][2]string
			files  []formFile
			status int
			field  string
		}{
			{"bad kind", tr, path, [][2]string{{"kind", "selfie"}}, []formFile{{"file", "a.jpg", "image/jpeg", photo}}, 422, "kind"},
			{"no kind", tr, path, nil, []formFile{{"file", "a.jpg", "image/jpeg", photo}}, 422, "kind"},
			{"no file", tr, path, [][2]string{{"kind", "photo"}}, nil, 422, "file"},
			{"HTML as photo", tr, path, [][2]string{{"kind", "photo"}}, []formFile{{"file", "a.jpg", "image/jpeg", []byte("<html><body>x</body></html>")}}, 415, "file"},
			{"activity of another grant", tr, fmt.Sprintf("/api/v1/grants/%d/activities/%d/evidence", g.id, other.acts[0].ID),
				[][2]string{{"kind", "photo"}}, []formFile{{"file", "a.jpg", "image/jpeg", photo}}, 404, ""},
			{"auditor", auditor, path, [][2]string{{"kind", "photo"}}, []formFile{{"file", "a.jpg", "image/jpeg", photo}}, 403, ""},
			{"other group", other.treasurer, path, [][2]string{{"kind", "photo"}}, []formFile{{"file", "a.jpg", "image/jpeg", photo}}, 404, ""},
		} {
			r := h.postForm(t, tc.who, tc.path, tc.fields, tc.files...)
			wantErr(t, tc.name, r, tc.status, tc.field)
		}
		if after := h.counts(t, g); after != before {
			t.Fatalf("refused evidence changed %+v into %+v", before, after)
		}

		chair := g.chair
		r := h.postForm(t, chair, path, [][2]string{{"kind", "photo"}}, formFile{"file", "foto kegiatan.jpg", "application/octet-stream", photo})
		if r.status != http.StatusCreated {
			t.Fatalf("photo: %s", r)
		}
		var f postgres.File
		r.decode(t, &f)
		if f.Kind != "photo" || f.ActivityID != aid || f.MIME != evidence.MIMEJPEG || f.Size != int64(len(photo)) {
			t.Fatalf("evidence row %+v", f)
		}
		orig := get(auditor, f.ID, "")
		if orig.status != 200 || !bytes.Equal(orig.body, photo) || orig.header.Get("Content-Type") != evidence.MIMEJPEG {
			t.Fatalf("original: %d %s", orig.status, orig.header)
		}
		wantAttachment(t, orig, ".jpg")
		p := get(auditor, f.ID, "?preview=1")
		if p.status != 200 || p.header.Get("Content-Type") != evidence.MIMEJPEG {
			t.Fatalf("preview: %s", p)
		}
		wantAttachment(t, p, ".jpg")
		if bytes.Contains(p.body, []byte("Exif")) || bytes.Contains(p.body, []byte("GPS-SECRET")) {
			t.Fatal("preview still carries the EXIF segment")
		}
		img, err := jpeg.Decode(bytes.NewReader(p.body))
		if err != nil {
			t.Fatalf("preview is not a JPEG: %v", err)
		}
		if b := img.Bounds(); b.Dx() != 6 || b.Dy() != 8 {
			t.Errorf("preview %v; orientation 6 should turn 8×6 into 6×8", b)
		}
		// A PDF has no preview.
		pdf := evidencetest.NotePDF("notulen")
		r = h.postForm(t, tr, path, [][2]string{{"kind", "minutes"}}, formFile{"file", "notulen.pdf", "application/pdf", pdf})
		if r.status != http.StatusCreated {
			t.Fatalf("minutes: %s", r)
		}
		r.decode(t, &f)
		if got := get(tr, f.ID, ""); !bytes.Equal(got.body, pdf) {
			t.Fatal("pdf bytes differ")
		}
		wantErr(t, "pdf preview", get(tr, f.ID, "?preview=1"), http.StatusNotFound, "")
		// The upload is in the audit chain and counts on the activity.
		evs := h.events(t, tr, g.id)
		if last := evs[len(evs)-1]; last.Action != "add_evidence" || last.Data["kind"] != "minutes" {
			t.Errorf("last event %+v", last)
		}
		if v := h.grantAs(t, tr, g); v.Activities[0].EvidenceCount != 2 {
			t.Errorf("evidence count %d", v.Activities[0].EvidenceCount)
		}
	})
}

// A cancelled session was not held: evidence for it is 409 and nothing is
// stored under it.
func TestEvidenceOfCancelledSession(t *testing.T) {
	t.Parallel()
	h := newHarnessStore(t, pgtest.New(t), moneyOptions, nil)
	g := h.fundedGrant(t)
	cancelled := g.acts[len(g.acts)-1].ID
	r := h.call(t, "verifier", "POST", fmt.Sprintf("/api/v1/grants/%d/activities/%d/cancel", g.id, cancelled), map[string]string{"reason": "Madrasah libur."})
	expect(t, r, http.StatusOK, "cancel")
	before := h.counts(t, g)
	r = h.postForm(t, g.chair, fmt.Sprintf("/api/v1/grants/%d/activities/%d/evidence", g.id, cancelled),
		[][2]string{{"kind", "photo"}}, formFile{"file", "a.jpg", "image/jpeg", exifJPEG(t, 7)})
	wantErr(t, "evidence of a cancelled session", r, http.StatusConflict, "")
	if after := h.counts(t, g); after != before {
		t.Fatalf("refused evidence changed %+v into %+v", before, after)
	}
}
