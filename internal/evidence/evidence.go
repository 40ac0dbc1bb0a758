// Package evidence stores the files that prove a grant's activities
// (receipts, attendance sheets, photos, minutes) by the SHA-256 of their
// content, in a local directory or an S3-compatible bucket, and admits only
// JPEG, PNG and PDF, detected from the bytes rather than the name.
package evidence

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/gabriel-vasile/mimetype"

	"grantflow/workflow"
)

// MaxFileBytes is the largest evidence file accepted (SPEC §5).
const MaxFileBytes = 10 << 20

// The MIME types Ingest accepts; everything else is refused with EUnsupported.
const (
	MIMEJPEG = "image/jpeg"
	MIMEPNG  = "image/png"
	MIMEPDF  = "application/pdf"
)

// sniffBytes is how much of the head mimetype looks at (its default limit).
const sniffBytes = 4096

// Store is a content-addressed blob store. Keys are the lowercase hex SHA-256
// of the content; a store never sees a client's file name.
type Store interface {
	// Put makes the finished local file f (already hashed and fsynced, at any
	// offset) durable under key. It is idempotent: a key already present is
	// left as it is. The caller still closes f and removes its path, which may
	// no longer exist (the local store renames it into place). It returns an
	// EInvalid *workflow.Error for a malformed key and an EInternal one when
	// the file cannot be stored.
	Put(ctx context.Context, key string, f *os.File, size int64, mime string) error
	// Open returns the content stored under key; it returns an ENotFound
	// *workflow.Error when there is none, EInvalid for a malformed key and
	// EInternal when the store cannot be read.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Exists reports whether key is stored; it returns an EInternal error when
	// the store cannot be asked and EInvalid for a malformed key.
	Exists(ctx context.Context, key string) (bool, error)
	// Delete removes key; deleting a missing key is not an error, so the
	// garbage collector may repeat itself. It returns EInvalid for a malformed
	// key and EInternal when the store refuses.
	Delete(ctx context.Context, key string) error
	// List calls fn for every stored key with its modification time, in no
	// particular order, and stops at the first error fn returns, returning it
	// unchanged; it returns EInternal when the store cannot be listed.
	List(ctx context.Context, fn func(key string, modTime time.Time) error) error
	// TempDir returns the directory where Ingest writes its temporary files.
	TempDir() string
}

// Object describes a stored file.
type Object struct {
	SHA256  string // lowercase hex; the Store key
	Size    int64
	MIME    string  // one of MIMEJPEG, MIMEPNG, MIMEPDF
	Preview *Object // a metadata-free JPEG at most 1280 px on its long side; nil for PDFs and undecodable or huge images
}

// Ingest streams r into a temporary file in st.TempDir(), hashing it as it
// goes, checks its size and type, and stores it under its SHA-256. For JPEG
// and PNG it also stores a preview (see Object.Preview). maxBytes <= 0 means
// MaxFileBytes.
//
// Before storing, the staged file is proved whole: a JPEG or PNG is decoded
// completely (after its header shows at most 50 megapixels) and a PDF is
// parsed and validated by pdfcpu, so a file that only starts like one of
// them is refused. The upload itself is still streamed: memory holds the
// decoded image, never the upload buffered.
//
// It returns an ETooLarge *workflow.Error when r holds more than maxBytes
// (reading at most maxBytes+1 bytes), EUnsupported when the content is empty,
// not JPEG, PNG or PDF, or does not decode as the type it claims (nothing is
// stored then), the context's error when ctx ends, and EInternal
// when the file cannot be written or stored. No temporary file outlives the
// call; on failure after the upload was stored, the blob stays behind for the
// garbage collector, like any blob that no database row refers to.
func Ingest(ctx context.Context, st Store, r io.Reader, maxBytes int64) (Object, error) {
	return ingest(ctx, st, r, maxBytes, true)
}

// IngestOriginal is Ingest without the preview, for callers that make
// previews later (MakePreview) so that an upload answers without decoding
// the image. Its errors are those of Ingest.
func IngestOriginal(ctx context.Context, st Store, r io.Reader, maxBytes int64) (Object, error) {
	return ingest(ctx, st, r, maxBytes, false)
}

func ingest(ctx context.Context, st Store, r io.Reader, maxBytes int64, withPreview bool) (Object, error) {
	if maxBytes <= 0 {
		maxBytes = MaxFileBytes
	}
	obj, tmp, err := stage(ctx, st, r, maxBytes)
	if err != nil {
		return Object{}, err
	}
	defer discard(tmp)

	// Validated from the staged file, before anything is stored: a refusal
	// leaves nothing behind but the staging file, which discard removes.
	if err := verify(ctx, tmp, obj.Size, obj.MIME); err != nil {
		return Object{}, err
	}
	if err := st.Put(ctx, obj.SHA256, tmp, obj.Size, obj.MIME); err != nil {
		return Object{}, err
	}
	if obj.MIME == MIMEPDF || !withPreview {
		return obj, nil
	}
	p, err := preview(ctx, st, tmp, obj.MIME)
	if err != nil {
		return Object{}, err
	}
	obj.Preview = p
	return obj, nil
}

