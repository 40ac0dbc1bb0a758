package workflow

import (
	"strings"
	"unicode"
)

// Levels lists the madrasah levels a group may serve, in school order. The
// spelling is the official one and is matched exactly ("MTs", not "MTS").
var Levels = []string{"RA", "MI", "MTs", "MA"}

// Positions lists the member positions in their usual order of listing.
var Positions = []Position{PosKetua, PosSekretaris, PosBendahara, PosAnggota}

// MaxMembers is the largest group SPEC §2 allows, for every kind.
const MaxMembers = 30

// MembershipLimits returns the smallest and largest allowed number of members
// for a group of kind k: 15–30 for KKG, MGMP and MGBK, 10–30 for KKM and
// POKJAWAS, and a minimum of 10 for any group in a remote (3T) area. An
// unknown kind gets the teacher-group limits.
func MembershipLimits(k Kind, remote bool) (min, max int) {
	min, max = 15, MaxMembers
	if k == KKM || k == POKJAWAS || remote {
		min = 10
	}
	return min, max
}

// Normalize cleans what people type into a group form: it trims surrounding
// spaces from every text field, members included, and removes the spaces,
// dots and dashes people write inside numbers (bank account, NIP, SIMPATIKA
// id, NPWP such as "01.234.567.8-901.000"). It does not change letter case:
// kind, level and position are codes and Validate matches them exactly, so a
// wrong spelling is reported rather than silently guessed.
func (g *Group) Normalize() {
	g.Kind = Kind(strings.TrimSpace(string(g.Kind)))
	g.Name = strings.TrimSpace(g.Name)
	g.Subject = strings.TrimSpace(g.Subject)
	g.Level = strings.TrimSpace(g.Level)
	g.Province = strings.TrimSpace(g.Province)
	g.Regency = strings.TrimSpace(g.Regency)
	g.SKNumber = strings.TrimSpace(g.SKNumber)
	g.BankName = strings.TrimSpace(g.BankName)
	g.BankAccountNumber = stripNumber(g.BankAccountNumber)
	g.BankAccountName = strings.TrimSpace(g.BankAccountName)
	g.NPWP = stripNumber(g.NPWP)
	for i := range g.Members {
		m := &g.Members[i]
		m.Name = strings.TrimSpace(m.Name)
		m.SimpatikaID = stripNumber(m.SimpatikaID)
		m.NIP = stripNumber(m.NIP)
		m.Madrasah = strings.TrimSpace(m.Madrasah)
		m.Position = Position(strings.TrimSpace(string(m.Position)))
	}
}

// stripNumber removes spaces, dots and dashes from an identifier.
func stripNumber(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '.' || r == '-' {
			return -1
		}
		return r
	}, s)
}

// Validate checks the rules of SPEC §2 that join several fields of a group
// (call Normalize first): the subject of an MGMP, the levels of a KKG and
// an MGMP, an account in the group's name, the number of members by kind
// and remote flag, every member identified once by NIP or SIMPATIKA id,
// one ketua and one bendahara. The rules of each field alone (required,
// lengths, formats, lists) are the validate tags on Group and Member, run
// by internal/validate at the boundary. It returns nil, or an
// EUnprocessable *Error listing every problem at once, with JSON field
// names such as bank_account_name or members[3].nip.
func (g Group) Validate() error {
	var ps Problems

	// Only an MGMP is defined by its subject; for the other kinds a subject
	// is allowed (e.g. a KKG for Bahasa Arab) but not required.
	if g.Kind == MGMP && strings.TrimSpace(g.Subject) == "" {
		ps.Add("subject", "mata pelajaran wajib diisi untuk MGMP")
	}

	// KKG gathers RA/MI teachers and MGMP subject teachers of MTs/MA
	// (SPEC §2); MGBK, KKM and POKJAWAS exist at every level.
	switch {
	case !isLevel(g.Level):
		// the tag names it
	case g.Kind == KKG && g.Level != "RA" && g.Level != "MI":
		ps.Add("level", "KKG hanya untuk jenjang RA atau MI")
	case g.Kind == MGMP && g.Level != "MTs" && g.Level != "MA":
		ps.Add("level", "MGMP hanya untuk jenjang MTs atau MA")
	}

	// Juknis: the grant goes to an account opened in the group's name, never
	// to a person's. We accept the holder name when it mentions the kind
	// ("KKG MI Kec. Cibinong") or the group's full name, case-insensitively;
	// a person's name contains neither.
	if g.BankAccountName != "" && !accountInGroupName(g) {
		hint := "nama kelompok"
		if g.Kind.Valid() {
			hint = `"` + string(g.Kind) + `" atau nama kelompok`
		}
		ps.Add("bank_account_name", "rekening harus atas nama kelompok (memuat %s), bukan atas nama perorangan", hint)
	}

	lo, hi := MembershipLimits(g.Kind, g.Remote)
	if n := len(g.Members); n < lo || n > hi {
		where := ""
		if g.Remote {
			where = " di daerah 3T"
		}
		ps.Add("members", "jumlah anggota %d; kelompok %s%s harus beranggota %d sampai %d orang", n, g.Kind, where, lo, hi)
	}

	nips := map[string]int{}
	simpatikas := map[string]int{}
	ketua, bendahara := 0, 0
	for i, m := range g.Members {
		switch m.Position {
		case PosKetua:
			ketua++
		case PosBendahara:
			bendahara++
		}
		// A member is identified by the ministry's SIMPATIKA id (teachers) or
		// by the civil-servant NIP (heads and supervisors often have only
		// that); one of them is enough, and neither may appear twice.
		if m.NIP == "" && m.SimpatikaID == "" {
			ps.Add(fieldIndex("members", i, "simpatika_id"), "isi SIMPATIKA ID atau NIP")
		}
		if m.NIP != "" {
			if j, dup := nips[m.NIP]; dup {
				ps.Add(fieldIndex("members", i, "nip"), "NIP sudah dipakai anggota nomor %d", j+1)
			} else {
				nips[m.NIP] = i
			}
		}
		if m.SimpatikaID != "" {
			if j, dup := simpatikas[m.SimpatikaID]; dup {
				ps.Add(fieldIndex("members", i, "simpatika_id"), "SIMPATIKA ID sudah dipakai anggota nomor %d", j+1)
			} else {
				simpatikas[m.SimpatikaID] = i
			}
		}
	}
	// The chair and the treasurer sign the proposal, the receipts and the
	// LPJ; exactly one of each keeps those signatures unambiguous.
	if ketua != 1 {
		ps.Add("members", "harus ada tepat satu ketua (sekarang %d)", ketua)
	}
	if bendahara != 1 {
		ps.Add("members", "harus ada tepat satu bendahara (sekarang %d)", bendahara)
	}

	return ps.Err("data kelompok tidak valid")
}

func accountInGroupName(g Group) bool {
	holder := strings.ToLower(g.BankAccountName)
	if g.Kind.Valid() && strings.Contains(holder, strings.ToLower(string(g.Kind))) {
		return true
	}
	name := strings.ToLower(strings.TrimSpace(g.Name))
	return name != "" && strings.Contains(holder, name)
}

func isLevel(s string) bool {
	for _, l := range Levels {
		if s == l {
			return true
		}
	}
	return false
}
