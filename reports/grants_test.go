package reports

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestGrantsExports(t *testing.T) {
	rows := []GrantRow{
		{Number: "KKG-2026-000001", State: "funded", Kind: "KKG", Group: "=HYPERLINK(\"x\")", Province: "Jawa Barat", Regency: "Kota Bandung",
			Requested: 15_000_000, Approved: 14_500_000, Disbursed: 10_150_000, Spent: 2_000_000, Refunded: 0, Bal: 8_150_000,
			Flags: []string{"report_overdue"}},
		{Number: "MGMP-2026-000002", State: "draft", Kind: "MGMP", Group: "MGMP Matematika", Province: "Jawa Barat", Regency: "Garut"},
	}
	var b bytes.Buffer
	if err := GrantsCSV(&b, rows); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte(bom)) {
		t.Fatal("csv does not start with the UTF-8 BOM")
	}
	recs, err := csv.NewReader(bytes.NewReader(b.Bytes()[len(bom):])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0][0] != "Nomor" || recs[1][0] != "KKG-2026-000001" || recs[1][11] != "8150000" {
		t.Fatalf("csv = %q", recs)
	}
	if recs[0][12] != "Penanda" || recs[1][12] != "report_overdue" || recs[2][12] != "" {
		t.Errorf("flags column = %q, %q, %q", recs[0][12], recs[1][12], recs[2][12])
	}
	if recs[1][3] != `'=HYPERLINK("x")` {
		t.Errorf("formula not neutralised: %q", recs[1][3])
	}

	b.Reset()
	if err := GrantsXLSX(&b, rows); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := f.GetCellValue("Hibah", "H2", excelize.Options{RawCellValue: true})
	if err != nil || v != "14500000" {
		t.Fatalf("approved cell = %q, %v", v, err)
	}
	if fl, _ := f.GetCellValue("Hibah", "M2"); fl != "report_overdue" {
		t.Errorf("M2 = %q, want report_overdue", fl)
	}
	if n, _ := f.GetCellValue("Hibah", "A3"); n != "MGMP-2026-000002" {
		t.Fatalf("A3 = %q", n)
	}
}
