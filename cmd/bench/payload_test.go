package main

import (
	"bytes"
	"context"
	"testing"

	"grantflow/internal/evidence"
)

// The upload phases measure real work only if the store accepts their
// receipts: a PDF that does not parse is refused with 415 before storage.
func TestBenchPDFIsValid(t *testing.T) {
	st, err := evidence.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{1_000_000, 2 << 20, 10_000_000} {
		p := pdfPayload(size)
		data := append(append(append([]byte{}, p.head...), p.tag(42)...), p.tail...)
		if d := len(data) - size; d < -size/50 || d > size/50 {
			t.Errorf("pdfPayload(%d) is %d bytes", size, len(data))
		}
		if _, err := evidence.IngestOriginal(context.Background(), st, bytes.NewReader(data), 10<<20); err != nil {
			t.Fatalf("pdfPayload(%d): %v", size, err)
		}
	}
}
