package evidence

import (
	"math"
	"testing"
	"time"

	"grantflow/workflow"
)

// TestPhotoHashThreshold is where PhotoReuseDistance comes from: edits of
// one photo stay within it, other photos of the same room do not.
func TestPhotoHashThreshold(t *testing.T) {
	const w, h = 800, 600
	orig := scene(1, w, h)
	base := hashOf(t, encodeJPEG(t, orig, 90))

	for name, data := range map[string][]byte{
		"resized to 40 %":      encodeJPEG(t, resized(orig, w*4/10, h*4/10), 85),
		"recompressed at q 30": encodeJPEG(t, orig, 30),
		"cropped 5 %":          encodeJPEG(t, cropped(orig, 0.05), 85),
		"all three":            encodeJPEG(t, resized(cropped(orig, 0.05), 400, 285), 40),
		"png of it":            pngOf(t, orig),
	} {
		d := PhotoDistance(base, hashOf(t, data))
		t.Logf("%s: distance %d", name, d)
		if !SamePhoto(base, hashOf(t, data)) {
			t.Errorf("%s: distance %d > %d, want the same photo", name, d, PhotoReuseDistance)
		}
	}
	for seed := uint64(2); seed <= 9; seed++ {
		other := hashOf(t, encodeJPEG(t, scene(seed, w, h), 90))
		d := PhotoDistance(base, other)
		t.Logf("same room, scene %d: distance %d", seed, d)
		if SamePhoto(base, other) {
			t.Errorf("scene %d of the same room: distance %d ≤ %d, want a different photo", seed, d, PhotoReuseDistance)
		}
	}
}

func TestPhotoDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b uint64
		want int
	}{
		{0, 0, 0},
		{0, math.MaxUint64, 64},
		{0b1011, 0b0001, 2},
		{1 << 63, 1, 2},
	} {
		if got := PhotoDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("PhotoDistance(%#x, %#x) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	if !SamePhoto(0, 1<<PhotoReuseDistance-1) || SamePhoto(0, 1<<(PhotoReuseDistance+1)-1) {
		t.Errorf("SamePhoto does not cut at %d bits", PhotoReuseDistance)
	}
}

func TestInspectPhotoExif(t *testing.T) {
	plain := encodeJPEG(t, scene(3, 320, 240), 80)
	for _, tc := range []struct {
		name      string
		exif      photoExif
		wantTime  time.Time
		wantZoned bool
		wantGPS   bool
		lat, lon  float64
	}{
		{
			name:     "Bogor, no offset: WIB",
			exif:     photoExif{Taken: "2026:03:14 09:30:15", Lat: -6.595038, Lon: 106.816635},
			wantTime: time.Date(2026, 3, 14, 2, 30, 15, 0, time.UTC), wantGPS: true, lat: -6.595038, lon: 106.816635,
		},
		{
			name:     "Makassar with its offset",
			exif:     photoExif{Taken: "2026:04:01 16:05:00", Offset: "+08:00", Lat: -5.147665, Lon: 119.432732},
			wantTime: time.Date(2026, 4, 1, 8, 5, 0, 0, time.UTC), wantZoned: true, wantGPS: true, lat: -5.147665, lon: 119.432732,
		},
		{
			name:     "date, no GPS",
			exif:     photoExif{Taken: "2025:12:31 23:59:59"},
			wantTime: time.Date(2025, 12, 31, 16, 59, 59, 0, time.UTC),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := withExifBlock(t, plain, tc.exif)
			f, err := InspectPhoto(t.Context(), data)
			if err != nil {
				t.Fatal(err)
			}
			if !f.TakenAt.Equal(tc.wantTime) || f.TakenAtZoned != tc.wantZoned {
				t.Errorf("TakenAt = %v (zoned %v), want %v (zoned %v)", f.TakenAt, f.TakenAtZoned, tc.wantTime, tc.wantZoned)
			}
			if f.HasGPS != tc.wantGPS {
				t.Fatalf("HasGPS = %v, want %v", f.HasGPS, tc.wantGPS)
			}
			// 1e-5 degrees is about a metre.
			if math.Abs(f.Latitude-tc.lat) > 1e-5 || math.Abs(f.Longitude-tc.lon) > 1e-5 {
				t.Errorf("position %.6f,%.6f, want %.6f,%.6f", f.Latitude, f.Longitude, tc.lat, tc.lon)
			}
			// The metadata does not change the picture's hash.
			if d := PhotoDistance(f.PHash, hashOf(t, plain)); d != 0 {
				t.Errorf("EXIF moved the hash by %d bits", d)
			}
		})
	}

	t.Run("none", func(t *testing.T) {
		f, err := InspectPhoto(t.Context(), plain)
		if err != nil {
			t.Fatal(err)
		}
		if !f.TakenAt.IsZero() || f.HasGPS || f.PHash == 0 {
			t.Errorf("facts of a photo without EXIF: %+v", f)
		}
	})

	t.Run("orientation tag hashes what people see", func(t *testing.T) {
		// Stored on its side with tag 6, and the same picture saved upright.
		upright := scene(4, 300, 400)
		onSide := unorient(upright, 6)
		a := hashOf(t, withExif(t, encodeJPEG(t, onSide, 90), 6))
		b := hashOf(t, encodeJPEG(t, upright, 90))
		if !SamePhoto(a, b) {
			t.Errorf("distance %d between a tagged and an upright copy", PhotoDistance(a, b))
		}
	})
}

