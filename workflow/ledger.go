package workflow

import (
	"fmt"
	"sort"
	"time"
)

// MeteraiThreshold is the receipt amount above which a stamp (meterai) is required.
const MeteraiThreshold int64 = 5_000_000

// Expense flags a reviewer sees (SPEC §4).
const (
	FlagMeterai   = "meterai_required"
	FlagDuplicate = "duplicate_receipt" // shown to staff only
	FlagOutside   = "outside_period"
)

// Disbursement is one tranche transferred to the group's account.
type Disbursement struct {
	ID            int64     `json:"id"`
	GrantID       int64     `json:"grant_id"`
	Tranche       int       `json:"tranche"`
	Amount        int64     `json:"amount"`
	TransferredOn Date      `json:"transferred_on"`
	Reference     string    `json:"reference"`
	RecordedBy    int64     `json:"recorded_by"`
	CreatedAt     time.Time `json:"created_at"`
	RowSHA256     string    `json:"-"` // set by the database at insert; its event carries it
}

// Expense is one purchase (belanja) backed by a receipt. It is never
// deleted; a void keeps it in the ledger with a reversal.
type Expense struct {
	ID            int64      `json:"id"`
	GrantID       int64      `json:"grant_id"`
	SpentOn       Date       `json:"spent_on"`
	BudgetLineID  int64      `json:"budget_line_id"`
	ActivityID    int64      `json:"activity_id,omitempty"`
	Vendor        string     `json:"vendor"`
	Description   string     `json:"description"`
	Amount        int64      `json:"amount"`
	TaxPPN        int64      `json:"tax_ppn"`
	TaxPPh        int64      `json:"tax_pph"`
	ReceiptID     int64      `json:"receipt_id"`
	ReceiptSHA256 string     `json:"receipt_sha256"`
	CreatedBy     int64      `json:"created_by"`
	CreatedAt     time.Time  `json:"created_at"`
	VoidedAt      *time.Time `json:"voided_at,omitempty"`
	VoidedOn      Date       `json:"-"` // calendar date of VoidedAt where the programme runs
	VoidReason    string     `json:"void_reason,omitempty"`
	Flags         []string   `json:"flags"`
	RowSHA256     string     `json:"-"` // set by the database at insert; its event carries it
}

// Voided reports whether the expense was voided.
func (e Expense) Voided() bool { return e.VoidedAt != nil }

// Refund is unspent money deposited back to the state treasury (setor sisa dana).
type Refund struct {
	ID        int64     `json:"id"`
	GrantID   int64     `json:"grant_id"`
	Amount    int64     `json:"amount"`
	PaidOn    Date      `json:"paid_on"`
	NTPN      string    `json:"ntpn"`
	ProofID   int64     `json:"proof_id,omitempty"`
	CreatedBy int64     `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	RowSHA256 string    `json:"-"` // set by the database at insert; its event carries it
}

// Ledger entry kinds.
const (
	EntryDisbursement = "disbursement"
	EntryExpense      = "expense"
	EntryTaxWithheld  = "tax_withheld"
	EntryTaxDeposited = "tax_deposited"
	EntryVoid         = "void"
	EntryRefund       = "refund"
)

// LedgerEntry is one row of the BKU (buku kas umum).
type LedgerEntry struct {
	Date        Date   `json:"date"`
	Kind        string `json:"kind"`
	Ref         string `json:"ref"`
	Description string `json:"description"`
	In          int64  `json:"in"`
	Out         int64  `json:"out"`
	Balance     int64  `json:"balance"`

	at    time.Time
	order int
}

// Ledger derives the BKU from the money rows: every disbursement (in), every
// expense at its gross amount (out), the taxes it withheld (in) and their
// deposit to the treasury on the same day (out), every void (the gross back
// in, on the day of the void) and every refund (out), in date order with a
// running balance. The last balance equals Grant.Balance().
func Ledger(ds []Disbursement, es []Expense, rs []Refund) []LedgerEntry {
	var out []LedgerEntry
	add := func(e LedgerEntry) { e.order = len(out); out = append(out, e) }
	for _, d := range ds {
		add(LedgerEntry{Date: d.TransferredOn, Kind: EntryDisbursement, Ref: d.Reference,
			Description: fmt.Sprintf("Penerimaan dana tahap %d", d.Tranche), In: d.Amount, at: d.CreatedAt})
	}
	for _, e := range es {
		ref := fmt.Sprintf("BL-%d", e.ID)
		add(LedgerEntry{Date: e.SpentOn, Kind: EntryExpense, Ref: ref, Description: e.Description + " — " + e.Vendor, Out: e.Amount, at: e.CreatedAt})
		for _, tax := range []struct {
			name   string
			amount int64
		}{{"PPN", e.TaxPPN}, {"PPh", e.TaxPPh}} {
			if tax.amount > 0 {
				add(LedgerEntry{Date: e.SpentOn, Kind: EntryTaxWithheld, Ref: ref, Description: "Pungutan " + tax.name, In: tax.amount, at: e.CreatedAt})
				add(LedgerEntry{Date: e.SpentOn, Kind: EntryTaxDeposited, Ref: ref, Description: "Setoran " + tax.name, Out: tax.amount, at: e.CreatedAt})
			}
		}
		if e.Voided() {
			add(LedgerEntry{Date: e.VoidedOn, Kind: EntryVoid, Ref: ref, Description: "Pembatalan: " + e.VoidReason, In: e.Amount, at: *e.VoidedAt})
		}
	}
	for _, r := range rs {
		add(LedgerEntry{Date: r.PaidOn, Kind: EntryRefund, Ref: r.NTPN, Description: "Setor sisa dana (NTPN " + r.NTPN + ")", Out: r.Amount, at: r.CreatedAt})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.Date.t.Equal(b.Date.t) {
			return a.Date.Before(b.Date)
		}
		if !a.at.Equal(b.at) {
			return a.at.Before(b.at)
		}
		return a.order < b.order
	})
	var bal int64
	for i := range out {
		bal += out[i].In - out[i].Out
		out[i].Balance = bal
	}
	if out == nil {
		out = []LedgerEntry{}
	}
	return out
}

// ExpenseFlags returns the review flags of e: a stamp is needed above
// MeteraiThreshold; outside_period when it was spent before the first
// transfer or after the programme's activity period; duplicate_receipt when
// the same receipt file backs another expense (the caller decides who sees it).
func ExpenseFlags(e Expense, firstTransfer, activityEnds Date, duplicate bool) []string {
	flags := []string{}
	if e.Amount > MeteraiThreshold {
		flags = append(flags, FlagMeterai)
	}
	if duplicate {
		flags = append(flags, FlagDuplicate)
	}
	if (!firstTransfer.IsZero() && e.SpentOn.Before(firstTransfer)) || (!activityEnds.IsZero() && e.SpentOn.After(activityEnds)) {
		flags = append(flags, FlagOutside)
	}
	return flags
}
