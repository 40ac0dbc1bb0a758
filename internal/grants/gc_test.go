package grants_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"grantflow/internal/evidence"
	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
)

// TestCollectGarbage sweeps orphans and stale staging files from a local and an S3 store, and only them.

func TestCollectGarbage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		store func(*testing.T) evidence.Store
	}{{"local", localStore}, {"s3", s3Store}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			f := newFixture(t, tc.store(t))
			g := f.fundedGrant(t)

			// Referenced: a PNG receipt (+ preview), a JPEG photo (+ preview), a PDF refund proof.
			receipt := f.ingest(t, evidencetest.PNG(t, 1, 8, 6))
			if _, err := f.spend(t, g, "konsumsi", 100_000, receipt); err != nil {
				t.Fatal(err)
			}
			photo := f.ingest(t, evidencetest.JPEG(t, 2, 8, 6))
			if _, err := f.svc.AddActivityEvidence(ctx, g.treasurer, g.id, g.view.Activities[0].ID, "photo", photo); err != nil {
				t.Fatal(err)
			}
			proof := f.ingest(t, evidencetest.NotePDF("bukti setor"))
			if _, err := f.svc.RecordRefund(ctx, g.treasurer, g.id, grants.RefundInput{Amount: 1000, PaidOn: f.today,
				NTPN: "0123456789ABCDEF"}, proof); err != nil {
				t.Fatal(err)
			}
			// Previews are made when first viewed (no background worker here).
			previews := map[string]string{}
			files, err := f.svc.DB().Files(ctx, g.id)
			if err != nil {
				t.Fatal(err)
			}
			for _, file := range files {
				if _, rc, err := f.svc.OpenEvidence(ctx, g.treasurer, file.ID, true); err == nil {
					rc.Close()
				}
			}
			if files, err = f.svc.DB().Files(ctx, g.id); err != nil {
				t.Fatal(err)
			}
			for _, file := range files {
				previews[file.SHA256] = file.PreviewSHA256
			}
			if previews[receipt.SHA256] == "" || previews[photo.SHA256] == "" || previews[proof.SHA256] != "" {
				t.Fatalf("previews: %v", previews)
			}
			kept := []string{receipt.SHA256, previews[receipt.SHA256], photo.SHA256, previews[photo.SHA256], proof.SHA256}

			// Orphans: stored straight into the store with no row, as an upload
			// whose request failed after the file was written leaves them.
			orphanPDF, err := evidence.Ingest(ctx, f.store, bytes.NewReader(evidencetest.NotePDF("yatim")), 0)
			if err != nil {
				t.Fatal(err)
			}
			orphanPNG, err := evidence.Ingest(ctx, f.store, bytes.NewReader(evidencetest.PNG(t, 3, 8, 6)), 0)
			if err != nil {
				t.Fatal(err)
			}
			orphans := []string{orphanPDF.SHA256, orphanPNG.SHA256, orphanPNG.Preview.SHA256}

			// Staging files of interrupted uploads: one stale, one fresh, one not ours.
			tmp := f.store.TempDir()
			stale, fresh, foreign := filepath.Join(tmp, "upload-stale"), filepath.Join(tmp, "upload-fresh"), filepath.Join(tmp, "bukan-milik-kita")
			for _, p := range []string{stale, fresh, foreign} {
				if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			old := time.Now().Add(-3 * time.Hour)
			for _, p := range []string{stale, foreign} {
				if err := os.Chtimes(p, old, old); err != nil {
					t.Fatal(err)
				}
			}

			exists := func(key string) bool {
				ok, err := f.store.Exists(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
			fileExists := func(p string) bool { _, err := os.Stat(p); return err == nil }

			// Within the grace nothing stored is swept: those rows may be about to commit.
			res, err := f.svc.CollectGarbage(ctx, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if res.Removed != 0 || res.Kept != len(kept)+len(orphans) || res.Temp != 1 {
				t.Fatalf("within the grace: %+v", res)
			}
			for _, k := range append(append([]string{}, kept...), orphans...) {
				if !exists(k) {
					t.Fatalf("%s swept within the grace", k)
				}
			}
			if fileExists(stale) || !fileExists(fresh) || !fileExists(foreign) {
				t.Fatalf("staging sweep: stale %v fresh %v foreign %v", fileExists(stale), fileExists(fresh), fileExists(foreign))
			}

			// Two hours later the orphans go, and only they.
			f.skew.Store(int64(2 * time.Hour))
			res, err = f.svc.CollectGarbage(ctx, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if res.Removed != len(orphans) || res.Kept != len(kept) {
				t.Fatalf("beyond the grace: %+v", res)
			}
			for _, k := range orphans {
				if exists(k) {
					t.Errorf("orphan %s kept", k)
				}
			}
			for _, k := range kept {
				if !exists(k) {
					t.Errorf("referenced %s removed", k)
				}
			}
			if !fileExists(foreign) {
				t.Error("a file that is not a staging file was removed")
			}
			// Every referenced file still opens through the service.
			es, err := f.svc.Expenses(ctx, grants.System, g.id)
			if err != nil || len(es) != 1 {
				t.Fatalf("expenses %v %v", es, err)
			}
			for _, preview := range []bool{false, true} {
				_, rc, err := f.svc.OpenEvidence(ctx, g.treasurer, es[0].ReceiptID, preview)
				if err != nil {
					t.Fatalf("open receipt (preview %v): %v", preview, err)
				}
				rc.Close()
			}
			// Again: nothing left to do.
			if res, err = f.svc.CollectGarbage(ctx, time.Hour); err != nil || res.Removed != 0 || res.Kept != len(kept) {
				t.Fatalf("second run: %+v %v", res, err)
			}
		})
	}
}

// TestCollectGarbageSparesArrivingUploads: even with no grace, a staging
// file younger than minStagingAge stays: it may belong to a slow upload
// still arriving, which would fail at its rename.
func TestCollectGarbageSparesArrivingUploads(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localStore(t))
	arriving := filepath.Join(f.store.TempDir(), "upload-arriving")
	if err := os.WriteFile(arriving, []byte("sebagian"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-30 * time.Minute)
	if err := os.Chtimes(arriving, old, old); err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.CollectGarbage(ctxT(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(arriving); err != nil || res.Temp != 0 {
		t.Fatalf("a 30-minute-old staging file swept with grace 0: %+v, %v", res, err)
	}
}
