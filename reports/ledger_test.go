package reports

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"grantflow/workflow"
)

func ledgerRows() []workflow.LedgerEntry {
	d := workflow.MustDate
	return []workflow.LedgerEntry{
		{Date: d("2026-03-01"), Kind: workflow.EntryDisbursement, Ref: "TRF-1", Description: "Penerimaan dana tahap 1", In: 7_507_500, Balance: 7_507_500},
		{Date: d("2026-03-02"), Kind: workflow.EntryExpense, Ref: "=cmd|' /C calc'!A0", Description: "=HYPERLINK(\"http://x\") — Toko", Out: 1_110_000, Balance: 6_397_500},
		{Date: d("2026-03-02"), Kind: workflow.EntryTaxWithheld, Ref: "+1", Description: "@SUM(A1)", In: 110_000, Balance: 6_507_500},
		{Date: d("2026-03-02"), Kind: workflow.EntryTaxDeposited, Ref: "-2", Description: "\tSetoran PPN", Out: 110_000, Balance: 6_397_500},
		{Date: d("2026-03-03"), Kind: workflow.EntryVoid, Ref: "BL-2", Description: "\rPembatalan", In: 1_110_000, Balance: 7_507_500},
		{Date: d("2026-03-04"), Kind: workflow.EntryRefund, Ref: "0123456789ABCDEF", Description: "Setor sisa dana <b>HTML</b> a=b", Out: 7_507_500, Balance: 0},
		{Date: d("2026-03-05"), Kind: workflow.EntryExpense, Ref: "BL-3", Description: "Belanja sebelum dana", Out: 5_000, Balance: -5_000},
	}
}

func TestLedgerCSV(t *testing.T) {
	rows := ledgerRows()
	var b bytes.Buffer
	if err := LedgerCSV(&b, rows); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte(bom)) {
		t.Fatal("csv does not start with the UTF-8 BOM")
	}
	recs, err := csv.NewReader(bytes.NewReader(b.Bytes()[len(bom):])).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	if strings.Join(recs[0], ",") != "Tanggal,Jenis,Referensi,Uraian,Masuk,Keluar,Saldo" {
		t.Fatalf("header %v", recs[0])
	}
	if len(recs) != len(rows)+1 {
		t.Fatalf("%d records for %d rows", len(recs), len(rows))
	}
	for i, r := range rows {
		rec := recs[i+1]
		if rec[0] != r.Date.String() || rec[1] != entryKinds[r.Kind] || rec[1] == "" {
			t.Errorf("row %d: %v", i, rec)
		}
		if rec[4] != strconv.FormatInt(r.In, 10) || rec[5] != strconv.FormatInt(r.Out, 10) || rec[6] != strconv.FormatInt(r.Balance, 10) {
			t.Errorf("row %d amounts: %v", i, rec)
		}
		for j, src := range map[int]string{2: r.Ref, 3: r.Description} {
			risky := strings.ContainsAny(src[:1], "=+-@\t\r")
			switch {
			case risky && rec[j] != "'"+src:
				t.Errorf("row %d col %d: %q not neutralised: %q", i, j, src, rec[j])
			case !risky && rec[j] != src:
				t.Errorf("row %d col %d: %q changed to %q", i, j, src, rec[j])
			}
		}
	}
	// Amounts are numbers, even a negative balance: never quoted as text.
	if last := recs[len(recs)-1]; last[6] != "-5000" {
		t.Errorf("negative balance cell %q", last[6])
	}
	// An empty ledger is just the header.
	b.Reset()
	if err := LedgerCSV(&b, nil); err != nil || strings.Count(b.String(), "\n") != 1 {
		t.Fatalf("empty ledger: %q %v", b.String(), err)
	}
}

type failWriter struct{}

var errDisk = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errDisk }

func TestLedgerWriteErrors(t *testing.T) {
	if err := LedgerCSV(failWriter{}, ledgerRows()); !errors.Is(err, errDisk) {
		t.Errorf("CSV: %v", err)
	}
	if err := LedgerXLSX(failWriter{}, "KKG-2026-000001", ledgerRows()); err == nil {
		t.Error("XLSX: no error from a failing writer")
	}
}

func TestLedgerXLSXRoundTrip(t *testing.T) {
	rows := ledgerRows()
	var b bytes.Buffer
	if err := LedgerXLSX(&b, "KKG-2026-000042", rows); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatalf("XLSX does not open: %v", err)
	}
	defer f.Close()
	if names := f.GetSheetList(); len(names) != 1 || names[0] != "BKU" {
		t.Fatalf("sheets %v", names)
	}
	if v, _ := f.GetCellValue("BKU", "A1"); v != "Buku Kas Umum KKG-2026-000042" {
		t.Errorf("title %q", v)
	}
	raw, err := f.GetRows("BKU", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != len(rows)+3 || strings.Join(raw[2], ",") != strings.Join(ledgerHeader, ",") {
		t.Fatalf("rows %v", raw)
	}
	for i, r := range rows {
		x := raw[i+3]
		// Text cells keep the user's text as it is, and are never formulas.
		if x[0] != r.Date.String() || x[1] != entryKinds[r.Kind] || x[2] != r.Ref || x[3] != r.Description {
			t.Errorf("row %d text %v", i, x)
		}
		for _, col := range []string{"C", "D"} {
			if fm, err := f.GetCellFormula("BKU", col+strconv.Itoa(i+4)); err != nil || fm != "" {
				t.Errorf("%s%d is a formula %q (%v)", col, i+4, fm, err)
			}
		}
		for j, want := range []int64{r.In, r.Out, r.Balance} {
			cell := string(rune('E'+j)) + strconv.Itoa(i+4)
			if x[4+j] != strconv.FormatInt(want, 10) {
				t.Errorf("%s = %q, want %d", cell, x[4+j], want)
			}
			if typ, _ := f.GetCellType("BKU", cell); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
				t.Errorf("%s has type %v, want a number", cell, typ)
			}
			if formula, _ := f.GetCellFormula("BKU", cell); formula != "" {
				t.Errorf("%s holds formula %q", cell, formula)
			}
		}
		for _, col := range []string{"C", "D"} {
			if formula, _ := f.GetCellFormula("BKU", col+strconv.Itoa(i+4)); formula != "" {
				t.Errorf("%s%d holds formula %q", col, i+4, formula)
			}
		}
	}
	// Displayed as rupiah.
	if v, _ := f.GetCellValue("BKU", "E4"); v != "Rp 7,507,500" && v != "Rp 7.507.500" {
		t.Errorf("E4 displayed as %q", v)
	}
	// An empty ledger still makes a valid workbook.
	b.Reset()
	if err := LedgerXLSX(&b, "KKG-2026-000043", nil); err != nil {
		t.Fatal(err)
	}
	if f2, err := excelize.OpenReader(&b); err != nil {
		t.Fatalf("empty workbook: %v", err)
	} else {
		f2.Close()
	}
}
