package grants

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"time"

	"grantflow/internal/evidence"
	"grantflow/internal/postgres"
	"grantflow/reports"
	"grantflow/workflow"
)

// The LPJ (SPEC §6) is filled from the database in one read snapshot by
// lpjOf; reports renders it. Before closing every download renders a draft
// (watermarked DRAF) from the rows as they stand. On accept_report the
// report is rendered once inside the accepting transaction, stored in the
// evidence store under its SHA-256 and recorded in grant_reports with a
// verification code; from then on the stored bytes are served, whatever
// rows or rendering code change afterwards.

// ReportRef is the frozen report as GET /grants/{id} shows it once closed.
type ReportRef struct {
	Code   string `json:"code"`
	SHA256 string `json:"sha256"`
}

// reportMaxBytes bounds a frozen LPJ in the evidence store: 40 photo
// thumbnails and 300 ledger rows come to a few MiB; uploads keep their own
// 10 MiB limit.
const reportMaxBytes = 64 << 20

// codeBytes is the randomness of a verification code: 10 bytes = 80 bits,
// 16 base32 characters (A–Z, 2–7: no 0/O or 1/I to misread from paper).
const codeBytes = 10

// newCode returns a fresh verification code from crypto/rand.
func newCode() (string, error) {
	b := make([]byte, codeBytes)
	if _, err := rand.Read(b); err != nil {
		return "", workflow.Wrap(workflow.EInternal, err, "kode verifikasi tidak dapat dibuat")
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b), nil
}

// reportFileName is the download name of a grant's LPJ.
func reportFileName(number string, draft bool) string {
	if draft {
		return "LPJ-" + number + "-DRAF.pdf"
	}
	return "LPJ-" + number + ".pdf"
}

// facts are the rows of one grant that the LPJ, the dossier and the
// activity exports are made of, read in one snapshot.
type facts struct {
	g        workflow.Grant
	grp      workflow.Group // with members
	prog     workflow.Program
	ds       []workflow.Disbursement
	es       []workflow.Expense
	rs       []workflow.Refund
	rz       []workflow.Realization
	files    []postgres.ReportFile
	names    []string // dossier name of each of files
	meetings []postgres.Meeting
	events   []workflow.Event
	verifier string
}

func readFacts(ctx context.Context, tx *postgres.Tx, g workflow.Grant) (facts, error) {
	f := facts{g: g}
	var err error
	if f.grp, err = tx.Group(ctx, g.GroupID); err != nil {
		return f, err
	}
	if f.prog, err = tx.Program(ctx, g.ProgramID); err != nil {
		return f, err
	}
	if f.ds, err = tx.Disbursements(ctx, g.ID); err != nil {
		return f, err
	}
	rows, err := tx.Expenses(ctx, g.ID, 0)
	if err != nil {
		return f, err
	}
	for _, r := range rows {
		f.es = append(f.es, r.Expense)
	}
	if f.rs, err = tx.Refunds(ctx, g.ID); err != nil {
		return f, err
	}
	if f.rz, err = tx.Realizations(ctx, g.ID); err != nil {
		return f, err
	}
	if f.files, err = tx.ReportFiles(ctx, g.ID); err != nil {
		return f, err
	}
	f.names = dossierNames(f.files)
	if f.meetings, err = tx.Meetings(ctx, g.GroupID); err != nil {
		return f, err
	}
	if f.events, err = tx.Events(ctx, g.ID); err != nil {
		return f, err
	}
	if g.VerifierID != 0 {
		u, err := tx.User(ctx, g.VerifierID)
		if err != nil {
			return f, err
		}
		f.verifier = u.Name
	}
	return f, nil
}

var extOf = map[string]string{evidence.MIMEJPEG: "jpg", evidence.MIMEPNG: "png", evidence.MIMEPDF: "pdf"}

// dossierKinds are the Indonesian words of the activity evidence kinds in
// dossier names.
var dossierKinds = map[string]string{"photo": "foto", "attendance": "daftar-hadir", "minutes": "notulen", "output": "keluaran", "other": "lain"}

