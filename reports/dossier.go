package reports

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"grantflow/workflow"
)

// ManifestName is the name of the dossier's checksum file, written last.
const ManifestName = "MANIFEST.sha256"

// DossierEntry is one file of the auditor's dossier: its name inside the
// ZIP (slash-separated, readable: "kegiatan-2/foto-01.jpg",
// "belanja/0042-nota.pdf") and how to open its content. Open is called only
// when the entry is written, so that a dossier of hundreds of files holds
// one of them open at a time.
type DossierEntry struct {
	Name     string
	Modified time.Time // shown by unzip; the zero time is written as 1980-01-01
	Open     func() (io.ReadCloser, error)
}

// ErrDossierName is returned by WriteDossier for an entry name that is
// empty, absolute, climbs out of the archive, repeats another, or takes
// the manifest's name.
var ErrDossierName = errors.New("reports: nama berkas dosir tidak valid")

// WriteDossier streams a ZIP of the entries to w, in the order given, and
// adds MANIFEST.sha256 listing the SHA-256 of every entry in sha256sum's
// format (`sha256sum -c MANIFEST.sha256` checks an unpacked dossier). Each
// file is copied through a fixed buffer while it is hashed, so memory stays
// flat whatever the number and size of the files. Files that are already
// compressed (JPEG, PNG, PDF, XLSX, ZIP) are stored, the rest deflated.
//
// It checks every name before writing anything and returns ErrDossierName
// (wrapped, with the name) for a bad one; an error opening, reading or
// writing an entry is returned with the entry's name, and leaves w holding
// an incomplete archive, which the caller must discard.
func WriteDossier(w io.Writer, entries []DossierEntry) error {
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		clean := path.Clean(e.Name)
		switch {
		case e.Name == "", clean != e.Name, strings.HasPrefix(e.Name, "/"), strings.HasPrefix(e.Name, "../"),
			e.Name == "..", strings.ContainsAny(e.Name, "\\\x00\n"), e.Name == ManifestName, seen[e.Name], e.Open == nil:
			return fmt.Errorf("%w: %q", ErrDossierName, e.Name)
		}
		seen[e.Name] = true
	}
	zw := zip.NewWriter(w)
	var manifest strings.Builder
	buf := make([]byte, 64<<10)
	for _, e := range entries {
		sum, err := copyEntry(zw, e, buf)
		if err != nil {
			return fmt.Errorf("reports: dosir %s: %w", e.Name, err)
		}
		// Two spaces: sha256sum's text mode, which every tool reads.
		fmt.Fprintf(&manifest, "%s  %s\n", sum, e.Name)
	}
	mw, err := zw.CreateHeader(&zip.FileHeader{Name: ManifestName, Method: zip.Deflate, Modified: latest(entries)})
	if err != nil {
		return err
	}
	if _, err := io.WriteString(mw, manifest.String()); err != nil {
		return err
	}
	return zw.Close()
}

func copyEntry(zw *zip.Writer, e DossierEntry, buf []byte) (string, error) {
	r, err := e.Open()
	if err != nil {
		return "", err
	}
	defer r.Close()
	method := zip.Deflate
	switch strings.ToLower(path.Ext(e.Name)) {
	case ".jpg", ".jpeg", ".png", ".pdf", ".xlsx", ".zip":
		method = zip.Store // deflating compressed data costs time and saves nothing
	}
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: e.Name, Method: method, Modified: dosDate(e.Modified)})
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.CopyBuffer(io.MultiWriter(fw, h), r, buf); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), r.Close()
}

// dosDate keeps the zero time from being written as year 0, which ZIP's
// MS-DOS dates cannot hold.
func dosDate(t time.Time) time.Time {
	if t.Year() < 1980 {
		return time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return t
}

// latest is the manifest's date: that of the newest entry.
func latest(entries []DossierEntry) time.Time {
	var t time.Time
	for _, e := range entries {
		if e.Modified.After(t) {
			t = e.Modified
		}
	}
	return dosDate(t)
}

// EventsJSONL writes the grant's events as JSON lines, one event per line
// in the order given, for the dossier (each line is the event as the API
// serves it, hash and prev_hash included). It returns the first write error.
func EventsJSONL(w io.Writer, events []workflow.Event) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}
