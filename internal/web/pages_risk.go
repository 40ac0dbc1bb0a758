package web

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"grantflow/money"
	"grantflow/workflow"
)

// riskPageSize is how many ranked grants one page of /risiko shows.
const riskPageSize = 50

// riskLabels are the signals' names as the auditor's page shows them.
var riskLabels = map[string]string{
	workflow.RiskDuplicateReceipt: "Nota ganda",
	workflow.RiskPhotoReused:      "Foto dipakai ulang",
	workflow.RiskReportOverdue:    "LPJ terlambat",
	workflow.RiskLateEvidence:     "Bukti kegiatan terlambat",
	workflow.RiskMissingEvidence:  "Bukti kegiatan tidak ada",
	workflow.RiskOutsidePeriod:    "Belanja di luar masa hibah",
	workflow.RiskNoSession:        "Belanja sesi tanpa sesi",
	workflow.RiskLineSpike:        "Lonjakan di hari terakhir",
	workflow.RiskRoundAmount:      "Nota bernilai bulat",
	workflow.RiskAttendanceDrop:   "Kehadiran anjlok",
	workflow.RiskPeerOutlier:      "Jauh di atas hibah sejenis",
	workflow.RiskLargeRefund:      "Pengembalian besar",
}

// riskSignalView is one signal as the page shows it: its name, weight and
// a sentence built from its facts.
type riskSignalView struct {
	Code, Label, Why string
	Weight           int
}

// riskRowView is one ranked grant of the page.
type riskRowView struct {
	Rank      int
	GrantID   int64
	Number    string
	GroupName string
	Score     int
	Signals   []riskSignalView
}

// riskPageData is the data of templates/audit_risk.html.
type riskPageData struct {
	Rows                  []riskRowView
	Total, From, To       int
	Programs              []workflow.Program
	ProgramID             int64
	Prev, Next            string // page links, "" when there is none
	ExportCSV, ExportXLSX string
	Legend                []riskSignalView // every signal with its default weight, explained
}

// riskPage is the auditor's risk ranking (/risiko): the API's ranking, a
// page at a time, each signal named and explained in Indonesian.
func (s *Server) riskPage(c *fiber.Ctx) error {
	in, _, err := riskQuery(c)
	if err != nil {
		return err
	}
	in.Limit = riskPageSize
	ctx, a := c.UserContext(), actor(c)
	r, err := s.svc.RiskRanking(ctx, a, in)
	if err != nil {
		return err
	}
	progs, err := s.svc.Programs(ctx, a)
	if err != nil {
		return err
	}
	d := riskPageData{Total: r.Total, From: in.Offset + 1, To: in.Offset + len(r.Items), Programs: progs, ProgramID: in.ProgramID}
	for i, it := range r.Items {
		row := riskRowView{Rank: in.Offset + i + 1, GrantID: it.GrantID, Number: it.Number, GroupName: it.GroupName, Score: it.Score}
		for _, sg := range it.Signals {
			row.Signals = append(row.Signals, riskSignalView{Code: sg.Code, Label: riskLabels[sg.Code], Weight: sg.Weight, Why: riskWhy(sg)})
		}
		d.Rows = append(d.Rows, row)
	}
	q := url.Values{}
	if in.ProgramID > 0 {
		q.Set("program_id", fmt.Sprint(in.ProgramID))
	}
	link := func(offset int) string {
		v := url.Values{"offset": {fmt.Sprint(offset)}}
		for k, x := range q {
			v[k] = x
		}
		return "/risiko?" + v.Encode()
	}
	if in.Offset > 0 {
		d.Prev = link(max(in.Offset-riskPageSize, 0))
	}
	if d.To < r.Total {
		d.Next = link(in.Offset + riskPageSize)
	}
	for _, f := range []string{"csv", "xlsx"} {
		v := url.Values{"format": {f}}
		for k, x := range q {
			v[k] = x
		}
		if f == "csv" {
			d.ExportCSV = "/risiko/ekspor?" + v.Encode()
		} else {
			d.ExportXLSX = "/risiko/ekspor?" + v.Encode()
		}
	}
	def := workflow.DefaultRiskWeights()
	for _, code := range workflow.RiskCodes {
		d.Legend = append(d.Legend, riskSignalView{Code: code, Label: riskLabels[code], Weight: def[code], Why: riskRules[code]})
	}
	return s.render(c, fiber.StatusOK, "audit_risk", "Peringkat risiko", d)
}

