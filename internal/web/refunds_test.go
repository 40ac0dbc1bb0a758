package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"grantflow/internal/evidence"
	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/internal/postgres/pgtest"
	"grantflow/money"
	"grantflow/workflow"
)

func TestMoneyRefundsAmountsLedger(t *testing.T) {
	t.Parallel()
	h := newHarnessStore(t, pgtest.New(t), moneyOptions, nil)
	g := h.fundedGrant(t)
	tr := g.treasurer
	auditor := "auditor"
	rpath := fmt.Sprintf("/api/v1/grants/%d/refunds", g.id)
	line := func(cat string) string { return strconv.FormatInt(g.lines[cat].ID, 10) }

	// A mix: plain, taxed, formula-looking, voided.
	h.mustExpense(t, g, map[string]string{"amount": "750000", "spent_on": h.today().AddDays(-15).String()}, evidencetest.PNG(t, 1, 8, 6))
	taxed := h.mustExpense(t, g, map[string]string{"amount": "1110000", "tax_ppn": "110000", "tax_pph": "15000",
		"budget_line_id": line("atk_bahan"), "spent_on": h.today().AddDays(-12).String()}, evidencetest.PNG(t, 2, 8, 6))
	formula := h.mustExpense(t, g, map[string]string{"amount": "300000", "description": "=cmd|' /C calc'!A0",
		"vendor": "@SUM(1+1)", "budget_line_id": line("penggandaan"), "spent_on": h.today().AddDays(-11).String()}, evidencetest.PNG(t, 3, 8, 6))
	gone := h.mustExpense(t, g, map[string]string{"amount": "200000", "budget_line_id": line("transport"),
		"spent_on": h.today().AddDays(-9).String()}, evidencetest.PNG(t, 4, 8, 6))
	if taxed.TaxPPN != 110000 || taxed.TaxPPh != 15000 {
		t.Fatalf("taxes %+v", taxed)
	}
	if r := h.call(t, tr, http.MethodPost, fmt.Sprintf("/api/v1/grants/%d/expenses/%d/void", g.id, gone.ID), map[string]string{"reason": "batal"}); r.status != 200 {
		t.Fatalf("void: %s", r)
	}

	t.Run("refunds refused", func(t *testing.T) {
		before := h.counts(t, g)
		bal := before.balance
		for _, tc := range []struct {
			name   string
			body   any
			status int
			field  string
		}{
			{"NTPN short", map[string]any{"amount": 1000, "paid_on": h.today().String(), "ntpn": "ABC123"}, 422, "ntpn"},
			{"NTPN symbols", map[string]any{"amount": 1000, "paid_on": h.today().String(), "ntpn": "0123-4567-89AB-CD"}, 422, "ntpn"},
			{"NTPN 17", map[string]any{"amount": 1000, "paid_on": h.today().String(), "ntpn": "0123456789ABCDEFG"}, 422, "ntpn"},
			{"NTPN missing", map[string]any{"amount": 1000, "paid_on": h.today().String()}, 422, "ntpn"},
			{"above balance", map[string]any{"amount": bal + 1, "paid_on": h.today().String(), "ntpn": "0123456789ABCDEF"}, 422, "amount"},
			{"zero", map[string]any{"amount": 0, "paid_on": h.today().String(), "ntpn": "0123456789ABCDEF"}, 422, "amount"},
			{"negative", map[string]any{"amount": -1, "paid_on": h.today().String(), "ntpn": "0123456789ABCDEF"}, 422, "amount"},
			{"no date", map[string]any{"amount": 1000, "ntpn": "0123456789ABCDEF"}, 422, "paid_on"},
			{"future date", map[string]any{"amount": 1000, "paid_on": h.today().AddDays(2).String(), "ntpn": "0123456789ABCDEF"}, 422, "paid_on"},
			{"amount as text", []byte(`{"amount":"1000","paid_on":"` + h.today().String() + `","ntpn":"0123456789ABCDEF"}`), 400, "amount"},
		} {
			r := h.call(t, tr, http.MethodPost, rpath, tc.body)
			d := wantErr(t, tc.name, r, tc.status, tc.field)
			if tc.name == "above balance" && !strings.Contains(d["amount"], money.Format(bal)) {
				t.Errorf("above balance: %q lacks %s", d["amount"], money.Format(bal))
			}
		}
		r := h.call(t, "finance", http.MethodPost, rpath, map[string]any{"amount": 1000, "paid_on": h.today().String(), "ntpn": "0123456789ABCDEF"})
		wantErr(t, "finance records a refund", r, http.StatusForbidden, "")
		r = h.postForm(t, tr, rpath, [][2]string{{"amount", "1000"}, {"paid_on", h.today().String()}, {"ntpn", "bad"}},
			formFile{"proof", "bukti.pdf", "application/pdf", evidencetest.NotePDF("setoran")})
		wantErr(t, "multipart bad NTPN", r, http.StatusUnprocessableEntity, "ntpn")
		r = h.postForm(t, tr, rpath, [][2]string{{"amount", "1000"}, {"paid_on", h.today().String()}, {"ntpn", "0123456789ABCDEF"}},
			formFile{"proof", "bukti.jpg", "image/jpeg", []byte("<html>not a slip</html>")})
		wantErr(t, "multipart HTML proof", r, http.StatusUnsupportedMediaType, "proof")
		if after := h.counts(t, g); after != before {
			t.Fatalf("refused refunds changed %+v into %+v", before, after)
		}
	})

	var proofID int64
	t.Run("refunds recorded", func(t *testing.T) {
		v0 := h.grantAs(t, tr, g)
		r := h.call(t, tr, http.MethodPost, rpath, map[string]any{"amount": 100000, "paid_on": h.today().AddDays(-1).String(), "ntpn": "0123 4567 89ab cdef"})
		if r.status != http.StatusCreated {
			t.Fatalf("JSON refund: %s", r)
		}
		var rf workflow.Refund
		r.decode(t, &rf)
		if rf.NTPN != "0123456789ABCDEF" || rf.Amount != 100000 {
			t.Fatalf("refund %+v", rf)
		}
		pdf := evidencetest.NotePDF("bukti setor NTPN")
		r = h.postForm(t, tr, rpath, [][2]string{{"amount", "Rp 50.000"}, {"paid_on", h.today().String()}, {"ntpn", "FEDCBA9876543210"}},
			formFile{"proof", "bukti setor.pdf", "application/pdf", pdf})
		if r.status != http.StatusCreated {
			t.Fatalf("multipart refund: %s", r)
		}
		r.decode(t, &rf)
		if rf.ProofID == 0 || rf.Amount != 50000 {
			t.Fatalf("refund %+v", rf)
		}
		proofID = rf.ProofID
		got := h.sendAs(t, auditor, http.MethodGet, fmt.Sprintf("/api/v1/evidence/%d", proofID), "", nil)
		if got.status != 200 || !bytes.Equal(got.body, pdf) || got.header.Get("Content-Type") != evidence.MIMEPDF {
			t.Fatalf("proof download: %d %s", got.status, got.header)
		}
		v1 := h.grantAs(t, tr, g)
		if v1.Refunded != v0.Refunded+150000 || v1.Balance != v0.Balance-150000 {
			t.Fatalf("refunded %d→%d balance %d→%d", v0.Refunded, v1.Refunded, v0.Balance, v1.Balance)
		}
		rl := h.call(t, auditor, http.MethodGet, rpath, nil)
		var list struct {
			Items []workflow.Refund `json:"items"`
		}
		rl.decode(t, &list)
		if len(list.Items) != 2 {
			t.Fatalf("refunds %+v", list.Items)
		}
	})

	t.Run("amounts agree with the rows", func(t *testing.T) {
		ctx := ctxT(t)
		v := h.grantAs(t, auditor, g)
		ds, _ := h.svc.Disbursements(ctx, grants.System, g.id)
		rs, _ := h.svc.Refunds(ctx, grants.System, g.id)
		xs := h.expensesAs(t, auditor, g)
		var disbursed, spent, refunded int64
		perLine := map[int64]int64{}
		for _, d := range ds {
			disbursed += d.Amount
		}
		for _, x := range xs {
			if x.VoidedAt == nil {
				spent += x.Amount
				perLine[x.BudgetLineID] += x.Amount
			}
		}
		for _, r := range rs {
			refunded += r.Amount
		}
		if v.Disbursed != disbursed || v.Spent != spent || v.Refunded != refunded || v.Balance != disbursed-spent-refunded {
			t.Fatalf("grant says disbursed %d spent %d refunded %d balance %d; rows say %d %d %d",
				v.Disbursed, v.Spent, v.Refunded, v.Balance, disbursed, spent, refunded)
		}
		if spent != 750000+1110000+300000 || refunded != 150000 {
			t.Fatalf("spent %d refunded %d", spent, refunded)
		}
		for _, b := range v.Budget {
			if b.Spent != perLine[b.ID] {
				t.Errorf("line %s spent %d, rows say %d", b.Category, b.Spent, perLine[b.ID])
			}
		}
	})

	t.Run("ledger", func(t *testing.T) {
		v := h.grantAs(t, auditor, g)
		r := h.call(t, auditor, http.MethodGet, fmt.Sprintf("/api/v1/grants/%d/ledger", g.id), nil)
		if r.status != 200 {
			t.Fatalf("ledger: %s", r)
		}
		var led struct {
			Items   []workflow.LedgerEntry `json:"items"`
			Balance int64                  `json:"balance"`
			Total   int                    `json:"total"`
		}
		r.decode(t, &led)
		// 1 disbursement, 4 expenses, 2 tax withheld + 2 deposited, 1 void, 2 refunds.
		if len(led.Items) != 12 || led.Total != 12 {
			t.Fatalf("%d ledger rows: %+v", len(led.Items), led.Items)
		}
		var bal int64
		kinds := map[string]int{}
		for i, row := range led.Items {
			if i > 0 && row.Date.Before(led.Items[i-1].Date) {
				t.Errorf("row %d dated %s after %s", i, row.Date, led.Items[i-1].Date)
			}
			bal += row.In - row.Out
			if row.Balance != bal {
				t.Errorf("row %d balance %d, running %d", i, row.Balance, bal)
			}
			kinds[row.Kind]++
		}
		if led.Items[0].Kind != workflow.EntryDisbursement || led.Items[0].In != h.share(g, 1) {
			t.Errorf("first row %+v", led.Items[0])
		}
		if bal != v.Balance || led.Balance != v.Balance {
			t.Fatalf("ledger ends at %d (says %d), grant balance %d", bal, led.Balance, v.Balance)
		}
		want := map[string]int{workflow.EntryDisbursement: 1, workflow.EntryExpense: 4, workflow.EntryTaxWithheld: 2,
			workflow.EntryTaxDeposited: 2, workflow.EntryVoid: 1, workflow.EntryRefund: 2}
		for k, n := range want {
			if kinds[k] != n {
				t.Errorf("%d rows of %s, want %d", kinds[k], k, n)
			}
		}
		var withheld, deposited int64
		for _, row := range led.Items {
			switch row.Kind {
			case workflow.EntryTaxWithheld:
				withheld += row.In
			case workflow.EntryTaxDeposited:
				deposited += row.Out
			default:
				continue
			}
			if row.Ref != fmt.Sprintf("BL-%d", taxed.ID) || row.Date.String() != taxed.SpentOn.String() {
				t.Errorf("tax row %+v", row)
			}
		}
		if withheld != 125000 || deposited != 125000 {
			t.Errorf("taxes withheld %d, deposited %d; want 125000 each", withheld, deposited)
		}

		// CSV: same rows, formula cells neutralised.
		c := h.sendAs(t, auditor, http.MethodGet, fmt.Sprintf("/api/v1/grants/%d/ledger?format=csv", g.id), "", nil)
		if c.status != 200 || !strings.HasPrefix(c.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv: %d %s", c.status, c.header)
		}
		wantAttachment(t, c, ".csv")
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(c.body, []byte("\ufeff")))).ReadAll()
		if err != nil {
			t.Fatalf("csv does not parse: %v", err)
		}
		if len(recs) != len(led.Items)+1 || recs[0][0] != "Tanggal" || len(recs[0]) != 7 {
			t.Fatalf("csv %d records, header %v", len(recs), recs[0])
		}
		for i, row := range led.Items {
			rec := recs[i+1]
			if rec[0] != row.Date.String() || rec[4] != strconv.FormatInt(row.In, 10) || rec[5] != strconv.FormatInt(row.Out, 10) || rec[6] != strconv.FormatInt(row.Balance, 10) {
				t.Errorf("csv row %d %v, json %+v", i, rec, row)
			}
			for _, cell := range rec {
				if cell != "" && strings.ContainsRune("=+@", rune(cell[0])) {
					t.Errorf("csv cell %q would run as a formula", cell)
				}
			}
			if row.Ref == fmt.Sprintf("BL-%d", formula.ID) && row.Kind == workflow.EntryExpense && rec[3] != "'"+row.Description {
				t.Errorf("formula description %q → %q", row.Description, rec[3])
			}
		}

		// XLSX: opens, and has the numbers.
		x := h.sendAs(t, auditor, http.MethodGet, fmt.Sprintf("/api/v1/grants/%d/ledger?format=xlsx", g.id), "", nil)
		if x.status != 200 || !strings.Contains(x.header.Get("Content-Type"), "spreadsheetml") {
			t.Fatalf("xlsx: %d %s", x.status, x.header)
		}
		wantAttachment(t, x, ".xlsx")
		f, err := excelize.OpenReader(bytes.NewReader(x.body))
		if err != nil {
			t.Fatalf("xlsx does not open: %v", err)
		}
		defer f.Close()
		rows, err := f.GetRows("BKU", excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(led.Items)+3 || !strings.Contains(rows[0][0], v.Number) {
			t.Fatalf("xlsx has %d rows: %v", len(rows), rows)
		}
		for i, row := range led.Items {
			xr := rows[i+3]
			if xr[0] != row.Date.String() || xr[4] != strconv.FormatInt(row.In, 10) || xr[5] != strconv.FormatInt(row.Out, 10) || xr[6] != strconv.FormatInt(row.Balance, 10) {
				t.Errorf("xlsx row %d %v, json %+v", i, xr, row)
			}
		}
		last := fmt.Sprintf("G%d", len(led.Items)+3)
		if typ, _ := f.GetCellType("BKU", last); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
			t.Errorf("balance cell %s has type %v, want a number", last, typ)
		}

		p := h.sendAs(t, auditor, http.MethodGet, fmt.Sprintf("/api/v1/grants/%d/ledger?format=pdf", g.id), "", nil)
		wantErr(t, "pdf", p, http.StatusBadRequest, "format")
		o := h.sendAs(t, "auditor_out", http.MethodGet, fmt.Sprintf("/api/v1/grants/%d/ledger", g.id), "", nil)
		wantErr(t, "out of scope", o, http.StatusNotFound, "")
	})
}

func wantAttachment(t *testing.T, r result, ext string) {
	t.Helper()
	disp, params, err := mime.ParseMediaType(r.header.Get("Content-Disposition"))
	if err != nil || disp != "attachment" || !strings.HasSuffix(params["filename"], ext) {
		t.Errorf("Content-Disposition %q", r.header.Get("Content-Disposition"))
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("no nosniff: %v", r.header)
	}
}
