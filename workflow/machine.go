package workflow

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// rule is one row of the SPEC §3 table: from any of from, an actor holding
// one of roles may move the grant to to. An action has several rules when
// who may act depends on the source state (reject).
type rule struct {
	from  []State
	to    State
	roles []Role // in order of preference for Event.ActorRole
}

// machine is the one table Apply and Allowed both read, so the actions a page
// offers are exactly the actions that would be accepted (data guards aside).
var machine = map[Action][]rule{
	Submit:          {{from: []State{Draft, RevisionRequested}, to: Submitted, roles: []Role{RoleChair, RoleTreasurer}}},
	StartReview:     {{from: []State{Submitted}, to: InReview, roles: []Role{RoleVerifier}}},
	RequestRevision: {{from: []State{InReview}, to: RevisionRequested, roles: []Role{RoleVerifier}}},
	Recommend:       {{from: []State{InReview}, to: Recommended, roles: []Role{RoleVerifier}}},
	Approve:         {{from: []State{Recommended}, to: Approved, roles: []Role{RoleApprover}}},
	Reject: {
		{from: []State{InReview}, to: Rejected, roles: []Role{RoleVerifier}},
		{from: []State{Recommended}, to: Rejected, roles: []Role{RoleApprover}},
	},
	Disburse:      {{from: []State{Approved, Funded}, to: Funded, roles: []Role{RoleFinance}}},
	ConfirmReport: {{from: []State{Funded}, to: Funded, roles: []Role{RoleChair}}},
	SubmitReport:  {{from: []State{Funded}, to: ReportSubmitted, roles: []Role{RoleTreasurer}}},
	ReturnReport:  {{from: []State{ReportSubmitted}, to: Funded, roles: []Role{RoleAuditor}}},
	AcceptReport:  {{from: []State{ReportSubmitted}, to: Closed, roles: []Role{RoleAuditor}}},
	Cancel:        {{from: nonTerminal(), to: Cancelled, roles: []Role{RoleAdmin}}},
}

func nonTerminal() []State {
	var out []State
	for _, s := range States {
		if !s.Terminal() {
			out = append(out, s)
		}
	}
	return out
}

// Sources returns the states action a may start from, in workflow order, or
// nil for an unknown action.
func Sources(a Action) []State {
	var out []State
	for _, s := range States {
		if _, ok := ruleFrom(machine[a], s); ok {
			out = append(out, s)
		}
	}
	return out
}

// Target returns the state action a leads to from state s, and false when a
// is unknown or cannot start from s.
func Target(a Action, s State) (State, bool) {
	ru, ok := ruleFrom(machine[a], s)
	return ru.to, ok
}

func ruleFrom(rules []rule, s State) (rule, bool) {
	for _, ru := range rules {
		for _, f := range ru.from {
			if f == s {
				return ru, true
			}
		}
	}
	return rule{}, false
}

// actsAs returns the first of roles that a holds for grant g. The group roles
// count only for the actor's own group: a chair acts for one group, never
// for another group's grant.
func actsAs(g Grant, a Actor, roles []Role) (Role, bool) {
	for _, r := range roles {
		if !a.Has(r) {
			continue
		}
		if r.IsGroupRole() && (a.GroupID == 0 || a.GroupID != g.GroupID) {
			continue
		}
		return r, true
	}
	return "", false
}

// authorize runs every check of an action that does not read the request's
// data: role (and group), source state, segregation of duties. It returns the
// rule that applies and the role that permits the action, or the error that
// names the first check that failed.
func authorize(g Grant, a Actor, act Action) (rule, Role, error) {
	ru, role, d := permit(g, a, act)
	if d == permitted {
		return ru, role, nil
	}
	rules := machine[act]
	switch d {
	case unknownAction:
		return rule{}, "", Errorf(EInvalid, "aksi %q tidak dikenal", act)
	case noRole:
		var all []Role
		for _, ru := range rules {
			all = append(all, ru.roles...)
		}
		return rule{}, "", Errorf(EForbidden, "Anda tidak berwenang melakukan aksi %q: hanya %s", act.Label(), roleList(all))
	case wrongState:
		return rule{}, "", Errorf(EConflict, "aksi %q tidak dapat dilakukan pada hibah berstatus %q", act.Label(), g.State.Label())
	case wrongRoleHere:
		ru, _ := ruleFrom(rules, g.State)
		return rule{}, "", Errorf(EForbidden, "pada status %q aksi %q hanya boleh dilakukan %s", g.State.Label(), act.Label(), roleList(ru.roles))
	case recommenderDecides:
		return rule{}, "", Errorf(EForbidden, "pemisahan tugas: verifikator yang merekomendasikan hibah ini tidak boleh memberi keputusan persetujuan")
	default: // approverDisburses
		return rule{}, "", Errorf(EForbidden, "pemisahan tugas: pemberi persetujuan hibah ini tidak boleh mencatat penyaluran dananya")
	}
}

