package main

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"io"
	"slices"
	"time"

	"grantflow/internal/evidence"
	"grantflow/internal/evidence/evidencetest"
)

// runAudit runs the auditor's-instruments phase (issue #13) and prints its
// table; it is the one line run calls in its phase list. Only the photo half
// is measured: the risk ranking (#13 item 2) is not built yet, so there is
// no ranking to time beside its bare SQL.
func runAudit(out, log io.Writer, quick bool) {
	if err := auditPhase(out, log, quick); err != nil {
		fmt.Fprintf(out, "\nAudit: %v\n", err)
	}
}

// auditPhase times evidence.InspectPhoto (decode, perceptual hash, EXIF) of
// one 1600×1200 phone-sized JPEG beside decoding it alone, the floor any
// hash of the whole picture pays: the background worker spends about this
// per uploaded photo.
func auditPhase(out, log io.Writer, quick bool) error {
	rounds := 15
	if quick {
		rounds = 5
	}
	fmt.Fprintf(log, "Audit: %d rounds of photo facts beside decoding\n", rounds)
	data := evidencetest.Encode(evidencetest.Scene(2, 1600, 1200), 90)
	ctx := context.Background()
	var decode, inspect []time.Duration
	for range rounds {
		t0 := time.Now()
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			return err
		}
		decode = append(decode, time.Since(t0))
		t0 = time.Now()
		if _, err := evidence.InspectPhoto(ctx, data); err != nil {
			return err
		}
		inspect = append(inspect, time.Since(t0))
	}
	slices.Sort(decode)
	slices.Sort(inspect)
	d, i := decode[len(decode)/2], inspect[len(inspect)/2]
	fmt.Fprintf(out, "\nPhoto facts of one 1600×1200 JPEG (%d KiB); median of %d (best):\n", len(data)>>10, rounds)
	fmt.Fprintf(out, "  %-52s %9s (%s)\n", "D   image/jpeg decode alone", ms(d), ms(decode[0]))
	fmt.Fprintf(out, "  %-52s %9s (%s)  %.2f× D\n", "P   evidence.InspectPhoto (decode + pHash + EXIF)", ms(i), ms(inspect[0]), float64(i)/float64(d))
	return nil
}
