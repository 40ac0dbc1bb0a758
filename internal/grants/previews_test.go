package grants_test

import (
	"bytes"
	"testing"
	"time"

	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
)

// With BackgroundPreviews the preview of an uploaded image is made after the
// upload answered; BackfillPreviews finds images whose job was lost.
func TestBackgroundPreviews(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newFixture(t, localStore(t))
	g := f.fundedGrant(t)

	// Recorded by a service without the worker: no preview yet.
	lost := f.ingest(t, evidencetest.JPEG(t, 7, 8, 6))
	if _, err := f.spend(t, g, "konsumsi", 10_000, lost); err != nil {
		t.Fatal(err)
	}
	previewOf := func(sha string) string {
		t.Helper()
		files, err := f.db.Files(ctx, g.id)
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if file.SHA256 == sha {
				return file.PreviewSHA256
			}
		}
		t.Fatalf("no evidence row for %s", sha)
		return ""
	}
	if p := previewOf(lost.SHA256); p != "" {
		t.Fatalf("preview made during the upload: %s", p)
	}

	bg := grants.New(f.db, grants.Options{Store: f.store, BackgroundPreviews: true})
	fresh, err := bg.Ingest(ctx, bytes.NewReader(evidencetest.PNG(t, 8, 8, 6)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bg.RecordExpense(ctx, g.treasurer, g.id, grants.ExpenseInput{SpentOn: f.today,
		BudgetLineID: g.lines["konsumsi"].ID, Vendor: "Warung", Description: "Snack", Amount: 10_000}, &fresh); err != nil {
		t.Fatal(err)
	}
	n, err := bg.BackfillPreviews(ctx, 100)
	if err != nil || n < 1 {
		t.Fatalf("backfill queued %d, %v", n, err)
	}
	defer bg.Close()
	for _, sha := range []string{lost.SHA256, fresh.SHA256} {
		p := previewOf(sha)
		for deadline := time.Now().Add(20 * time.Second); p == "" && time.Now().Before(deadline); p = previewOf(sha) {
			time.Sleep(50 * time.Millisecond)
		}
		if p == "" {
			t.Fatalf("no preview recorded for %s", sha)
		}
		if ok, err := f.store.Exists(ctx, p); err != nil || !ok {
			t.Fatalf("preview %s not stored: %v", p, err)
		}
	}
}
