package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"

	"grantflow/internal/evidence/evidencetest"
)

// uploadSeq makes every uploaded file unique across the run, so that each
// upload is stored and (for images) previewed anew instead of hitting the
// content-addressed store's "already present" shortcut.
var uploadSeq atomic.Uint64

// payload is a file the bench uploads: head, then a per-upload tag, then
// tail. head and tail are shared read-only by every client, so the client
// side holds one copy however many uploads are in flight.
type payload struct {
	label    string // for the table, e.g. "2.0 MB JPEG 2400×1800"
	mime     string
	filename string
	head     []byte
	tail     []byte
	tag      func(n uint64) []byte // unique bytes that keep the file valid
}

// size returns the bytes of one upload of p.
func (p payload) size() int64 { return int64(len(p.head) + len(p.tag(0)) + len(p.tail)) }

// file returns a reader of the n-th unique copy of p.
func (p payload) file(n uint64) io.Reader {
	return io.MultiReader(bytes.NewReader(p.head), bytes.NewReader(p.tag(n)), bytes.NewReader(p.tail))
}

// jpegPayload returns a real JPEG of about target bytes: a w×h photo-like
// image (gradient plus grain) whose grain is tuned until the encoding lands
// within 5 % of target. Each upload gets a distinct COM segment after SOI.
func jpegPayload(target, w, h int) payload {
	var best []byte
	lo, hi := 1, 96
	for range 8 {
		grain := (lo + hi) / 2
		b := encodeJPEG(w, h, grain)
		if best == nil || abs(len(b)-target) < abs(len(best)-target) {
			best = b
		}
		if abs(len(b)-target) <= target/20 {
			break
		}
		if len(b) < target {
			lo = grain + 1
		} else {
			hi = grain - 1
		}
		if lo > hi {
			break
		}
	}
	return payload{
		label: fmt.Sprintf("%.1f MB JPEG %d×%d", float64(len(best))/1e6, w, h),
		mime:  "image/jpeg", filename: "nota.jpg",
		head: best[:2], tail: best[2:], // SOI | COM tag | rest
		tag: func(n uint64) []byte {
			text := fmt.Appendf(nil, "bench upload %016d", n)
			return append([]byte{0xFF, 0xFE, 0, byte(len(text) + 2)}, text...)
		},
	}
}

// encodeJPEG is evidencetest.Gradient(w, h, grain) at quality 90; more
// grain makes a larger file.
func encodeJPEG(w, h, grain int) []byte {
	return evidencetest.Encode(evidencetest.Gradient(w, h, grain), 90)
}

// pdfPayload returns a valid PDF of about size bytes: evidencetest.PDF's
// one page behind comment lines of padding (the store parses PDFs whole, so
// a header alone is refused). The per-upload tag is a comment right after the
// header, of fixed length, so the cross-reference offsets hold for every copy.
// PDFs get no preview, so uploading one costs transfer, checks and storage.
func pdfPayload(size int) payload {
	tag := func(n uint64) []byte { return fmt.Appendf(nil, "%%bench upload %016d\n", n) }
	b, _ := evidencetest.PDF(append(tag(0), evidencetest.Padding(max(size-800, 0), uint64(size))...))
	head := len("%PDF-1.4\n")
	return payload{label: fmt.Sprintf("%g MB PDF", float64(size)/1e6), mime: "application/pdf", filename: "nota.pdf",
		head: b[:head], tail: b[head+len(tag(0)):], tag: tag}
}

// scanPayload returns the PDF a phone's scanner app makes of the photo
// jpg: one page that is the JPEG, so nearly all of the file is binary image
// data, as in the scanned receipts treasurers upload (pdfPayload's text
// padding has no CR byte in 2 MB, the worst case of mime/multipart's search
// for the boundary, which no scan comes near). The tag is a comment right
// after the header, as in pdfPayload.
func scanPayload(jpg payload, w, h int) payload {
	tag := func(n uint64) []byte { return fmt.Appendf(nil, "%%bench upload %016d\n", n) }
	b, _ := evidencetest.ScanPDF(tag(0), append(append([]byte{}, jpg.head...), jpg.tail...), w, h)
	head := len("%PDF-1.4\n")
	return payload{label: fmt.Sprintf("%.1f MB PDF (scanned page)", float64(len(b))/1e6), mime: "application/pdf", filename: "nota.pdf",
		head: b[:head], tail: b[head+len(tag(0)):], tag: tag}
}

// multipartBody returns the expense form with the n-th copy of p as the
// receipt, and its content type and length. Fields come before the file, as
// browsers send them.
func multipartBody(p payload, n uint64, fields [][2]string) (io.Reader, string, int64) {
	const boundary = "grantflowbenchboundary7MA4YWxkTrZu0gW"
	var pre bytes.Buffer
	for _, f := range fields {
		fmt.Fprintf(&pre, "--%s\r\nContent-Disposition: form-data; name=%q\r\n\r\n%s\r\n", boundary, f[0], f[1])
	}
	fmt.Fprintf(&pre, "--%s\r\nContent-Disposition: form-data; name=\"receipt\"; filename=%q\r\nContent-Type: %s\r\n\r\n",
		boundary, p.filename, p.mime)
	post := "\r\n--" + boundary + "--\r\n"
	length := int64(pre.Len()) + p.size() + int64(len(post))
	return io.MultiReader(&pre, p.file(n), bytes.NewReader([]byte(post))), "multipart/form-data; boundary=" + boundary, length
}

// writeHashed is baseline C's unit of work, what storing an upload costs at
// the least: copy the n-th copy of p into a new file in dir while hashing it
// with SHA-256, fsync it, and rename it to its hash. It returns the bytes written.
func writeHashed(dir string, p payload, n uint64, buf []byte) (int64, error) {
	f, err := os.CreateTemp(dir, "upload-*")
	if err != nil {
		return 0, err
	}
	h := sha256.New()
	written, err := io.CopyBuffer(io.MultiWriter(f, h), p.file(n), buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, hex.EncodeToString(h.Sum(nil))))
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return written, err
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
