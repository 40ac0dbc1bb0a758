package reports

import (
	"strings"
	"testing"

	"grantflow/workflow"
)

// The audit section lists the seed, the size and each sampled expense with
// its finding; without an audit the LPJ has no such section.
func TestLPJAuditSection(t *testing.T) {
	l := goldenLPJ()
	if strings.Contains(strings.Join(pages(t, render(t, l)), " "), "SAMPEL AUDIT") {
		t.Fatal("an LPJ without an audit prints the audit section")
	}
	e0, e1 := l.Expenses[0], l.Expenses[1]
	l.Audit = &Audit{Seed: "12345678901234567890", Size: 2, Candidates: len(l.Expenses), FlagWeight: workflow.AuditFlagWeight,
		Items: []workflow.SampledExpense{{ExpenseID: e0.ID, Flagged: true, Result: workflow.FindingIssue, Note: "Nota dipakai dua kali."},
			{ExpenseID: e1.ID, Result: workflow.FindingOK}}}
	text := strings.Join(pages(t, render(t, l)), " ")
	for _, want := range []string{"SAMPEL AUDIT BUKTI BELANJA", "12345678901234567890", "temuan", "Nota dipakai dua kali.", "sesuai", e0.Vendor} {
		if !strings.Contains(text, want) {
			t.Errorf("audit section lacks %q", want)
		}
	}
}