// riskRules says in Indonesian when each signal is raised (the page's legend).
var riskRules = map[string]string{
	workflow.RiskDuplicateReceipt: "Berkas nota yang sama mendukung belanja lain yang tidak dibatalkan, di hibah mana pun.",
	workflow.RiskPhotoReused:      "Foto kegiatan atau nota hampir sama (pHash, paling banyak 10 bit berbeda) dengan foto sesi lain atau kelompok lain.",
	workflow.RiskReportOverdue:    "Hibah masih berjalan sesudah batas LPJ program.",
	workflow.RiskLateEvidence:     fmt.Sprintf("Bukti pertama sebuah sesi diunggah lebih dari %d hari sesudah tanggal sesi.", workflow.LateEvidenceDays),
	workflow.RiskMissingEvidence:  "Sesi tercatat terlaksana tanpa satu pun bukti (daftar hadir, foto, notulen).",
	workflow.RiskOutsidePeriod:    "Belanja sebelum dana pertama diterima atau sesudah akhir masa kegiatan program.",
	workflow.RiskNoSession:        "Belanja konsumsi, honorarium atau transport yang tidak menyebut sesinya.",
	workflow.RiskLineSpike:        fmt.Sprintf("Baris anggaran baru terserap lebih dari %d %% pada hari belanja terakhir hibah.", workflow.LineSpikePercent),
	workflow.RiskRoundAmount: fmt.Sprintf("Paling sedikit %d nota, dan %d %% atau lebih dari semua nota, bernilai kelipatan %s dan paling sedikit %s.",
		workflow.RoundAmountMinCount, workflow.RoundAmountMinPercent, money.Format(workflow.RoundAmountUnit), money.Format(workflow.RoundAmountMin)),
	workflow.RiskAttendanceDrop: fmt.Sprintf("Sebuah sesi dihadiri kurang dari %d %% peserta sesi pertama.", workflow.AttendanceDropPercent),
	workflow.RiskPeerOutlier: fmt.Sprintf("Dana disetujui atau dibelanjakan di atas persentil ke-95 hibah sejenis dalam program (bila ada paling sedikit %d hibah).",
		workflow.PeerOutlierMinPeers),
	workflow.RiskLargeRefund: fmt.Sprintf("Dana dikembalikan lebih dari %d %% dana yang disalurkan.", workflow.LargeRefundPercent),
}

// riskWhy turns a signal's facts into one Indonesian sentence.
func riskWhy(sg workflow.RiskSignal) string {
	f := sg.Facts
	n := func(k string) int64 {
		switch v := f[k].(type) {
		case float64:
			return int64(v)
		case int64:
			return v
		case int:
			return int64(v)
		}
		return 0
	}
	ids := func(k string) string {
		xs, _ := f[k].([]any)
		out := make([]string, 0, len(xs))
		for i, x := range xs {
			if i == 10 {
				out = append(out, fmt.Sprintf("dan %d lainnya", len(xs)-10))
				break
			}
			out = append(out, fmt.Sprint(x))
		}
		return strings.Join(out, ", ")
	}
	switch sg.Code {
	case workflow.RiskDuplicateReceipt:
		return fmt.Sprintf("%d belanja memakai berkas nota yang juga dipakai belanja lain (belanja %s).", n("count"), ids("expense_ids"))
	case workflow.RiskPhotoReused:
		return fmt.Sprintf("%d foto hampir sama dengan foto sesi atau kelompok lain (bukti %s; pasangannya %s).", n("count"), ids("evidence_ids"), ids("other_evidence_ids"))
	case workflow.RiskReportOverdue:
		return fmt.Sprintf("LPJ terlambat %d hari dari batas %v.", n("days_overdue"), f["report_due_on"])
	case workflow.RiskLateEvidence:
		return fmt.Sprintf("Bukti %d sesi diunggah lebih dari %d hari sesudah sesinya, paling lama %d hari (kegiatan %s).", n("count"), n("after_days"), n("max_days"), ids("activity_ids"))
	case workflow.RiskMissingEvidence:
		return fmt.Sprintf("%d sesi terlaksana tanpa bukti (kegiatan %s).", n("count"), ids("activity_ids"))
	case workflow.RiskOutsidePeriod:
		return fmt.Sprintf("%d belanja di luar masa hibah (belanja %s).", n("count"), ids("expense_ids"))
	case workflow.RiskNoSession:
		return fmt.Sprintf("%d belanja konsumsi, honorarium atau transport tanpa sesi (belanja %s).", n("count"), ids("expense_ids"))
	case workflow.RiskLineSpike:
		return fmt.Sprintf("%d baris anggaran melewati %d %% pada hari belanja terakhir, %v (baris %s).", n("count"), n("percent"), f["last_day"], ids("budget_line_ids"))
	case workflow.RiskRoundAmount:
		return fmt.Sprintf("%d dari %d nota bernilai bulat (kelipatan %s, paling sedikit %s).", n("count"), n("of"), money.Format(n("unit")), money.Format(n("min")))
	case workflow.RiskAttendanceDrop:
		return fmt.Sprintf("%d sesi dihadiri kurang dari separuh peserta sesi pertama (%d orang); terendah %d orang (kegiatan %s).", n("count"), n("first_present"), n("min_present"), ids("activity_ids"))
	case workflow.RiskPeerOutlier:
		return fmt.Sprintf("Dibelanjakan %s (persentil ke-95: %s), disetujui %s (persentil ke-95: %s), di antara %d hibah sejenis.",
			money.Format(n("spent")), money.Format(n("p95_spent")), money.Format(n("approved")), money.Format(n("p95_approved")), n("peers"))
	case workflow.RiskLargeRefund:
		return fmt.Sprintf("Dikembalikan %s dari %s yang disalurkan (%v %%).", money.Format(n("refunded")), money.Format(n("disbursed")), f["percent"])
	}
	return ""
}
