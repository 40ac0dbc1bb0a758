package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// RiskRow is one grant of the risk ranking export, in rank order.
type RiskRow struct {
	Rank          int
	Number, Group string
	Score         int
	Signals       []RiskCell
}

// RiskCell is one signal of a ranked grant: its code (as the API names it),
// its weight and its facts as compact JSON.
type RiskCell struct {
	Code   string
	Weight int
	Facts  string
}

var riskHeader = []string{"Peringkat", "Nomor", "Kelompok", "Skor", "Sinyal", "Rincian"}

// cells writes the signals as "code (weight)" separated by spaces, like the
// flags column of the grants export, and their facts one per line.
func (r RiskRow) cells() []any {
	codes := make([]string, len(r.Signals))
	facts := make([]string, len(r.Signals))
	for i, s := range r.Signals {
		codes[i] = fmt.Sprintf("%s (%d)", s.Code, s.Weight)
		facts[i] = s.Code + ": " + s.Facts
	}
	return []any{r.Rank, r.Number, r.Group, r.Score, strings.Join(codes, " "), strings.Join(facts, "\n")}
}

// RiskCSV writes the ranking as CSV; it returns the first write error.
func RiskCSV(w io.Writer, rows []RiskRow) error {
	return writeCSV(w, riskHeader, len(rows), func(i int) []any { return rows[i].cells() })
}

// RiskXLSX writes the ranking as one worksheet, rank and score as numbers.
func RiskXLSX(w io.Writer, rows []RiskRow) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Risiko"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	if err := fillSheet(f, sheet, riskHeader, len(rows), func(i int) []any { return rows[i].cells() }); err != nil {
		return err
	}
	_ = f.SetColWidth(sheet, "B", "B", 20)
	_ = f.SetColWidth(sheet, "C", "C", 40)
	_ = f.SetColWidth(sheet, "E", "E", 50)
	_ = f.SetColWidth(sheet, "F", "F", 80)
	return f.Write(w)
}