// dossierNames gives every file its readable name in the dossier and the
// evidence index: kegiatan-2/foto-01.jpg, belanja/0042-nota.pdf,
// setoran/0003-bukti.pdf, numbered per session and kind in upload order.
// The names are unique because the counters and ids are.
func dossierNames(files []postgres.ReportFile) []string {
	out := make([]string, len(files))
	count := map[string]int{}
	for i, f := range files {
		ext := extOf[f.MIME]
		switch {
		case f.ExpenseID > 0:
			out[i] = fmt.Sprintf("belanja/%04d-nota.%s", f.ExpenseID, ext)
		case f.RefundID > 0:
			out[i] = fmt.Sprintf("setoran/%04d-bukti.%s", f.RefundID, ext)
		case f.ActivitySeq > 0:
			kind, ok := dossierKinds[f.Kind]
			if !ok {
				kind = "lain"
			}
			dir := fmt.Sprintf("kegiatan-%d", f.ActivitySeq)
			count[dir+kind]++
			out[i] = fmt.Sprintf("%s/%s-%02d.%s", dir, kind, count[dir+kind], ext)
		default:
			out[i] = fmt.Sprintf("lain/%04d-%s.%s", f.ID, f.Kind, ext)
		}
	}
	return out
}

// sessions are the grant's planned sessions with their realisation, as the
// report and the activities export show them.
func (f facts) sessions() []reports.Session {
	byActivity := map[int64]workflow.Realization{}
	for _, r := range f.rz {
		byActivity[r.ActivityID] = r
	}
	out := make([]reports.Session, 0, len(f.g.Activities))
	for _, a := range f.g.Activities {
		s := reports.Session{Seq: a.Seq, Kind: a.Kind, Title: a.Title, PlannedOn: a.PlannedOn, Status: a.Status,
			HeldOn: a.HeldOn, Present: a.AttendeeCount, Members: len(f.grp.Members), CancelReason: a.CancelReason}
		if r, ok := byActivity[a.ID]; ok && a.Status == workflow.ActivityHeld {
			s.HeldOn, s.Location, s.Hours, s.Facilitator, s.Summary, s.Outputs = r.HeldOn, r.Location, r.Hours, r.Facilitator, r.Summary, r.Outputs
		}
		out = append(out, s)
	}
	return out
}

// attendance lists every member against every held session.
func (f facts) attendance() []reports.Attendance {
	seqOf := map[int64]int{}
	for _, a := range f.g.Activities {
		seqOf[a.ID] = a.Seq
	}
	var out []reports.Attendance
	for _, r := range f.rz {
		for _, m := range f.grp.Members {
			id := m.NIP
			if id == "" {
				id = m.SimpatikaID
			}
			out = append(out, reports.Attendance{Seq: seqOf[r.ActivityID], Member: m.Name, MemberID: id, Madrasah: m.Madrasah,
				Position: m.Position, Present: slices.Contains(r.AttendeeIDs, m.ID)})
		}
	}
	return out
}

// signatory is the first member holding position p.
func (f facts) signatory(p workflow.Position) reports.Signatory {
	for _, m := range f.grp.Members {
		if m.Position == p {
			id := m.NIP
			if id == "" {
				id = m.SimpatikaID
			}
			return reports.Signatory{Name: m.Name, ID: id}
		}
	}
	return reports.Signatory{}
}

