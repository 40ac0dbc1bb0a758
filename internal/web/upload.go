package web

import (
	"bufio"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"grantflow/internal/evidence"
	"grantflow/workflow"
)

// maxField bounds one text field of a multipart form.
const maxField = 64 << 10

// uploadReadBuffer is the read buffer of a multipart body (see readMultipart).
const uploadReadBuffer = 64 << 10

// countingReader counts the bytes read from the request body stream.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// bodyStream returns the request body as a stream bounded by MaxBody. The
// server streams request bodies, so an upload is never held in memory whole.
func bodyStream(c *fiber.Ctx) (*countingReader, error) {
	if cl := c.Request().Header.ContentLength(); cl > MaxBody {
		return nil, fiberErrors[fiber.StatusRequestEntityTooLarge]
	}
	var r io.Reader = c.Context().RequestBodyStream()
	if r == nil {
		r = strings.NewReader(string(c.Body()))
	}
	return &countingReader{r: io.LimitReader(r, MaxBody+1)}, nil
}

// readMultipart walks a multipart/form-data body: text fields are returned
// by name (each at most 64 KiB, no repeats, only the allowed names) and the
// file part named fileField is streamed into onFile as it arrives. When
// storing the file fails, the fields read before it are returned with the error.
func readMultipart(c *fiber.Ctx, allowed []string, fileField string, onFile func(io.Reader) error) (*form, error) {
	mt, params, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, workflow.Errorf(workflow.EInvalid, "kirim sebagai multipart/form-data")
	}
	body, err := bodyStream(c)
	if err != nil {
		return nil, err
	}
	// multipart reads through a 4 KiB buffer of its own unless handed a
	// larger bufio.Reader, which it then uses as is: with 64 KiB the part
	// arrives in 16× fewer reads, each passing the hash, the staging
	// writer and the socket in bigger pieces.
	mr := multipart.NewReader(bufio.NewReaderSize(body, uploadReadBuffer), params["boundary"])
	fields := map[string]string{}
	var p workflow.Problems
	sawFile := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if body.n > MaxBody {
				return nil, fiberErrors[fiber.StatusRequestEntityTooLarge]
			}
			return nil, workflow.Errorf(workflow.EInvalid, "formulir multipart rusak atau terpotong")
		}
		name := part.FormName()
		switch {
		case name == fileField && part.FileName() != "" || name == fileField && !sawFile && part.Header.Get("Content-Type") != "":
			if sawFile {
				p.Add(name, "hanya satu berkas yang diterima")
				_, _ = io.Copy(io.Discard, part)
				continue
			}
			sawFile = true
			if err := onFile(part); err != nil {
				// The fields read before the file come back with the error,
				// so a page can keep what was typed after a failed upload.
				read := &form{fields: fields}
				if body.n > MaxBody {
					return read, fiberErrors[fiber.StatusRequestEntityTooLarge]
				}
				var we *workflow.Error
				if errors.As(err, &we) && (we.Code == workflow.ETooLarge || we.Code == workflow.EUnsupported) {
					return read, &workflow.Error{Code: we.Code, Message: we.Message, Details: []workflow.Detail{{Field: name, Message: we.Message}}}
				}
				// A body cut off inside the file part is the client's fault, not ours.
				if errors.Is(err, io.ErrUnexpectedEOF) {
					return read, &workflow.Error{Code: workflow.EInvalid, Message: "formulir multipart rusak atau terpotong",
						Details: []workflow.Detail{{Field: name, Message: "berkas terpotong"}}}
				}
				return nil, err
			}
		case slices.Contains(allowed, name):
			if _, dup := fields[name]; dup {
				p.Add(name, "kolom dikirim lebih dari sekali")
			}
			b, err := io.ReadAll(io.LimitReader(part, maxField+1))
			if err != nil {
				return nil, workflow.Errorf(workflow.EInvalid, "formulir multipart rusak atau terpotong")
			}
			if len(b) > maxField {
				p.Add(name, "isian terlalu panjang")
				continue
			}
			fields[name] = string(b)
		default:
			p.Add(name, "kolom tidak dikenal")
			_, _ = io.Copy(io.Discard, part)
		}
		// A form of thousands of parts is not a person's mistake: stop
		// reading once the answer is already full.
		if len(p) > maxDetails {
			return nil, &workflow.Error{Code: workflow.EInvalid, Message: "formulir tidak valid: terlalu banyak kolom yang salah", Details: p}
		}
	}
	if len(p) > 0 {
		return nil, &workflow.Error{Code: workflow.EInvalid, Message: "formulir tidak valid", Details: p}
	}
	return &form{fields: fields}, nil
}

// ingestPart returns an onFile callback that stores the part through the
// service and keeps the resulting object in *dst.
func (s *Server) ingestPart(c *fiber.Ctx, dst **evidence.Object) func(io.Reader) error {
	return func(r io.Reader) error {
		obj, err := s.svc.Ingest(c.UserContext(), r)
		if err != nil {
			return err
		}
		*dst = &obj
		return nil
	}
}
