// Package evidencetest makes the generated files that tests and benchmarks of
// evidence share: photos of one meeting room, the edits a messaging app
// makes (resize, recompression, crop), EXIF blocks as phones write them, and
// whole PDFs. It is imported by tests and cmd/bench only.
package evidencetest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	exif "github.com/dsoprea/go-exif/v3"
	exifcommon "github.com/dsoprea/go-exif/v3/common"
	"github.com/go-pdf/fpdf"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	xdraw "golang.org/x/image/draw"
)

// Scene draws a generated "photo" of one meeting room, w×h pixels: the same
// wall, floor, window and palette whatever the seed, with the tables, chairs
// and people placed, sized and coloured by seed, plus sensor-like noise.
// Two seeds are two different photos taken in the same room.
func Scene(seed uint64, w, h int) *image.RGBA {
	r := rand.New(rand.NewPCG(seed, 7))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	fill := func(x0, y0, x1, y1 float64, c color.RGBA) { // fractions of the frame
		draw.Draw(m, image.Rect(int(x0*float64(w)), int(y0*float64(h)), int(x1*float64(w)), int(y1*float64(h))),
			&image.Uniform{c}, image.Point{}, draw.Src)
	}
	fill(0, 0, 1, 0.62, color.RGBA{226, 216, 190, 255})          // wall
	fill(0, 0.62, 1, 1, color.RGBA{150, 110, 80, 255})           // floor
	fill(0.62, 0.10, 0.92, 0.42, color.RGBA{170, 200, 230, 255}) // window
	palette := []color.RGBA{{60, 60, 140, 255}, {200, 60, 50, 255}, {40, 120, 60, 255}, {240, 240, 240, 255}, {30, 30, 30, 255}}
	for range 4 + r.IntN(4) {
		x, y := r.Float64()*0.8, 0.3+r.Float64()*0.55
		fill(x, y, x+0.08+r.Float64()*0.25, y+0.06+r.Float64()*0.2, palette[r.IntN(len(palette))])
	}
	Grain(m, 6, seed)
	return m
}

// Grain adds uniform noise of ±amp to every colour channel of m, like a
// phone sensor's; more grain makes a larger JPEG.
func Grain(m *image.RGBA, amp int, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 11))
	for i := range m.Pix {
		if i%4 != 3 {
			m.Pix[i] = uint8(max(0, min(255, int(m.Pix[i])+r.IntN(2*amp+1)-amp)))
		}
	}
}

// EncodeJPEG encodes m at quality q.
func EncodeJPEG(t testing.TB, m image.Image, q int) []byte {
	t.Helper()
	return Encode(m, q)
}

// Encode is EncodeJPEG for callers without a test (the benchmark).
func Encode(m image.Image, q int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: q}); err != nil {
		panic(err) // encoding into memory cannot fail
	}
	return b.Bytes()
}

// Gradient draws a w×h grey-ish gradient with uniform grain of ±grain and
// slightly tinted chroma, the benchmark's photo: more grain makes a larger
// JPEG, so a caller can tune a file to a size.
func Gradient(w, h, grain int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	r := rand.New(rand.NewPCG(1, uint64(grain)))
	for y := range h {
		for x := range w {
			v := 128 + x*97/w - y*61/h + r.IntN(2*grain+1) - grain
			img.Y[y*img.YStride+x] = uint8(min(max(v, 0), 255))
		}
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = uint8(120+r.IntN(16)), uint8(120+r.IntN(16))
	}
	return img
}

// Resized scales m to w×h, as a messaging app does before sending a photo.
func Resized(m image.Image, w, h int) *image.RGBA {
	d := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.ApproxBiLinear.Scale(d, d.Bounds(), m, m.Bounds(), xdraw.Src, nil)
	return d
}

// Cropped cuts frac of the width off the left and of the height off the top.
func Cropped(m *image.RGBA, frac float64) *image.RGBA {
	b := m.Bounds()
	return m.SubImage(image.Rect(int(frac*float64(b.Dx())), int(frac*float64(b.Dy())), b.Dx(), b.Dy())).(*image.RGBA)
}

