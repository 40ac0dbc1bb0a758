package evidence

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"

	"golang.org/x/image/draw"

	"grantflow/workflow"
)

const (
	previewMaxSide = 1280       // long side of a preview, in pixels
	previewQuality = 82         // JPEG quality of a preview
	maxPixels      = 40_000_000 // larger images get no preview: decoding one takes 160 MB
)

// previewSem bounds concurrent decoding, of previews and of the whole-file
// check at ingest (verify): a decoded 50-megapixel image holds up to 200 MB,
// so two at a time keep the worst case near 400 MB however many uploads
// arrive together.
var previewSem = make(chan struct{}, 2)

// preview stores a downscaled, re-encoded JPEG of the image in f and returns
// it, or nil when the image is too large or cannot be decoded: the upload
// itself is still good evidence. Re-encoding keeps only pixels, so EXIF
// (GPS position, camera serial) and any other metadata are left behind. It
// returns an error only when ctx ends or the preview cannot be stored.
func preview(ctx context.Context, st Store, f *os.File, mime string) (*Object, error) {
	img, err := decodeScaled(ctx, f, mime)
	if err != nil || img == nil {
		return nil, err
	}
	return storePreview(ctx, st, img)
}

// storePreview encodes the preview's pixels as JPEG and stores them in st.
func storePreview(ctx context.Context, st Store, img image.Image) (*Object, error) {
	// A 1280 px JPEG is a few hundred kilobytes; buffering it is cheap.
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: previewQuality}); err != nil {
		return nil, workflow.Wrap(workflow.EInternal, err, "gagal membuat pratinjau")
	}
	obj, tmp, err := stage(ctx, st, &buf, MaxFileBytes)
	if err != nil {
		return nil, err
	}
	defer discard(tmp)
	if err := st.Put(ctx, obj.SHA256, tmp, obj.Size, obj.MIME); err != nil {
		return nil, err
	}
	return &obj, nil
}

// decodeScaled decodes the image in f, scaled to fit previewMaxSide on white
// (for transparent PNGs) and turned upright by its EXIF orientation. It
// returns nil, nil when the image is over maxPixels or undecodable.
func decodeScaled(ctx context.Context, f *os.File, mime string) (image.Image, error) {
	var (
		decodeConfig func(io.Reader) (image.Config, error)
		decode       func(io.Reader) (image.Image, error)
	)
	switch mime {
	case MIMEJPEG:
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	case MIMEPNG:
		decodeConfig, decode = png.DecodeConfig, png.Decode
	default:
		return nil, nil
	}
	from0 := func() io.Reader { return bufio.NewReader(io.NewSectionReader(f, 0, 1<<62)) }

	// The header alone tells the size, so a decompression bomb is refused
	// before any pixel memory is allocated.
	cfg, err := decodeConfig(from0())
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return nil, nil
	}
	orientation := 1
	if mime == MIMEJPEG {
		orientation = jpegOrientation(from0())
	}

	select {
	case previewSem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-previewSem }()

	src, err := decode(from0())
	if err != nil {
		return nil, nil
	}
	return scalePreview(src, orientation), nil
}

// scalePreview draws src on white at the preview's size, upright.
func scalePreview(src image.Image, orientation int) image.Image {
	sb := src.Bounds()
	w, h := fit(sb.Dx(), sb.Dy(), previewMaxSide)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	if w == sb.Dx() && h == sb.Dy() {
		draw.Draw(dst, dst.Bounds(), src, sb.Min, draw.Over)
	} else {
		// ApproxBiLinear: a preview needs legibility, not fidelity; CatmullRom
		// costs ~8× the CPU and a 75 MB buffer for a phone photo (make bench).
		draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, sb, draw.Over, nil)
	}
	return orient(dst, orientation)
}

// fit returns w×h scaled down, keeping the aspect ratio, so that the long
// side is at most max; smaller images keep their size.
func fit(w, h, max int) (int, int) {
	if w <= max && h <= max {
		return w, h
	}
	if w >= h {
		return max, clamp1(int(int64(h) * int64(max) / int64(w)))
	}
	return clamp1(int(int64(w) * int64(max) / int64(h))), max
}

func clamp1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// orient returns m turned by an EXIF orientation (1–8). Re-encoding drops the
// EXIF tag that told viewers to turn the photo, so a phone's portrait shot
// would otherwise show on its side.
func orient(m *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return m
	}
	w, h := m.Bounds().Dx(), m.Bounds().Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	d := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			copy(d.Pix[d.PixOffset(dx, dy):][:4], m.Pix[m.PixOffset(x, y):][:4])
		}
	}
	return d
}

// jpegOrientation returns the EXIF orientation of the JPEG in r, or 1 when it
// has none or it cannot be read.
func jpegOrientation(r io.Reader) int {
	br := bufio.NewReader(r)
	var soi [2]byte
	if _, err := io.ReadFull(br, soi[:]); err != nil || soi != [2]byte{0xFF, 0xD8} {
		return 1
	}
	// Metadata comes before the first scan; 64 segments is plenty.
	for range 64 {
		c, err := br.ReadByte()
		if err != nil || c != 0xFF {
			return 1
		}
		m, err := br.ReadByte()
		for err == nil && m == 0xFF { // fill bytes
			m, err = br.ReadByte()
		}
		if err != nil || m == 0xDA || m == 0xD9 { // start of scan, end of image
			return 1
		}
		if m == 0x01 || 0xD0 <= m && m <= 0xD7 { // no length
			continue
		}
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return 1
		}
		n := int(binary.BigEndian.Uint16(l[:])) - 2
		if n < 0 {
			return 1
		}
		if m != 0xE1 {
			if _, err := br.Discard(n); err != nil {
				return 1
			}
			continue
		}
		seg := make([]byte, n)
		if _, err := io.ReadFull(br, seg); err != nil {
			return 1
		}
		if tiff, ok := bytes.CutPrefix(seg, []byte("Exif\x00\x00")); ok {
			return tiffOrientation(tiff)
		}
	}
	return 1
}

// tiffOrientation reads tag 0x0112 from IFD0 of an EXIF TIFF block.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := int64(bo.Uint32(t[4:]))
	if off+2 > int64(len(t)) {
		return 1
	}
	n := int64(bo.Uint16(t[off:]))
	for i := range n {
		e := off + 2 + 12*i
		if e+12 > int64(len(t)) {
			return 1
		}
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 { // ORIENTATION, SHORT
			if v := int(bo.Uint16(t[e+8:])); 1 <= v && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}