// lpj fills the report from the facts. photos are the EXIF-free previews
// of the photo files, by file index; code is "" for a draft.
func (f facts) lpj(date workflow.Date, code, publicURL string, photos map[int][]byte) reports.LPJ {
	g, grp := f.g, f.grp
	d := reports.LPJ{
		Draft:  code == "",
		Date:   date,
		Letter: reports.Letter{Number: g.Number + "/LPJ/" + fmt.Sprint(f.prog.Year)},
		Program: reports.Program{Name: f.prog.Name, Year: f.prog.Year, ActivityEndsOn: f.prog.ActivityEndsOn,
			ReportDueOn: f.prog.ReportDueOn},
		Group: reports.Group{Name: grp.Name, Kind: grp.Kind, Subject: grp.Subject, Level: grp.Level, Province: grp.Province,
			Regency: grp.Regency, SKNumber: grp.SKNumber, BankName: grp.BankName, BankAccountNumber: grp.BankAccountNumber,
			BankAccountName: grp.BankAccountName, NPWP: grp.NPWP, Members: len(grp.Members)},
		Grant: reports.Grant{Number: g.Number, State: g.State, Requested: g.AmountRequested, Approved: g.AmountApproved,
			Disbursed: g.Disbursed, Spent: g.Spent, Refunded: g.Refunded, Balance: g.Balance()},
		Proposal:      reports.Proposal{Background: g.Background, Objectives: g.Objectives, SustainabilityPlan: g.SustainabilityPlan},
		Categories:    f.prog.Categories,
		Budget:        g.Budget,
		Sessions:      f.sessions(),
		Disbursements: f.ds,
		Expenses:      f.es,
		Refunds:       f.rs,
		Ledger:        workflow.Ledger(f.ds, f.es, f.rs),
		// Funding ends with the programme's activity period: the closing
		// lists the meetings the group logged from then on.
		FundingEndedOn: f.prog.ActivityEndsOn,
		Trail:          f.events,
		Signatories: reports.Signatories{Chair: f.signatory(workflow.PosKetua), Treasurer: f.signatory(workflow.PosBendahara),
			Verifier: reports.Signatory{Name: f.verifier}},
	}
	for i := len(f.meetings) - 1; i >= 0; i-- { // the log is newest first; the report reads oldest first
		m := f.meetings[i]
		if !m.HeldOn.Before(d.FundingEndedOn) {
			d.Meetings = append(d.Meetings, reports.Meeting{HeldOn: m.HeldOn, Topic: m.Topic, Attendees: m.AttendeesCount})
		}
	}
	for i, file := range f.files {
		d.Evidence = append(d.Evidence, reports.Evidence{File: f.names[i], Kind: file.Kind, SHA256: file.SHA256,
			Uploader: file.UploaderName, UploadedAt: file.CreatedAt})
		if jpg, ok := photos[i]; ok {
			d.Photos = append(d.Photos, reports.Photo{Caption: f.names[i], JPEG: jpg})
		}
	}
	if n := len(f.events); n > 0 {
		d.Verification.ChainHead = f.events[n-1].Hash
	}
	if code != "" {
		d.Verification.Code, d.Verification.URL = code, publicURL+"/verify/"+code
	}
	return d
}

// photoPreviewMax bounds one thumbnail read into memory: previews are at
// most 1280 px JPEGs, a few hundred KiB.
const photoPreviewMax = 8 << 20

// photos reads the EXIF-free preview of every activity photo, making the
// ones the background worker has not made yet. A photo without a preview
// (undecodable or huge) is left out of the thumbnails; the index lists it.
func (s *Service) photos(ctx context.Context, f facts) (map[int][]byte, error) {
	out := map[int][]byte{}
	if s.store == nil {
		return out, nil
	}
	for i, file := range f.files {
		if file.Kind != "photo" || (file.MIME != evidence.MIMEJPEG && file.MIME != evidence.MIMEPNG) {
			continue
		}
		key := file.PreviewSHA256
		if key == "" {
			var err error
			if key, err = s.makePreview(ctx, file.SHA256, file.MIME); err != nil {
				return nil, err
			}
			if key == "" {
				continue
			}
		}
		rc, err := s.store.Open(ctx, key)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(rc, photoPreviewMax))
		rc.Close()
		if err != nil {
			return nil, workflow.Wrap(workflow.EInternal, err, "pratinjau foto %d tidak dapat dibaca", file.ID)
		}
		out[i] = b
	}
	return out, nil
}

// render writes the LPJ of the facts as a PDF.
func (s *Service) render(ctx context.Context, f facts, code string) ([]byte, error) {
	photos, err := s.photos(ctx, f)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := reports.WriteLPJ(&b, f.lpj(s.today(), code, s.public, photos)); err != nil {
		return nil, workflow.Wrap(workflow.EInternal, err, "LPJ hibah %s tidak dapat dibuat", f.g.Number)
	}
	return b.Bytes(), nil
}

// freezeReport renders the final LPJ of a grant the auditor is accepting,
// inside the accepting transaction (g is closed, accepted is its stored
// accept_report event), stores it in the evidence store and records its
// code and SHA-256. A failure anywhere fails the acceptance; a stored file
// whose transaction then rolls back is an orphan gc sweeps.
func (s *Service) freezeReport(ctx context.Context, tx *postgres.Tx, g workflow.Grant, accepted workflow.Event) error {
	if s.store == nil {
		return workflow.Errorf(workflow.EInternal, "penyimpanan berkas belum dikonfigurasi: LPJ tidak dapat dibekukan")
	}
	f, err := readFacts(ctx, tx, g)
	if err != nil {
		return err
	}
	code, err := newCode()
	if err != nil {
		return err
	}
	pdf, err := s.render(ctx, f, code)
	if err != nil {
		return err
	}
	obj, err := evidence.IngestOriginal(ctx, s.store, bytes.NewReader(pdf), reportMaxBytes)
	if err != nil {
		return err
	}
	_, err = tx.InsertGrantReport(ctx, postgres.GrantReport{GrantID: g.ID, Code: code, SHA256: obj.SHA256, Size: obj.Size, EventID: accepted.ID})
	return err
}

