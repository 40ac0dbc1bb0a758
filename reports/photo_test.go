package reports

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
)

// testJPEG draws a deterministic gradient with a frame, so that thumbnails
// are visibly placed and scaled on the rendered pages.
func testJPEG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(40 + x*160/w), uint8(90 + y*120/h), uint8(150 + (x+y)%60), 255}
			if x < 4 || y < 4 || x >= w-4 || y >= h-4 {
				c = color.RGBA{20, 60, 30, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		panic(err) // encoding into memory cannot fail
	}
	return b.Bytes()
}