// denial names which check of permit failed.
type denial int

const (
	permitted denial = iota
	unknownAction
	noRole
	wrongState
	wrongRoleHere
	recommenderDecides
	approverDisburses
)

// permit runs authorize's checks without building the error: Allowed asks
// it for every action on every grant answer, and formatting the refusals it
// then throws away was most of that answer's Go time.
func permit(g Grant, a Actor, act Action) (rule, Role, denial) {
	rules, ok := machine[act]
	if !ok {
		return rule{}, "", unknownAction
	}
	// The actor holds one of the action's roles in some state (actsAs over
	// the union of the rules' roles, without building that union).
	holds := false
	for _, ru := range rules {
		if _, ok := actsAs(g, a, ru.roles); ok {
			holds = true
			break
		}
	}
	if !holds {
		return rule{}, "", noRole
	}

	ru, ok := ruleFrom(rules, g.State)
	if !ok {
		return rule{}, "", wrongState
	}

	// Reject: a verifier rejects during review, an approver after the
	// recommendation; holding the other role is not enough.
	role, ok := actsAs(g, a, ru.roles)
	if !ok {
		return rule{}, "", wrongRoleHere
	}

	// Segregation of duties is by person (SPEC §1), whatever roles the person
	// holds: who recommended may not approve or reject as approver, and who
	// approved may not record the transfer.
	switch {
	case role == RoleApprover && g.VerifierID != 0 && a.UserID == g.VerifierID:
		return rule{}, "", recommenderDecides
	case act == Disburse && g.ApproverID != 0 && a.UserID == g.ApproverID:
		return rule{}, "", approverDisburses
	}
	return ru, role, permitted
}

func roleList(roles []Role) string {
	var ls []string
	for _, r := range roles {
		l := r.Label()
		if !slices.Contains(ls, l) {
			ls = append(ls, l)
		}
	}
	switch len(ls) {
	case 0:
		return "-"
	case 1:
		return ls[0]
	}
	return strings.Join(ls[:len(ls)-1], ", ") + " atau " + ls[len(ls)-1]
}

// Allowed returns the actions actor a may take on grant g now, in the order
// of Actions: those whose role, group, source-state and segregation-of-duties
// checks pass. Data guards (completeness, amounts, balance…) are not
// evaluated, so an allowed action may still be refused with EUnprocessable.
// It returns an empty, non-nil slice when nothing is allowed.
func Allowed(g Grant, a Actor) []Action {
	out := []Action{}
	for _, act := range Actions {
		if _, _, d := permit(g, a, act); d == permitted {
			out = append(out, act)
		}
	}
	return out
}

