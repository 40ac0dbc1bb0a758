package evidence

import (
	"bytes"
	"context"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"math/bits"
	"strings"
	"time"

	"github.com/corona10/goimagehash"
	exif "github.com/dsoprea/go-exif/v3"
	exifcommon "github.com/dsoprea/go-exif/v3/common"

	"grantflow/workflow"
)

// PhotoReuseDistance is the largest Hamming distance between two PhotoFacts
// hashes that still counts as the same photo. Measured in
// TestPhotoHashThreshold on generated 800×600 scenes: a copy resized to
// 40 % or re-saved at JPEG quality 30 stays at 0 bits, one cropped by 5 % on
// two sides at 8; a different scene in the same room (same wall, floor,
// window and palette, other furniture and people) lands at 28 or more. 10
// keeps a crop inside with little room to spare, and leaves a wide gap to
// the nearest different photo; it is also the usual figure for 64-bit DCT
// hashes. Crops much beyond 5 % are not caught: the hash sees the frame.
const PhotoReuseDistance = 10

// PhotoFacts are what an auditor may want to know of an image beyond its
// bytes: a perceptual hash for finding the same photo handed in twice, and
// where and when the camera says it was taken. They must be read from the
// original upload: the preview is re-encoded without EXIF.
type PhotoFacts struct {
	// PHash is the 64-bit DCT perceptual hash (goimagehash.PerceptionHash)
	// of the upright image. Compare two with PhotoDistance.
	PHash uint64

	// TakenAt is EXIF DateTimeOriginal (else DateTime); zero when absent or
	// unreadable. Its zone is the photo's OffsetTimeOriginal when the camera
	// wrote one; otherwise the clock reading is taken as WIB (UTC+7) and
	// TakenAtZoned is false, since EXIF 2.2 cameras record local time only.
	TakenAt      time.Time
	TakenAtZoned bool

	// HasGPS reports whether the EXIF GPS block gave a position; Latitude and
	// Longitude are decimal degrees, negative south and west.
	HasGPS              bool
	Latitude, Longitude float64
}

// InspectPhoto returns the PhotoFacts of the JPEG or PNG in data, the
// original bytes as uploaded. The image is decoded whole (it must be, to be
// hashed), under the same 50-megapixel bound and decoding slots as Ingest.
// Missing or malformed EXIF is no error: the time and position stay empty.
// It returns an EUnsupported *workflow.Error when data is not a decodable
// JPEG or PNG or is larger than the bound, the context's error when ctx ends
// while waiting for a decoding slot, and EInternal when hashing fails.
func InspectPhoto(ctx context.Context, data []byte) (PhotoFacts, error) {
	facts, _, err := inspect(ctx, data, false)
	return facts, err
}

// InspectAndPreview is InspectPhoto and MakePreview of one stored original
// (data, its bytes) with one decoding of the pixels instead of two: the
// background worker does both for every uploaded photo, and decoding a
// phone photo is most of either. The preview is stored in st and returned
// (nil when the image gets none, as MakePreview); an image whose pixels do
// not decode answers InspectPhoto's EUnsupported error and no preview.
func InspectAndPreview(ctx context.Context, st Store, data []byte) (PhotoFacts, *Object, error) {
	facts, prev, err := inspect(ctx, data, true)
	if err != nil || prev == nil {
		return facts, nil, err
	}
	p, err := storePreview(ctx, st, prev)
	return facts, p, err
}

// inspect decodes data once and returns its PhotoFacts and, withPreview,
// the preview's pixels (nil for images above maxPixels, as decodeScaled).
func inspect(ctx context.Context, data []byte, withPreview bool) (PhotoFacts, image.Image, error) {
	mime, _ := allowed(data)
	var decode func([]byte) (image.Image, error)
	switch mime {
	case MIMEJPEG:
		decode = func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }
	case MIMEPNG:
		decode = func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }
	default:
		return PhotoFacts{}, nil, workflow.Errorf(workflow.EUnsupported, "Hanya foto JPEG atau PNG yang dapat diperiksa.")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return PhotoFacts{}, nil, corrupt(err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxIngestPixels || cfg.Width <= 0 || cfg.Height <= 0 {
		return PhotoFacts{}, nil, workflow.Errorf(workflow.EUnsupported, "%s Gambar %d×%d piksel melebihi batas %d megapiksel.",
			msgCorrupt, cfg.Width, cfg.Height, maxIngestPixels/1_000_000)
	}
	orientation := 1
	if mime == MIMEJPEG {
		orientation = jpegOrientation(bytes.NewReader(data))
	}

	select {
	case previewSem <- struct{}{}:
	case <-ctx.Done():
		return PhotoFacts{}, nil, ctx.Err()
	}
	defer func() { <-previewSem }()
	img, err := decode(data)
	if err != nil {
		return PhotoFacts{}, nil, corrupt(err)
	}
	var prev image.Image
	if withPreview && int64(cfg.Width)*int64(cfg.Height) <= maxPixels {
		prev = scalePreview(img, orientation)
	}
	upright := img
	if orientation != 1 {
		// A phone stores a portrait shot on its side with an orientation
		// tag; hash what people see, so that a copy re-saved upright by an
		// editor (tag dropped, pixels turned) hashes the same.
		rgba := image.NewRGBA(img.Bounds().Sub(img.Bounds().Min))
		draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
		upright = orient(rgba, orientation)
	}
	h, err := goimagehash.PerceptionHash(upright)
	if err != nil {
		return PhotoFacts{}, nil, workflow.Wrap(workflow.EInternal, err, "gagal menghitung sidik foto")
	}
	facts := PhotoFacts{PHash: h.GetHash()}
	readExif(data, &facts)
	return facts, prev, nil
}

