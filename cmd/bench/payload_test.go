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
	// The scanned page: valid, about as large as its photo, and mostly
	// binary (a CR byte at least every few kilobytes, unlike the padding).
	jpg := jpegPayload(200_000, 800, 600)
	p := scanPayload(jpg, 800, 600)
	data := append(append(append([]byte{}, p.head...), p.tag(7)...), p.tail...)
	if d := len(data) - int(jpg.size()); d < 0 || d > 2000 {
		t.Errorf("scanPayload of a %d-byte JPEG is %d bytes", jpg.size(), len(data))
	}
	if _, err := evidence.IngestOriginal(context.Background(), st, bytes.NewReader(data), 10<<20); err != nil {
		t.Fatalf("scanPayload: %v", err)
	}
	if gap := longestWithout(data, '\r'); gap > 64<<10 {
		t.Errorf("scanPayload has %d bytes without a CR", gap)
	}
}

func longestWithout(b []byte, c byte) int {
	longest := 0
	for len(b) > 0 {
		i := bytes.IndexByte(b, c)
		if i < 0 {
			i = len(b)
		}
		longest = max(longest, i)
		b = b[min(i+1, len(b)):]
	}
	return longest
}
