package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// GrantRow is one line of the grants list export. Flags are the grant's
// flag codes (report_overdue), written space-separated in the last column,
// codes like the state and kind columns.
type GrantRow struct {
	Number, State, Kind, Group, Province, Regency        string
	Requested, Approved, Disbursed, Spent, Refunded, Bal int64
	Flags                                                []string
}

var grantHeader = []string{"Nomor", "Status", "Jenis", "Kelompok", "Provinsi", "Kabupaten/Kota",
	"Diajukan", "Disetujui", "Disalurkan", "Dibelanjakan", "Dikembalikan", "Saldo", "Penanda"}

func (r GrantRow) cells() []any {
	return []any{r.Number, r.State, r.Kind, r.Group, r.Province, r.Regency,
		r.Requested, r.Approved, r.Disbursed, r.Spent, r.Refunded, r.Bal, strings.Join(r.Flags, " ")}
}

// GrantsCSV writes the grants list as CSV; it returns the first write error.
func GrantsCSV(w io.Writer, rows []GrantRow) error {
	return writeCSV(w, grantHeader, len(rows), func(i int) []any { return rows[i].cells() })
}

// GrantsXLSX writes the grants list as one worksheet with numeric rupiah cells.
func GrantsXLSX(w io.Writer, rows []GrantRow) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Hibah"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	if err := fillSheet(f, sheet, grantHeader, len(rows), func(i int) []any { return rows[i].cells() }); err != nil {
		return err
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
