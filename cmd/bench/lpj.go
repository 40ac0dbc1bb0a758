package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/go-pdf/fpdf"
	"golang.org/x/sys/unix"

	"grantflow/internal/evidence"
	"grantflow/reports"
)

// LPJ phase (SPEC §9): the report of a grant with 7 sessions, 300 expenses
// and 40 photos of 1600×1200, against a baseline in the same run of fpdf
// writing the same number of table rows and the same images with the same
// embedded font and no logic. It needs no database: reports takes plain data.

const (
	lpjExpenses = 300
	lpjPhotos   = 40
)

// lpjRun is one side of the comparison.
type lpjRun struct {
	median, best time.Duration
	alloc        uint64 // bytes allocated by one render
	size         int    // bytes of PDF
	mem          memPeak
}

// lpjFigures is the phase's result.
type lpjFigures struct {
	report, baseline lpjRun
	rows             int // table rows of the report, written as rows by the baseline
	photoBytes       int
}

// lpjPhotoSet makes n distinct 1600×1200 JPEGs: one encoded image, each copy
// told apart by a comment segment after the SOI marker (encoding 40 would
// take longer than the phase).
func lpjPhotoSet(n int) ([][]byte, int) {
	base := encodeJPEG(1600, 1200, 6)
	photos := make([][]byte, n)
	total := 0
	for i := range photos {
		text := fmt.Appendf(nil, "foto kegiatan %03d", i)
		p := append([]byte{}, base[:2]...)
		p = append(p, 0xFF, 0xFE, 0, byte(len(text)+2))
		p = append(p, text...)
		photos[i] = append(p, base[2:]...)
		total += len(photos[i])
	}
	return photos, total
}

// lpjRows counts the table rows the report draws, for the baseline to draw as many.
func lpjRows(l reports.LPJ) int {
	return len(l.Sessions) + len(l.Budget) + len(l.Disbursements) + len(l.Expenses) + len(l.Refunds) +
		len(l.Ledger) + len(l.Meetings) + len(l.Evidence) + len(l.Trail)
}

// lpjBaseline is fpdf with no logic: the same font, rows of seven fixed
// cells, a page every 45 rows, and the photos three to a row.
func lpjBaseline(w io.Writer, rows int, photos [][]byte) error {
	regular, bold := reports.Fonts()
	p := fpdf.New("P", "mm", "A4", "")
	p.AddUTF8FontFromBytes("DejaVu", "", regular)
	p.AddUTF8FontFromBytes("DejaVu", "B", bold)
	p.SetAutoPageBreak(false, 0)
	cells := []string{"12 Mar 2026", "Belanja", "BL-4042", "Konsumsi peserta In dan On, nota 42", "-", "Rp 1.140.000", "Rp 13.020.000"}
	for i := range rows {
		if i%45 == 0 {
			p.AddPage()
			p.SetFont("DejaVu", "B", 7.5)
			p.SetXY(20, 20)
			for _, c := range cells {
				p.CellFormat(24, 6, c, "1", 0, "C", false, 0, "")
			}
			p.SetFont("DejaVu", "", 7.5)
		}
		p.SetXY(20, 26+float64(i%45)*5.5)
		for _, c := range cells {
			p.CellFormat(24, 5.5, c, "1", 0, "L", false, 0, "")
		}
	}
	for i, ph := range photos {
		if i%12 == 0 {
			p.AddPage()
		}
		name := fmt.Sprintf("foto-%d", i)
		p.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "JPG"}, bytes.NewReader(ph))
		p.ImageOptions(name, 20+float64(i%3)*58, 20+float64(i%12/3)*55, 53, 40, false, fpdf.ImageOptions{ImageType: "JPG"}, 0, "")
	}
	return p.Output(w)
}

// benchLPJ renders the report and the baseline rounds times each,
// interleaved, and returns the median and best time of each, the bytes one
// render allocates and the peak memory while they ran.
func benchLPJ(rounds int) (lpjFigures, error) {
	photos, photoBytes := lpjPhotoSet(lpjPhotos)
	l := reports.SampleLPJ(lpjExpenses, photos)
	f := lpjFigures{rows: lpjRows(l), photoBytes: photoBytes}
	sides := []struct {
		run    *lpjRun
		render func(io.Writer) error
	}{
		{&f.baseline, func(w io.Writer) error { return lpjBaseline(w, f.rows, photos) }},
		{&f.report, func(w io.Writer) error { return reports.WriteLPJ(w, l) }},
	}
	times := make([][]time.Duration, len(sides))
	var out bytes.Buffer
	for range rounds {
		for i, s := range sides {
			out.Reset()
			stop := watchMemory(5 * time.Millisecond)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			t0 := time.Now()
			if err := s.render(&out); err != nil {
				stop()
				return f, err
			}
			times[i] = append(times[i], time.Since(t0))
			runtime.ReadMemStats(&after)
			peak := stop()
			s.run.size, s.run.alloc = out.Len(), after.TotalAlloc-before.TotalAlloc
			s.run.mem.heapInuse = max(s.run.mem.heapInuse, peak.heapInuse)
			s.run.mem.rss = max(s.run.mem.rss, peak.rss)
			s.run.mem.hwm = max(s.run.mem.hwm, peak.hwm)
		}
	}
	for i, s := range sides {
		slices.Sort(times[i])
		s.run.median, s.run.best = times[i][len(times[i])/2], times[i][0]
	}
	return f, nil
}

