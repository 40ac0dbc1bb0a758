package workflow

import (
	"encoding/json"
	"math"
	"time"
)

// Role is what a person may do; a user holds one or more.
type Role string

// The roles of SPEC §1.
const (
	RoleAdmin     Role = "admin"
	RoleVerifier  Role = "verifier"
	RoleApprover  Role = "approver"
	RoleFinance   Role = "finance"
	RoleAuditor   Role = "auditor"
	RoleChair     Role = "chair"
	RoleTreasurer Role = "treasurer"
)

// Roles lists every role in a stable order.
var Roles = []Role{RoleAdmin, RoleVerifier, RoleApprover, RoleFinance, RoleAuditor, RoleChair, RoleTreasurer}

// IsStaff reports whether r is a ministry staff role that may be scoped to a region.
func (r Role) IsStaff() bool {
	return r == RoleVerifier || r == RoleApprover || r == RoleFinance || r == RoleAuditor
}

// IsGroupRole reports whether r belongs to exactly one group.
func (r Role) IsGroupRole() bool { return r == RoleChair || r == RoleTreasurer }

// Actor is the person performing an action, with the scope of their roles.
type Actor struct {
	UserID   int64  `json:"id"`
	Name     string `json:"name"`
	Roles    []Role `json:"roles"`
	GroupID  int64  `json:"group_id,omitempty"` // chair and treasurer: their one group
	Province string `json:"province,omitempty"` // staff scope's official name; "" = everywhere
	Regency  string `json:"regency,omitempty"`  // staff scope within Province; "" = whole province
	// ProvinceCode and RegencyCode are the scope's official codes ("32",
	// "32.71"): what Sees compares, so that spelling never decides access.
	ProvinceCode string `json:"province_code,omitempty"`
	RegencyCode  string `json:"regency_code,omitempty"`
}

