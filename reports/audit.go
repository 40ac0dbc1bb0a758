package reports

import (
	"strconv"

	"grantflow/workflow"
)

// Audit is the LPJ's optional audit section (issue #13): the auditor's
// receipt sample, the seed that redraws it (workflow.DrawAuditSample) and
// the finding on each sampled expense. A nil LPJ.Audit prints no section.
type Audit struct {
	Seed       string // decimal, as recorded in the draw event
	Size       int
	Candidates int // unvoided expenses the sample was drawn from
	FlagWeight int // workflow.AuditFlagWeight at the draw
	Items      []workflow.SampledExpense
}

// audit prints the sample with each expense's date, vendor and amount
// (looked up in LPJ.Expenses) and the finding.
func (x *doc) audit() {
	a := x.d.Audit
	x.title("LAMPIRAN 4", "SAMPEL AUDIT BUKTI BELANJA")
	x.para("Sampel diambil acak dari belanja yang tidak dibatalkan; belanja yang berbendera " +
		"(misalnya bukti ganda atau di luar masa kegiatan) berbobot " + strconv.Itoa(a.FlagWeight) +
		" kali. Siapa pun dapat mengambil ulang sampel yang sama dari benihnya.")
	x.fields(40, "Benih acak", a.Seed, "Ukuran sampel", strconv.Itoa(a.Size)+" dari "+strconv.Itoa(a.Candidates)+" belanja")
	byID := map[int64]workflow.Expense{}
	for _, e := range x.d.Expenses {
		byID[e.ID] = e
	}
	var rows []row
	for i, it := range a.Items {
		e := byID[it.ExpenseID]
		result := "belum diperiksa"
		switch it.Result {
		case workflow.FindingOK:
			result = "sesuai"
		case workflow.FindingIssue:
			result = "temuan"
		}
		flag := ""
		if it.Flagged {
			flag = "ya"
		}
		rows = append(rows, row{cells: []string{strconv.Itoa(i + 1), strconv.FormatInt(it.ExpenseID, 10), tanggalPendek(e.SpentOn),
			orDash(e.Vendor), rupiahOrDash(e.Amount), orDash(flag), result, orDash(it.Note)}})
	}
	x.table([]column{{"No", 8, "C"}, {"Belanja", 15, "C"}, {"Tanggal", 20, "L"}, {"Penyedia", 32, "L"}, {"Jumlah", 25, "R"},
		{"Bendera", 15, "C"}, {"Hasil", 20, "L"}, {"Catatan", 35, "L"}}, rows)
}