// Apply performs r.Action on g as r.Actor at r.Now. The checks run in this
// order and the first failing kind answers:
//
//  1. unknown action: EInvalid;
//  2. r.ExpectedState set and different from g.State: EConflict;
//  3. the actor holds no role allowed for the action (chair and treasurer
//     only for their own group): EForbidden;
//  4. g.State is not a source state of the action: EConflict;
//  5. the actor's role is not the one allowed from this state (reject), or
//     segregation of duties is broken: EForbidden;
//  6. guards: EUnprocessable with every failing reason in Details.
//
// On success Apply updates g (state, and the amounts and people the action
// sets) and returns the event to append; Seq, PrevHash and Hash are left for
// the database layer. On any error g is unchanged.
//
// Dates compared with the programme (the proposal window) are the calendar
// date of r.Now in r.Now's own location, so callers pass Now in the
// programme's time zone (Asia/Jakarta) when the day boundary matters.
func Apply(g *Grant, r Request) (Event, error) {
	if _, ok := machine[r.Action]; !ok {
		return Event{}, Errorf(EInvalid, "aksi %q tidak dikenal", r.Action)
	}
	if g == nil {
		return Event{}, Errorf(EInvalid, "hibah tidak ada")
	}
	if r.ExpectedState != "" && r.ExpectedState != g.State {
		return Event{}, Errorf(EConflict, "status hibah sudah berubah menjadi %q; muat ulang halaman", g.State.Label())
	}
	ru, role, err := authorize(*g, r.Actor, r.Action)
	if err != nil {
		return Event{}, err
	}

	// The guards read the programme with its defaults so that a programme
	// stored before a setting existed behaves like a new one.
	prog := r.Program
	prog.ApplyDefaults()
	comment := strings.TrimSpace(r.Comment)

	next := *g
	var ps Problems
	var data map[string]any
	if len([]rune(comment)) > MaxTextLen {
		ps.Add("comment", "paling banyak %d karakter", MaxTextLen)
	}

	switch r.Action {
	case Submit:
		sub, total := proposalProblems(*g, r, prog)
		ps = append(ps, sub...)
		next.AmountRequested = total
		data = map[string]any{"amount_requested": total}

	case StartReview:
		next.VerifierID = r.Actor.UserID

	case RequestRevision, Reject, ReturnReport:
		requireComment(&ps, comment, r.Action)

	case Recommend:
		requireComment(&ps, comment, r.Action)
		guardRecommend(&ps, *g, r, prog)
		next.AmountApproved = r.ApprovedAmount
		next.VerifierID = r.Actor.UserID
		data = map[string]any{"approved_amount": r.ApprovedAmount}

	case Approve:
		guardApprove(&ps, *g, r, prog)
		next.ApproverID = r.Actor.UserID
		data = map[string]any{"approved_amount": g.AmountApproved}

	case Disburse:
		// A tranche already paid is a double submission, not a broken rule:
		// of two officers recording the same transfer, the second gets 409.
		if r.Tranche >= 1 && r.Tranche <= g.TranchesPaid {
			return Event{}, Errorf(EConflict, "tahap %d sudah disalurkan", r.Tranche)
		}
		guardDisburse(&ps, *g, r, prog)
		next.Disbursed = g.Disbursed + r.Amount
		next.TranchesPaid = g.TranchesPaid + 1
		data = map[string]any{"tranche": r.Tranche, "amount": r.Amount}

	case ConfirmReport:
		next.ReportConfirmed = true

	case SubmitReport:
		ps = append(ps, reportProblems(*g)...)
		ps = append(ps, confirmationProblems(*g, prog)...)

	case AcceptReport:
		// The auditor's acceptance is the judgement; a sample once drawn
		// must be seen through.
		ps = append(ps, sampleProblems(*g)...)

	case Cancel:
		requireComment(&ps, comment, r.Action)
		ps = append(ps, cancelProblems(*g)...)
	}

	if err := ps.Err(fmt.Sprintf("aksi %q belum memenuhi syarat", r.Action.Label())); err != nil {
		return Event{}, err
	}

	next.State = ru.to
	ev := Event{
		GrantID:   g.ID,
		Action:    string(r.Action),
		FromState: g.State,
		ToState:   ru.to,
		ActorID:   r.Actor.UserID,
		ActorName: r.Actor.Name,
		ActorRole: role,
		Comment:   comment,
		Data:      data,
		At:        eventTime(r.Now),
	}
	*g = next
	return ev, nil
}

func requireComment(ps *Problems, comment string, a Action) {
	if Blank(comment) {
		switch a {
		case ReturnReport:
			ps.Add("comment", "temuan wajib diisi")
		case Cancel:
			ps.Add("comment", "alasan pembatalan wajib diisi")
		default:
			ps.Add("comment", "catatan wajib diisi")
		}
	}
}

// cancelProblems is what stands between g and its cancellation besides the
// reason: money that reached the group must come back (refund with NTPN)
// before the grant can end; for states before funding the balance is zero
// anyway. Apply (cancel) and NextSteps both read it.
func cancelProblems(g Grant) Problems {
	var ps Problems
	if b := g.Balance(); b != 0 {
		ps.Add("balance", "saldo dana %s harus disetor kembali sebelum hibah dibatalkan", formatRp(b))
	}
	return ps
}