// reportRef is the frozen report of a closed grant for its view.
func reportRef(ctx context.Context, tx *postgres.Tx, g workflow.Grant) (*ReportRef, error) {
	if g.State != workflow.Closed {
		return nil, nil
	}
	r, err := tx.GrantReport(ctx, g.ID)
	if workflow.ErrorCode(err) == workflow.ENotFound {
		return nil, nil // closed before reports were frozen (no such grant outside old test data)
	}
	if err != nil {
		return nil, err
	}
	return &ReportRef{Code: r.Code, SHA256: r.SHA256}, nil
}

// Document is a file the service hands to a download: its name, type and
// content. Close Body when done; it is bound by a context of its own, so
// it may be streamed after the request's context ended.
type Document struct {
	Name   string
	MIME   string
	Size   int64  // -1 when unknown
	SHA256 string // of the stored file; "" for a draft rendered on the spot
	Draft  bool
	Body   io.ReadCloser
}

// Report returns the LPJ of grant id for anyone who may see the grant: the
// stored frozen file once the grant closed, else a draft rendered now from
// the rows. ENotFound when missing or out of scope.
func (s *Service) Report(ctx context.Context, a workflow.Actor, id int64) (Document, error) {
	var (
		frozen *postgres.GrantReport
		f      facts
	)
	err := s.db.InReadTx(ctx, func(tx *postgres.Tx) error {
		g, _, err := visibleGrant(ctx, tx, a, id)
		if err != nil {
			return err
		}
		r, err := tx.GrantReport(ctx, id)
		switch workflow.ErrorCode(err) {
		case "":
			frozen = &r
			f.g = g
			return nil
		case workflow.ENotFound:
		default:
			return err
		}
		f, err = readFacts(ctx, tx, g)
		return err
	})
	if err != nil {
		return Document{}, err
	}
	if frozen != nil {
		pdf, err := s.frozenReport(ctx, *frozen)
		if err != nil {
			return Document{}, err
		}
		return Document{Name: reportFileName(f.g.Number, false), MIME: evidence.MIMEPDF, Size: int64(len(pdf)), SHA256: frozen.SHA256,
			Body: io.NopCloser(bytes.NewReader(pdf))}, nil
	}
	pdf, err := s.render(ctx, f, "")
	if err != nil {
		return Document{}, err
	}
	return Document{Name: reportFileName(f.g.Number, true), MIME: evidence.MIMEPDF, Size: int64(len(pdf)), Draft: true,
		Body: io.NopCloser(bytes.NewReader(pdf))}, nil
}

// frozenReport reads the frozen LPJ whole and checks it against the SHA-256
// recorded when it was frozen, for report.pdf and the dossier: an auditor
// must never download altered bytes under the recorded hash (the store is
// outside the database's append-only guard). A mismatch is EInternal, logged, and names the way
// to check: /verify says report_matches false too.
func (s *Service) frozenReport(ctx context.Context, r postgres.GrantReport) ([]byte, error) {
	rc, err := s.openStored(ctx, r.SHA256)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	pdf, err := io.ReadAll(io.LimitReader(rc, r.Size+1))
	if err != nil {
		return nil, workflow.Wrap(workflow.EInternal, err, "LPJ yang dibekukan tidak dapat dibaca")
	}
	if sum := sha256.Sum256(pdf); hex.EncodeToString(sum[:]) != r.SHA256 || int64(len(pdf)) != r.Size {
		return nil, workflow.Errorf(workflow.EInternal, "LPJ yang dibekukan tidak cocok dengan sidik SHA-256 yang dicatat (%s); berkas tidak diserahkan", r.SHA256)
	}
	return pdf, nil
}

// openStored opens a stored file for streaming after the request's context
// ends (see OpenEvidence); Close releases its context.
func (s *Service) openStored(ctx context.Context, key string) (io.ReadCloser, error) {
	if s.store == nil {
		return nil, workflow.Errorf(workflow.EInternal, "penyimpanan berkas belum dikonfigurasi")
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), evidenceStreamTimeout)
	rc, err := s.store.Open(sctx, key)
	if err != nil {
		cancel()
		return nil, err
	}
	return cancelOnClose{rc, cancel}, nil
}

