// Package reports renders grantflow's documents from plain data into an
// io.Writer: the LPJ (accountability report) PDF, the auditor's dossier ZIP,
// and the grants, ledger and activities exports as CSV and XLSX. It never queries.
package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"grantflow/workflow"
)

// ledgerHeader names the BKU columns in Bahasa Indonesia.
var ledgerHeader = []string{"Tanggal", "Jenis", "Referensi", "Uraian", "Masuk", "Keluar", "Saldo"}

// entryKinds are the Indonesian names of ledger entry kinds.
var entryKinds = map[string]string{
	workflow.EntryDisbursement: "Penerimaan dana",
	workflow.EntryExpense:      "Belanja",
	workflow.EntryTaxWithheld:  "Pungutan pajak",
	workflow.EntryTaxDeposited: "Setoran pajak",
	workflow.EntryVoid:         "Pembatalan belanja",
	workflow.EntryRefund:       "Setor sisa dana",
}

// bom starts every CSV so that spreadsheet programs read it as UTF-8
// (Excel otherwise shows "Dokumentasi dan pelaporan – …" garbled).
const bom = "\ufeff"

// safeCell keeps user text in a CSV from being read as a spreadsheet formula.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// LedgerCSV writes the BKU as CSV (UTF-8 with BOM) with whole-rupiah amounts; it returns the
// first write error.
func LedgerCSV(w io.Writer, rows []workflow.LedgerEntry) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(ledgerHeader); err != nil {
		return err
	}
	for _, r := range rows {
		rec := []string{r.Date.String(), entryKinds[r.Kind], safeCell(r.Ref), safeCell(r.Description),
			fmt.Sprint(r.In), fmt.Sprint(r.Out), fmt.Sprint(r.Balance)}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// LedgerXLSX writes the BKU as one worksheet with numeric rupiah cells.
func LedgerXLSX(w io.Writer, number string, rows []workflow.LedgerEntry) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "BKU"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	rupiah, err := f.NewStyle(&excelize.Style{CustomNumFmt: strPtr(`"Rp "#,##0`)})
	if err != nil {
		return err
	}
	if err := f.SetSheetRow(sheet, "A1", &[]any{"Buku Kas Umum " + number}); err != nil {
		return err
	}
	header := headerRow(ledgerHeader)
	if err := f.SetSheetRow(sheet, "A3", &header); err != nil {
		return err
	}
	for i, r := range rows {
		cell := fmt.Sprintf("A%d", i+4)
		// Text cells are stored as strings, never formulas: no escaping needed here.
		if err := f.SetSheetRow(sheet, cell, &[]any{r.Date.String(), entryKinds[r.Kind], r.Ref, r.Description, r.In, r.Out, r.Balance}); err != nil {
			return err
		}
	}
	if len(rows) > 0 {
		if err := f.SetCellStyle(sheet, "E4", fmt.Sprintf("G%d", len(rows)+3), rupiah); err != nil {
			return err
		}
	}
	_ = f.SetColWidth(sheet, "A", "A", 12)
	_ = f.SetColWidth(sheet, "B", "C", 20)
	_ = f.SetColWidth(sheet, "D", "D", 50)
	_ = f.SetColWidth(sheet, "E", "G", 16)
	return f.Write(w)
}

func strPtr(s string) *string { return &s }
