package web

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/postgres/pgtest"
	"grantflow/money"
	"grantflow/workflow"
)

// onlyBlobs checks that dir holds exactly want blobs, every one named by its
// SHA-256 and nothing else (no client file names, no staging leftovers).
func onlyBlobs(t *testing.T, dir string, want int) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !sha256Name.MatchString(d.Name()) {
			t.Errorf("stored file %s is not named by its SHA-256", p)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want >= 0 && n != want {
		t.Fatalf("store holds %d files, want %d", n, want)
	}
}

// expenseAccess checks who may record an expense on a (funded) and b
// (approved, not funded): refused before a byte is stored.
func expenseAccess(t *testing.T, h *harness, a, b *moneyGrant) {
	before := h.counts(t, a)
	for _, tc := range []struct {
		name   string
		who    string
		g      *moneyGrant
		status int
	}{
		{"chair", a.chair, a, http.StatusForbidden},
		{"other group's treasurer", b.treasurer, a, http.StatusNotFound},
		{"verifier", "verifier", a, http.StatusForbidden},
		{"finance", "finance", a, http.StatusForbidden},
		{"not funded", b.treasurer, b, http.StatusConflict},
	} {
		r := h.postForm(t, tc.who, fmt.Sprintf("/api/v1/grants/%d/expenses", tc.g.id), h.expenseFields(tc.g, nil),
			formFile{"receipt", "nota.png", "image/png", evidencetest.PNG(t, 7, 8, 6)})
		wantErr(t, tc.name, r, tc.status, "")
	}
	r := h.postForm(t, "", fmt.Sprintf("/api/v1/grants/%d/expenses", a.id), h.expenseFields(a, nil),
		formFile{"receipt", "nota.png", "image/png", evidencetest.PNG(t, 7, 8, 6)})
	wantErr(t, "anonymous", r, http.StatusUnauthorized, "")
	if after := h.counts(t, a); after != before {
		t.Fatalf("refused uploads changed %+v into %+v", before, after)
	}
	if after := h.counts(t, b); after.expenses != 0 {
		t.Fatalf("expense recorded on a grant that is not funded")
	}
	// Refused before a byte is stored: the store holds nothing but the
	// directories (no orphan blob from the refused people).
	onlyBlobs(t, h.storeDir, 0)
}