// runLPJ runs the LPJ phase and prints its table; it is the one line run
// calls in its phase list. A failed render is printed in the table (the
// bench never stops on one phase).
func runLPJ(out, log io.Writer, quick bool) {
	if err := lpjPhase(out, log, quick); err != nil {
		fmt.Fprintf(out, "\nLPJ: %v\n", err)
	}
}

func lpjPhase(out, log io.Writer, quick bool) error {
	rounds := 7
	if quick {
		rounds = 3
	}
	fmt.Fprintf(log, "LPJ: %d rounds of the report and the bare-fpdf baseline\n", rounds)
	f, err := benchLPJ(rounds)
	if err != nil {
		return fmt.Errorf("LPJ: %w", err)
	}
	fmt.Fprintf(out, "\nLPJ PDF: 7 sessions, %d expenses, %d photos 1600×1200 (%s of JPEG), %d table rows; median of %d renders (best), memory of the whole process:\n",
		lpjExpenses, lpjPhotos, mib(uint64(f.photoBytes)), f.rows, rounds)
	for _, r := range []struct {
		name string
		run  lpjRun
	}{{"L   bare fpdf: same rows, images and font, no logic", f.baseline}, {"7   reports.WriteLPJ", f.report}} {
		fmt.Fprintf(out, "  %-52s %9s (%s)  PDF %s  allocated %s  peak HeapInuse %s  VmHWM %s\n", r.name, ms(r.run.median), ms(r.run.best),
			mib(uint64(r.run.size)), mib(r.run.alloc), mib(r.run.mem.heapInuse), mib(r.run.mem.hwm))
	}
	ratio := float64(f.report.median) / float64(f.baseline.median)
	verdict := "yes"
	if ratio > 3 || f.report.median > 500*time.Millisecond {
		verdict = "no"
	}
	fmt.Fprintf(out, "  7 ÷ L = %.2f× time, %.2f× allocated (goal: under 500 ms and within 3× the baseline: %s)\n",
		ratio, float64(f.report.alloc)/float64(max(f.baseline.alloc, 1)), verdict)
	return nil
}

// The dossier phase (issue #9): the auditor's ZIP of the same grant — the
// LPJ, 300 receipts and 40 photos read from a local evidence store — is
// streamed by reports.WriteDossier (ZIP CRC-32 and the manifest's SHA-256
// of every byte) and compared with reading the same files straight through
// a buffer (cat > /dev/null), interleaved, in the same run.

const dossierReceiptBytes = 256 << 10 // a phone photo of a receipt after the app's own compression

// dossierFiles stores the receipts and photos in a fresh local store under
// dir and returns the store and the keys.
func dossierFiles(dir string, photos [][]byte) (evidence.Store, []string, int64, error) {
	st, err := evidence.NewLocal(dir)
	if err != nil {
		return nil, nil, 0, err
	}
	var keys []string
	var total int64
	put := func(b []byte) error {
		obj, err := evidence.IngestOriginal(context.Background(), st, bytes.NewReader(b), evidence.MaxFileBytes)
		if err != nil {
			return err
		}
		keys, total = append(keys, obj.SHA256), total+obj.Size
		return nil
	}
	receipt := encodeJPEG(1000, 1400, 9)
	for i := range lpjExpenses {
		// Distinct content per receipt: a comment segment after SOI, padded to the receipt size.
		pad := max(dossierReceiptBytes-len(receipt), 64)
		p := append([]byte{}, receipt[:2]...)
		for left := pad; left > 0; {
			n := min(left, 60000)
			seg := make([]byte, n)
			copy(seg, fmt.Sprintf("nota %03d", i))
			p = append(p, 0xFF, 0xFE, byte((n+2)>>8), byte(n+2))
			p = append(p, seg...)
			left -= n + 4
		}
		if err := put(append(p, receipt[2:]...)); err != nil {
			return nil, nil, 0, err
		}
	}
	for _, ph := range photos {
		if err := put(ph); err != nil {
			return nil, nil, 0, err
		}
	}
	return st, keys, total, nil
}

func runDossier(out, log io.Writer, quick bool) {
	if err := dossierPhase(out, log, quick); err != nil {
		fmt.Fprintf(out, "\nDossier: %v\n", err)
	}
}

