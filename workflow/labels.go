package workflow

import (
	"slices"
	"strconv"

	"grantflow/money"
)

var stateLabels = map[State]string{
	Draft:             "draf",
	Submitted:         "diajukan",
	InReview:          "sedang diverifikasi",
	RevisionRequested: "perlu revisi",
	Recommended:       "direkomendasikan",
	Approved:          "disetujui",
	Rejected:          "ditolak",
	Funded:            "didanai",
	ReportSubmitted:   "LPJ diajukan",
	Closed:            "selesai",
	Cancelled:         "dibatalkan",
}

var actionLabels = map[Action]string{
	Submit:          "ajukan proposal",
	StartReview:     "mulai verifikasi",
	RequestRevision: "minta revisi",
	Recommend:       "rekomendasikan",
	Approve:         "setujui",
	Reject:          "tolak",
	Disburse:        "salurkan dana",
	ConfirmReport:   "konfirmasi LPJ (ketua)",
	SubmitReport:    "ajukan LPJ",
	ReturnReport:    "kembalikan LPJ",
	AcceptReport:    "terima LPJ",
	Cancel:          "batalkan",
}

var roleLabels = map[Role]string{
	RoleAdmin:     "admin",
	RoleVerifier:  "verifikator",
	RoleApprover:  "pemberi persetujuan",
	RoleFinance:   "petugas keuangan",
	RoleAuditor:   "auditor",
	RoleChair:     "ketua kelompok",
	RoleTreasurer: "bendahara kelompok",
}

// Valid reports whether s is one of States.
func (s State) Valid() bool { return slices.Contains(States, s) }

// Label returns the Indonesian name of s for pages and messages, or s itself
// when s is not a known state.
func (s State) Label() string {
	if l, ok := stateLabels[s]; ok {
		return l
	}
	return string(s)
}

// Valid reports whether a is one of Actions.
func (a Action) Valid() bool { return slices.Contains(Actions, a) }

// Label returns the Indonesian name of a for buttons and messages, or a
// itself when a is not a known action.
func (a Action) Label() string {
	if l, ok := actionLabels[a]; ok {
		return l
	}
	return string(a)
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Label returns the Indonesian name of r, or r itself when r is not a known role.
func (r Role) Label() string {
	if l, ok := roleLabels[r]; ok {
		return l
	}
	return string(r)
}

// fieldIndex names an element of a list in a problem: members[3].nip, or
// members[3] when name is "".
func fieldIndex(list string, i int, name string) string {
	f := list + "[" + strconv.Itoa(i) + "]"
	if name != "" {
		f += "." + name
	}
	return f
}

func formatRp(v int64) string { return money.Format(v) }
