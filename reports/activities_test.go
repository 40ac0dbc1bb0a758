package reports

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"grantflow/workflow"
)

func exportData() ([]Session, []Attendance) {
	l := SampleLPJ(0, nil)
	s := l.Sessions[:3]
	s[2].Status, s[2].HeldOn, s[2].Present, s[2].Outputs = workflow.ActivityCancelled, workflow.Date{}, 0, "=HYPERLINK(\"x\")"
	att := []Attendance{
		{Seq: 1, Member: "Ahmad Syarifuddin", MemberID: "197205142005011003", Madrasah: "MI Al-Hikmah", Position: workflow.PosKetua, Present: true},
		{Seq: 1, Member: "Siti Nurhaliza", MemberID: "198103222009012004", Madrasah: "MI Nurul Huda", Position: workflow.PosBendahara, Present: false},
		{Seq: 2, Member: "Ahmad Syarifuddin", MemberID: "197205142005011003", Madrasah: "MI Al-Hikmah", Position: workflow.PosKetua, Present: true},
	}
	return s, att
}

func TestActivitiesCSV(t *testing.T) {
	sessions, att := exportData()
	var b bytes.Buffer
	if err := ActivitiesCSV(&b, sessions); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), bom) {
		t.Fatal("no BOM")
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), bom))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != strings.Join(activityHeader, ",") || len(recs) != 4 {
		t.Fatalf("records %q", recs)
	}
	if r := recs[1]; r[0] != "1" || r[1] != "in" || r[2] != "Membaca rapor pendidikan madrasah" || r[4] != "terlaksana" ||
		r[5] != "2026-02-10" || r[7] != "8" || r[9] != "28" || r[10] != "28" || r[11] != "100,0%" {
		t.Errorf("row 1 %q", r)
	}
	if r := recs[3]; r[4] != "dibatalkan" || r[5] != "" || r[12] != `'=HYPERLINK("x")` {
		t.Errorf("cancelled row %q", r)
	}

	b.Reset()
	if err := AttendanceCSV(&b, sessions, att); err != nil {
		t.Fatal(err)
	}
	recs, err = csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), bom))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || recs[0][0] != "No kegiatan" || recs[2][3] != "Siti Nurhaliza" || recs[2][7] != "Tidak" || recs[1][7] != "Ya" ||
		recs[3][1] != "Menyusun rencana kerja di madrasah" || recs[1][4] != "197205142005011003" {
		t.Errorf("attendance %q", recs)
	}
	if err := ActivitiesCSV(failWriter{}, sessions); err == nil {
		t.Error("no error from a failing writer")
	}
}

func TestActivitiesXLSX(t *testing.T) {
	sessions, att := exportData()
	var b bytes.Buffer
	if err := ActivitiesXLSX(&b, sessions, att); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if s := f.GetSheetList(); strings.Join(s, ",") != "Kegiatan,Kehadiran" {
		t.Fatalf("sheets %v", s)
	}
	rows, err := f.GetRows("Kegiatan", excelize.Options{RawCellValue: true})
	if err != nil || len(rows) != 4 || rows[0][2] != "Kegiatan" || rows[2][2] != "Menyusun rencana kerja di madrasah" || rows[2][9] != "27" {
		t.Fatalf("Kegiatan %q %v", rows, err)
	}
	if typ, _ := f.GetCellType("Kegiatan", "H2"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("JP cell type %v, want a number", typ)
	}
	if fm, _ := f.GetCellFormula("Kegiatan", "M4"); fm != "" {
		t.Errorf("outputs stored as formula %q", fm)
	}
	rows, err = f.GetRows("Kehadiran")
	if err != nil || len(rows) != 4 || rows[0][3] != "Nama" || rows[2][7] != "Tidak" {
		t.Fatalf("Kehadiran %q %v", rows, err)
	}
}