func dossierPhase(out, log io.Writer, quick bool) error {
	rounds := 7
	if quick {
		rounds = 3
	}
	dir, err := os.MkdirTemp("", "grantflow-bench-dossier-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	photos, _ := lpjPhotoSet(lpjPhotos)
	fmt.Fprintf(log, "Dossier: storing %d receipts and %d photos\n", lpjExpenses, lpjPhotos)
	st, keys, total, err := dossierFiles(dir, photos)
	if err != nil {
		return err
	}
	var pdf bytes.Buffer
	if err := reports.WriteLPJ(&pdf, reports.SampleLPJ(lpjExpenses, photos)); err != nil {
		return err
	}
	ctx := context.Background()
	raw := func() (int64, error) {
		buf := make([]byte, 64<<10)
		n := int64(pdf.Len())
		for _, k := range keys {
			rc, err := st.Open(ctx, k)
			if err != nil {
				return 0, err
			}
			c, err := io.CopyBuffer(io.Discard, rc, buf)
			rc.Close()
			if err != nil {
				return 0, err
			}
			n += c
		}
		return n, nil
	}
	dossier := func() (int64, error) {
		entries := []reports.DossierEntry{{Name: "LPJ.pdf", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(pdf.Bytes())), nil }}}
		for i, k := range keys {
			name := fmt.Sprintf("belanja/%04d-nota.jpg", i+1)
			if i >= lpjExpenses {
				name = fmt.Sprintf("kegiatan-%d/foto-%02d.jpg", (i-lpjExpenses)%7+1, i-lpjExpenses+1)
			}
			entries = append(entries, reports.DossierEntry{Name: name, Open: func() (io.ReadCloser, error) { return st.Open(ctx, k) }})
		}
		cw := &countingWriter{}
		err := reports.WriteDossier(cw, entries)
		return cw.n, err
	}
	// Cold: every round starts with the store's files evicted from the page
	// cache (posix_fadvise DONTNEED on these files only), so R is the disk's
	// read speed, the measure. Warm: both read from memory, which
	// shows what the CPU work (CRC-32, SHA-256) costs against memcpy.
	cold, err := dossierRates(rounds, raw, dossier, func() error { return evict(dir) })
	if err != nil {
		return err
	}
	warm, err := dossierRates(rounds, raw, dossier, func() error { return nil })
	if err != nil {
		return err
	}
	in := float64(total + int64(pdf.Len()))
	fmt.Fprintf(out, "\nDossier ZIP: LPJ + %d receipts + %d photos (%s in, %s ZIP), median of %d, peak HeapInuse while zipping %s:\n",
		lpjExpenses, lpjPhotos, mib(uint64(in)), mib(uint64(cold.zipBytes)), rounds, mib(max(cold.peak, warm.peak)))
	for _, r := range []struct {
		name string
		f    dossierFigures
		goal bool
	}{{"page cache cold", cold, true}, {"page cache warm", warm, false}} {
		rawRate, zipRate := in/r.f.raw.Seconds(), in/r.f.zip.Seconds()
		verdict := ""
		if r.goal {
			verdict = " (goal: ≥ 0.5 of raw disk read: yes)"
			if zipRate < 0.5*rawRate {
				verdict = " (goal: ≥ 0.5 of raw disk read: no)"
			}
		}
		fmt.Fprintf(out, "  %-16s R raw read %8s %6.0f MiB/s   D reports.WriteDossier %8s %6.0f MiB/s   D ÷ R = %.2f%s\n",
			r.name, ms(r.f.raw), rawRate/(1<<20), ms(r.f.zip), zipRate/(1<<20), zipRate/rawRate, verdict)
	}
	return nil
}

// dossierFigures are the median times of the raw read and the dossier.
type dossierFigures struct {
	raw, zip time.Duration
	zipBytes int64
	peak     uint64
}

// dossierRates runs raw and dossier rounds times, interleaved, each after prep.
func dossierRates(rounds int, raw, dossier func() (int64, error), prep func() error) (dossierFigures, error) {
	var f dossierFigures
	times := [2][]time.Duration{}
	for range rounds {
		for i, side := range []func() (int64, error){raw, dossier} {
			if err := prep(); err != nil {
				return f, err
			}
			stop := watchMemory(5 * time.Millisecond)
			t0 := time.Now()
			n, err := side()
			times[i] = append(times[i], time.Since(t0))
			p := stop()
			if err != nil {
				return f, err
			}
			if i == 1 {
				f.zipBytes, f.peak = n, max(f.peak, p.heapInuse)
			}
		}
	}
	for i := range times {
		slices.Sort(times[i])
	}
	f.raw, f.zip = times[0][len(times[0])/2], times[1][len(times[1])/2]
	return f, nil
}

// evict drops the files under dir from the page cache. The store fsyncs
// every file, so no page is dirty and DONTNEED really evicts.
func evict(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	})
}

// countingWriter discards what it is given and counts it: the client's
// socket, without the network.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
