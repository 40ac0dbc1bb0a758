package reports

import (
	"time"

	"grantflow/workflow"
)

// LPJ is everything the accountability report (laporan pertanggungjawaban,
// SPEC §6) shows, as plain data. The service fills it in one place from the
// rows it already reads for a grant: money rows, the ledger, the budget and
// the event trail are workflow's own types, so nothing is converted twice.
// WriteLPJ renders the slices in the order given; the caller sorts them
// (budget lines in RAB order, sessions by Seq, events by Seq).
type LPJ struct {
	// Draft watermarks every page "DRAF"; it is false only for the copy
	// frozen when the auditor accepts the report.
	Draft bool
	// Date is the document date (Jakarta calendar day). It is printed on the
	// letter and the signatures and is the PDF's creation and modification
	// date, so that the same data gives the same bytes. Required.
	Date workflow.Date

	Letter     Letter
	Program    Program
	Group      Group
	Grant      Grant
	Proposal   Proposal
	Categories []workflow.Category   // names of the budget categories; codes without one print as they are
	Budget     []workflow.BudgetLine // RAB order, each with its realisation (Spent)
	Sessions   []Session

	Disbursements []workflow.Disbursement
	Expenses      []workflow.Expense // voided ones included: they print as voided
	Refunds       []workflow.Refund
	Ledger        []workflow.LedgerEntry // workflow.Ledger of the same rows

	FundingEndedOn workflow.Date // the meetings listed in the closing are those held on or after it
	Meetings       []Meeting

	Evidence     []Evidence
	Photos       []Photo
	Trail        []workflow.Event // every event of the grant, in chain order
	Verification Verification
	Signatories  Signatories
	// Audit is the auditor's receipt sample and findings; nil prints none.
	Audit *Audit
}

// Letter is the cover letter's heading. Empty fields get the customary
// wording ("1 (satu) berkas", "Laporan Pertanggungjawaban …").
type Letter struct {
	Number     string // Nomor
	Attachment string // Lampiran
	Subject    string // Perihal
}

// Program is the ministry programme the grant belongs to.
type Program struct {
	Name           string
	Year           int
	ActivityEndsOn workflow.Date
	ReportDueOn    workflow.Date
}

// Group is the working group as the report names it; Members is the number
// of registered members (the denominator of every attendance figure).
type Group struct {
	Name              string
	Kind              workflow.Kind
	Subject           string
	Level             string
	Province          string
	Regency           string
	SKNumber          string
	BankName          string
	BankAccountNumber string
	BankAccountName   string
	NPWP              string
	Members           int
}

// Grant is the grant's number, state and amounts in whole rupiah, as
// workflow.Grant derives them.
type Grant struct {
	Number    string
	State     workflow.State
	Requested int64
	Approved  int64
	Disbursed int64
	Spent     int64
	Refunded  int64
	Balance   int64
}

// Proposal is the narrative the group wrote in its proposal.
type Proposal struct {
	Background         string
	Objectives         string
	SustainabilityPlan string
}

// Session is one planned In/On session and, once held, its realisation.
type Session struct {
	Seq          int
	Kind         workflow.ActivityKind
	Title        string
	PlannedOn    workflow.Date
	Status       workflow.ActivityStatus
	HeldOn       workflow.Date
	Location     string
	Hours        int // jam pelajaran (JP)
	Facilitator  string
	Present      int // members who attended
	Members      int // members of the group at the time
	Summary      string
	Outputs      string
	CancelReason string
}

// Meeting is a meeting the group logged after its funding ended.
type Meeting struct {
	HeldOn    workflow.Date
	Topic     string
	Attendees int
}

// Evidence is one line of the evidence index.
type Evidence struct {
	File       string // the readable name it has in the dossier
	Kind       string // receipt, attendance, photo, minutes, output, other
	SHA256     string
	Uploader   string
	UploadedAt time.Time
}

// Photo is one activity photo: JPEG bytes of the EXIF-free preview.
type Photo struct {
	Caption string
	JPEG    []byte
}

// Verification is what a reader needs to check the report online.
type Verification struct {
	Code      string
	URL       string // GRANTFLOW_PUBLIC_URL/verify/{code}; the QR code points here
	ChainHead string // hash of the last event of the grant's chain
}

// Signatory is a person who signs: a name and an identifier (NIP or SIMPATIKA id).
type Signatory struct {
	Name string
	ID   string
}

// Signatories are the four people whose signature blocks the report carries.
type Signatories struct {
	Chair      Signatory // ketua
	Treasurer  Signatory // bendahara
	Verifier   Signatory // verifikator of the district office
	OfficeHead Signatory // Kepala Kantor Kementerian Agama of the regency
}