// Exif is what a phone camera records, for withExifBlock.
type Exif struct {
	Taken, Offset string  // "2006:01:02 15:04:05", "+08:00" or ""
	Lat, Lon      float64 // decimal degrees; both 0 for no GPS block
}

// WithExif inserts after SOI an APP1 segment built with go-exif's
// IfdBuilder, holding DateTimeOriginal (and OffsetTimeOriginal) and a GPS
// block in degrees, minutes and seconds as cameras write it.
func WithExif(t testing.TB, jpg []byte, e Exif) []byte {
	t.Helper()
	im, err := exifcommon.NewIfdMappingWithStandard()
	if err != nil {
		t.Fatal(err)
	}
	root := exif.NewIfdBuilder(im, exif.NewTagIndex(), exifcommon.IfdStandardIfdIdentity, binary.BigEndian)
	set := func(ib *exif.IfdBuilder, name string, v any) {
		t.Helper()
		if err := ib.SetStandardWithName(name, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	set(root, "Make", "Samsung")
	exifIb, err := exif.GetOrCreateIbFromRootIb(root, "IFD/Exif")
	if err != nil {
		t.Fatal(err)
	}
	set(exifIb, "DateTimeOriginal", e.Taken)
	if e.Offset != "" {
		set(exifIb, "OffsetTimeOriginal", e.Offset)
	}
	if e.Lat != 0 || e.Lon != 0 {
		gps, err := exif.GetOrCreateIbFromRootIb(root, "IFD/GPSInfo")
		if err != nil {
			t.Fatal(err)
		}
		dms := func(d float64) []exifcommon.Rational {
			d = math.Abs(d)
			deg := math.Floor(d)
			mins := math.Floor((d - deg) * 60)
			secs := ((d-deg)*60 - mins) * 60
			return []exifcommon.Rational{{Numerator: uint32(deg), Denominator: 1}, {Numerator: uint32(mins), Denominator: 1}, {Numerator: uint32(math.Round(secs * 10000)), Denominator: 10000}}
		}
		ref := func(d float64, pos, neg string) string {
			if d < 0 {
				return neg
			}
			return pos
		}
		set(gps, "GPSVersionID", []byte{2, 2, 0, 0})
		set(gps, "GPSLatitudeRef", ref(e.Lat, "N", "S"))
		set(gps, "GPSLatitude", dms(e.Lat))
		set(gps, "GPSLongitudeRef", ref(e.Lon, "E", "W"))
		set(gps, "GPSLongitude", dms(e.Lon))
	}
	block, err := exif.NewIfdByteEncoder().EncodeToExif(root)
	if err != nil {
		t.Fatal(err)
	}
	seg := append([]byte("Exif\x00\x00"), block...)
	out := []byte{0xFF, 0xD8, 0xFF, 0xE1}
	out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// PDF returns a whole one-page PDF ("Kwitansi") with prefix placed right
// after the "%PDF-1.4" header line, and the offset of its cross-reference
// table. prefix must be comment lines or blank lines (a binary marker, or
// padding to make the file as large as a test needs); the offsets count it.
func PDF(prefix []byte) ([]byte, int) {
	content := "BT /F1 12 Tf 72 720 Td (Kwitansi) Tj ET"
	return pdfOf(prefix, [][]byte{
		[]byte("<< /Type /Catalog /Pages 2 0 R >>"),
		[]byte("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
		[]byte("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"),
		fmt.Appendf(nil, "<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		[]byte("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"),
	})
}

// ScanPDF returns a one-page A4 PDF whose page is the w×h JPEG jpg, the way
// a phone's scanner app saves a photographed receipt (nearly all of the
// file is the image's binary stream), with prefix placed as in PDF.
func ScanPDF(prefix, jpg []byte, w, h int) ([]byte, int) {
	content := "q 595 0 0 842 0 0 cm /Im1 Do Q"
	img := fmt.Appendf(nil, "<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "+
		"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n", w, h, len(jpg))
	img = append(append(img, jpg...), "\nendstream"...)
	return pdfOf(prefix, [][]byte{
		[]byte("<< /Type /Catalog /Pages 2 0 R >>"),
		[]byte("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
		[]byte("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >> >> >>"),
		fmt.Appendf(nil, "<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		img,
	})
}

// pdfOf writes the header, prefix, the numbered objects, the
// cross-reference table and the trailer, and returns the file and the
// table's offset.
func pdfOf(prefix []byte, objs [][]byte) ([]byte, int) {
	b := append([]byte("%PDF-1.4\n"), prefix...)
	var offs []int
	for i, o := range objs {
		offs = append(offs, len(b))
		b = fmt.Appendf(b, "%d 0 obj\n", i+1)
		b = append(append(b, o...), "\nendobj\n"...)
	}
	xref := len(b)
	b = fmt.Appendf(b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offs {
		b = fmt.Appendf(b, "%010d 00000 n \n", off)
	}
	b = fmt.Appendf(b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%010d\n%%%%EOF\n", len(objs)+1, xref)
	return b, xref
}

// Tiny returns a w×h image whose pixels depend on seed, so that different
// seeds give different files (and SHA-256s); it is the receipt or photo of
// tests that only need a valid, distinct image, not a realistic one.
func Tiny(seed, w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetRGBA(x, y, color.RGBA{uint8(seed*37 + x*20), uint8(seed*11 + y*30), uint8(seed >> 8), 255})
		}
	}
	return m
}

// PNG returns Tiny(seed, w, h) encoded as PNG.
func PNG(t testing.TB, seed, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, Tiny(seed, w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// JPEG returns Tiny(seed, w, h) encoded as JPEG at quality 90.
func JPEG(t testing.TB, seed, w, h int) []byte {
	t.Helper()
	return EncodeJPEG(t, Tiny(seed, w, h), 90)
}

// NotePDF is PDF with note as a comment line, so that different notes give
// different files.
func NotePDF(note string) []byte {
	b, _ := PDF([]byte("% " + note + "\n"))
	return b
}

// FakeS3 serves an in-memory S3-compatible API (gofakes3) until t ends and
// returns its host:port, the Endpoint of an evidence.S3Config.
func FakeS3(t testing.TB) string {
	t.Helper()
	faker := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog()))
	ts := httptest.NewServer(faker.Server())
	t.Cleanup(ts.Close)
	u, err := url.Parse(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// sheetDate is the creation date of every Sheet, so that one text gives
// one file (and one SHA-256) on every run.
var sheetDate = time.Date(2026, 3, 10, 3, 0, 0, 0, time.UTC)

// Sheet returns a real one-page A4 PDF made with fpdf, the way an attendance
// sheet or minutes are scanned to PDF: title, then lines numbered signature
// rows. Different titles give different files.
func Sheet(title string, lines int) []byte {
	p := fpdf.New("P", "mm", "A4", "")
	p.SetCreationDate(sheetDate)
	p.SetCatalogSort(true)
	p.AddPage()
	p.SetFont("Helvetica", "", 11)
	p.Cell(0, 8, title)
	for i := range lines {
		p.Ln(7)
		p.Cell(0, 7, fmt.Sprintf("%2d. Anggota %d ........................ (tanda tangan)", i+1, i+1))
	}
	var b bytes.Buffer
	if err := p.Output(&b); err != nil {
		panic(err) // writing into memory cannot fail
	}
	return b.Bytes()
}

// Padding returns comment lines of pseudo-random letters and digits, about
// n bytes in all (seeded, so the same on every run), to pass as PDF's
// prefix when a PDF must be large.
func Padding(n int, seed uint64) []byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	r := rand.New(rand.NewPCG(seed, 13))
	out := make([]byte, 0, n+80)
	for len(out) < n {
		out = append(out, '%')
		for range 78 {
			out = append(out, alphabet[r.IntN(len(alphabet))])
		}
		out = append(out, '\n')
	}
	return out
}
