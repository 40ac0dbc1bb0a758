package web

import (
	"bytes"
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"grantflow/internal/grants"
	"grantflow/reports"
	"grantflow/workflow"
)

// riskPage is the JSON page size of GET /audit/risk when no limit is given;
// the exports carry every ranked grant unless a limit is given.
const riskPage = 100

// riskRanking answers GET /audit/risk (?program_id=&limit=&offset=&format=csv|xlsx).
func (s *Server) riskRanking(c *fiber.Ctx) error {
	in, format, err := riskQuery(c)
	if err != nil {
		return err
	}
	if format == "" && c.Query("limit") == "" {
		in.Limit = riskPage
	}
	r, err := s.svc.RiskRanking(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	if format == "" {
		return c.JSON(r)
	}
	rows, err := riskRows(r.Items, in.Offset)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if format == "csv" {
		if err := reports.RiskCSV(&b, rows); err != nil {
			return err
		}
		return sendDownload(c, "text/csv; charset=utf-8", "risiko.csv", b.Bytes())
	}
	if err := reports.RiskXLSX(&b, rows); err != nil {
		return err
	}
	return sendDownload(c, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "risiko.xlsx", b.Bytes())
}

// riskQuery reads the ranking's query parameters; a malformed one answers
// EInvalid naming it.
func riskQuery(c *fiber.Ctx) (grants.RiskInput, string, error) {
	var in grants.RiskInput
	var err error
	if in.ProgramID, err = queryID(c, "program_id"); err != nil {
		return in, "", err
	}
	if in.Limit, err = queryInt(c, "limit"); err != nil {
		return in, "", err
	}
	if in.Offset, err = queryInt(c, "offset"); err != nil {
		return in, "", err
	}
	format := c.Query("format")
	if format != "" && format != "csv" && format != "xlsx" {
		return in, "", &workflow.Error{Code: workflow.EInvalid, Message: "format tidak dikenal",
			Details: []workflow.Detail{{Field: "format", Message: "gunakan csv atau xlsx"}}}
	}
	return in, format, nil
}

// riskRows turns ranked items (the page starting at offset) into export
// rows, each signal's facts as compact JSON.
func riskRows(items []workflow.RiskItem, offset int) ([]reports.RiskRow, error) {
	rows := make([]reports.RiskRow, len(items))
	for i, it := range items {
		rows[i] = reports.RiskRow{Rank: offset + i + 1, Number: it.Number, Group: it.GroupName, Score: it.Score}
		for _, sg := range it.Signals {
			facts, err := json.Marshal(sg.Facts)
			if err != nil {
				return nil, err
			}
			rows[i].Signals = append(rows[i].Signals, reports.RiskCell{Code: sg.Code, Weight: sg.Weight, Facts: string(facts)})
		}
	}
	return rows, nil
}
