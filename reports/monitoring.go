package reports

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// MonitorRow is one line of the monitoring list export.
type MonitorRow struct {
	Group, Kind, Province, Regency, FundingEnded, LastMeeting, Status, Since string
	DaysSilent                                                               int
}

var monitorHeader = []string{"Kelompok", "Jenis", "Provinsi", "Kabupaten/Kota", "Pendanaan berakhir",
	"Pertemuan terakhir", "Hari tanpa pertemuan", "Status", "Sejak"}

func (r MonitorRow) cells() []any {
	return []any{r.Group, r.Kind, r.Province, r.Regency, r.FundingEnded, r.LastMeeting, r.DaysSilent, r.Status, r.Since}
}

// MonitoringCSV writes the monitoring list as CSV; it returns the first write error.
func MonitoringCSV(w io.Writer, rows []MonitorRow) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(monitorHeader); err != nil {
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

// MonitoringXLSX writes the monitoring list as one worksheet.
func MonitoringXLSX(w io.Writer, rows []MonitorRow) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Pemantauan"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	header := make([]any, len(monitorHeader))
	for i, h := range monitorHeader {
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
	_ = f.SetColWidth(sheet, "A", "A", 40)
	return f.Write(w)
}
