package web

import (
	"fmt"
	"net/http"
	"testing"

	"grantflow/workflow"
)

// The auditor's routes answer through the one error table: group roles are
// refused photo facts and samples, a sample is drawn only on a submitted LPJ,
// a missing sample is 404, a malformed finding 400, and a programme body
// without the new settings is still accepted with them off.
func TestAuditRoutes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.grantIn(t, h.prog, h.groupA, workflow.Approved)
	base := fmt.Sprintf("/api/v1/grants/%d", g.ID)

	expect(t, h.do("GET", base+"/photos", h.token("chairA"), nil), http.StatusForbidden, "chair reads photo facts")
	var photos struct {
		Items []map[string]any `json:"items"`
		Total int              `json:"total"`
	}
	r := h.do("GET", base+"/photos", h.token("auditor"), nil)
	expect(t, r, http.StatusOK, "auditor reads photo facts")
	r.decode(t, &photos)
	if photos.Total != 0 || photos.Items == nil {
		t.Errorf("photos of a grant without images: %+v", photos)
	}
	expect(t, h.do("GET", base+"/photos", h.token("verifier_out"), nil), http.StatusNotFound, "verifier out of scope")

	expect(t, h.do("POST", base+"/audit-sample", h.token("chairA"), nil), http.StatusForbidden, "chair draws a sample")
	if e := expect(t, h.do("POST", base+"/audit-sample", h.token("auditor"), nil), http.StatusConflict, "sample of an approved grant"); e.Code != "conflict" {
		t.Errorf("code %q", e.Code)
	}
	expect(t, h.do("GET", base+"/audit-sample", h.token("auditor"), nil), http.StatusNotFound, "no sample yet")
	expect(t, h.do("POST", base+"/audit-sample/1/finding", h.token("auditor"), map[string]any{"result": 7}), http.StatusBadRequest, "finding with a number")
	expect(t, h.do("POST", base+"/audit-sample/1/finding", h.token("auditor"), map[string]any{"result": "ok"}), http.StatusConflict, "finding without a sample")

	// confirm_report is the chair's, and only while funded.
	expect(t, h.act("treasurerA", g.ID, workflow.ConfirmReport, nil), http.StatusForbidden, "treasurer confirms")
	expect(t, h.act("chairA", g.ID, workflow.ConfirmReport, nil), http.StatusConflict, "chair confirms an approved grant")

	var p workflow.Program
	r = h.do("POST", "/api/v1/programs", h.token("admin"), programInput("Program Lama Tanpa Pengaturan Audit", 1_000_000_000))
	expect(t, r, http.StatusCreated, "old programme body")
	r.decode(t, &p)
	if p.RequireChairConfirmation || p.AuditSampleSize != 0 {
		t.Errorf("defaults of an old body: %+v", p)
	}
}