// Has reports whether a holds role r.
func (a Actor) Has(r Role) bool {
	for _, x := range a.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// IsStaff reports whether a holds any staff role or admin.
func (a Actor) IsStaff() bool {
	for _, x := range a.Roles {
		if x.IsStaff() || x == RoleAdmin {
			return true
		}
	}
	return false
}

// Sees reports whether a may read records of a group with the given id in
// the region of the given official codes: admins see all, group roles their
// own group, staff their scope. A group without codes (a legacy row whose
// region matched no official name) is seen by unscoped staff only.
func (a Actor) Sees(groupID int64, provinceCode, regencyCode string) bool {
	if a.Has(RoleAdmin) {
		return true
	}
	for _, r := range a.Roles {
		if r.IsGroupRole() && a.GroupID == groupID {
			return true
		}
	}
	if !a.IsStaff() {
		return false
	}
	if a.ProvinceCode != "" && a.ProvinceCode != provinceCode {
		return false
	}
	if a.RegencyCode != "" && a.RegencyCode != regencyCode {
		return false
	}
	return true
}

// Kind is the kind of working group.
type Kind string

// The group kinds of SPEC §2.
const (
	KKG      Kind = "KKG"
	MGMP     Kind = "MGMP"
	MGBK     Kind = "MGBK"
	KKM      Kind = "KKM"
	POKJAWAS Kind = "POKJAWAS"
)

// Kinds lists every kind in a stable order.
var Kinds = []Kind{KKG, MGMP, MGBK, KKM, POKJAWAS}

// ActivityRule is the minimum number of In and On sessions for a kind.
type ActivityRule struct {
	In int `json:"in" validate:"min=1,max=100" label:"Jumlah sesi In"`
	On int `json:"on" validate:"min=0,max=100" label:"Jumlah sesi On"`
}

// unsetCount marks an In or On count that a JSON activity rule leaves out;
// ApplyDefaults gives it the kind's default, so {"KKM":{"in":6}} keeps
// KKM's 2 On sessions instead of asking for none.
const unsetCount = math.MinInt32

// UnmarshalJSON reads a rule, marking the counts it leaves out (unsetCount).
func (r *ActivityRule) UnmarshalJSON(b []byte) error {
	type plain ActivityRule
	v := plain{In: unsetCount, On: unsetCount}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = ActivityRule(v)
	return nil
}

// Category is a budget category; CapPercent 0 means no cap.
type Category struct {
	Code       string `json:"code" validate:"required,max=50,codeword" label:"Kode kategori"`
	Name       string `json:"name" validate:"notblank,max=200,nocontrol" label:"Nama kategori"`
	CapPercent int    `json:"cap_percent" validate:"min=0,max=100" label:"Batas persen kategori"`
}

// TaxRates are withholding rates in basis points (1100 = 11 %).
type TaxRates struct {
	PPN   int `json:"ppn_bps" validate:"min=0,max=10000" label:"Tarif PPN"`
	PPh21 int `json:"pph21_bps" validate:"min=0,max=10000" label:"Tarif PPh 21"`
	PPh22 int `json:"pph22_bps" validate:"min=0,max=10000" label:"Tarif PPh 22"`
	PPh23 int `json:"pph23_bps" validate:"min=0,max=10000" label:"Tarif PPh 23"`
}

// UnmarshalJSON reads rates over the defaults, so that a programme giving
// only {"ppn_bps":1200} keeps the default PPh rates instead of none.
func (t *TaxRates) UnmarshalJSON(b []byte) error {
	type plain TaxRates
	v := plain(DefaultTaxRates())
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*t = TaxRates(v)
	return nil
}

// Program is one fiscal year or round of the grant programme with its juknis settings.
type Program struct {
	ID               int64                 `json:"id"`
	Name             string                `json:"name" validate:"notblank,max=200,nocontrol" label:"Nama program"`
	Year             int                   `json:"year" validate:"min=2000,max=2100" label:"Tahun"`
	ProposalOpensOn  Date                  `json:"proposal_opens_on" validate:"required,day" label:"Tanggal pembukaan proposal"`
	ProposalClosesOn Date                  `json:"proposal_closes_on" validate:"required,day" label:"Tanggal penutupan proposal"`
	ActivityEndsOn   Date                  `json:"activity_ends_on" validate:"required,day" label:"Tanggal akhir kegiatan"`
	ReportDueOn      Date                  `json:"report_due_on" validate:"required,day" label:"Batas LPJ"`
	BudgetTotal      int64                 `json:"budget_total" validate:"gt=0,max=1000000000000000" label:"Pagu program"`
	Ceilings         map[Kind]int64        `json:"ceilings" validate:"dive,keys,oneof=KKG MGMP MGBK KKM POKJAWAS,endkeys,gt=0,max=1000000000000000" label:"Plafon"`
	ActivityRules    map[Kind]ActivityRule `json:"activity_rules" validate:"dive,keys,oneof=KKG MGMP MGBK KKM POKJAWAS,endkeys" label:"Aturan kegiatan"`
	TranchePercents  []int                 `json:"tranche_percents" validate:"min=1,max=4,dive,gt=0,max=100" label:"Persen tahap"`
	Categories       []Category            `json:"categories" validate:"min=1,max=100,dive" label:"Kategori anggaran"`
	TaxRates         TaxRates              `json:"tax_rates"`
	AtRiskAfterDays  int                   `json:"at_risk_after_days" validate:"gt=0,max=3650" label:"Batas hari berisiko"`
	DormantAfterDays int                   `json:"dormant_after_days" validate:"gt=0,max=3650" label:"Batas hari tidak aktif"`
	// RequireChairConfirmation makes submit_report wait for the chair's
	// confirm_report (issue #13); off by default so existing flows keep working.
	RequireChairConfirmation bool `json:"require_chair_confirmation"`
	// AuditSampleSize is how many expenses an audit sample draws; 0 means
	// ceil(√n) (AuditSampleSize), never fewer than MinAuditSample.
	AuditSampleSize int `json:"audit_sample_size" validate:"min=0,max=10000" label:"Ukuran sampel audit"`
	// RiskWeights overrides DefaultRiskWeights per signal code (risk.go);
	// omitted codes keep their default, 0 switches a signal off.
	RiskWeights map[string]int `json:"risk_weights,omitempty" validate:"dive,keys,riskcode,endkeys,min=0,max=100" label:"Bobot risiko"`
	CreatedAt   time.Time      `json:"created_at"`
}

// Position is a member's position in the group.
type Position string

// Member positions.
const (
	PosKetua      Position = "ketua"
	PosSekretaris Position = "sekretaris"
	PosBendahara  Position = "bendahara"
	PosAnggota    Position = "anggota"
)

// Member is one teacher, head or supervisor in a group.
type Member struct {
	ID          int64    `json:"id"`
	Name        string   `json:"name" validate:"notblank,max=200,nocontrol" label:"Nama anggota"`
	SimpatikaID string   `json:"simpatika_id" validate:"omitempty,digits,min=10,max=20" label:"SIMPATIKA ID anggota"`
	NIP         string   `json:"nip" validate:"omitempty,digits,len=18" label:"NIP anggota"`
	Madrasah    string   `json:"madrasah" validate:"notblank,max=200,nocontrol" label:"Madrasah anggota"`
	Position    Position `json:"position" validate:"required,oneof=ketua sekretaris bendahara anggota" label:"Jabatan anggota"`
}

// Group is a teacher working group.
type Group struct {
	ID       int64  `json:"id"`
	Kind     Kind   `json:"kind" validate:"required,oneof=KKG MGMP MGBK KKM POKJAWAS" label:"Jenis kelompok"`
	Name     string `json:"name" validate:"notblank,max=200,nocontrol" label:"Nama kelompok"`
	Subject  string `json:"subject" validate:"max=200,nocontrol" label:"Mata pelajaran"`
	Level    string `json:"level" validate:"required,oneof=RA MI MTs MA" label:"Jenjang"`
	Province string `json:"province" validate:"notblank,max=100,nocontrol" label:"Provinsi"`
	Regency  string `json:"regency" validate:"notblank,max=100,nocontrol" label:"Kabupaten/kota"`
	// ProvinceCode and RegencyCode are the official codes the service
	// resolves Province and Regency to (input may give either the names or
	// the codes); Province and Regency then hold the names as the list
	// spells them.
	ProvinceCode      string    `json:"province_code" validate:"max=10,nocontrol" label:"Kode provinsi"`
	RegencyCode       string    `json:"regency_code" validate:"max=10,nocontrol" label:"Kode kabupaten/kota"`
	SKNumber          string    `json:"sk_number" validate:"notblank,max=100,nocontrol" label:"Nomor SK"`
	BankName          string    `json:"bank_name" validate:"notblank,max=100,nocontrol" label:"Nama bank"`
	BankAccountNumber string    `json:"bank_account_number" validate:"required,digits,min=6,max=20" label:"Nomor rekening"`
	BankAccountName   string    `json:"bank_account_name" validate:"notblank,max=200,nocontrol" label:"Nama pemilik rekening"`
	NPWP              string    `json:"npwp" validate:"omitempty,digits,min=15,max=16" label:"NPWP"`
	Remote            bool      `json:"remote"`
	Members           []Member  `json:"members" validate:"max=1000,dive" label:"Anggota"`
	CreatedAt         time.Time `json:"created_at"`
}

// ActivityKind is "in" (session at the group) or "on" (practice at the madrasah).
type ActivityKind string

// Activity kinds.
const (
	In ActivityKind = "in"
	On ActivityKind = "on"
)

// ActivityStatus is where a planned activity stands.
type ActivityStatus string

// Activity statuses.
const (
	ActivityPlanned   ActivityStatus = "planned"
	ActivityHeld      ActivityStatus = "held"
	ActivityCancelled ActivityStatus = "cancelled"
)

// Activity is a planned In/On session and, once held, its realisation facts
// the guards need (attendance and evidence counts).
type Activity struct {
	ID                  int64          `json:"id"`
	Seq                 int            `json:"seq"`
	Kind                ActivityKind   `json:"kind" validate:"oneof=in on" label:"Jenis kegiatan"`
	Title               string         `json:"title" validate:"notblank,max=200,nocontrol" label:"Judul kegiatan"`
	PlannedOn           Date           `json:"planned_on" validate:"day" label:"Tanggal rencana kegiatan"`
	PlannedParticipants int            `json:"planned_participants" validate:"min=0,max=1000" label:"Rencana jumlah peserta"`
	Status              ActivityStatus `json:"status"`
	HeldOn              Date           `json:"held_on"`
	AttendeeCount       int            `json:"attendee_count"`
	EvidenceCount       int            `json:"evidence_count"`
	// Version is the number of the latest realisation (0: never realised);
	// a correction records version+1 and keeps the earlier ones.
	Version int `json:"version"`
	// CancelReason is the verifier's reason when Status is cancelled.
	CancelReason string `json:"cancel_reason,omitempty"`
}

// BudgetLine is one RAB line. Amount = Quantity × UnitPrice; Spent is derived
// from the non-void expenses charged to it.
type BudgetLine struct {
	ID          int64  `json:"id"`
	Seq         int    `json:"seq"`
	Category    string `json:"category" validate:"notblank,max=50,nocontrol" label:"Kategori anggaran"`
	Description string `json:"description" validate:"notblank,max=500,nocontrol" label:"Uraian anggaran"`
	Quantity    int64  `json:"quantity" validate:"gt=0,max=1000000" label:"Volume"`
	Unit        string `json:"unit" validate:"notblank,max=50,nocontrol" label:"Satuan"`
	UnitPrice   int64  `json:"unit_price" validate:"gt=0,max=1000000000000000" label:"Harga satuan"`
	Amount      int64  `json:"amount"`
	Spent       int64  `json:"spent"`
}

// Proposal is what the group writes and submits.
type Proposal struct {
	Background         string       `json:"background" validate:"max=10000,nocontrol" label:"Latar belakang"`
	Objectives         string       `json:"objectives" validate:"max=10000,nocontrol" label:"Tujuan"`
	SustainabilityPlan string       `json:"sustainability_plan" validate:"max=10000,nocontrol" label:"Rencana keberlanjutan"`
	Activities         []Activity   `json:"activities" validate:"max=100,dive" label:"Kegiatan"`
	Budget             []BudgetLine `json:"budget" validate:"max=500,dive" label:"Anggaran"`
}

// State is where a grant stands in the workflow.
type State string

// The states of SPEC §3.
const (
	Draft             State = "draft"
	Submitted         State = "submitted"
	InReview          State = "in_review"
	RevisionRequested State = "revision_requested"
	Recommended       State = "recommended"
	Approved          State = "approved"
	Rejected          State = "rejected"
	Funded            State = "funded"
	ReportSubmitted   State = "report_submitted"
	Closed            State = "closed"
	Cancelled         State = "cancelled"
)

// States lists every state in workflow order.
var States = []State{Draft, Submitted, InReview, RevisionRequested, Recommended, Approved, Rejected, Funded, ReportSubmitted, Closed, Cancelled}

// Terminal reports whether no action leaves s.
func (s State) Terminal() bool { return s == Closed || s == Rejected || s == Cancelled }

// Action is a named transition.
type Action string

// The actions of SPEC §3.
const (
	Submit          Action = "submit"
	StartReview     Action = "start_review"
	RequestRevision Action = "request_revision"
	Recommend       Action = "recommend"
	Approve         Action = "approve"
	Reject          Action = "reject"
	Disburse        Action = "disburse"
	SubmitReport    Action = "submit_report"
	ReturnReport    Action = "return_report"
	AcceptReport    Action = "accept_report"
	Cancel          Action = "cancel"
	// ConfirmReport is the chair's co-signature of the treasurer's expenses
	// and attendance before the LPJ goes in (issue #13); the state stays funded.
	ConfirmReport Action = "confirm_report"
)

// Actions lists every action in a stable order.
var Actions = []Action{Submit, StartReview, RequestRevision, Recommend, Approve, Reject, Disburse, ConfirmReport, SubmitReport, ReturnReport, AcceptReport, Cancel}

// Grant is one group's grant in one programme. The money fields below
// AmountApproved are derived from disbursement, expense and refund rows by
// the database layer; they are never stored on the grant.
type Grant struct {
	ID              int64  `json:"id"`
	Number          string `json:"number"`
	ProgramID       int64  `json:"program_id"`
	GroupID         int64  `json:"group_id"`
	State           State  `json:"state"`
	AmountRequested int64  `json:"amount_requested"`
	AmountApproved  int64  `json:"amount_approved"`
	VerifierID      int64  `json:"verifier_id,omitempty"` // who started review, then who recommended
	ApproverID      int64  `json:"approver_id,omitempty"`
	Proposal

	Disbursed              int64 `json:"disbursed"`
	TranchesPaid           int   `json:"tranches_paid"`
	Spent                  int64 `json:"spent"`    // gross of non-void expenses
	Receipted              int64 `json:"-"`        // part of Spent backed by a receipt file
	ExpensesWithoutReceipt int   `json:"-"`        // non-void expenses lacking a receipt
	Refunded               int64 `json:"refunded"` // refunds deposited (each with an NTPN)
	// ReportConfirmed: the chair's confirm_report stands, no expense, session
	// or activity evidence having changed since (derived from the events).
	ReportConfirmed bool `json:"report_confirmed"`
	// AuditSample is the auditor's drawn receipt sample with its findings
	// (nil when none was drawn), read from the events for accept_report.
	AuditSample []SampledExpense `json:"-"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Balance is the money the group still holds: disbursed − spent − refunded.
func (g Grant) Balance() int64 { return g.Disbursed - g.Spent - g.Refunded }

// Request is everything Apply needs besides the grant: who acts, when, with
// what input, and the facts its guards read.
type Request struct {
	Action  Action
	Actor   Actor
	Now     time.Time
	Comment string
	// ExpectedState, when set, must equal the grant's state (optimistic check
	// for clients that show a grant and then act on it); else EConflict.
	ExpectedState State

	ApprovedAmount int64 // recommend
	Tranche        int   // disburse
	Amount         int64 // disburse

	Program Program // submit, approve, disburse
	Group   Group   // submit (membership rules)
	// PoolCommitted is the sum approved for the programme's other grants that
	// still hold or held money (approved, funded, report_submitted, closed).
	PoolCommitted int64
}

// Event is one entry of a grant's append-only, hash-chained audit trail.
type Event struct {
	ID        int64          `json:"id"`
	GrantID   int64          `json:"grant_id"`
	Seq       int            `json:"seq"`
	Action    string         `json:"action"` // an Action, or a money/activity record such as "record_expense"
	FromState State          `json:"from_state"`
	ToState   State          `json:"to_state"`
	ActorID   int64          `json:"actor_id"`
	ActorName string         `json:"actor_name"`
	ActorRole Role           `json:"actor_role"`
	Comment   string         `json:"comment"`
	Data      map[string]any `json:"data"`
	At        time.Time      `json:"at"`
	PrevHash  string         `json:"prev_hash"`
	Hash      string         `json:"hash"`
}
