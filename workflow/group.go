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

// Validate checks a group against SPEC §2 (call Normalize first). It returns
// nil, or an EUnprocessable *Error listing every problem at once, with JSON
// field names such as bank_account_number or members[3].nip.
func (g Group) Validate() error {
	var ps Problems

	if !g.Kind.Valid() {
		ps.Add("kind", "harus salah satu dari KKG, MGMP, MGBK, KKM, POKJAWAS")
	}
	requireText(&ps, "name", g.Name, 200)

	// Only an MGMP is defined by its subject; for the other kinds a subject
	// is allowed (e.g. a KKG for Bahasa Arab) but not required.
	if g.Kind == MGMP {
		requireText(&ps, "subject", g.Subject, 200)
	} else {
		maxText(&ps, "subject", g.Subject, 200)
	}

	// Level is required for every kind. KKG gathers RA/MI teachers and MGMP
	// subject teachers of MTs/MA (SPEC §2); MGBK, KKM and POKJAWAS exist at
	// every level, so any of the four is accepted for them.
	switch {
	case g.Level == "":
		ps.Add("level", "wajib diisi")
	case !isLevel(g.Level):
		ps.Add("level", "harus salah satu dari RA, MI, MTs, MA")
	case g.Kind == KKG && g.Level != "RA" && g.Level != "MI":
		ps.Add("level", "KKG hanya untuk jenjang RA atau MI")
	case g.Kind == MGMP && g.Level != "MTs" && g.Level != "MA":
		ps.Add("level", "MGMP hanya untuk jenjang MTs atau MA")
	}

	requireText(&ps, "province", g.Province, 100)
	requireText(&ps, "regency", g.Regency, 100)
	requireText(&ps, "sk_number", g.SKNumber, 100)
	requireText(&ps, "bank_name", g.BankName, 100)

	// Indonesian bank account numbers run from 6 (small regional banks) to
	// 20 digits (virtual accounts); nothing else is a number a bank accepts.
	switch {
	case g.BankAccountNumber == "":
		ps.Add("bank_account_number", "wajib diisi")
	case !isDigits(g.BankAccountNumber, 6, 20):
		ps.Add("bank_account_number", "harus 6 sampai 20 angka")
	}

	// Juknis: the grant goes to an account opened in the group's name, never
	// to a person's. We accept the holder name when it mentions the kind
	// ("KKG MI Kec. Cibinong") or the group's full name, case-insensitively;
	// a person's name contains neither.
	switch {
	case g.BankAccountName == "":
		ps.Add("bank_account_name", "wajib diisi")
	case !accountInGroupName(g):
		hint := "nama kelompok"
		if g.Kind.Valid() {
			hint = `"` + string(g.Kind) + `" atau nama kelompok`
		}
		ps.Add("bank_account_name", "rekening harus atas nama kelompok (memuat %s), bukan atas nama perorangan", hint)
	default:
		maxText(&ps, "bank_account_name", g.BankAccountName, 200)
	}

	// NPWP: 15 digits (old format) or 16 (NIK-based format since 2024).
	if g.NPWP != "" && !isDigits(g.NPWP, 15, 16) {
		ps.Add("npwp", "harus 15 atau 16 angka")
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
		requireText(&ps, fieldIndex("members", i, "name"), m.Name, 200)
		requireText(&ps, fieldIndex("members", i, "madrasah"), m.Madrasah, 200)
		switch m.Position {
		case PosKetua:
			ketua++
		case PosBendahara:
			bendahara++
		case PosSekretaris, PosAnggota:
		case "":
			ps.Add(fieldIndex("members", i, "position"), "wajib diisi")
		default:
			ps.Add(fieldIndex("members", i, "position"), "harus salah satu dari ketua, sekretaris, bendahara, anggota")
		}

		// A member is identified by the ministry's SIMPATIKA id (teachers) or
		// by the civil-servant NIP (heads and supervisors often have only
		// that); one of them is enough, and neither may appear twice.
		if m.NIP == "" && m.SimpatikaID == "" {
			ps.Add(fieldIndex("members", i, "simpatika_id"), "isi SIMPATIKA ID atau NIP")
		}
		if m.NIP != "" {
			if !isDigits(m.NIP, 18, 18) {
				ps.Add(fieldIndex("members", i, "nip"), "NIP harus 18 angka")
			} else if j, dup := nips[m.NIP]; dup {
				ps.Add(fieldIndex("members", i, "nip"), "NIP sudah dipakai anggota nomor %d", j+1)
			} else {
				nips[m.NIP] = i
			}
		}
		if m.SimpatikaID != "" {
			if !isDigits(m.SimpatikaID, 10, 20) {
				ps.Add(fieldIndex("members", i, "simpatika_id"), "SIMPATIKA ID harus 10 sampai 20 angka")
			} else if j, dup := simpatikas[m.SimpatikaID]; dup {
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

// isDigits reports whether s is made of ASCII digits only and has between
// min and max of them.
func isDigits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
