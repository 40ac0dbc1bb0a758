package grants

import (
	"bytes"
	"context"
	"io"
	"time"

	"grantflow/internal/postgres"
	"grantflow/reports"
	"grantflow/workflow"
)

// Dossier is the auditor's dossier of one grant, ready to stream with
// reports.WriteDossier: small parts (the LPJ draft, ledger, events) are
// made up front; every stored file is opened only when its entry is
// written, so memory stays flat however many files there are.
type Dossier struct {
	Name    string // download name: dosir-<number>.zip
	Entries []reports.DossierEntry
}

// Dossier returns the dossier of grant id for staff in scope (SPEC §6): the
// LPJ (the frozen file once closed, else a draft), every evidence file
// under its readable name, the ledger as CSV and XLSX and the events as
// JSON lines. Group roles get EForbidden; out of scope, ENotFound.
func (s *Service) Dossier(ctx context.Context, a workflow.Actor, id int64) (Dossier, error) {
	if err := require(a, workflow.RoleVerifier, workflow.RoleApprover, workflow.RoleFinance, workflow.RoleAuditor, workflow.RoleAdmin); err != nil {
		return Dossier{}, err
	}
	if s.store == nil {
		return Dossier{}, workflow.Errorf(workflow.EInternal, "penyimpanan berkas belum dikonfigurasi")
	}
	var (
		f      facts
		frozen *postgres.GrantReport
	)
	err := s.db.InReadTx(ctx, func(tx *postgres.Tx) error {
		g, _, err := visibleGrant(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if f, err = readFacts(ctx, tx, g); err != nil {
			return err
		}
		r, err := tx.GrantReport(ctx, id)
		if err == nil {
			frozen = &r
		} else if workflow.ErrorCode(err) != workflow.ENotFound {
			return err
		}
		return nil
	})
	if err != nil {
		return Dossier{}, err
	}
	when := s.now().UTC()
	var entries []reports.DossierEntry
	if frozen != nil {
		// Checked against its recorded hash like report.pdf: the manifest
		// would otherwise vouch for whatever bytes the store now holds.
		pdf, err := s.frozenReport(ctx, *frozen)
		if err != nil {
			return Dossier{}, err
		}
		entries = append(entries, inMemory(reportFileName(f.g.Number, false), frozen.CreatedAt, pdf))
	} else {
		pdf, err := s.render(ctx, f, "")
		if err != nil {
			return Dossier{}, err
		}
		entries = append(entries, inMemory(reportFileName(f.g.Number, true), when, pdf))
	}
	for i, file := range f.files {
		key := file.SHA256
		entries = append(entries, reports.DossierEntry{Name: f.names[i], Modified: file.CreatedAt,
			Open: func() (io.ReadCloser, error) { return s.openStored(ctx, key) }})
	}
	ledger := workflow.Ledger(f.ds, f.es, f.rs)
	var csv, xlsx, events bytes.Buffer
	if err := reports.LedgerCSV(&csv, ledger); err != nil {
		return Dossier{}, err
	}
	if err := reports.LedgerXLSX(&xlsx, f.g.Number, ledger); err != nil {
		return Dossier{}, err
	}
	if err := reports.EventsJSONL(&events, f.events); err != nil {
		return Dossier{}, err
	}
	entries = append(entries, inMemory("bku.csv", when, csv.Bytes()), inMemory("bku.xlsx", when, xlsx.Bytes()),
		inMemory("peristiwa.jsonl", when, events.Bytes()))
	return Dossier{Name: "dosir-" + f.g.Number + ".zip", Entries: entries}, nil
}

// inMemory is a dossier entry made before the stream starts.
func inMemory(name string, at time.Time, b []byte) reports.DossierEntry {
	return reports.DossierEntry{Name: name, Modified: at, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
}

// ActivitiesExport is a grant's sessions and attendance for the exports.
type ActivitiesExport struct {
	Number     string
	Sessions   []reports.Session
	Attendance []reports.Attendance
}

// ActivitiesExport returns the sessions of grant id with their realisation and
// every member's attendance, for anyone who may see the grant (ENotFound
// otherwise).
func (s *Service) ActivitiesExport(ctx context.Context, a workflow.Actor, id int64) (ActivitiesExport, error) {
	return readInScope(ctx, s, a, id, func(tx *postgres.Tx) (ActivitiesExport, error) {
		g, err := tx.Grant(ctx, id)
		if err != nil {
			return ActivitiesExport{}, err
		}
		f := facts{g: g}
		if f.grp, err = tx.Group(ctx, g.GroupID); err != nil {
			return ActivitiesExport{}, err
		}
		if f.rz, err = tx.Realizations(ctx, id); err != nil {
			return ActivitiesExport{}, err
		}
		return ActivitiesExport{Number: g.Number, Sessions: f.sessions(), Attendance: f.attendance()}, nil
	})
}
