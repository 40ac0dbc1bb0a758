package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	"grantflow/workflow"
)

// Attendance is one member's presence at one session, a line of the
// attendance export.
type Attendance struct {
	Seq      int // the session's Seq
	Member   string
	MemberID string // NIP or SIMPATIKA id
	Madrasah string
	Position workflow.Position
	Present  bool
}

var activityHeader = []string{"No", "Jenis", "Kegiatan", "Rencana", "Status", "Tanggal pelaksanaan", "Tempat",
	"JP", "Narasumber", "Hadir", "Anggota", "Persentase hadir", "Hasil dan keluaran"}

var attendanceHeader = []string{"No kegiatan", "Kegiatan", "Tanggal pelaksanaan", "Nama", "NIP/SIMPATIKA",
	"Madrasah", "Jabatan", "Hadir"}

var activityStatuses = map[workflow.ActivityStatus]string{
	workflow.ActivityPlanned:   "direncanakan",
	workflow.ActivityHeld:      "terlaksana",
	workflow.ActivityCancelled: "dibatalkan",
}

func activityCells(s Session) []any {
	return []any{s.Seq, string(s.Kind), s.Title, s.PlannedOn.String(), activityStatuses[s.Status], s.HeldOn.String(),
		s.Location, s.Hours, s.Facilitator, s.Present, s.Members, percent(int64(s.Present), int64(s.Members)), s.Outputs}
}

func attendanceCells(titles map[int]Session) func(a Attendance) []any {
	return func(a Attendance) []any {
		s := titles[a.Seq]
		present := "Tidak"
		if a.Present {
			present = "Ya"
		}
		return []any{a.Seq, s.Title, s.HeldOn.String(), a.Member, a.MemberID, a.Madrasah, string(a.Position), present}
	}
}

func bySeq(sessions []Session) map[int]Session {
	m := make(map[int]Session, len(sessions))
	for _, s := range sessions {
		m[s.Seq] = s
	}
	return m
}

// ActivitiesCSV writes the sessions, one per line with their realisation,
// as CSV (UTF-8 with BOM); it returns the first write error.
func ActivitiesCSV(w io.Writer, sessions []Session) error {
	return writeCSV(w, activityHeader, len(sessions), func(i int) []any { return activityCells(sessions[i]) })
}

// AttendanceCSV writes who attended which session as CSV (UTF-8 with BOM);
// sessions name the lines' sessions. It returns the first write error.
func AttendanceCSV(w io.Writer, sessions []Session, rows []Attendance) error {
	cells := attendanceCells(bySeq(sessions))
	return writeCSV(w, attendanceHeader, len(rows), func(i int) []any { return cells(rows[i]) })
}

// ActivitiesXLSX writes one workbook with the sheets "Kegiatan" (the
// sessions) and "Kehadiran" (attendance); it returns the first error.
func ActivitiesXLSX(w io.Writer, sessions []Session, rows []Attendance) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Kegiatan"); err != nil {
		return err
	}
	if err := fillSheet(f, "Kegiatan", activityHeader, len(sessions), func(i int) []any { return activityCells(sessions[i]) }); err != nil {
		return err
	}
	if _, err := f.NewSheet("Kehadiran"); err != nil {
		return err
	}
	cells := attendanceCells(bySeq(sessions))
	if err := fillSheet(f, "Kehadiran", attendanceHeader, len(rows), func(i int) []any { return cells(rows[i]) }); err != nil {
		return err
	}
	_ = f.SetColWidth("Kegiatan", "C", "C", 40)
	_ = f.SetColWidth("Kegiatan", "M", "M", 50)
	_ = f.SetColWidth("Kehadiran", "B", "B", 40)
	_ = f.SetColWidth("Kehadiran", "D", "F", 30)
	return f.Write(w)
}

// writeCSV writes the BOM, the header and n records, every text cell kept
// from being read as a formula; it returns the first write error.
func writeCSV(w io.Writer, header []string, n int, cells func(i int) []any) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for i := range n {
		row := cells(i)
		rec := make([]string, len(row))
		for j, c := range row {
			switch v := c.(type) {
			case string:
				rec[j] = safeCell(v)
			case int:
				rec[j] = strconv.Itoa(v)
			case int64:
				rec[j] = strconv.FormatInt(v, 10) // a number, even when negative: never quoted as text
			default:
				rec[j] = safeCell(fmt.Sprint(v))
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// headerRow turns column names into a row excelize writes.
func headerRow(h []string) []any {
	row := make([]any, len(h))
	for i, s := range h {
		row[i] = s
	}
	return row
}

// fillSheet writes the header in row 1 and n rows under it; text cells
// are stored as strings, never formulas.
func fillSheet(f *excelize.File, sheet string, header []string, n int, cells func(i int) []any) error {
	head := headerRow(header)
	if err := f.SetSheetRow(sheet, "A1", &head); err != nil {
		return err
	}
	for i := range n {
		row := cells(i)
		if err := f.SetSheetRow(sheet, fmt.Sprintf("A%d", i+2), &row); err != nil {
			return err
		}
	}
	return nil
}