// Verification is the public record behind a verification code (SPEC §6):
// what the printed report claims, and whether the stored file and the event
// chain still bear it out.
type Verification struct {
	Code     string          `json:"code"`
	Number   string          `json:"number"`
	Group    VerifiedGroup   `json:"group"`
	Program  VerifiedProgram `json:"program"`
	State    workflow.State  `json:"state"`
	Totals   VerifiedTotals  `json:"totals"`
	ClosedAt time.Time       `json:"closed_at"`
	// ReportSHA256 is the SHA-256 recorded when the report was frozen;
	// ReportMatches whether the stored file still hashes to it.
	ReportSHA256  string `json:"report_sha256"`
	ReportMatches bool   `json:"report_matches"`
	// ChainValid is whether the grant's event chain still verifies link by
	// link; ChainHead is its last hash.
	ChainValid bool   `json:"chain_valid"`
	ChainHead  string `json:"chain_head"`
}

// VerifiedGroup names the group of a verified report.
type VerifiedGroup struct {
	Name     string        `json:"name"`
	Kind     workflow.Kind `json:"kind"`
	Province string        `json:"province"`
	Regency  string        `json:"regency"`
}

// VerifiedProgram names the programme of a verified report.
type VerifiedProgram struct {
	Name string `json:"name"`
	Year int    `json:"year"`
}

// VerifiedTotals are the grant's amounts in whole rupiah.
type VerifiedTotals struct {
	Approved  int64 `json:"approved"`
	Disbursed int64 `json:"disbursed"`
	Spent     int64 `json:"spent"`
	Refunded  int64 `json:"refunded"`
	Balance   int64 `json:"balance"`
}

// Verify answers anyone holding a report's verification code: no login,
// no scope, because the code printed on the paper is the authority. An
// unknown or malformed code is ENotFound.
func (s *Service) Verify(ctx context.Context, code string) (Verification, error) {
	if len(code) < 16 || len(code) > 32 {
		return Verification{}, workflow.Errorf(workflow.ENotFound, "kode verifikasi tidak dikenal")
	}
	var v Verification
	err := s.db.InReadTx(ctx, func(tx *postgres.Tx) error {
		r, err := tx.GrantReportByCode(ctx, code)
		if err != nil {
			return err
		}
		g, err := tx.Grant(ctx, r.GrantID)
		if err != nil {
			return err
		}
		grp, err := tx.GroupHeader(ctx, g.GroupID)
		if err != nil {
			return err
		}
		prog, err := tx.Program(ctx, g.ProgramID)
		if err != nil {
			return err
		}
		evs, err := tx.Events(ctx, g.ID)
		if err != nil {
			return err
		}
		v = Verification{Code: r.Code, Number: g.Number, State: g.State, ClosedAt: r.CreatedAt, ReportSHA256: r.SHA256,
			Group:   VerifiedGroup{Name: grp.Name, Kind: grp.Kind, Province: grp.Province, Regency: grp.Regency},
			Program: VerifiedProgram{Name: prog.Name, Year: prog.Year},
			Totals: VerifiedTotals{Approved: g.AmountApproved, Disbursed: g.Disbursed, Spent: g.Spent, Refunded: g.Refunded,
				Balance: g.Balance()}}
		v.ChainValid = len(evs) > 0 && chainBreak(evs) == nil && slices.ContainsFunc(evs, func(e workflow.Event) bool { return e.ID == r.EventID })
		if len(evs) > 0 {
			v.ChainHead = evs[len(evs)-1].Hash
		}
		return nil
	})
	if err != nil {
		return v, err
	}
	v.ReportMatches, err = s.storedMatches(ctx, v.ReportSHA256)
	return v, err
}

// storedMatches re-hashes the stored file under key: false when it is
// missing or its content no longer has that hash.
func (s *Service) storedMatches(ctx context.Context, key string) (bool, error) {
	if s.store == nil {
		return false, workflow.Errorf(workflow.EInternal, "penyimpanan berkas belum dikonfigurasi")
	}
	rc, err := s.store.Open(ctx, key)
	if workflow.ErrorCode(err) == workflow.ENotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return false, workflow.Wrap(workflow.EInternal, err, "laporan tersimpan tidak dapat dibaca")
	}
	return hex.EncodeToString(h.Sum(nil)) == key, nil
}