func TestMoneyExpenseValidation(t *testing.T) {
	t.Parallel()
	h := newHarnessStore(t, pgtest.New(t), moneyOptions, nil)
	g := h.fundedGrant(t)
	other := h.approvedGrant(t, "approver")
	t.Run("who may", func(t *testing.T) { expenseAccess(t, h, g, other) })
	tr := g.treasurer
	path := fmt.Sprintf("/api/v1/grants/%d/expenses", g.id)
	receipt := formFile{"receipt", "nota.png", "image/png", evidencetest.PNG(t, 1, 8, 6)}
	before := h.counts(t, g)

	t.Run("fields", func(t *testing.T) {
		long := strings.Repeat("x", 64<<10+1)
		for _, tc := range []struct {
			name   string
			over   map[string]string
			status int
			field  string
		}{
			{"spent_on missing", map[string]string{"spent_on": omitField}, 422, "spent_on"},
			{"spent_on empty", map[string]string{"spent_on": ""}, 422, "spent_on"},
			{"spent_on not a date", map[string]string{"spent_on": "kemarin"}, 422, "spent_on"},
			{"spent_on impossible", map[string]string{"spent_on": "2026-02-30"}, 422, "spent_on"},
			{"spent_on future", map[string]string{"spent_on": h.today().AddDays(1).String()}, 422, "spent_on"},
			{"spent_on absurd", map[string]string{"spent_on": strings.Repeat("2026-01-01", 1000)}, 422, "spent_on"},
			{"budget line missing", map[string]string{"budget_line_id": omitField}, 422, "budget_line_id"},
			{"budget line text", map[string]string{"budget_line_id": "konsumsi"}, 422, "budget_line_id"},
			{"budget line negative", map[string]string{"budget_line_id": "-1"}, 422, "budget_line_id"},
			{"budget line overflow", map[string]string{"budget_line_id": "99999999999999999999"}, 422, "budget_line_id"},
			{"budget line of another grant", map[string]string{"budget_line_id": strconv.FormatInt(other.lines["konsumsi"].ID, 10)}, 422, "budget_line_id"},
			{"activity text", map[string]string{"activity_id": "In-1"}, 422, "activity_id"},
			{"activity of another grant", map[string]string{"activity_id": strconv.FormatInt(other.acts[0].ID, 10)}, 422, "activity_id"},
			{"vendor missing", map[string]string{"vendor": omitField}, 422, "vendor"},
			{"vendor blank", map[string]string{"vendor": "  \t "}, 422, "vendor"},
			{"vendor too long", map[string]string{"vendor": strings.Repeat("v", 201)}, 422, "vendor"},
			{"vendor NUL", map[string]string{"vendor": "Toko\x00Buku"}, 422, "vendor"},
			{"vendor invalid UTF-8", map[string]string{"vendor": "Toko \xff\xfe Buku"}, 422, "vendor"},
			{"description missing", map[string]string{"description": omitField}, 422, "description"},
			{"description too long", map[string]string{"description": strings.Repeat("d", 1001)}, 422, "description"},
			{"description NUL", map[string]string{"description": "rapat\x00"}, 422, "description"},
			{"field over 64 KiB", map[string]string{"description": long}, 400, "description"},
			{"amount missing", map[string]string{"amount": omitField}, 422, "amount"},
			{"amount empty", map[string]string{"amount": ""}, 422, "amount"},
			{"amount negative", map[string]string{"amount": "-5"}, 422, "amount"},
			{"amount decimal", map[string]string{"amount": "1,5"}, 422, "amount"},
			{"amount letters", map[string]string{"amount": "abc"}, 422, "amount"},
			{"amount overflow", map[string]string{"amount": "99999999999999999999"}, 422, "amount"},
			{"amount zero", map[string]string{"amount": "0"}, 422, "amount"},
			{"amount zero with another problem", map[string]string{"amount": "0", "vendor": omitField}, 422, "amount"},
			{"tax letters", map[string]string{"tax_ppn": "sebelas persen"}, 422, "tax_ppn"},
			{"tax above amount", map[string]string{"tax_ppn": "60000", "tax_pph": "50000"}, 422, "tax_pph"},
			{"tax overflow", map[string]string{"tax_ppn": "9223372036854775807", "tax_pph": "1"}, 422, "tax_pph"},
		} {
			r := h.postExpense(t, tr, g, tc.over, receipt.data)
			d := wantErr(t, tc.name, r, tc.status, tc.field)
			if tc.name == "amount zero with another problem" {
				if _, ok := d["vendor"]; !ok {
					t.Errorf("%s: %v", tc.name, d)
				}
			}
		}
		fields := h.expenseFields(g, nil)
		with := func(extra [2]string) [][2]string { return append(slices.Clone(fields), extra) }
		for _, tc := range []struct {
			name   string
			fields [][2]string
			files  []formFile
			status int
			field  string
		}{
			{"receipt missing", fields, nil, 422, "receipt"},
			{"receipt as a text field", with([2]string{"receipt", "nota.png"}), nil, 400, "receipt"},
			{"two receipts", fields, []formFile{receipt, {"receipt", "b.png", "image/png", evidencetest.PNG(t, 2, 8, 6)}}, 400, "receipt"},
			{"unknown field", with([2]string{"grant_id", "1"}), []formFile{receipt}, 400, "grant_id"},
			{"repeated field", with([2]string{"amount", "5"}), []formFile{receipt}, 400, "amount"},
			{"file under another name", fields, []formFile{{"file", "nota.png", "image/png", evidencetest.PNG(t, 3, 8, 6)}}, 400, "file"},
			{"empty receipt", fields, []formFile{{"receipt", "nota.png", "image/png", nil}}, 415, "receipt"},
			{"HTML named .jpg", fields, []formFile{{"receipt", "nota.jpg", "image/jpeg", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")}}, 415, "receipt"},
			{"ELF named .jpg", fields, []formFile{{"receipt", "nota.jpg", "image/jpeg", elfHead()}}, 415, "receipt"},
			{"text named .pdf", fields, []formFile{{"receipt", "nota.pdf", "application/pdf", []byte("just text, not a PDF")}}, 415, "receipt"},
			{"10 MiB + 1", fields, []formFile{{"receipt", "nota.pdf", "application/pdf", append(evidencetest.NotePDF("big"), make([]byte, 10<<20+1-len(evidencetest.NotePDF("big")))...)}}, 413, "receipt"},
		} {
			r := h.postForm(t, tr, path, tc.fields, tc.files...)
			wantErr(t, tc.name, r, tc.status, tc.field)
		}
		// Not multipart at all, or cut off in the middle.
		r := h.call(t, tr, http.MethodPost, path, map[string]string{"amount": "5"})
		wantErr(t, "JSON body", r, http.StatusBadRequest, "")
		body, ctype := multipartBody(t, fields, receipt)
		r = h.sendAs(t, tr, http.MethodPost, path, ctype, bytes.NewReader(body.Bytes()[:body.Len()-60]))
		if r.status < 400 || r.status >= 500 {
			t.Fatalf("truncated multipart: %s", r)
		}
		if after := h.counts(t, g); after != before {
			t.Fatalf("refused expenses changed %+v into %+v", before, after)
		}
	})

	t.Run("accepted amounts and hostile text", func(t *testing.T) {
		x1 := h.mustExpense(t, g, map[string]string{"amount": "1.250.000"}, evidencetest.PNG(t, 11, 8, 6))
		x2 := h.mustExpense(t, g, map[string]string{"amount": "1250000"}, evidencetest.PNG(t, 12, 8, 6))
		if x1.Amount != 1_250_000 || x2.Amount != 1_250_000 {
			t.Fatalf("amounts %d %d", x1.Amount, x2.Amount)
		}
		html := `<script>alert("x")</script><img src=x onerror=alert(1)> & "kutip"`
		for _, name := range []string{"../../../../etc/passwd.png", `..\..\windows\nota.png`, "/abs/path/nota.png"} {
			r := h.postForm(t, tr, path, h.expenseFields(g, map[string]string{"description": html, "amount": "1000"}),
				formFile{"receipt", name, "image/png", evidencetest.PNG(t, 1000+len(name), 8, 6)})
			if r.status != http.StatusCreated {
				t.Fatalf("file name %q: %s", name, r)
			}
			var ex workflow.Expense
			r.decode(t, &ex)
			if ex.Description != html || !sha256Name.MatchString(ex.ReceiptSHA256) {
				t.Fatalf("stored %q / %q", ex.Description, ex.ReceiptSHA256)
			}
		}
		// Every stored file is named by its content, never by the client.
		onlyBlobs(t, h.storeDir, -1)
		for _, x := range h.expensesAs(t, tr, g) {
			if x.Amount == 1000 && x.Description != html {
				t.Fatalf("listing changed the description: %q", x.Description)
			}
		}
	})

	t.Run("limits with the numbers", func(t *testing.T) {
		dok := g.lines["dokumentasi"] // 1 000 000
		r := h.postExpense(t, tr, g, map[string]string{"budget_line_id": strconv.FormatInt(dok.ID, 10), "amount": "1000001"}, evidencetest.PNG(t, 20, 8, 6))
		d := wantErr(t, "over the line", r, http.StatusUnprocessableEntity, "amount")
		for _, want := range []string{"Rp 1.000.000", "Rp 1.000.001"} {
			if !strings.Contains(d["amount"], want) {
				t.Errorf("over the line: %q lacks %s", d["amount"], want)
			}
		}
		// Spend the money down (konsumsi to its 6 750 000, honorarium 2 700 000)
		// so that the next expense fits its line but not the money in hand.
		v := h.grantAs(t, tr, g)
		kons := g.lines["konsumsi"]
		rest := kons.Amount - v.Budget[0].Spent
		h.mustExpense(t, g, map[string]string{"amount": strconv.FormatInt(rest, 10)}, evidencetest.PNG(t, 21, 8, 6))
		h.mustExpense(t, g, map[string]string{"budget_line_id": strconv.FormatInt(g.lines["honorarium"].ID, 10), "amount": "2700000"}, evidencetest.PNG(t, 22, 8, 6))
		v = h.grantAs(t, tr, g)
		if v.Balance != 9_870_000-6_750_000-2_700_000 {
			t.Fatalf("balance %d", v.Balance)
		}
		ask := v.Balance + 1
		r = h.postExpense(t, tr, g, map[string]string{"budget_line_id": strconv.FormatInt(g.lines["transport"].ID, 10),
			"amount": strconv.FormatInt(ask, 10)}, evidencetest.PNG(t, 23, 8, 6))
		d = wantErr(t, "over the balance", r, http.StatusUnprocessableEntity, "amount")
		for _, want := range []string{money.Format(v.Balance), money.Format(ask), money.Format(v.Disbursed), money.Format(v.Spent)} {
			if !strings.Contains(d["amount"], want) {
				t.Errorf("over the balance: %q lacks %s", d["amount"], want)
			}
		}
		// Exactly the balance is fine.
		h.mustExpense(t, g, map[string]string{"budget_line_id": strconv.FormatInt(g.lines["transport"].ID, 10),
			"amount": strconv.FormatInt(v.Balance, 10)}, evidencetest.PNG(t, 24, 8, 6))
		if v := h.grantAs(t, tr, g); v.Balance != 0 {
			t.Fatalf("balance %d after spending it all", v.Balance)
		}
	})
}

func TestMoneyExpenseConcurrency(t *testing.T) {
	t.Parallel()
	h := newHarnessStore(t, pgtest.New(t), moneyOptions, nil)
	g := h.fundedGrant(t)
	line := g.lines["konsumsi"] // 6 750 000 of a balance of 9 870 000
	const n, each = 20, 400_000 // 8 000 000 together; 16 fit
	receipts := make([][]byte, n)
	for i := range receipts {
		receipts[i] = evidencetest.PNG(t, 100+i, 8, 6)
	}
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := range n {
		wg.Go(func() {
			results[i] = h.postExpense(t, g.treasurer, g, map[string]string{"amount": strconv.Itoa(each)}, receipts[i])
		})
	}
	wg.Wait()
	ok := 0
	for _, r := range results {
		switch r.status {
		case http.StatusCreated:
			ok++
		case http.StatusUnprocessableEntity:
			wantErr(t, "refused", r, http.StatusUnprocessableEntity, "amount")
		default:
			t.Errorf("unexpected %s", r)
		}
	}
	if ok*each > int(line.Amount) || ok != int(line.Amount)/each {
		t.Fatalf("%d accepted (%d rupiah) on a line of %d", ok, ok*each, line.Amount)
	}
	v := h.grantAs(t, g.treasurer, g)
	if v.Spent != int64(ok*each) || v.Budget[0].Spent != v.Spent || v.Spent > line.Amount {
		t.Fatalf("spent %d, line spent %d, accepted %d", v.Spent, v.Budget[0].Spent, ok)
	}
	if got := len(h.expensesAs(t, g.treasurer, g)); got != ok {
		t.Fatalf("%d expense rows for %d accepted", got, ok)
	}
}

func TestMoneyFlagsAndVoid(t *testing.T) {
	t.Parallel()
	h := newHarnessStore(t, pgtest.New(t), moneyOptions, nil)
	a := h.fundedGrant(t)
	b := h.fundedGrant(t)
	auditor, verifier := "auditor", "verifier"

	big := h.mustExpense(t, a, map[string]string{"amount": "5000001"}, evidencetest.PNG(t, 1, 8, 6))
	edge := h.mustExpense(t, a, map[string]string{"amount": "5000", "budget_line_id": strconv.FormatInt(a.lines["atk_bahan"].ID, 10)}, evidencetest.PNG(t, 2, 8, 6))
	shared := evidencetest.PNG(t, 3, 8, 6)
	dupA := h.mustExpense(t, a, map[string]string{"amount": "10000", "budget_line_id": strconv.FormatInt(a.lines["transport"].ID, 10)}, shared)
	dupB := h.mustExpense(t, b, map[string]string{"amount": "20000"}, shared)
	// Spending before the first transfer is refused since #8 item 6, no
	// longer recorded with the outside_period flag.
	if r := h.postExpense(t, a.treasurer, a, map[string]string{"amount": "30000", "spent_on": h.today().AddDays(-21).String(),
		"budget_line_id": strconv.FormatInt(a.lines["penggandaan"].ID, 10)}, evidencetest.PNG(t, 4, 8, 6)); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(r.body), `"spent_on"`) {
		t.Fatalf("expense before the first transfer: %d %s", r.status, r.body)
	}

	t.Run("flags on creation", func(t *testing.T) {
		if !slices.Contains(big.Flags, workflow.FlagMeterai) || len(big.Flags) != 1 {
			t.Errorf("5 000 001: flags %v", big.Flags)
		}
		if len(edge.Flags) != 0 {
			t.Errorf("plain expense: flags %v", edge.Flags)
		}
		// The treasurer who records never learns that the receipt is a duplicate.
		if slices.Contains(dupA.Flags, workflow.FlagDuplicate) || slices.Contains(dupB.Flags, workflow.FlagDuplicate) {
			t.Errorf("treasurer sees duplicate_receipt: %v %v", dupA.Flags, dupB.Flags)
		}
	})
	t.Run("flags by viewer", func(t *testing.T) {
		flagsOf := func(u string, g *moneyGrant) map[int64][]string {
			m := map[int64][]string{}
			for _, x := range h.expensesAs(t, u, g) {
				m[x.ID] = x.Flags
			}
			return m
		}
		for _, staff := range []string{auditor, verifier} {
			fa, fb := flagsOf(staff, a), flagsOf(staff, b)
			if !slices.Contains(fa[dupA.ID], workflow.FlagDuplicate) || !slices.Contains(fb[dupB.ID], workflow.FlagDuplicate) {
				t.Errorf("%s does not see the duplicate in both grants: %v / %v", staff, fa[dupA.ID], fb[dupB.ID])
			}
			for id, f := range fa {
				if id != dupA.ID && slices.Contains(f, workflow.FlagDuplicate) {
					t.Errorf("expense %d wrongly flagged duplicate: %v", id, f)
				}
			}
			if !slices.Contains(fa[big.ID], workflow.FlagMeterai) || slices.Contains(fa[edge.ID], workflow.FlagMeterai) {
				t.Errorf("staff flags %v", fa)
			}
		}
		for _, g := range []*moneyGrant{a, b} {
			for id, f := range flagsOf(g.treasurer, g) {
				if slices.Contains(f, workflow.FlagDuplicate) {
					t.Errorf("treasurer sees duplicate_receipt on %d", id)
				}
			}
		}
		// The ledger shows nothing of it to the group either, and staff see the same rows.
		r := h.call(t, a.treasurer, http.MethodGet, fmt.Sprintf("/api/v1/grants/%d/ledger", a.id), nil)
		if r.status != http.StatusOK || strings.Contains(string(r.body), workflow.FlagDuplicate) {
			t.Errorf("ledger: %s", r)
		}
	})
	t.Run("void", func(t *testing.T) {
		vpath := fmt.Sprintf("/api/v1/grants/%d/expenses/%d/void", a.id, big.ID)
		before := h.counts(t, a)
		for _, tc := range []struct {
			name   string
			who    string
			body   any
			status int
			field  string
		}{
			{"no reason", a.treasurer, map[string]string{"reason": "  "}, 422, "reason"},
			{"reason too long", a.treasurer, map[string]string{"reason": strings.Repeat("r", 1001)}, 422, "reason"},
			{"NUL in reason", a.treasurer, map[string]string{"reason": "salah\x00input"}, 422, "reason"},
			{"empty body", a.treasurer, nil, 400, ""},
			{"chair", a.chair, map[string]string{"reason": "salah input"}, 403, ""},
			{"auditor", auditor, map[string]string{"reason": "salah input"}, 403, ""},
			{"other treasurer", b.treasurer, map[string]string{"reason": "salah input"}, 404, ""},
		} {
			r := h.call(t, tc.who, http.MethodPost, vpath, tc.body)
			wantErr(t, tc.name, r, tc.status, tc.field)
		}
		r := h.call(t, a.treasurer, http.MethodPost, fmt.Sprintf("/api/v1/grants/%d/expenses/%d/void", a.id, dupB.ID), map[string]string{"reason": "x"})
		wantErr(t, "expense of another grant", r, http.StatusNotFound, "")
		if after := h.counts(t, a); after != before {
			t.Fatalf("refused voids changed %+v into %+v", before, after)
		}

		v0 := h.grantAs(t, a.treasurer, a)
		r = h.call(t, a.treasurer, http.MethodPost, vpath, map[string]string{"reason": "Nota ganda, salah input"})
		if r.status != http.StatusOK {
			t.Fatalf("void: %s", r)
		}
		var voided workflow.Expense
		r.decode(t, &voided)
		if voided.VoidedAt == nil || voided.VoidReason != "Nota ganda, salah input" {
			t.Fatalf("voided %+v", voided)
		}
		r = h.call(t, a.treasurer, http.MethodPost, vpath, map[string]string{"reason": "lagi"})
		wantErr(t, "void twice", r, http.StatusConflict, "")

		v1 := h.grantAs(t, a.treasurer, a)
		if v1.Spent != v0.Spent-big.Amount || v1.Balance != v0.Balance+big.Amount {
			t.Fatalf("spent %d→%d, balance %d→%d after voiding %d", v0.Spent, v1.Spent, v0.Balance, v1.Balance, big.Amount)
		}
		if v1.Budget[0].Spent != v0.Budget[0].Spent-big.Amount {
			t.Fatalf("line spent %d→%d", v0.Budget[0].Spent, v1.Budget[0].Spent)
		}
		// The row stays, listed as voided.
		found := false
		for _, x := range h.expensesAs(t, auditor, a) {
			if x.ID == big.ID {
				found = x.VoidedAt != nil
			}
		}
		if !found {
			t.Fatal("voided expense missing from the listing")
		}
		// The audit chain records it, and stays a chain.
		evs := h.events(t, auditor, a.id)
		last := evs[len(evs)-1]
		if last.Action != "void_expense" || last.Comment != "Nota ganda, salah input" || last.ActorID != h.actor(a.treasurer).UserID {
			t.Fatalf("last event %+v", last)
		}
		if id, _ := last.Data["expense_id"].(float64); int64(id) != big.ID {
			t.Fatalf("void event data %v", last.Data)
		}
		for i, ev := range evs {
			if ev.Seq != i+1 || (i > 0 && ev.PrevHash != evs[i-1].Hash) || ev.Hash == "" {
				t.Fatalf("chain broken at %d: %+v", i, ev)
			}
		}
		// The ledger shows the expense and its reversal.
		var led struct {
			Items []workflow.LedgerEntry `json:"items"`
		}
		r = h.call(t, auditor, http.MethodGet, fmt.Sprintf("/api/v1/grants/%d/ledger", a.id), nil)
		r.decode(t, &led)
		ref := fmt.Sprintf("BL-%d", big.ID)
		var out, in int64
		for _, row := range led.Items {
			if row.Ref != ref {
				continue
			}
			switch row.Kind {
			case workflow.EntryExpense:
				out += row.Out
			case workflow.EntryVoid:
				in += row.In
				// The void is dated by the transaction's wall clock
				// (postgres.Tx), not by the service clock the harness fixes.
				if row.Date != workflow.DateOf(time.Now().In(workflow.Jakarta)) || !strings.Contains(row.Description, "Nota ganda") {
					t.Errorf("void row %+v", row)
				}
			}
		}
		if out != big.Amount || in != big.Amount {
			t.Fatalf("ledger for %s: out %d, reversal %d", ref, out, in)
		}
	})
}
