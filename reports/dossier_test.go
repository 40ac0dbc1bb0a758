package reports

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"grantflow/workflow"
)

func memEntry(name string, data []byte) DossierEntry {
	return DossierEntry{Name: name, Modified: time.Date(2026, 11, 24, 10, 0, 0, 0, workflow.Jakarta),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

func TestWriteDossier(t *testing.T) {
	lpj := render(t, goldenLPJ())
	var ledger bytes.Buffer
	if err := LedgerCSV(&ledger, goldenLPJ().Ledger); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"LPJ-KKM-2026-000123.pdf":     lpj,
		"kegiatan-2/foto-01.jpg":      testJPEG(64, 48),
		"belanja/0042-nota.pdf":       []byte("%PDF-1.4 nota"),
		"bku.csv":                     ledger.Bytes(),
		"peristiwa.jsonl":             []byte(`{"seq":1}` + "\n"),
		"kegiatan-2/daftar hadir.pdf": []byte("%PDF-1.4 hadir"),
	}
	order := []string{"LPJ-KKM-2026-000123.pdf", "kegiatan-2/foto-01.jpg", "kegiatan-2/daftar hadir.pdf", "belanja/0042-nota.pdf", "bku.csv", "peristiwa.jsonl"}
	var entries []DossierEntry
	for _, n := range order {
		entries = append(entries, memEntry(n, files[n]))
	}
	var b bytes.Buffer
	if err := WriteDossier(&b, entries); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatalf("not a ZIP: %v", err)
	}
	if len(zr.File) != len(order)+1 || zr.File[len(order)].Name != ManifestName {
		t.Fatalf("%d files, last %q", len(zr.File), zr.File[len(zr.File)-1].Name)
	}
	got := map[string][]byte{}
	for i, f := range zr.File {
		if i < len(order) && f.Name != order[i] {
			t.Errorf("file %d is %q, want %q", i, f.Name, order[i])
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		got[f.Name] = data
		if strings.HasSuffix(f.Name, ".jpg") && f.Method != zip.Store {
			t.Errorf("%s deflated", f.Name)
		}
	}
	// The manifest, read as sha256sum -c reads it, matches every file.
	sc := bufio.NewScanner(bytes.NewReader(got[ManifestName]))
	listed := 0
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			t.Fatalf("manifest line %q", sc.Text())
		}
		h := sha256.Sum256(got[name])
		if hex.EncodeToString(h[:]) != sum || !bytes.Equal(got[name], files[name]) {
			t.Errorf("%s: manifest %s, content differs", name, sum)
		}
		listed++
	}
	if listed != len(order) {
		t.Errorf("manifest lists %d files, want %d", listed, len(order))
	}
	if !zr.File[0].Modified.Equal(entries[0].Modified) {
		t.Errorf("modified %v", zr.File[0].Modified)
	}
}

func TestWriteDossierRefusesBadNames(t *testing.T) {
	ok := memEntry("a.txt", []byte("a"))
	for _, name := range []string{"", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\\b", ManifestName, "a.txt"} {
		var b bytes.Buffer
		err := WriteDossier(&b, []DossierEntry{ok, memEntry(name, []byte("x"))})
		if !errors.Is(err, ErrDossierName) || b.Len() != 0 {
			t.Errorf("%q: err %v, %d bytes written", name, err, b.Len())
		}
	}
	failing := DossierEntry{Name: "hilang.pdf", Open: func() (io.ReadCloser, error) { return nil, errDisk }}
	if err := WriteDossier(io.Discard, []DossierEntry{ok, failing}); !errors.Is(err, errDisk) || !strings.Contains(err.Error(), "hilang.pdf") {
		t.Errorf("open error: %v", err)
	}
	if err := WriteDossier(failWriter{}, []DossierEntry{ok}); err == nil {
		t.Error("no error from a failing writer")
	}
}

// pattern is an endless deterministic stream that costs no memory.
type pattern struct{ left int }

func (p *pattern) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n := min(len(b), p.left)
	for i := range n {
		b[i] = byte(i * 31)
	}
	p.left -= n
	return n, nil
}

func (p *pattern) Close() error { return nil }

type counter struct{ n int64 }

func (c *counter) Write(b []byte) (int, error) { c.n += int64(len(b)); return len(b), nil }

// TestWriteDossierStreams writes 300 files of 256 KiB and checks that the
// allocations stay far below the 75 MiB that went through: nothing is held.
func TestWriteDossierStreams(t *testing.T) {
	const n, size = 300, 256 << 10
	entries := make([]DossierEntry, n)
	for i := range entries {
		entries[i] = DossierEntry{Name: fmt.Sprintf("kegiatan-%d/foto-%02d.jpg", i/40+1, i%40+1),
			Open: func() (io.ReadCloser, error) { return &pattern{left: size}, nil }}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var c counter
	if err := WriteDossier(&c, entries); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if c.n < n*size {
		t.Fatalf("wrote %d bytes for %d", c.n, n*size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("allocated %d MiB while streaming %d MiB", alloc>>20, n*size>>20)
	}
}

func TestEventsJSONL(t *testing.T) {
	trail := goldenLPJ().Trail
	var b bytes.Buffer
	if err := EventsJSONL(&b, trail); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(trail) {
		t.Fatalf("%d lines for %d events", len(lines), len(trail))
	}
	for i, line := range lines {
		var e workflow.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if e.Seq != trail[i].Seq || e.Hash != trail[i].Hash || e.PrevHash != trail[i].PrevHash || e.Action != trail[i].Action {
			t.Errorf("line %d = %+v", i+1, e)
		}
	}
	if err := EventsJSONL(failWriter{}, trail); !errors.Is(err, errDisk) {
		t.Errorf("failing writer: %v", err)
	}
}