// MakePreview stores the preview of the stored image key (of type mime) and
// returns it; nil, nil for a PDF or an image too large or broken to decode.
// It returns ENotFound when key is not stored, the context's error when ctx
// ends, and EInternal when the preview cannot be written.
func MakePreview(ctx context.Context, st Store, key, mime string) (*Object, error) {
	if mime != MIMEJPEG && mime != MIMEPNG {
		return nil, nil
	}
	rc, err := st.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	f, ok := rc.(*os.File)
	if !ok {
		// A remote object: bring it to a local file, which decoding seeks in.
		tmp, err := os.CreateTemp(st.TempDir(), "upload-*")
		if err != nil {
			return nil, workflow.Wrap(workflow.EInternal, err, "gagal menyiapkan berkas sementara")
		}
		defer discard(tmp)
		if _, err := io.Copy(tmp, io.LimitReader(rc, MaxFileBytes+1)); err != nil {
			return nil, workflow.Wrap(workflow.EInternal, err, "gagal membaca berkas")
		}
		f = tmp
	}
	return preview(ctx, st, f, mime)
}

// stage copies r into a new temporary file in st.TempDir(), hashing, counting
// and keeping the head for sniffing, then checks the limit and the type and
// fsyncs. On success the caller owns the open file and must discard it.
func stage(ctx context.Context, st Store, r io.Reader, maxBytes int64) (_ Object, _ *os.File, err error) {
	tmp, err := os.CreateTemp(st.TempDir(), "upload-*")
	if err != nil {
		return Object{}, nil, workflow.Wrap(workflow.EInternal, err, "gagal menyiapkan berkas sementara")
	}
	defer func() {
		if err != nil {
			discard(tmp)
		}
	}()

	h := sha256.New()
	head := &headWriter{max: sniffBytes}
	// Uploads arrive in small reads; batch the writes to the staging file.
	buf := bufio.NewWriterSize(tmp, 256<<10)
	src := &errReader{r: ctxReader{ctx, r}}
	// maxBytes+1 tells "exactly the limit" from "over it" without reading
	// more than one byte past it.
	n, err := io.Copy(io.MultiWriter(buf, h, head), io.LimitReader(src, maxBytes+1))
	if err == nil {
		err = buf.Flush()
	}
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return Object{}, nil, workflow.Wrap(workflow.EUnavailable, ctx.Err(), "Unggahan melewati batas waktu; coba lagi.")
		case src.err != nil && errors.Is(err, src.err):
			// The client's side: a dropped connection or a truncated body.
			return Object{}, nil, workflow.Wrap(workflow.EInvalid, err, "Unggahan terputus sebelum selesai; coba lagi.")
		}
		return Object{}, nil, workflow.Wrap(workflow.EInternal, err, "gagal menyimpan berkas")
	}
	if n > maxBytes {
		return Object{}, nil, workflow.Errorf(workflow.ETooLarge, "Ukuran berkas melebihi batas %s.", humanBytes(maxBytes))
	}
	if n == 0 {
		return Object{}, nil, workflow.Errorf(workflow.EUnsupported, "Berkas kosong.")
	}
	mime, ok := allowed(head.buf)
	if !ok {
		return Object{}, nil, workflow.Errorf(workflow.EUnsupported, "Jenis berkas tidak didukung; unggah JPEG, PNG atau PDF.")
	}
	if err := tmp.Sync(); err != nil {
		return Object{}, nil, workflow.Wrap(workflow.EInternal, err, "gagal menyimpan berkas sementara")
	}
	return Object{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n, MIME: mime}, tmp, nil
}

// errReader remembers the error its source returned, so that a failed copy
// can tell a broken upload from a broken disk.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// allowed returns the accepted MIME type of content starting with head. It
// walks up mimetype's tree so that a subtype of an accepted type (APNG is a
// PNG) is accepted as its parent and nothing else slips in.
func allowed(head []byte) (string, bool) {
	for m := mimetype.Detect(head); m != nil; m = m.Parent() {
		switch m.String() {
		case MIMEJPEG, MIMEPNG, MIMEPDF:
			return m.String(), true
		}
	}
	return "", false
}

// discard closes f and removes its path, which Put may already have moved
// (hence the error is ignored).
func discard(f *os.File) {
	_ = f.Close()
	_ = os.Remove(f.Name())
}

// headWriter keeps the first max bytes written to it.
type headWriter struct {
	buf []byte
	max int
}

func (w *headWriter) Write(p []byte) (int, error) {
	if room := w.max - len(w.buf); room > 0 {
		w.buf = append(w.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// ctxReader stops a slow upload as soon as its request is abandoned.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func humanBytes(n int64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bita"
}

// validKey reports whether key is a lowercase hex SHA-256, the only name a
// store ever builds a path or object name from.
func validKey(key string) bool {
	if len(key) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func checkKey(key string) error {
	if !validKey(key) {
		return workflow.Errorf(workflow.EInvalid, "Kunci berkas tidak sah.")
	}
	return nil
}
