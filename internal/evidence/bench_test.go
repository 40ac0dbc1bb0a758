package evidence

import (
	"bytes"
	"image/jpeg"
	"testing"
)

// BenchmarkIngestJPEG puts the whole-file check beside what an upload cost
// before it: stage (hash, write, fsync) is the old path up to the rename,
// verify the full decode added by it, and IngestOriginal both plus the store.
func BenchmarkIngestJPEG(b *testing.B) {
	// A phone photo of a receipt is ~2 MB: grain the scene until it is.
	m := scene(1, 2000, 1500)
	grain(m, 20, 3)
	data := encodeJPEG(b, m, 92)
	b.Logf("fixture: %d bytes, 2000×1500", len(data))
	st, err := NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("stage", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			_, tmp, err := stage(b.Context(), st, bytes.NewReader(data), MaxFileBytes)
			if err != nil {
				b.Fatal(err)
			}
			discard(tmp)
		}
	})
	b.Run("verify", func(b *testing.B) {
		_, tmp, err := stage(b.Context(), st, bytes.NewReader(data), MaxFileBytes)
		if err != nil {
			b.Fatal(err)
		}
		defer discard(tmp)
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if err := verify(b.Context(), tmp, int64(len(data)), MIMEJPEG); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("IngestOriginal", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := IngestOriginal(b.Context(), st, bytes.NewReader(data), MaxFileBytes); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkInspectPhoto puts the perceptual hash of a 1600×1200 photo beside
// decoding it alone (issue 13's performance note).
func BenchmarkInspectPhoto(b *testing.B) {
	data := withExifBlock(b, encodeJPEG(b, scene(2, 1600, 1200), 90), photoExif{Taken: "2026:03:14 09:30:15", Lat: -6.6, Lon: 106.8})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("InspectPhoto", func(b *testing.B) {
		for b.Loop() {
			if _, err := InspectPhoto(b.Context(), data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
