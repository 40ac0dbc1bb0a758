package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"

	"grantflow/internal/evidence/evidencetest"

	"grantflow/workflow"
)

func TestLocal(t *testing.T) { testStore(t, newLocal) }

func TestS3(t *testing.T) { testStore(t, newS3) }

func newLocal(t *testing.T) Store {
	st, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func newS3(t *testing.T) Store {
	st, err := NewS3(t.Context(), S3Config{
		Endpoint:  evidencetest.FakeS3(t),
		Region:    "us-east-1",
		Bucket:    "evidence",
		AccessKey: "test",
		SecretKey: "test-secret",
		Prefix:    "blobs",
		TempDir:   t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// testStore runs the behaviour every Store must share.
func testStore(t *testing.T, newStore func(*testing.T) Store) {
	t.Run("Accepts", func(t *testing.T) {
		for _, tc := range []struct {
			name, mime  string
			data        []byte
			wantPreview bool
		}{
			{"jpeg", MIMEJPEG, jpegBytes(t, 64, 48), true},
			{"png", MIMEPNG, pngBytes(t, 64, 48), true},
			{"pdf", MIMEPDF, pdfBytes(1000), false},
			{"pdf with BOM", MIMEPDF, append([]byte("\xef\xbb\xbf"), pdfBytes(10)...), false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				st := newStore(t)
				obj, err := Ingest(t.Context(), st, bytes.NewReader(tc.data), MaxFileBytes)
				if err != nil {
					t.Fatal(err)
				}
				if want := sha(tc.data); obj.SHA256 != want {
					t.Errorf("SHA256 = %s, want %s", obj.SHA256, want)
				}
				if obj.Size != int64(len(tc.data)) || obj.MIME != tc.mime {
					t.Errorf("Size, MIME = %d, %s; want %d, %s", obj.Size, obj.MIME, len(tc.data), tc.mime)
				}
				if got := readBlob(t, st, obj.SHA256); !bytes.Equal(got, tc.data) {
					t.Error("stored content differs")
				}
				if (obj.Preview != nil) != tc.wantPreview {
					t.Fatalf("Preview = %+v, want one: %v", obj.Preview, tc.wantPreview)
				}
				if p := obj.Preview; p != nil {
					b := readBlob(t, st, p.SHA256)
					if p.MIME != MIMEJPEG || p.Size != int64(len(b)) || sha(b) != p.SHA256 || p.Preview != nil {
						t.Errorf("preview %+v does not describe its blob", p)
					}
				}
				assertEmptyDir(t, st.TempDir())
			})
		}
	})

	t.Run("Refuses", func(t *testing.T) {
		st := newStore(t)
		for _, tc := range []struct {
			name string
			data []byte
		}{
			{"empty", nil},
			{"html", []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")},
			{"html renamed, leading space", []byte("  <html><head><title>x</title></head></html>")},
			{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)},
			{"elf", append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 120)...)},
			{"windows exe", append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), make([]byte, 120)...)},
			{"text", []byte("Kwitansi pembelian ATK Rp 150.000\n")},
			{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")},
			{"zip", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00")},
		} {
			_, err := Ingest(t.Context(), st, bytes.NewReader(tc.data), MaxFileBytes)
			if code := workflow.ErrorCode(err); code != workflow.EUnsupported {
				t.Errorf("%s: error %v, want code %s", tc.name, err, workflow.EUnsupported)
			}
		}
		assertNoBlobs(t, st)
		assertEmptyDir(t, st.TempDir())
	})

	t.Run("TooLarge", func(t *testing.T) {
		st := newStore(t)
		// An endless PDF: Ingest must stop reading one byte past the limit.
		r := &countingReader{r: io.MultiReader(bytes.NewReader(pdfBytes(0)), zeros{})}
		_, err := Ingest(t.Context(), st, r, MaxFileBytes)
		if code := workflow.ErrorCode(err); code != workflow.ETooLarge {
			t.Fatalf("error %v, want code %s", err, workflow.ETooLarge)
		}
		if r.n != MaxFileBytes+1 {
			t.Errorf("read %d bytes, want %d", r.n, MaxFileBytes+1)
		}
		assertNoBlobs(t, st)
		assertEmptyDir(t, st.TempDir())
	})

	t.Run("ExactlyMax", func(t *testing.T) {
		st := newStore(t)
		data := pdfBytes(MaxFileBytes - len(pdfBytes(0)))
		if len(data) != MaxFileBytes {
			t.Fatalf("fixture is %d bytes", len(data))
		}
		obj, err := Ingest(t.Context(), st, bytes.NewReader(data), MaxFileBytes)
		if err != nil {
			t.Fatal(err)
		}
		if obj.Size != MaxFileBytes || obj.SHA256 != sha(data) {
			t.Errorf("got %+v", obj)
		}
		if !bytes.Equal(readBlob(t, st, obj.SHA256), data) {
			t.Error("stored content differs")
		}
		assertEmptyDir(t, st.TempDir())
	})

	t.Run("Idempotent", func(t *testing.T) {
		st := newStore(t)
		data := jpegBytes(t, 40, 30)
		a, err := Ingest(t.Context(), st, bytes.NewReader(data), MaxFileBytes)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Ingest(t.Context(), st, bytes.NewReader(data), MaxFileBytes)
		if err != nil {
			t.Fatal(err)
		}
		if a.SHA256 != b.SHA256 || a.Preview.SHA256 != b.Preview.SHA256 {
			t.Errorf("second ingest gave %+v, first %+v", b, a)
		}
		// A direct re-Put of a stored key succeeds and changes nothing.
		f := tempFile(t, st, data)
		if err := st.Put(t.Context(), a.SHA256, f, int64(len(data)), MIMEJPEG); err != nil {
			t.Fatal(err)
		}
		if got := listKeys(t, st); !slices.Equal(got, sorted(a.SHA256, a.Preview.SHA256)) {
			t.Errorf("List = %v", got)
		}
		if !bytes.Equal(readBlob(t, st, a.SHA256), data) {
			t.Error("stored content differs")
		}
		discard(f)
		assertEmptyDir(t, st.TempDir())
	})

	t.Run("PutFromAnyOffset", func(t *testing.T) {
		st := newStore(t)
		data := pdfBytes(5000)
		f := tempFile(t, st, data) // positioned at its end
		if err := st.Put(t.Context(), sha(data), f, int64(len(data)), MIMEPDF); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readBlob(t, st, sha(data)), data) {
			t.Error("stored content differs")
		}
	})

	t.Run("PreviewDropsExifAndTurnsUpright", func(t *testing.T) {
		st := newStore(t)
		// Orientation 6: the camera was held upright; the pixels lie on their side.
		data := withExif(t, jpegBytes(t, 1400, 700), 6)
		obj, err := Ingest(t.Context(), st, bytes.NewReader(data), MaxFileBytes)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(readBlob(t, st, obj.SHA256), []byte("Exif")) {
			t.Fatal("the original should keep its EXIF; the fixture is wrong")
		}
		if obj.Preview == nil {
			t.Fatal("no preview")
		}
		p := readBlob(t, st, obj.Preview.SHA256)
		if bytes.Contains(p, []byte("Exif")) || bytes.Contains(p, []byte("GPS")) {
			t.Error("preview carries EXIF")
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Width != 640 || cfg.Height != 1280 {
			t.Errorf("preview is %dx%d, want 640x1280", cfg.Width, cfg.Height)
		}
	})

	t.Run("PreviewFits", func(t *testing.T) {
		st := newStore(t)
		for _, tc := range []struct {
			name         string
			data         []byte
			wantW, wantH int
		}{
			{"wide png", pngBytes(t, 1400, 600), 1280, 548},
			{"tall jpeg", jpegBytes(t, 640, 1300), 630, 1280},
			{"small jpeg", jpegBytes(t, 300, 200), 300, 200},
		} {
			obj, err := Ingest(t.Context(), st, bytes.NewReader(tc.data), MaxFileBytes)
			if err != nil {
				t.Fatal(err)
			}
			if obj.Preview == nil {
				t.Fatalf("%s: no preview", tc.name)
			}
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(readBlob(t, st, obj.Preview.SHA256)))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Width != tc.wantW || cfg.Height != tc.wantH {
				t.Errorf("%s: preview %dx%d, want %dx%d", tc.name, cfg.Width, cfg.Height, tc.wantW, tc.wantH)
			}
		}
	})

	// Ingest now refuses such files (RefusesUndecodable); blobs stored before
	// it did, put here directly, still get no preview and no error.
	t.Run("NoPreviewForHugeOrBrokenImages", func(t *testing.T) {
		st := newStore(t)
		for name, data := range map[string][]byte{
			"50 megapixels": pngHeader(10000, 5000),
			"broken jpeg":   []byte("\xff\xd8\xff\xe0 not really a jpeg"),
		} {
			mime, _ := allowed(data)
			f := tempFile(t, st, data)
			if err := st.Put(t.Context(), sha(data), f, int64(len(data)), mime); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			discard(f)
			p, err := MakePreview(t.Context(), st, sha(data), mime)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if p != nil {
				t.Errorf("%s: got a preview", name)
			}
		}
		assertEmptyDir(t, st.TempDir())
	})

	t.Run("RefusesUndecodable", func(t *testing.T) {
		st := newStore(t)
		jpg := jpegBytes(t, 320, 240)
		for _, tc := range []struct {
			name, mime string // mime: what the sniff sees, so the refusal is the decoder's
			data       []byte
		}{
			{"jpeg header then html", MIMEJPEG, append(slices.Clone(jpg[:20]), "<html><body><script>alert(1)</script></body></html>"...)},
			{"jpeg cut after 300 bytes", MIMEJPEG, jpg[:300]},
			{"png signature then random bytes", MIMEPNG, append([]byte("\x89PNG\r\n\x1a\n"), randomBytes(4096)...)},
			{"pdf header then html", MIMEPDF, []byte("%PDF-1.4\n<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n")},
			{"pdf cut in half", MIMEPDF, pdfBytes(0)[:len(pdfBytes(0))/2]},
			// pdfcpu in relaxed mode rebuilds a missing cross-reference
			// table: these were accepted until pdfEnds.
			{"pdf cut after 200 bytes", MIMEPDF, pdfBytes(0)[:200]},
			{"pdf without its xref and trailer", MIMEPDF, pdfBytes(0)[:bytes.LastIndex(pdfBytes(0), []byte("xref"))]},
			{"pdf without a page", MIMEPDF, pdfWithoutPages()},
			{"png declaring 20000x20000", MIMEPNG, pngHeader(20000, 20000)},
			{"png cut before its end", MIMEPNG, pngBytes(t, 64, 48)[:200]},
		} {
			if got, _ := allowed(tc.data); got != tc.mime {
				t.Fatalf("%s: sniffed as %q, want %q; the fixture is wrong", tc.name, got, tc.mime)
			}
			_, err := Ingest(t.Context(), st, bytes.NewReader(tc.data), MaxFileBytes)
			if code := workflow.ErrorCode(err); code != workflow.EUnsupported {
				t.Errorf("%s: error %v, want code %s", tc.name, err, workflow.EUnsupported)
				continue
			}
			var we *workflow.Error
			if !errors.As(err, &we) || !strings.HasPrefix(we.Message, msgCorrupt) {
				t.Errorf("%s: message of %v, want it to start %q", tc.name, err, msgCorrupt)
			}
			if bomb := strings.Contains(tc.name, "20000"); bomb != strings.Contains(err.Error(), "megapiksel") {
				t.Errorf("%s: %v; want the pixel limit named: %v", tc.name, err, bomb)
			}
		}
		assertNoBlobs(t, st)
		assertEmptyDir(t, st.TempDir())
	})

	t.Run("AcceptsRealWorldPDFs", func(t *testing.T) {
		st := newStore(t)
		for name, data := range map[string][]byte{
			"made by pdfcpu":     pdfFromImage(t),
			"incremental update": pdfWithUpdate(),
		} {
			obj, err := Ingest(t.Context(), st, bytes.NewReader(data), MaxFileBytes)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if obj.MIME != MIMEPDF || !bytes.Equal(readBlob(t, st, obj.SHA256), data) {
				t.Errorf("%s: stored %+v", name, obj)
			}
		}
		assertEmptyDir(t, st.TempDir())
	})

	t.Run("ConcurrentPreviews", func(t *testing.T) {
		st := newStore(t)
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			data := pngBytes(t, 300+i, 200)
			wg.Go(func() {
				_, errs[i] = Ingest(t.Context(), st, bytes.NewReader(data), MaxFileBytes)
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if n := len(listKeys(t, st)); n != 12 {
			t.Errorf("%d blobs, want 12", n)
		}
		assertEmptyDir(t, st.TempDir())
	})

	t.Run("ListDelete", func(t *testing.T) {
		st := newStore(t)
		var keys []string
		for i := range 3 {
			obj, err := Ingest(t.Context(), st, bytes.NewReader(pdfBytes(i)), MaxFileBytes)
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, obj.SHA256)
		}
		before := time.Now().Add(-time.Hour)
		if err := st.List(t.Context(), func(key string, mod time.Time) error {
			if mod.Before(before) || mod.After(time.Now().Add(time.Hour)) {
				t.Errorf("%s: modTime %v", key, mod)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got := listKeys(t, st); !slices.Equal(got, sorted(keys...)) {
			t.Errorf("List = %v, want %v", got, sorted(keys...))
		}

		if err := st.Delete(t.Context(), keys[1]); err != nil {
			t.Fatal(err)
		}
		if err := st.Delete(t.Context(), keys[1]); err != nil {
			t.Errorf("second Delete: %v", err)
		}
		if ok, err := st.Exists(t.Context(), keys[1]); err != nil || ok {
			t.Errorf("Exists after Delete = %v, %v", ok, err)
		}
		if ok, err := st.Exists(t.Context(), keys[0]); err != nil || !ok {
			t.Errorf("Exists = %v, %v", ok, err)
		}
		if _, err := st.Open(t.Context(), keys[1]); workflow.ErrorCode(err) != workflow.ENotFound {
			t.Errorf("Open after Delete: %v, want not_found", err)
		}
		if got := listKeys(t, st); !slices.Equal(got, sorted(keys[0], keys[2])) {
			t.Errorf("List = %v", got)
		}

		stop := errors.New("stop")
		calls := 0
		err := st.List(t.Context(), func(string, time.Time) error { calls++; return stop })
		if err != stop || calls != 1 {
			t.Errorf("List with failing fn: %v after %d calls, want stop after 1", err, calls)
		}
	})

	t.Run("Keys", func(t *testing.T) {
		st := newStore(t)
		if _, err := st.Open(t.Context(), sha([]byte("nothing"))); workflow.ErrorCode(err) != workflow.ENotFound {
			t.Errorf("Open missing: %v, want not_found", err)
		}
		for _, key := range []string{"", "../../etc/passwd", strings.ToUpper(sha(nil)), sha(nil)[:63], sha(nil) + "0", "kwitansi.pdf"} {
			if _, err := st.Open(t.Context(), key); workflow.ErrorCode(err) != workflow.EInvalid {
				t.Errorf("Open(%q): %v, want invalid", key, err)
			}
			if _, err := st.Exists(t.Context(), key); workflow.ErrorCode(err) != workflow.EInvalid {
				t.Errorf("Exists(%q): %v, want invalid", key, err)
			}
			if err := st.Delete(t.Context(), key); workflow.ErrorCode(err) != workflow.EInvalid {
				t.Errorf("Delete(%q): %v, want invalid", key, err)
			}
		}
	})

	t.Run("Cancelled", func(t *testing.T) {
		st := newStore(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := Ingest(ctx, st, bytes.NewReader(pdfBytes(10)), MaxFileBytes); !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		assertEmptyDir(t, st.TempDir())
	})
}

func TestLocalLayout(t *testing.T) {
	dir := t.TempDir()
	st, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := pdfBytes(100)
	obj, err := Ingest(t.Context(), st, bytes.NewReader(data), MaxFileBytes)
	if err != nil {
		t.Fatal(err)
	}
	k := obj.SHA256
	fi, err := os.Stat(filepath.Join(dir, "blobs", k[:2], k[2:4], k))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("blob mode %v, want 0640", fi.Mode().Perm())
	}
	for _, d := range []string{"blobs", "tmp", filepath.Join("blobs", k[:2]), filepath.Join("blobs", k[:2], k[2:4])} {
		fi, err := os.Stat(filepath.Join(dir, d))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&^0o750 != 0 {
			t.Errorf("%s mode %v, want at most 0750", d, fi.Mode().Perm())
		}
	}
	// Stray files are not blobs and are not listed.
	if err := os.WriteFile(filepath.Join(dir, "blobs", k[:2], "stray"), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "blobs", k), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if got := listKeys(t, st); !slices.Equal(got, []string{k}) {
		t.Errorf("List = %v", got)
	}
}

func TestJPEGOrientation(t *testing.T) {
	plain := jpegBytes(t, 8, 8)
	for o := 1; o <= 8; o++ {
		if got := jpegOrientation(bytes.NewReader(withExif(t, plain, o))); got != o {
			t.Errorf("orientation %d read as %d", o, got)
		}
	}
	if got := jpegOrientation(bytes.NewReader(plain)); got != 1 {
		t.Errorf("no EXIF read as %d", got)
	}
	// Each orientation must bring the marked top-left corner of the upright
	// picture back to the top left.
	for o := 1; o <= 8; o++ {
		upright := image.NewRGBA(image.Rect(0, 0, 3, 2))
		upright.Set(0, 0, color.RGBA{255, 0, 0, 255})
		stored := unorient(upright, o)
		got := orient(stored, o)
		if got.Bounds() != upright.Bounds() || !bytes.Equal(got.Pix, upright.Pix) {
			t.Errorf("orientation %d not undone", o)
		}
	}
}

// unorient is the inverse of orient, written independently: it lays an
// upright picture down the way a camera with orientation o stores it.
func unorient(m *image.RGBA, o int) *image.RGBA {
	w, h := m.Bounds().Dx(), m.Bounds().Dy()
	at := map[int]func(x, y int) (int, int){ // stored pixel (x, y) shows upright pixel ...
		1: func(x, y int) (int, int) { return x, y },
		2: func(x, y int) (int, int) { return w - 1 - x, y },
		3: func(x, y int) (int, int) { return w - 1 - x, h - 1 - y },
		4: func(x, y int) (int, int) { return x, h - 1 - y },
		5: func(x, y int) (int, int) { return y, x },
		6: func(x, y int) (int, int) { return w - 1 - y, x },
		7: func(x, y int) (int, int) { return w - 1 - y, h - 1 - x },
		8: func(x, y int) (int, int) { return y, h - 1 - x },
	}[o]
	sw, sh := w, h
	if o >= 5 {
		sw, sh = h, w
	}
	s := image.NewRGBA(image.Rect(0, 0, sw, sh))
	for y := range sh {
		for x := range sw {
			ux, uy := at(x, y)
			s.Set(x, y, m.At(ux, uy))
		}
	}
	return s
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

func readBlob(t *testing.T, st Store, key string) []byte {
	t.Helper()
	rc, err := st.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func listKeys(t *testing.T, st Store) []string {
	t.Helper()
	var keys []string
	if err := st.List(t.Context(), func(key string, _ time.Time) error {
		keys = append(keys, key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

func assertNoBlobs(t *testing.T, st Store) {
	t.Helper()
	if keys := listKeys(t, st); len(keys) != 0 {
		t.Errorf("blobs left behind: %v", keys)
	}
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left behind in %s: %s", dir, e.Name())
	}
}

// tempFile writes data to a temporary file in st's TempDir, left open at its end.
func tempFile(t *testing.T, st Store, data []byte) *os.File {
	t.Helper()
	f, err := os.CreateTemp(st.TempDir(), "test-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { discard(f) })
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	return f
}

// pdfBytes is a valid one-page PDF of exactly len(pdfBytes(0))+pad bytes:
// the padding is blank lines after the header, and the cross-reference
// offsets are fixed-width, so its length grows by pad alone.
func pdfBytes(pad int) []byte {
	b, _ := pdfDoc(pad)
	return b
}

// pdfWithoutPages is a well-formed PDF whose page tree is empty: nothing a
// receipt could show.
func pdfWithoutPages() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [] /Count 0 >>"}
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// pdfDoc writes a classic PDF 1.4 (cross-reference table, no streams
// compressed) with pad blank lines after the header; it returns the file
// and the offset of its cross-reference table, which an incremental update
// names as /Prev.
func pdfDoc(pad int) ([]byte, int) {
	return evidencetest.PDF(append([]byte("%\xe2\xe3\xcf\xd3\n"), bytes.Repeat([]byte{'\n'}, pad)...))
}

// pdfWithUpdate appends an incremental update to pdfDoc(0), as a signing or
// annotating app does: a new version of the page (object 3) and a new Info
// dictionary (object 6), with a second cross-reference section and a
// trailer whose /Prev points to the first.
func pdfWithUpdate() []byte {
	b, prev := pdfDoc(0)
	off3 := len(b)
	b = append(b, "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Rotate 90 /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>\nendobj\n"...)
	off6 := len(b)
	b = append(b, "6 0 obj\n<< /Producer (Aplikasi Pemindai 2.1) /ModDate (D:20260301120000+07'00') >>\nendobj\n"...)
	xref := len(b)
	b = fmt.Appendf(b, "xref\n0 1\n0000000000 65535 f \n3 1\n%010d 00000 n \n6 1\n%010d 00000 n \n", off3, off6)
	b = fmt.Appendf(b, "trailer\n<< /Size 7 /Root 1 0 R /Info 6 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", prev, xref)
	return b
}

// pdfFromImage is a PDF written by pdfcpu itself around a JPEG, the way a
// phone's scanner app makes one: PDF 1.7 with object and xref streams.
func pdfFromImage(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := api.ImportImages(nil, &b, []io.Reader{bytes.NewReader(jpegBytes(t, 200, 300))}, api.DefaultImportConfig(), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func testImage(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), uint8(x + y), uint8(128 + x%128)})
		}
	}
	return m
}

func jpegBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	return encodeJPEG(t, testImage(w, h), 70)
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	return pngOf(t, testImage(w, h))
}

// pngOf encodes m as a PNG, fast rather than small.
func pngOf(t *testing.T, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngHeader is a PNG that claims w×h pixels but has no image data: enough
// for DecodeConfig, which is all a bomb needs to be refused.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		td := append([]byte(typ), data...)
		b = append(b, td...)
		b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(td))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return b
}

// withExif inserts after SOI an APP1 Exif segment holding an orientation tag
// and a GPS IFD pointer, as a phone camera would.
func withExif(t *testing.T, jpg []byte, orientation int) []byte {
	t.Helper()
	if !bytes.HasPrefix(jpg, []byte{0xFF, 0xD8}) {
		t.Fatal("not a JPEG")
	}
	le := binary.LittleEndian
	tiff := []byte("II")
	tiff = le.AppendUint16(tiff, 42)
	tiff = le.AppendUint32(tiff, 8) // IFD0 right after the header
	tiff = le.AppendUint16(tiff, 2) // two entries
	tiff = le.AppendUint16(tiff, 0x0112)
	tiff = le.AppendUint16(tiff, 3) // SHORT
	tiff = le.AppendUint32(tiff, 1)
	tiff = le.AppendUint16(tiff, uint16(orientation))
	tiff = le.AppendUint16(tiff, 0)
	tiff = le.AppendUint16(tiff, 0x8825) // GPS IFD pointer
	tiff = le.AppendUint16(tiff, 4)      // LONG
	tiff = le.AppendUint32(tiff, 1)
	tiff = le.AppendUint32(tiff, 0)
	tiff = le.AppendUint32(tiff, 0) // no next IFD
	tiff = append(tiff, "GPS -6.2088,106.8456"...)
	seg := append([]byte("Exif\x00\x00"), tiff...)

	out := []byte{0xFF, 0xD8, 0xFF, 0xE1}
	out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// randomBytes returns n bytes from a fixed seed, so a failure reproduces.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Storing a file that is already there makes it young again, so that the
// garbage collector's grace protects the row about to point to it.
func TestLocalPutRenewsExistingFile(t *testing.T) {
	st, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pdf := pdfBytes(3)
	obj, err := Ingest(ctx, st, bytes.NewReader(pdf), 0)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(st.path(obj.SHA256), old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := Ingest(ctx, st, bytes.NewReader(pdf), 0); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(st.path(obj.SHA256))
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(fi.ModTime()) > time.Hour {
		t.Fatalf("re-stored file keeps its old time %v", fi.ModTime())
	}
}

// The generated photos live in evidencetest, shared with the grants tests and
// cmd/bench; these names keep this package's tests reading as before.
func scene(seed uint64, w, h int) *image.RGBA              { return evidencetest.Scene(seed, w, h) }
func grain(m *image.RGBA, amp int, seed uint64)            { evidencetest.Grain(m, amp, seed) }
func encodeJPEG(t testing.TB, m image.Image, q int) []byte { return evidencetest.EncodeJPEG(t, m, q) }
func resized(m image.Image, w, h int) *image.RGBA          { return evidencetest.Resized(m, w, h) }
func cropped(m *image.RGBA, frac float64) *image.RGBA      { return evidencetest.Cropped(m, frac) }

type photoExif = evidencetest.Exif

func withExifBlock(t testing.TB, jpg []byte, e photoExif) []byte {
	return evidencetest.WithExif(t, jpg, e)
}
