package web

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/postgres/pgtest"
	"grantflow/money"
)

// TestPageGrantMoney renders the grant page of a funded grant with a voided
// and a flagged expense: the expenses with their flags in Indonesian, the
// BKU rows with the running balance and the money figures, for the
// treasurer (cookie of a real session) and the verifier.
func TestPageGrantMoney(t *testing.T) {
	t.Parallel()
	h := newHarnessStore(t, pgtest.New(t), moneyOptions, nil)
	g := h.fundedGrant(t)
	h.mustExpense(t, g, map[string]string{"amount": "5000001", "vendor": "Katering Sari Rasa"}, evidencetest.PNG(t, 1, 8, 6))
	small := h.mustExpense(t, g, map[string]string{"amount": "20000", "vendor": "Toko Pena"}, evidencetest.PNG(t, 2, 8, 6))
	r := h.call(t, g.treasurer, "POST", fmt.Sprintf("/api/v1/grants/%d/expenses/%d/void", g.id, small.ID), map[string]string{"reason": "Salah input."})
	if r.status != http.StatusOK {
		t.Fatalf("void: %s", r)
	}
	view := h.grantAs(t, g.treasurer, g)

	for _, u := range []string{g.treasurer, "verifier"} {
		req := httptest.NewRequest("GET", fmt.Sprintf("/hibah/%d", g.id), nil)
		req.AddCookie(&http.Cookie{Name: "gf_sesi", Value: h.token(u)})
		resp, err := h.srv.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		body := string(raw)
		if resp.StatusCode != 200 {
			t.Fatalf("grant page: %d %s", resp.StatusCode, body)
		}
		for _, s := range []string{
			"Katering Sari Rasa", "Rp 5.000.001", "perlu meterai", // the flag, in words
			"Toko Pena", "dibatalkan: Salah input.", `class="batal"`, // the void stays visible
			"Penyaluran dana", "Pembatalan belanja", // BKU kinds
			money.Format(view.Balance), money.Format(view.Disbursed),
			"didanai", "mencatat belanja", // state and timeline
		} {
			if !strings.Contains(body, s) {
				t.Errorf("page of user %d lacks %q", h.actor(u).UserID, s)
			}
		}
	}
}