// proposalProblems returns every reason the proposal of g cannot be
// submitted (complete, within the programme's rules and window) and its
// budget total. Apply (submit) and NextSteps both read it.
func proposalProblems(g Grant, r Request, prog Program) (Problems, int64) {
	var problems Problems
	ps := &problems
	p := g.Proposal
	if strings.TrimSpace(p.Background) == "" {
		ps.Add("background", "latar belakang wajib diisi")
	}
	if strings.TrimSpace(p.Objectives) == "" {
		ps.Add("objectives", "tujuan wajib diisi")
	}
	if strings.TrimSpace(p.SustainabilityPlan) == "" {
		ps.Add("sustainability_plan", "rencana keberlanjutan wajib diisi")
	}

	kind := r.Group.Kind
	kindOK := kind.Valid()
	if !kindOK {
		ps.Add("group.kind", "jenis kelompok %q tidak dikenal", kind)
	}

	// Activities: the pattern counts sessions that are still planned (a
	// cancelled one no longer counts); each needs a date inside the
	// activity period, and the first On may not come before the first In.
	var nIn, nOn int
	var firstIn, firstOn Date
	for i, a := range p.Activities {
		if a.Status == ActivityCancelled {
			continue
		}
		switch a.Kind {
		case In:
			nIn++
		case On:
			nOn++
		default:
			ps.Add(fieldIndex("activities", i, "kind"), `harus "in" atau "on"`)
		}
		if a.PlannedParticipants < 1 {
			ps.Add(fieldIndex("activities", i, "planned_participants"), "jumlah peserta yang direncanakan wajib diisi")
		}
		switch {
		case a.PlannedOn.IsZero():
			ps.Add(fieldIndex("activities", i, "planned_on"), "tanggal rencana wajib diisi")
			continue // no date to order against the others
		case !prog.ActivityEndsOn.IsZero() && a.PlannedOn.After(prog.ActivityEndsOn):
			ps.Add(fieldIndex("activities", i, "planned_on"), "tidak boleh setelah akhir masa kegiatan (%s)", prog.ActivityEndsOn)
		case !prog.ProposalOpensOn.IsZero() && a.PlannedOn.Before(prog.ProposalOpensOn):
			// Sessions are held with the grant's money: not before the round opened.
			ps.Add(fieldIndex("activities", i, "planned_on"), "tidak boleh sebelum program dibuka (%s)", prog.ProposalOpensOn)
		}
		switch a.Kind {
		case In:
			if firstIn.IsZero() || a.PlannedOn.Before(firstIn) {
				firstIn = a.PlannedOn
			}
		case On:
			if firstOn.IsZero() || a.PlannedOn.Before(firstOn) {
				firstOn = a.PlannedOn
			}
		}
	}
	if kindOK {
		rule := prog.ActivityRules[kind]
		if nIn < rule.In || nOn < rule.On {
			ps.Add("activities", "%s memerlukan paling sedikit %d sesi In dan %d sesi On (sekarang %d In, %d On)", kind, rule.In, rule.On, nIn, nOn)
		}
	}
	if !firstIn.IsZero() && !firstOn.IsZero() && firstOn.Before(firstIn) {
		ps.Add("activities", "sesi On pertama (%s) tidak boleh sebelum sesi In pertama (%s)", firstOn, firstIn)
	}

	// Budget: total within the ceiling, each line in a known category, each
	// capped category within its share of the total.
	total := p.Total()
	if total <= 0 {
		ps.Add("budget", "total anggaran harus lebih besar dari 0")
	} else if kindOK && total > prog.Ceilings[kind] {
		ps.Add("budget", "total anggaran %s melebihi pagu %s untuk %s", formatRp(total), formatRp(prog.Ceilings[kind]), kind)
	}
	sums := map[string]int64{}
	for i, l := range p.Budget {
		if _, ok := prog.Category(l.Category); !ok {
			ps.Add(fieldIndex("budget", i, "category"), "kategori %q tidak dikenal dalam program ini", l.Category)
			continue
		}
		if l.Amount <= 0 || l.Amount != l.Quantity*l.UnitPrice {
			ps.Add(fieldIndex("budget", i, "amount"), "jumlah harus volume × harga satuan dan lebih besar dari 0")
		}
		sums[l.Category] = addSat(sums[l.Category], l.Amount)
	}
	if total > 0 {
		for _, c := range prog.Categories {
			if c.CapPercent <= 0 || c.CapPercent >= 100 {
				continue
			}
			if limit := percentOf(total, c.CapPercent); sums[c.Code] > limit {
				ps.Add("budget", "kategori %s %s melebihi batas %d%% dari total anggaran (%s)", c.Name, formatRp(sums[c.Code]), c.CapPercent, formatRp(limit))
			}
		}
	}

	lo, hi := MembershipLimits(kind, r.Group.Remote)
	if n := len(r.Group.Members); n < lo || n > hi {
		ps.Add("group.members", "jumlah anggota kelompok %d; harus %d sampai %d orang", n, lo, hi)
	}

	today := DateOf(r.Now)
	switch {
	case !prog.ProposalOpensOn.IsZero() && today.Before(prog.ProposalOpensOn):
		ps.Add("proposal_window", "pengajuan proposal baru dibuka %s", prog.ProposalOpensOn)
	case !prog.ProposalClosesOn.IsZero() && today.After(prog.ProposalClosesOn):
		ps.Add("proposal_window", "pengajuan proposal sudah ditutup %s", prog.ProposalClosesOn)
	}
	return problems, total
}

