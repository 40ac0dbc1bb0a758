package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"grantflow/workflow"
)

// Cases found by trying the API as a newcomer would.
func TestNewcomerCases(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	prog := h.newProgram(t, 1_000_000_000)
	g := h.grantIn(t, prog, h.groupA, workflow.Approved)

	// /me says who is signed in, with the e-mail and scope.
	r := h.do("GET", "/api/v1/me", h.token("admin"), nil)
	expect(t, r, http.StatusOK, "me")
	if !strings.Contains(string(r.body), `"email":"admin@uji.grantflow.id"`) {
		t.Errorf("me = %s", r.body)
	}

	// An unknown expected_state is a bad request, not a lost race.
	r = h.act("approver", g.ID, workflow.Approve, map[string]string{"expected_state": "bogus"})
	if e := expect(t, r, http.StatusBadRequest, "bogus expected_state"); !e.hasField("expected_state") {
		t.Errorf("details %+v", e)
	}

	// A JSON body over 1 MiB says the JSON limit.
	r = h.do("POST", "/api/v1/programs", h.token("admin"), `{"name":"`+strings.Repeat("x", MaxJSON)+`"}`)
	if e := expect(t, r, http.StatusRequestEntityTooLarge, "big JSON"); !strings.Contains(e.Message, "1 MiB") {
		t.Errorf("413 message %q", e.Message)
	}

	// actions/disburse records the transfer like /disbursements and answers the grant.
	share := prog.TrancheAmounts(g.AmountApproved)[0]
	r = h.act("finance", g.ID, workflow.Disburse, map[string]any{"tranche": 1, "amount": share,
		"transferred_on": prog.ProposalOpensOn.String(), "reference": "TRF-ACT-1"})
	expect(t, r, http.StatusOK, "actions/disburse")
	v := h.getGrant(t, "finance", g.ID)
	if v.State != workflow.Funded || v.Disbursed != share {
		t.Errorf("after actions/disburse: %+v", v)
	}
	// The same tranche again is a double entry: 409.
	r = h.act("finance", g.ID, workflow.Disburse, map[string]any{"tranche": 1, "amount": share,
		"transferred_on": prog.ProposalOpensOn.String(), "reference": "TRF-ACT-2"})
	expect(t, r, http.StatusConflict, "tranche 1 again")

	// The grant's files are listed for people in scope only.
	r = h.do("GET", fmt.Sprintf("/api/v1/grants/%d/evidence", g.ID), h.token("auditor"), nil)
	expect(t, r, http.StatusOK, "evidence list")
	if !strings.Contains(string(r.body), `"items":[]`) {
		t.Errorf("evidence list of a grant without files = %s", r.body)
	}
	r = h.do("GET", fmt.Sprintf("/api/v1/grants/%d/evidence", g.ID), h.token(h.chairOf(h.groupB)), nil)
	expect(t, r, http.StatusNotFound, "evidence list of another group")
}

// A compressed body could unpack to any size, and a multipart body on a JSON
// route is not bounded by the JSON limit: both are refused before reading.
func TestUnboundedBodiesRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	req := request("POST", "/api/v1/session", "", `{"email":"a@b.c","password":"x"}`)
	req.Header.Set("Content-Encoding", "gzip")
	expect(t, h.send(req), http.StatusUnsupportedMediaType, "gzip JSON")

	req = request("POST", "/api/v1/programs", h.token("admin"), `--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n`)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	expect(t, h.send(req), http.StatusUnsupportedMediaType, "multipart on a JSON route")
}
