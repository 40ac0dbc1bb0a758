package reports

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// GrantRow is one line of the grants list export.
type GrantRow struct {
	Number, State, Kind, Group, Province, Regency        string
	Requested, Approved, Disbursed, Spent, Refunded, Bal int64
}

var grantHeader = []string{"Nomor", "Status", "Jenis", "Kelompok", "Provinsi", "Kabupaten/Kota",
	"Diajukan", "Disetujui", "Disalurkan", "Dibelanjakan", "Dikembalikan", "Saldo"}

func (r GrantRow) cells() []any {
	return []any{r.Number, r.State, r.Kind, r.Group, r.Province, r.Regency,
		r.Requested, r.Approved, r.Disbursed, r.Spent, r.Refunded, r.Bal}
}

// GrantsCSV writes the grants list as CSV; it returns the first write error.
func GrantsCSV(w io.Writer, rows []GrantRow) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(grantHeader); err != nil {
		return err
	}
	for _, r := range rows {
		cells := r.cells()
		rec := make([]string, len(cells))
		for i, c := range cells {
			rec[i] = safeCell(fmt.Sprint(c))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// GrantsXLSX writes the grants list as one worksheet with numeric rupiah cells.
func GrantsXLSX(w io.Writer, rows []GrantRow) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Hibah"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	header := make([]any, len(grantHeader))
	for i, h := range grantHeader {
		header[i] = h
	}
	if err := f.SetSheetRow(sheet, "A1", &header); err != nil {
		return err
	}
	for i, r := range rows {
		cells := r.cells()
		if err := f.SetSheetRow(sheet, fmt.Sprintf("A%d", i+2), &cells); err != nil {
			return err
		}
	}
	if len(rows) > 0 {
		rupiah, err := f.NewStyle(&excelize.Style{CustomNumFmt: strPtr(`"Rp "#,##0`)})
		if err != nil {
			return err
		}
		if err := f.SetCellStyle(sheet, "G2", fmt.Sprintf("L%d", len(rows)+1), rupiah); err != nil {
			return err
		}
	}
	_ = f.SetColWidth(sheet, "A", "A", 20)
	_ = f.SetColWidth(sheet, "D", "D", 40)
	_ = f.SetColWidth(sheet, "G", "L", 16)
	return f.Write(w)
}
