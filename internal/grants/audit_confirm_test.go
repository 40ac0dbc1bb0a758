package grants_test

import (
	"testing"

	"grantflow/internal/evidence/evidencetest"
	"grantflow/internal/grants"
	"grantflow/workflow"
)

// The chair's co-signature: with require_chair_confirmation, submit_report
// names report_confirmed until the chair confirms; a later expense withdraws
// the confirmation; without the setting submit_report never asks for it.
func TestChairConfirmationRule(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newFixture(t, localStore(t))
	off := f.fundedGrant(t)
	p := f.prog
	p.ID, p.Name, p.RequireChairConfirmation = 0, "Program Uji Konfirmasi Ketua", true
	on, err := f.svc.CreateProgram(ctx, grants.System, p)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.svc.Program(ctx, grants.System, on.ID); err != nil || !got.RequireChairConfirmation {
		t.Fatalf("stored setting: %+v, %v", got.RequireChairConfirmation, err)
	}
	f.prog = on
	g := f.fundedGrant(t)

	asks := func(g *testGrant) bool {
		t.Helper()
		_, err := f.svc.Act(ctx, g.treasurer, g.id, workflow.SubmitReport, grants.ActInput{})
		// The sessions of these grants are not held: submit_report is
		// refused either way; the question is whether it names the chair.
		wantCode(t, "submit_report", err, workflow.EUnprocessable)
		return hasField(err, "report_confirmed")
	}
	if asks(off) {
		t.Error("without the setting, submit_report asks for the chair's confirmation")
	}
	if !asks(g) {
		t.Fatal("with the setting, submit_report does not ask for the chair's confirmation")
	}

	chair := f.user(t, grants.NewUser{Roles: []workflow.Role{workflow.RoleChair}, GroupID: g.view.GroupID})
	if _, err := f.svc.Act(ctx, g.treasurer, g.id, workflow.ConfirmReport, grants.ActInput{}); workflow.ErrorCode(err) != workflow.EForbidden {
		t.Errorf("treasurer confirm_report: %v, want forbidden", err)
	}
	v, err := f.svc.Act(ctx, chair, g.id, workflow.ConfirmReport, grants.ActInput{Comment: "Belanja dan daftar hadir sesuai."})
	if err != nil {
		t.Fatal(err)
	}
	if v.State != workflow.Funded || !v.ReportConfirmed {
		t.Fatalf("after confirm_report: state %s, confirmed %v", v.State, v.ReportConfirmed)
	}
	evs, err := f.svc.Events(ctx, grants.System, g.id)
	if err != nil || evs[len(evs)-1].Action != string(workflow.ConfirmReport) || evs[len(evs)-1].ActorRole != workflow.RoleChair {
		t.Fatalf("last event %+v, %v", evs[len(evs)-1], err)
	}
	if asks(g) {
		t.Error("after confirm_report, submit_report still asks for it")
	}

	// A later expense withdraws it.
	if _, err := f.spend(t, g, "konsumsi", 25_000, f.ingest(t, evidencetest.JPEG(t, 41, 8, 6))); err != nil {
		t.Fatal(err)
	}
	if f.grant(t, g).ReportConfirmed || !asks(g) {
		t.Error("an expense after confirm_report did not withdraw the confirmation")
	}
}