// guardRecommend checks the amount the verifier proposes. The ceiling is
// checked when the request names the group's kind; without it the amount is
// still bounded by the requested amount, which submit held to the ceiling.
func guardRecommend(ps *Problems, g Grant, r Request, prog Program) {
	amt := r.ApprovedAmount
	switch {
	case amt <= 0:
		ps.Add("approved_amount", "jumlah yang direkomendasikan harus lebih besar dari 0")
	case amt > g.AmountRequested:
		ps.Add("approved_amount", "jumlah yang direkomendasikan %s melebihi jumlah yang diajukan %s", formatRp(amt), formatRp(g.AmountRequested))
	}
	if k := r.Group.Kind; k.Valid() && amt > prog.Ceilings[k] {
		ps.Add("approved_amount", "jumlah yang direkomendasikan %s melebihi pagu %s untuk %s", formatRp(amt), formatRp(prog.Ceilings[k]), k)
	}
}

// guardApprove checks that the programme's pool still covers the grant.
func guardApprove(ps *Problems, g Grant, r Request, prog Program) {
	if g.AmountApproved <= 0 {
		ps.Add("approved_amount", "jumlah yang direkomendasikan belum ditetapkan")
		return
	}
	// The amount is the verifier's recommendation; an approver who sends
	// another one is told, not silently ignored.
	if r.ApprovedAmount != 0 && r.ApprovedAmount != g.AmountApproved {
		ps.Add("approved_amount", "jumlah disetujui ditetapkan saat rekomendasi (%s); persetujuan tidak mengubahnya", formatRp(g.AmountApproved))
	}
	remaining := prog.BudgetTotal - r.PoolCommitted
	if g.AmountApproved > remaining {
		ps.Add("budget_total", "pagu program %s sudah terikat %s; sisa %s tidak cukup untuk %s",
			formatRp(prog.BudgetTotal), formatRp(r.PoolCommitted), formatRp(max(remaining, 0)), formatRp(g.AmountApproved))
	}
}

// guardDisburse checks a tranche transfer: the next tranche, exactly its
// share, never above the approved amount, and for a later tranche the
// previous money accounted for.
func guardDisburse(ps *Problems, g Grant, r Request, prog Program) {
	shares := prog.TrancheAmounts(g.AmountApproved)
	want := g.TranchesPaid + 1
	trancheOK := true
	switch {
	case want > len(shares):
		ps.Add("tranche", "semua %d termin sudah disalurkan", len(shares))
		trancheOK = false
	case r.Tranche != want:
		ps.Add("tranche", "termin berikutnya adalah termin %d, bukan %d", want, r.Tranche)
		trancheOK = false
	}
	if r.Amount <= 0 {
		ps.Add("amount", "jumlah harus lebih besar dari 0")
	} else if trancheOK && r.Amount != shares[r.Tranche-1] {
		ps.Add("amount", "termin %d harus tepat %s (%d%% dari %s), bukan %s",
			r.Tranche, formatRp(shares[r.Tranche-1]), prog.TranchePercents[r.Tranche-1], formatRp(g.AmountApproved), formatRp(r.Amount))
	}
	if r.Amount > 0 && r.Amount > g.AmountApproved-g.Disbursed {
		ps.Add("amount", "total penyaluran %s akan melebihi jumlah yang disetujui %s",
			formatRp(addSat(g.Disbursed, r.Amount)), formatRp(g.AmountApproved))
	}
	if r.Tranche >= 2 || g.TranchesPaid >= 1 {
		*ps = append(*ps, trancheGate(g)...)
	}
}