func TestInspectPhotoRefuses(t *testing.T) {
	for name, data := range map[string][]byte{
		"pdf":          pdfBytes(0),
		"cut jpeg":     encodeJPEG(t, scene(5, 200, 200), 80)[:300],
		"png bomb":     pngHeader(20000, 20000),
		"empty":        nil,
		"random bytes": randomBytes(500),
	} {
		if _, err := InspectPhoto(t.Context(), data); workflow.ErrorCode(err) != workflow.EUnsupported {
			t.Errorf("%s: error %v, want %s", name, err, workflow.EUnsupported)
		}
	}
}

func hashOf(t *testing.T, data []byte) uint64 {
	t.Helper()
	f, err := InspectPhoto(t.Context(), data)
	if err != nil {
		t.Fatal(err)
	}
	return f.PHash
}

// The worker's one decoding answers what InspectPhoto and MakePreview answer
// apart: the same facts and a byte-identical preview, upright.
func TestInspectAndPreviewIsBothApart(t *testing.T) {
	plain := encodeJPEG(t, scene(4, 1600, 1200), 85)
	for name, data := range map[string][]byte{
		"jpeg":                 plain,
		"jpeg on its side (6)": withExif(t, plain, 6),
		"png":                  pngBytes(t, 640, 480),
	} {
		t.Run(name, func(t *testing.T) {
			st := localStore(t)
			mime, _ := allowed(data)
			f := tempFile(t, st, data)
			if err := st.Put(t.Context(), sha(data), f, int64(len(data)), mime); err != nil {
				t.Fatal(err)
			}
			discard(f)
			wantFacts, err := InspectPhoto(t.Context(), data)
			if err != nil {
				t.Fatal(err)
			}
			wantPrev, err := MakePreview(t.Context(), st, sha(data), mime)
			if err != nil || wantPrev == nil {
				t.Fatalf("MakePreview: %v, %v", wantPrev, err)
			}
			facts, prev, err := InspectAndPreview(t.Context(), st, data)
			if err != nil {
				t.Fatal(err)
			}
			if facts != wantFacts {
				t.Errorf("facts %+v, want %+v", facts, wantFacts)
			}
			if prev == nil || *prev != *wantPrev {
				t.Errorf("preview %+v, want %+v", prev, wantPrev)
			}
		})
	}
	t.Run("broken", func(t *testing.T) {
		facts, prev, err := InspectAndPreview(t.Context(), localStore(t), plain[:300])
		if workflow.ErrorCode(err) != workflow.EUnsupported || prev != nil || facts != (PhotoFacts{}) {
			t.Errorf("cut JPEG: %+v, %v, %v; want EUnsupported and no preview", facts, prev, err)
		}
	})
}

func localStore(t *testing.T) *Local {
	st, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}
