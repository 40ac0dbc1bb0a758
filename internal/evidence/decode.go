package evidence

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"grantflow/workflow"
)

// maxIngestPixels bounds the images Ingest decodes to prove them whole: a
// PNG of a few kilobytes may declare 20000×20000 pixels (1.6 GB decoded), so
// the header is read first and anything larger is refused. 50 MP is above
// any phone camera or A4 scan at 600 dpi (35 MP).
const maxIngestPixels = 50_000_000

// msgCorrupt is the refusal of a file that starts like an accepted type but
// does not decode as one (SPEC §5).
const msgCorrupt = "Berkas rusak atau bukan JPEG/PNG/PDF yang utuh."

// corrupt returns the EUnsupported error (415, like a refused sniff) for a
// file that does not decode; the cause is kept for the logs' %+v only.
func corrupt(cause error) error {
	if cause == nil {
		return workflow.Errorf(workflow.EUnsupported, msgCorrupt)
	}
	return workflow.Wrap(workflow.EUnsupported, cause, msgCorrupt)
}

// verify proves that the staged file f of size bytes is a whole file of type
// mime: JPEG and PNG are decoded completely, PDFs parsed and validated. It
// reads f from offset 0 and leaves its position alone. It returns an
// EUnsupported *workflow.Error when the content does not decode and the
// context's error when ctx ends while waiting for a decoding slot.
func verify(ctx context.Context, f *os.File, size int64, mime string) error {
	// Decoding is the memory-hungry part of an upload; share the bound the
	// previews use so that concurrent uploads cannot add up.
	select {
	case previewSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-previewSem }()

	switch mime {
	case MIMEJPEG:
		return verifyImage(f, size, jpeg.DecodeConfig, jpeg.Decode)
	case MIMEPNG:
		return verifyImage(f, size, png.DecodeConfig, png.Decode)
	case MIMEPDF:
		return verifyPDF(io.NewSectionReader(f, 0, size))
	}
	return corrupt(fmt.Errorf("no verifier for %s", mime))
}

// verifyImage reads the header to refuse decompression bombs before any
// pixel memory is allocated, then decodes every pixel: a file cut short or
// with garbage after a valid header fails here.
func verifyImage(f *os.File, size int64,
	decodeConfig func(io.Reader) (image.Config, error),
	decode func(io.Reader) (image.Image, error),
) error {
	from0 := func() io.Reader { return bufio.NewReader(io.NewSectionReader(f, 0, size)) }
	cfg, err := decodeConfig(from0())
	if err != nil {
		return corrupt(err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return corrupt(fmt.Errorf("image is %d×%d", cfg.Width, cfg.Height))
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxIngestPixels {
		return workflow.Errorf(workflow.EUnsupported, "%s Gambar %d×%d piksel melebihi batas %d megapiksel.",
			msgCorrupt, cfg.Width, cfg.Height, maxIngestPixels/1_000_000)
	}
	if _, err := decode(from0()); err != nil {
		return corrupt(err)
	}
	return nil
}

var disablePDFConfigDir sync.Once

// verifyPDF parses the PDF in rs and validates its object graph with pdfcpu
// in relaxed mode, the mode pdfcpu made for the small deviations that
// scanners and phone apps commonly write; nothing is rendered or written.
func verifyPDF(rs io.ReadSeeker) (err error) {
	// pdfcpu otherwise writes a config directory under the user's home on
	// first use; a server has no business there.
	disablePDFConfigDir.Do(api.DisableConfigDir)
	defer func() {
		// pdfcpu recovers its own faults, but a parser fed hostile input is
		// the last place to let a panic take the server down.
		if r := recover(); r != nil {
			err = corrupt(fmt.Errorf("pdfcpu panic: %v", r))
		}
	}()
	if err := pdfEnds(rs); err != nil {
		return corrupt(err)
	}
	conf := model.NewDefaultConfiguration()
	conf.Cmd = model.VALIDATE
	conf.ValidationMode = model.ValidationRelaxed
	conf.Optimize = false
	conf.ValidateLinks = false
	conf.Offline = true // never ask revocation servers about signatures
	ctx, err := api.ReadAndValidate(rs, conf)
	if err != nil {
		return corrupt(err)
	}
	if ctx.PageCount < 1 {
		return corrupt(errors.New("PDF has no page"))
	}
	return nil
}

// pdfTail is how far from its end a PDF must say where its cross-reference
// table starts and end its file: what PDF readers look at (ISO 32000-1,
// 7.5.5, and Acrobat's 1 024 bytes).
const pdfTail = 1024

// pdfEnds refuses a PDF whose last pdfTail bytes hold no startxref and
// %%EOF: a file cut short in transfer. pdfcpu in relaxed mode rebuilds a
// missing cross-reference table from the objects it finds, and so accepted
// the first 200 bytes of a receipt as a whole one.
func pdfEnds(rs io.ReadSeeker) error {
	size, err := rs.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if _, err := rs.Seek(max(0, size-pdfTail), io.SeekStart); err != nil {
		return err
	}
	tail, err := io.ReadAll(rs)
	if err != nil {
		return err
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if !bytes.Contains(tail, []byte("startxref")) || !bytes.Contains(tail, []byte("%%EOF")) {
		return errors.New("PDF ends without startxref and %%EOF: cut short")
	}
	return nil
}
