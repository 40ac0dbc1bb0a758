package web

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/postgres/pgtest"
	"grantflow/money"
	"grantflow/workflow"
)

func TestMoneyDisburse(t *testing.T) {
	t.Parallel()
	h := newHarnessStore(t, pgtest.New(t), moneyOptions, nil)
	a := h.approvedGrant(t, "approver")         // approved by a pure approver
	b := h.approvedGrant(t, "approver_finance") // approved by someone who also holds finance
	finance := "finance"
	path := func(g *moneyGrant) string { return fmt.Sprintf("/api/v1/grants/%d/disbursements", g.id) }
	share1 := h.share(a, 1)
	if share1 != 9_870_000 || h.share(a, 2) != 4_230_000 {
		t.Fatalf("shares %v", h.prog.TrancheAmounts(a.approved))
	}
	transferred := h.today().AddDays(-20).String()
	body := func(tranche int, amount int64, on, ref string) map[string]any {
		return map[string]any{"tranche": tranche, "amount": amount, "transferred_on": on, "reference": ref}
	}
	good := body(1, share1, transferred, "TRF-0001")
	before := h.counts(t, a)

	t.Run("only finance", func(t *testing.T) {
		for _, who := range []string{a.treasurer, "approver", "verifier"} {
			r := h.call(t, who, http.MethodPost, path(a), good)
			wantErr(t, who, r, http.StatusForbidden, "")
		}
	})
	t.Run("approver holding finance is refused on their own grant", func(t *testing.T) {
		r := h.call(t, "approver_finance", http.MethodPost, path(b), body(1, h.share(b, 1), transferred, "TRF-B"))
		wantErr(t, "segregation", r, http.StatusForbidden, "")
		if !strings.Contains(string(r.body), "pemisahan tugas") {
			t.Fatalf("message does not explain segregation: %s", r)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			body  any
			field string
		}{
			{"missing date", body(1, share1, "", "TRF-1"), "transferred_on"},
			{"date absent", map[string]any{"tranche": 1, "amount": share1, "reference": "TRF-1"}, "transferred_on"},
			{"future date", body(1, share1, h.today().AddDays(1).String(), "TRF-1"), "transferred_on"},
			{"empty reference", body(1, share1, transferred, "   "), "reference"},
			{"long reference", body(1, share1, transferred, strings.Repeat("R", 101)), "reference"},
			{"NUL in reference", body(1, share1, transferred, "TRF\x00-1"), "reference"},
			{"zero tranche", body(0, share1, transferred, "TRF-1"), "tranche"},
			{"negative amount", body(1, -5, transferred, "TRF-1"), "amount"},
			{"wrong share", body(1, share1-1, transferred, "TRF-1"), "amount"},
			{"above approved", body(1, a.approved+1, transferred, "TRF-1"), "amount"},
			{"tranche 2 first", body(2, h.share(a, 2), transferred, "TRF-1"), "tranche"},
		} {
			r := h.call(t, finance, http.MethodPost, path(a), tc.body)
			d := wantErr(t, tc.name, r, http.StatusUnprocessableEntity, tc.field)
			switch tc.name {
			case "wrong share":
				if !strings.Contains(d["amount"], "Rp 9.870.000") {
					t.Errorf("wrong share: %q does not name the expected share", d["amount"])
				}
			case "above approved":
				if !strings.Contains(d["amount"], money.Format(a.approved)) {
					t.Errorf("above approved: %q does not name the approved amount", d["amount"])
				}
			}
		}
		for _, tc := range []struct{ name, body string }{
			{"amount as text", `{"tranche":1,"amount":"9870000","transferred_on":"` + transferred + `","reference":"X"}`},
			{"unknown field", `{"tranche":1,"amount":9870000,"transferred_on":"` + transferred + `","reference":"X","grant_id":2}`},
			{"not JSON", `tranche=1`},
			{"bad date", `{"tranche":1,"amount":9870000,"transferred_on":"2025-02-30","reference":"X"}`},
		} {
			r := h.call(t, finance, http.MethodPost, path(a), []byte(tc.body))
			wantErr(t, tc.name, r, http.StatusBadRequest, "")
		}
		if after := h.counts(t, a); after != before {
			t.Fatalf("refused disbursements changed %+v into %+v", before, after)
		}
		if v := h.grantAs(t, finance, a); v.State != workflow.Approved || v.Disbursed != 0 {
			t.Fatalf("grant %s disbursed %d after refusals", v.State, v.Disbursed)
		}
	})
	t.Run("concurrent double submission", func(t *testing.T) {
		const n = 6
		var wg sync.WaitGroup
		results := make([]result, n)
		for i := range n {
			wg.Go(func() { results[i] = h.call(t, finance, http.MethodPost, path(a), good) })
		}
		wg.Wait()
		created := 0
		for _, r := range results {
			switch r.status {
			case http.StatusCreated:
				created++
			case http.StatusConflict, http.StatusUnprocessableEntity:
			default:
				t.Errorf("unexpected answer %s", r)
			}
		}
		if created != 1 {
			t.Fatalf("%d of %d simultaneous tranche-1 posts were recorded, want exactly 1", created, n)
		}
		v := h.grantAs(t, finance, a)
		if v.State != workflow.Funded || v.Disbursed != share1 || v.TranchesPaid != 1 || v.Balance != share1 {
			t.Fatalf("after tranche 1: state %s disbursed %d tranches %d balance %d", v.State, v.Disbursed, v.TranchesPaid, v.Balance)
		}
		n1 := 0
		for _, ev := range h.events(t, finance, a.id) {
			if ev.Action == string(workflow.Disburse) {
				n1++
				if ev.FromState != workflow.Approved || ev.ToState != workflow.Funded || ev.ActorID != h.actor(finance).UserID {
					t.Errorf("disburse event %+v", ev)
				}
			}
		}
		if n1 != 1 {
			t.Fatalf("%d disburse events, want 1", n1)
		}
		r := h.call(t, finance, http.MethodGet, path(a), nil)
		var list struct {
			Items []workflow.Disbursement `json:"items"`
		}
		r.decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Reference != "TRF-0001" || list.Items[0].TransferredOn.String() != transferred {
			t.Fatalf("disbursements %+v", list.Items)
		}
	})
	t.Run("tranche 2 waits for receipts and an In session", func(t *testing.T) {
		r := h.call(t, finance, http.MethodPost, path(a), body(2, h.share(a, 2), h.today().String(), "TRF-0002"))
		d := wantErr(t, "tranche 2", r, http.StatusUnprocessableEntity, "receipts")
		if _, ok := d["activities"]; !ok {
			t.Fatalf("tranche 2 refusal %v does not mention the In session", d)
		}
		// Receipts for a little under half of the money: still refused.
		h.mustExpense(t, a, map[string]string{"amount": "4934999"}, evidencetest.PNG(t, 1, 8, 6))
		r = h.call(t, finance, http.MethodPost, path(a), body(2, h.share(a, 2), h.today().String(), "TRF-0002"))
		d = wantErr(t, "tranche 2 at 49.99 %", r, http.StatusUnprocessableEntity, "receipts")
		if !strings.Contains(d["receipts"], "Rp 4.934.999") || !strings.Contains(d["receipts"], "Rp 9.870.000") {
			t.Errorf("receipts reason %q lacks the numbers", d["receipts"])
		}
		// Half receipted: only the In session is missing now.
		h.mustExpense(t, a, map[string]string{"amount": "1", "description": "Air mineral"}, evidencetest.PNG(t, 2, 8, 6))
		r = h.call(t, finance, http.MethodPost, path(a), body(2, h.share(a, 2), h.today().String(), "TRF-0002"))
		d = wantErr(t, "tranche 2 at 50 %", r, http.StatusUnprocessableEntity, "activities")
		if _, ok := d["receipts"]; ok {
			t.Errorf("50 %% receipted still refused for receipts: %v", d)
		}
		if v := h.grantAs(t, finance, a); v.Disbursed != share1 || v.Disbursed > v.AmountApproved {
			t.Fatalf("disbursed %d", v.Disbursed)
		}
	})
	t.Run("another finance officer pays the approver's grant", func(t *testing.T) {
		r := h.call(t, finance, http.MethodPost, path(b), body(1, h.share(b, 1), transferred, "TRF-B"))
		if r.status != http.StatusCreated {
			t.Fatalf("finance on b: %s", r)
		}
		var d workflow.Disbursement
		r.decode(t, &d)
		if d.ID == 0 || d.Amount != h.share(b, 1) || d.RecordedBy != h.actor(finance).UserID || d.Tranche != 1 {
			t.Fatalf("disbursement %+v", d)
		}
	})
}
