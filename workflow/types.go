package workflow

import "time"

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
	Province string `json:"province,omitempty"` // staff scope; "" = everywhere
	Regency  string `json:"regency,omitempty"`  // staff scope within Province; "" = whole province
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

// Sees reports whether a may read records of a group in the given region and
// with the given id: admins see all, group roles their own group, staff their scope.
func (a Actor) Sees(groupID int64, province, regency string) bool {
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
	if a.Province != "" && a.Province != province {
		return false
	}
	if a.Regency != "" && a.Regency != regency {
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
	In int `json:"in"`
	On int `json:"on"`
}

// Category is a budget category; CapPercent 0 means no cap.
type Category struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	CapPercent int    `json:"cap_percent"`
}

// TaxRates are withholding rates in basis points (1100 = 11 %).
type TaxRates struct {
	PPN   int `json:"ppn_bps"`
	PPh21 int `json:"pph21_bps"`
	PPh22 int `json:"pph22_bps"`
	PPh23 int `json:"pph23_bps"`
}

// Program is one fiscal year or round of the grant programme with its juknis settings.
type Program struct {
	ID               int64                 `json:"id"`
	Name             string                `json:"name"`
	Year             int                   `json:"year"`
	ProposalOpensOn  Date                  `json:"proposal_opens_on"`
	ProposalClosesOn Date                  `json:"proposal_closes_on"`
	ActivityEndsOn   Date                  `json:"activity_ends_on"`
	ReportDueOn      Date                  `json:"report_due_on"`
	BudgetTotal      int64                 `json:"budget_total"`
	Ceilings         map[Kind]int64        `json:"ceilings"`
	ActivityRules    map[Kind]ActivityRule `json:"activity_rules"`
	TranchePercents  []int                 `json:"tranche_percents"`
	Categories       []Category            `json:"categories"`
	TaxRates         TaxRates              `json:"tax_rates"`
	AtRiskAfterDays  int                   `json:"at_risk_after_days"`
	DormantAfterDays int                   `json:"dormant_after_days"`
	CreatedAt        time.Time             `json:"created_at"`
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
	Name        string   `json:"name"`
	SimpatikaID string   `json:"simpatika_id"`
	NIP         string   `json:"nip"`
	Madrasah    string   `json:"madrasah"`
	Position    Position `json:"position"`
}

// Group is a teacher working group.
type Group struct {
	ID                int64     `json:"id"`
	Kind              Kind      `json:"kind"`
	Name              string    `json:"name"`
	Subject           string    `json:"subject"`
	Level             string    `json:"level"`
	Province          string    `json:"province"`
	Regency           string    `json:"regency"`
	SKNumber          string    `json:"sk_number"`
	BankName          string    `json:"bank_name"`
	BankAccountNumber string    `json:"bank_account_number"`
	BankAccountName   string    `json:"bank_account_name"`
	NPWP              string    `json:"npwp"`
	Remote            bool      `json:"remote"`
	Members           []Member  `json:"members"`
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
	Kind                ActivityKind   `json:"kind"`
	Title               string         `json:"title"`
	PlannedOn           Date           `json:"planned_on"`
	PlannedParticipants int            `json:"planned_participants"`
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
	Category    string `json:"category"`
	Description string `json:"description"`
	Quantity    int64  `json:"quantity"`
	Unit        string `json:"unit"`
	UnitPrice   int64  `json:"unit_price"`
	Amount      int64  `json:"amount"`
	Spent       int64  `json:"spent"`
}

// Proposal is what the group writes and submits.
type Proposal struct {
	Background         string       `json:"background"`
	Objectives         string       `json:"objectives"`
	SustainabilityPlan string       `json:"sustainability_plan"`
	Activities         []Activity   `json:"activities"`
	Budget             []BudgetLine `json:"budget"`
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
)

// Actions lists every action in a stable order.
var Actions = []Action{Submit, StartReview, RequestRevision, Recommend, Approve, Reject, Disburse, SubmitReport, ReturnReport, AcceptReport, Cancel}

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
