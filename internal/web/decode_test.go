package web

import (
	"net/http"
	"testing"
)

// A malformed date is refused with 400 naming the field, whichever field it is.
func TestBadDateNamesField(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, bad := range []string{`"2025-02-30"`, `"10/03/2026"`, `20260310`, `true`} {
		body := `{"name":"Program","year":2026,"proposal_opens_on":` + bad + `,"proposal_closes_on":"2026-04-01","activity_ends_on":"2026-09-30","report_due_on":"2026-10-31","budget_total":1000000000}`
		r := h.do("POST", "/api/v1/programs", h.token("admin"), body)
		e := expect(t, r, http.StatusBadRequest, "bad date "+bad)
		if !e.hasField("proposal_opens_on") {
			t.Errorf("bad date %s: details %+v do not name proposal_opens_on", bad, e)
		}
	}
}
