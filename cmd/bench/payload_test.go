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
	p := pdfPayload(2 << 20)
	data := append(append(append([]byte{}, p.head...), p.tag(42)...), p.tail...)
	st, err := evidence.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := evidence.IngestOriginal(context.Background(), st, bytes.NewReader(data), 10<<20); err != nil {
		t.Fatal(err)
	}
}