// trancheGate returns why the next tranche may not be paid yet: tranche
// n+1 only once tranche n is accounted for (SPEC §3), that is receipts for
// at least 50 % of the money disbursed so far and at least one In session
// held. Each reason carries its numbers. Apply (disburse) and NextSteps both
// read it.
func trancheGate(g Grant) Problems {
	var ps Problems
	// Receipted × 2 ≥ Disbursed, written without the multiplication.
	if need := g.Disbursed - g.Disbursed/2; g.Receipted < need {
		ps.Add("receipts", "bukti belanja baru %s; paling sedikit 50%% dari dana yang sudah disalurkan (%s) harus berbukti, yaitu %s: kurang %s",
			formatRp(g.Receipted), formatRp(g.Disbursed), formatRp(need), formatRp(need-g.Receipted))
	}
	var planned, held int
	for _, a := range g.Activities {
		if a.Kind != In {
			continue
		}
		planned++
		if a.Status == ActivityHeld {
			held++
		}
	}
	if held == 0 {
		ps.Add("activities", "belum ada sesi In yang terlaksana (0 dari %d sesi In yang direncanakan); paling sedikit 1 sesi In harus terlaksana", planned)
	}
	return ps
}

// reportProblems returns every reason the LPJ of g cannot be submitted yet
// (SPEC §3): each planned activity held (or cancelled by a verifier) with
// attendance and at least one evidence file; every On held followed, later
// in the plan, by an In held on the same day or after it; every expense with
// a receipt; a zero balance (unspent money returned, with its NTPN). Apply
// (submit_report) and NextSteps both read it.
func reportProblems(g Grant) Problems {
	var ps Problems
	for i, a := range g.Activities {
		switch a.Status {
		case ActivityCancelled:
		case ActivityHeld:
			if a.AttendeeCount < 1 {
				ps.Add(fieldIndex("activities", i, "attendee_count"), "daftar hadir %q belum diisi", a.Title)
			}
			if a.EvidenceCount < 1 {
				ps.Add(fieldIndex("activities", i, "evidence_count"), "bukti kegiatan %q belum diunggah", a.Title)
			}
		default:
			ps.Add(fieldIndex("activities", i, "status"), "kegiatan %q belum terlaksana atau dibatalkan", a.Title)
		}
	}
	// The reflection of the In–On–In rhythm: practice at the madrasah is
	// brought back to the group. g.Activities is in plan order (seq).
	for i, a := range g.Activities {
		if a.Kind != On || a.Status != ActivityHeld {
			continue
		}
		followed := slices.ContainsFunc(g.Activities[i+1:], func(b Activity) bool {
			return b.Kind == In && b.Status == ActivityHeld && !b.HeldOn.Before(a.HeldOn)
		})
		if !followed {
			ps.Add(fieldIndex("activities", i, "held_on"), "sesi On %q (%s) belum diikuti, lebih lanjut dalam rencana, oleh sesi In yang terlaksana pada hari yang sama atau sesudahnya", a.Title, a.HeldOn)
		}
	}
	if n := g.ExpensesWithoutReceipt; n > 0 {
		ps.Add("expenses", "%d belanja belum memiliki bukti", n)
	}
	if b := g.Balance(); b != 0 {
		ps.Add("balance", "saldo harus nol (sekarang %s); setorkan sisa dana dan catat NTPN-nya", formatRp(b))
	}
	return ps
}

// eventTime is the time stored on an event: UTC, at the microsecond
// precision of a PostgreSQL timestamptz, so that the canonical form hashed
// before the insert equals the one recomputed after reading the row back.
func eventTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
