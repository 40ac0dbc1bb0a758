package main

import (
	"bytes"
	"strings"
	"testing"
)

// The audit phase prints both rows with a ratio.
func TestAuditPhase(t *testing.T) {
	var out, log bytes.Buffer
	if err := auditPhase(&out, &log, true); err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	for _, want := range []string{"decode alone", "InspectPhoto", "× D"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("audit phase output lacks %q:\n%s", want, out.String())
		}
	}
}