// PhotoDistance returns the Hamming distance between two PhotoFacts.PHash
// values: the number of bits in which they differ, 0 to 64.
func PhotoDistance(a, b uint64) int { return bits.OnesCount64(a ^ b) }

// SamePhoto reports whether two hashes are within PhotoReuseDistance, that
// is, whether the two images are most likely one photo, edited or not.
func SamePhoto(a, b uint64) bool { return PhotoDistance(a, b) <= PhotoReuseDistance }

// readExif fills the time and position of facts from the EXIF block in
// data, leaving them empty when there is none or it does not parse; a photo
// without metadata is common (messaging apps strip it) and no error.
func readExif(data []byte, facts *PhotoFacts) {
	defer func() { _ = recover() }() // go-exif panics on some malformed blocks
	raw, err := exif.SearchAndExtractExif(data)
	if err != nil {
		return
	}
	im, err := exifcommon.NewIfdMappingWithStandard()
	if err != nil {
		return
	}
	_, index, err := exif.Collect(im, exif.NewTagIndex(), raw)
	if err != nil {
		return
	}
	root := index.RootIfd

	if exifIfd, err := root.ChildWithIfdPath(exifcommon.IfdExifStandardIfdIdentity); err == nil {
		if t, zoned, ok := exifTime(exifIfd, "DateTimeOriginal", "OffsetTimeOriginal"); ok {
			facts.TakenAt, facts.TakenAtZoned = t, zoned
		}
	}
	if facts.TakenAt.IsZero() {
		if t, _, ok := exifTime(root, "DateTime", ""); ok {
			facts.TakenAt = t
		}
	}

	if gpsIfd, err := root.ChildWithIfdPath(exifcommon.IfdGpsInfoStandardIfdIdentity); err == nil {
		if gi, err := gpsIfd.GpsInfo(); err == nil {
			lat, lon := gi.Latitude.Decimal(), gi.Longitude.Decimal()
			// 0,0 is what a camera writes before it has a fix; the
			// equator alone (Pontianak) is a real place.
			if validCoord(lat, 90) && validCoord(lon, 180) && (lat != 0 || lon != 0) {
				facts.HasGPS, facts.Latitude, facts.Longitude = true, lat, lon
			}
		}
	}
}

// exifTime reads the "2006:01:02 15:04:05" tag name of ifd, in the zone of
// the offset tag ("+08:00") when present and valid, else in WIB.
func exifTime(ifd *exif.Ifd, name, offsetName string) (time.Time, bool, bool) {
	s, ok := firstString(ifd, name)
	if !ok {
		return time.Time{}, false, false
	}
	loc, zoned := workflow.Jakarta, false
	if offsetName != "" {
		if off, ok := firstString(ifd, offsetName); ok {
			if z, err := time.Parse("-07:00", strings.TrimSpace(off)); err == nil {
				_, secs := z.Zone()
				loc, zoned = time.FixedZone(off, secs), true
			}
		}
	}
	t, err := time.ParseInLocation("2006:01:02 15:04:05", strings.TrimSpace(s), loc)
	if err != nil {
		return time.Time{}, false, false
	}
	return t, zoned, true
}

func firstString(ifd *exif.Ifd, name string) (string, bool) {
	tags, err := ifd.FindTagWithName(name)
	if err != nil || len(tags) == 0 {
		return "", false
	}
	v, err := tags[0].Value()
	if err != nil {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// validCoord refuses NaN and out-of-range degrees.
func validCoord(d, max float64) bool {
	return !math.IsNaN(d) && d >= -max && d <= max
}
