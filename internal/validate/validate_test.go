package validate_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"grantflow/internal/demo"
	"grantflow/internal/grants"
	"grantflow/internal/validate"
	"grantflow/workflow"
)

// Every tag rule fails alone, with its JSON path and an Indonesian message
// that names the field the way a person would.
func TestEachRuleFailsAlone(t *testing.T) {
	day := workflow.MustDate("2026-11-20")
	expense := func() grants.ExpenseInput {
		return grants.ExpenseInput{SpentOn: day, BudgetLineID: 7, Vendor: "Warung Bu Siti", Description: "Konsumsi In-1", Amount: 100_000}
	}
	group := validGroup
	cases := []struct {
		name  string
		in    any
		field string
		msg   string
	}{
		{"expense day required", func() any { e := expense(); e.SpentOn = workflow.Date{}; return e }(), "spent_on", "Tanggal belanja wajib diisi"},
		{"expense day window", func() any { e := expense(); e.SpentOn = workflow.MustDate("1999-12-31"); return e }(), "spent_on", "Tanggal belanja harus tanggal antara 2000-01-01 dan 2100-12-31"},
		{"expense day window end", func() any { e := expense(); e.SpentOn = workflow.MustDate("2101-01-01"); return e }(), "spent_on", "Tanggal belanja harus tanggal antara"},
		{"budget line required", func() any { e := expense(); e.BudgetLineID = 0; return e }(), "budget_line_id", "Baris anggaran wajib diisi"},
		{"budget line positive", func() any { e := expense(); e.BudgetLineID = -3; return e }(), "budget_line_id", "Baris anggaran"},
		{"activity not negative", func() any { e := expense(); e.ActivityID = -1; return e }(), "activity_id", "Kegiatan"},
		{"vendor required", func() any { e := expense(); e.Vendor = ""; return e }(), "vendor", "Nama toko/penyedia wajib diisi"},
		{"vendor length", func() any { e := expense(); e.Vendor = strings.Repeat("a", 201); return e }(), "vendor", "Nama toko/penyedia"},
		{"vendor NUL", func() any { e := expense(); e.Vendor = "a\x00b"; return e }(), "vendor", "Nama toko/penyedia mengandung karakter kontrol"},
		{"vendor escape", func() any { e := expense(); e.Vendor = "a\x1bb"; return e }(), "vendor", "karakter kontrol"},
		{"vendor bad UTF-8", func() any { e := expense(); e.Vendor = "a\xc3\x28"; return e }(), "vendor", "bukan UTF-8"},
		{"description NUL", func() any { e := expense(); e.Description = "\x00"; return e }(), "description", "Uraian belanja"},
		{"amount required", func() any { e := expense(); e.Amount = 0; return e }(), "amount", "Nilai belanja wajib diisi"},
		{"amount positive", func() any { e := expense(); e.Amount = -1; return e }(), "amount", "Nilai belanja harus lebih besar dari 0"},
		{"tax not negative", func() any { e := expense(); e.TaxPPN = -1; return e }(), "tax_ppn", "PPN"},
		{"refund NTPN NUL", grants.RefundInput{Amount: 1, PaidOn: day, NTPN: "AAAA\x00"}, "ntpn", "NTPN mengandung karakter kontrol"},
		{"refund amount", grants.RefundInput{Amount: -5, PaidOn: day, NTPN: "AAAABBBBCCCCDDDD"}, "amount", "Jumlah setoran"},
		{"tranche range", grants.DisbursementInput{Tranche: 1 << 31, Amount: 1, TransferredOn: day, Reference: "T"}, "tranche", "Tahap"},
		{"embedded transfer path", grants.DisburseActionInput{DisbursementInput: grants.DisbursementInput{Tranche: 1, Amount: 1, TransferredOn: day, Reference: "T\x00"}}, "reference", "Nomor referensi bank"},
		{"action comment", grants.DisburseActionInput{DisbursementInput: grants.DisbursementInput{Tranche: 1, Amount: 1, TransferredOn: day, Reference: "T"}, Comment: "\x00"}, "comment", "Komentar"},
		{"void reason required", grants.VoidInput{}, "reason", "Alasan pembatalan wajib diisi"},
		// Typed text that only looks filled in: a zero-width space.
		{"void reason invisible", grants.VoidInput{Reason: "\u200b"}, "reason", "Alasan pembatalan wajib diisi"},
		{"vendor invisible", func() any { e := expense(); e.Vendor = "\ufeff\u200b"; return e }(), "vendor", "Nama toko/penyedia wajib diisi"},
		{"member name NUL", func() any { g := group(); g.Members[3].Name = "Siti\x00"; return g }(), "members[3].name", "Nama anggota mengandung karakter kontrol"},
		{"member NIP length", func() any { g := group(); g.Members[2].NIP = strings.Repeat("1", 19); return g }(), "members[2].nip", "NIP anggota"},
		{"group name NUL", func() any { g := group(); g.Name = "KKG\x00"; return g }(), "name", "Nama kelompok"},
		{"user name NUL", grants.NewUser{Name: "a\x00"}, "name", "Nama pengguna"},
		{"user name on two lines", grants.NewUser{Name: "Siti\nAminah"}, "name", "Nama pengguna harus satu baris"},
		{"vendor with a direction override", func() any { e := expense(); e.Vendor = "evil\u202egnp.exe"; return e }(), "vendor", "Nama toko/penyedia mengandung karakter kontrol"},
		{"user role NUL", grants.NewUser{Roles: []workflow.Role{"admin\x00"}}, "roles[0]", "Peran"},
		{"programme category cap", func() any { p := validProgram(); p.Categories[0].CapPercent = 101; return p }(), "categories[0].cap_percent", "Batas persen kategori"},
		{"programme days", func() any { p := validProgram(); p.DormantAfterDays = -1; return p }(), "dormant_after_days", "Batas hari tidak aktif"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := validate.Check(c.in)
			if len(p) != 1 {
				t.Fatalf("want exactly one problem, got %+v", p)
			}
			if p[0].Field != c.field || !strings.Contains(p[0].Message, c.msg) {
				t.Fatalf("got %+v, want field %q with %q", p[0], c.field, c.msg)
			}
		})
	}
	for _, ok := range []any{expense(), group(), grants.VoidInput{Reason: "Salah nominal.\nDicatat ulang."},
		grants.VoidInput{Reason: "Nama toko \u200fمكتبة\u200f ditulis salah."}} { // right-to-left marks stay allowed
		if p := validate.Check(ok); p != nil {
			t.Fatalf("valid %T refused: %+v", ok, p)
		}
	}
}

// Every field rule of a proposal fails alone on the demo's proposal, as
// Normalize cleaned it, with its JSON path and Indonesian message.
func TestProposalRulesFailAlone(t *testing.T) {
	base := func() workflow.Proposal {
		p := demo.Proposal(workflow.KKG, workflow.MustDate("2026-04-01"))
		if err := p.Normalize(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := validate.Check(base()); p != nil {
		t.Fatalf("the demo proposal is refused: %+v", p)
	}
	long := func(n int) string { return strings.Repeat("a", n) }
	cases := []struct {
		name   string
		change func(p *workflow.Proposal)
		field  string
		msg    string
	}{
		{"background length", func(p *workflow.Proposal) { p.Background = long(workflow.MaxTextLen + 1) }, "background", "Latar belakang"},
		{"background NUL", func(p *workflow.Proposal) { p.Background = "latar\x00" }, "background", "Latar belakang mengandung karakter kontrol"},
		{"objectives control", func(p *workflow.Proposal) { p.Objectives = "tujuan\x01" }, "objectives", "Tujuan mengandung karakter kontrol"},
		{"sustainability NUL", func(p *workflow.Proposal) { p.SustainabilityPlan = "\x00" }, "sustainability_plan", "Rencana keberlanjutan"},
		{"too many activities", func(p *workflow.Proposal) {
			p.Activities = make([]workflow.Activity, workflow.MaxActivities+1)
		}, "activities", "Kegiatan"},
		{"activity kind", func(p *workflow.Proposal) { p.Activities[0].Kind = "offline" }, "activities[0].kind", "Jenis kegiatan"},
		{"activity title required", func(p *workflow.Proposal) { p.Activities[1].Title = "" }, "activities[1].title", "Judul kegiatan wajib diisi"},
		{"activity title length", func(p *workflow.Proposal) { p.Activities[1].Title = long(201) }, "activities[1].title", "Judul kegiatan"},
		{"activity title NUL", func(p *workflow.Proposal) { p.Activities[0].Title = "In\x00" }, "activities[0].title", "Judul kegiatan mengandung karakter kontrol"},
		{"participants negative", func(p *workflow.Proposal) { p.Activities[0].PlannedParticipants = -1 }, "activities[0].planned_participants", "Rencana jumlah peserta"},
		{"participants 2^31", func(p *workflow.Proposal) { p.Activities[1].PlannedParticipants = 1 << 31 }, "activities[1].planned_participants", "Rencana jumlah peserta"},
		{"planned day", func(p *workflow.Proposal) { p.Activities[0].PlannedOn = workflow.MustDate("0002-01-01") }, "activities[0].planned_on", "Tanggal rencana kegiatan harus tanggal antara"},
		{"too many lines", func(p *workflow.Proposal) {
			p.Budget = make([]workflow.BudgetLine, workflow.MaxBudgetLines+1)
		}, "budget", "Anggaran"},
		{"category required", func(p *workflow.Proposal) { p.Budget[0].Category = "" }, "budget[0].category", "Kategori anggaran wajib diisi"},
		{"category length", func(p *workflow.Proposal) { p.Budget[0].Category = long(51) }, "budget[0].category", "Kategori anggaran"},
		{"description required", func(p *workflow.Proposal) { p.Budget[1].Description = "" }, "budget[1].description", "Uraian anggaran wajib diisi"},
		{"description length", func(p *workflow.Proposal) { p.Budget[1].Description = long(501) }, "budget[1].description", "Uraian anggaran"},
		{"description NUL", func(p *workflow.Proposal) { p.Budget[0].Description = "konsumsi\x00" }, "budget[0].description", "Uraian anggaran mengandung karakter kontrol"},
		{"quantity zero", func(p *workflow.Proposal) { p.Budget[1].Quantity = 0 }, "budget[1].quantity", "Volume harus lebih besar dari 0"},
		{"quantity negative", func(p *workflow.Proposal) { p.Budget[1].Quantity = -1 }, "budget[1].quantity", "Volume"},
		{"quantity range", func(p *workflow.Proposal) { p.Budget[1].Quantity = 1 << 40 }, "budget[1].quantity", "Volume"},
		{"unit required", func(p *workflow.Proposal) { p.Budget[0].Unit = "" }, "budget[0].unit", "Satuan wajib diisi"},
		{"unit DEL", func(p *workflow.Proposal) { p.Budget[0].Unit = "\x7f" }, "budget[0].unit", "Satuan mengandung karakter kontrol"},
		{"unit price zero", func(p *workflow.Proposal) { p.Budget[0].UnitPrice = 0 }, "budget[0].unit_price", "Harga satuan harus lebih besar dari 0"},
		{"unit price range", func(p *workflow.Proposal) { p.Budget[0].UnitPrice = workflow.MaxAmount + 1 }, "budget[0].unit_price", "Harga satuan"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := base()
			c.change(&p)
			got := validate.Check(p)
			if len(got) != 1 {
				t.Fatalf("want exactly one problem, got %+v", got)
			}
			if got[0].Field != c.field || !strings.Contains(got[0].Message, c.msg) {
				t.Fatalf("got %+v, want field %q with %q", got[0], c.field, c.msg)
			}
		})
	}
}

// With puts the hand-written rules first and adds only the tags' problems
// of fields those rules did not name; other errors pass through.
func TestWithMergesRules(t *testing.T) {
	rules := workflow.Problems{{Field: "vendor", Message: "aturan bisnis"}}.Err("x")
	err := validate.With(grants.ExpenseInput{Vendor: "\x00"}, rules, "belanja tidak valid")
	we, ok := err.(*workflow.Error)
	if !ok || we.Code != workflow.EUnprocessable || we.Message != "belanja tidak valid" {
		t.Fatalf("got %v", err)
	}
	if we.Details[0].Message != "aturan bisnis" {
		t.Fatalf("rules not first: %+v", we.Details)
	}
	for _, d := range we.Details[1:] {
		if d.Field == "vendor" {
			t.Fatalf("vendor reported twice: %+v", we.Details)
		}
	}
	conflict := workflow.Errorf(workflow.EConflict, "bentrok")
	if got := validate.With(grants.ExpenseInput{}, conflict, "x"); got != conflict {
		t.Fatalf("non-field error changed: %v", got)
	}
}

func validGroup() workflow.Group {
	g := workflow.Group{Kind: workflow.KKG, Name: "KKG MI Uji", Level: "MI", Province: "Jawa Barat", Regency: "Kota Bandung",
		SKNumber: "B-1/Kk.10/PP.00/2026", BankName: "Bank Syariah Indonesia", BankAccountNumber: "7100012345",
		BankAccountName: "KKG MI Uji", NPWP: "012345678901000"}
	g.Members = demo.Members(1, 15)
	g.Members[4].SimpatikaID = "3301000000000001"
	return g
}

func validProgram() workflow.Program {
	p := workflow.Program{Name: "Bantuan KKG 2026", Year: 2026, ProposalOpensOn: workflow.MustDate("2026-01-05"),
		ProposalClosesOn: workflow.MustDate("2026-02-28"), ActivityEndsOn: workflow.MustDate("2026-10-31"),
		ReportDueOn: workflow.MustDate("2026-12-15"), BudgetTotal: 5_000_000_000}
	p.ApplyDefaults()
	return p
}

// Each field rule of a group, its members and a programme fails alone with
// its Indonesian message, naming the field as a person would and by its
// JSON path; the rules across fields are workflow's (Group.Validate,
// Program.Validate) and tested there.
func TestGroupAndProgramFieldRules(t *testing.T) {
	g := func(edit func(*workflow.Group)) any { x := validGroup(); edit(&x); return x }
	p := func(edit func(*workflow.Program)) any { x := validProgram(); edit(&x); return x }
	long := strings.Repeat("a", 201)
	cases := []struct {
		name  string
		in    any
		field string
		msg   string
	}{
		{"kind required", g(func(x *workflow.Group) { x.Kind = "" }), "kind", "Jenis kelompok wajib diisi"},
		{"kind list", g(func(x *workflow.Group) { x.Kind = "kkg" }), "kind", "Jenis kelompok harus berupa salah satu dari [KKG MGMP MGBK KKM POKJAWAS]"},
		{"name required", g(func(x *workflow.Group) { x.Name = "" }), "name", "Nama kelompok wajib diisi"},
		{"name not blank", g(func(x *workflow.Group) { x.Name = "  \t" }), "name", "Nama kelompok wajib diisi"},
		{"name length", g(func(x *workflow.Group) { x.Name = long }), "name", "panjang maksimal Nama kelompok adalah 200 karakter"},
		{"name control", g(func(x *workflow.Group) { x.Name = "KKG\x07" }), "name", "Nama kelompok mengandung karakter kontrol"},
		{"subject length", g(func(x *workflow.Group) { x.Subject = long }), "subject", "panjang maksimal Mata pelajaran adalah 200 karakter"},
		{"level required", g(func(x *workflow.Group) { x.Level = "" }), "level", "Jenjang wajib diisi"},
		{"level list", g(func(x *workflow.Group) { x.Level = "mi" }), "level", "Jenjang harus berupa salah satu dari [RA MI MTs MA]"},
		{"province required", g(func(x *workflow.Group) { x.Province = "" }), "province", "Provinsi wajib diisi"},
		{"province control", g(func(x *workflow.Group) { x.Province = "Jawa\x00Barat" }), "province", "Provinsi mengandung karakter kontrol"},
		{"regency required", g(func(x *workflow.Group) { x.Regency = "" }), "regency", "Kabupaten/kota wajib diisi"},
		{"regency length", g(func(x *workflow.Group) { x.Regency = long }), "regency", "panjang maksimal Kabupaten/kota adalah 100 karakter"},
		{"province code length", g(func(x *workflow.Group) { x.ProvinceCode = "123456789012" }), "province_code", "Kode provinsi"},
		{"SK required", g(func(x *workflow.Group) { x.SKNumber = "" }), "sk_number", "Nomor SK wajib diisi"},
		{"SK control", g(func(x *workflow.Group) { x.SKNumber = "B-1\x1b" }), "sk_number", "Nomor SK mengandung karakter kontrol"},
		{"bank required", g(func(x *workflow.Group) { x.BankName = "" }), "bank_name", "Nama bank wajib diisi"},
		{"account required", g(func(x *workflow.Group) { x.BankAccountNumber = "" }), "bank_account_number", "Nomor rekening wajib diisi"},
		{"account digits", g(func(x *workflow.Group) { x.BankAccountNumber = "12345A789" }), "bank_account_number", "Nomor rekening hanya boleh berisi angka"},
		{"account short", g(func(x *workflow.Group) { x.BankAccountNumber = "12345" }), "bank_account_number", "panjang minimal Nomor rekening adalah 6 karakter"},
		{"account long", g(func(x *workflow.Group) { x.BankAccountNumber = strings.Repeat("1", 21) }), "bank_account_number", "panjang maksimal Nomor rekening adalah 20 karakter"},
		{"holder required", g(func(x *workflow.Group) { x.BankAccountName = "" }), "bank_account_name", "Nama pemilik rekening wajib diisi"},
		{"NPWP digits", g(func(x *workflow.Group) { x.NPWP = "01234567890100X" }), "npwp", "NPWP hanya boleh berisi angka"},
		{"NPWP 14 digits", g(func(x *workflow.Group) { x.NPWP = "01234567890100" }), "npwp", "panjang minimal NPWP adalah 15 karakter"},
		{"NPWP 17 digits", g(func(x *workflow.Group) { x.NPWP = "01234567890100123" }), "npwp", "panjang maksimal NPWP adalah 16 karakter"},
		{"member name required", g(func(x *workflow.Group) { x.Members[3].Name = "" }), "members[3].name", "Nama anggota wajib diisi"},
		{"member name length", g(func(x *workflow.Group) { x.Members[3].Name = long }), "members[3].name", "panjang maksimal Nama anggota adalah 200 karakter"},
		{"member NIP 17 digits", g(func(x *workflow.Group) { x.Members[4].NIP = "19800101200501101" }), "members[4].nip", "panjang NIP anggota harus 18 karakter"},
		{"member NIP letters", g(func(x *workflow.Group) { x.Members[4].NIP = "19800101200501101X" }), "members[4].nip", "NIP anggota hanya boleh berisi angka"},
		{"member SIMPATIKA 9 digits", g(func(x *workflow.Group) { x.Members[4].SimpatikaID = "123456789" }), "members[4].simpatika_id", "panjang minimal SIMPATIKA ID anggota adalah 10 karakter"},
		{"member SIMPATIKA 21 digits", g(func(x *workflow.Group) { x.Members[4].SimpatikaID = strings.Repeat("3", 21) }), "members[4].simpatika_id", "panjang maksimal SIMPATIKA ID anggota adalah 20 karakter"},
		{"member SIMPATIKA letters", g(func(x *workflow.Group) { x.Members[4].SimpatikaID = "33010000000O0001" }), "members[4].simpatika_id", "SIMPATIKA ID anggota hanya boleh berisi angka"},
		{"member madrasah required", g(func(x *workflow.Group) { x.Members[5].Madrasah = "" }), "members[5].madrasah", "Madrasah anggota wajib diisi"},
		{"member position required", g(func(x *workflow.Group) { x.Members[6].Position = "" }), "members[6].position", "Jabatan anggota wajib diisi"},
		{"member position list", g(func(x *workflow.Group) { x.Members[6].Position = "Anggota" }), "members[6].position", "Jabatan anggota harus berupa salah satu dari [ketua sekretaris bendahara anggota]"},

		{"programme name required", p(func(x *workflow.Program) { x.Name = "" }), "name", "Nama program wajib diisi"},
		{"programme name not blank", p(func(x *workflow.Program) { x.Name = " " }), "name", "Nama program wajib diisi"},
		{"programme name control", p(func(x *workflow.Program) { x.Name = "P\x00" }), "name", "Nama program mengandung karakter kontrol"},
		{"year low", p(func(x *workflow.Program) { x.Year = 1999 }), "year", "Tahun harus 2.000 atau lebih besar"},
		{"year high", p(func(x *workflow.Program) { x.Year = 2101 }), "year", "Tahun harus 2.100 atau kurang"},
		{"opens required", p(func(x *workflow.Program) { x.ProposalOpensOn = workflow.Date{} }), "proposal_opens_on", "Tanggal pembukaan proposal wajib diisi"},
		{"closes window", p(func(x *workflow.Program) { x.ProposalClosesOn = workflow.MustDate("1999-12-31") }), "proposal_closes_on", "Tanggal penutupan proposal harus tanggal antara 2000-01-01 dan 2100-12-31"},
		{"activity end required", p(func(x *workflow.Program) { x.ActivityEndsOn = workflow.Date{} }), "activity_ends_on", "Tanggal akhir kegiatan wajib diisi"},
		{"report due window", p(func(x *workflow.Program) { x.ReportDueOn = workflow.MustDate("2101-01-01") }), "report_due_on", "Batas LPJ harus tanggal antara"},
		{"budget positive", p(func(x *workflow.Program) { x.BudgetTotal = 0 }), "budget_total", "Pagu program harus lebih besar dari 0"},
		{"budget ceiling", p(func(x *workflow.Program) { x.BudgetTotal = workflow.MaxAmount + 1 }), "budget_total", "Pagu program harus 1.000.000.000.000.000 atau kurang"},
		{"ceiling positive", p(func(x *workflow.Program) { x.Ceilings[workflow.MGMP] = 0 }), "ceilings.MGMP", "Plafon MGMP harus lebih besar dari 0"},
		{"ceiling too large", p(func(x *workflow.Program) { x.Ceilings[workflow.MGBK] = workflow.MaxAmount + 1 }), "ceilings.MGBK", "Plafon MGBK harus 1.000.000.000.000.000 atau kurang"},
		{"ceiling unknown kind", p(func(x *workflow.Program) { x.Ceilings["RT"] = 5 }), "ceilings.RT", "Plafon RT harus berupa salah satu dari [KKG MGMP MGBK KKM POKJAWAS]"},
		{"rule In at least 1", p(func(x *workflow.Program) { x.ActivityRules[workflow.KKG] = workflow.ActivityRule{In: 0, On: 2} }), "activity_rules.KKG.in", "Jumlah sesi In harus 1 atau lebih besar"},
		{"rule On not negative", p(func(x *workflow.Program) { x.ActivityRules[workflow.KKG] = workflow.ActivityRule{In: 3, On: -1} }), "activity_rules.KKG.on", "Jumlah sesi On harus 0 atau lebih besar"},
		{"rule unknown kind", p(func(x *workflow.Program) { x.ActivityRules["XX"] = workflow.ActivityRule{In: 1} }), "activity_rules.XX", "Aturan kegiatan XX harus berupa salah satu dari"},
		{"tranches required", p(func(x *workflow.Program) { x.TranchePercents = []int{} }), "tranche_percents", "Persen tahap harus berisi minimal 1 item"},
		{"tranches at most 4", p(func(x *workflow.Program) { x.TranchePercents = []int{20, 20, 20, 20, 20} }), "tranche_percents", "Persen tahap harus berisi maksimal 4 item"},
		{"tranche positive", p(func(x *workflow.Program) { x.TranchePercents = []int{100, 0} }), "tranche_percents[1]", "Persen tahap ke-2 harus lebih besar dari 0"},
		{"tranche at most 100", p(func(x *workflow.Program) { x.TranchePercents = []int{101} }), "tranche_percents[0]", "Persen tahap ke-1 harus 100 atau kurang"},
		{"categories required", p(func(x *workflow.Program) { x.Categories = []workflow.Category{} }), "categories", "Kategori anggaran harus berisi minimal 1 item"},
		{"category code required", p(func(x *workflow.Program) { x.Categories[2].Code = "" }), "categories[2].code", "Kode kategori wajib diisi"},
		{"category code letters", p(func(x *workflow.Program) { x.Categories[2].Code = "Transport" }), "categories[2].code", "Kode kategori hanya boleh huruf kecil a-z dan garis bawah"},
		{"category name required", p(func(x *workflow.Program) { x.Categories[2].Name = "" }), "categories[2].name", "Nama kategori wajib diisi"},
		{"tax rate range", p(func(x *workflow.Program) { x.TaxRates.PPh21 = 10001 }), "tax_rates.pph21_bps", "Tarif PPh 21 harus 10.000 atau kurang"},
		{"at risk positive", p(func(x *workflow.Program) { x.AtRiskAfterDays = 0 }), "at_risk_after_days", "Batas hari berisiko harus lebih besar dari 0"},
		{"dormant at most 3650", p(func(x *workflow.Program) { x.DormantAfterDays = 3651 }), "dormant_after_days", "Batas hari tidak aktif harus 3.650 atau kurang"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps := validate.Check(c.in)
			if len(ps) != 1 {
				t.Fatalf("want exactly one problem, got %+v", ps)
			}
			if ps[0].Field != c.field || !strings.Contains(ps[0].Message, c.msg) {
				t.Fatalf("got %+v, want field %q with %q", ps[0], c.field, c.msg)
			}
		})
	}
	for _, ok := range []any{validGroup(), validProgram()} {
		if ps := validate.Check(ok); ps != nil {
			t.Fatalf("valid %T refused: %+v", ok, ps)
		}
	}
}

// The oneof lists in the tags are workflow's lists written out: a kind,
// level or position added there must be added to the tags too.
func TestTagListsMatchWorkflow(t *testing.T) {
	oneof := func(v any, field string) string {
		f, ok := reflect.TypeOf(v).FieldByName(field)
		if !ok {
			t.Fatalf("%T has no %s", v, field)
		}
		for _, rule := range strings.Split(f.Tag.Get("validate"), ",") {
			if list, ok := strings.CutPrefix(rule, "oneof="); ok {
				return list
			}
		}
		t.Fatalf("%T.%s has no oneof", v, field)
		return ""
	}
	join := func(xs ...string) string { return strings.Join(xs, " ") }
	var kinds, positions []string
	for _, k := range workflow.Kinds {
		kinds = append(kinds, string(k))
	}
	for _, p := range workflow.Positions {
		positions = append(positions, string(p))
	}
	for _, c := range []struct{ got, want string }{
		{oneof(workflow.Group{}, "Kind"), join(kinds...)},
		{oneof(workflow.Group{}, "Level"), join(workflow.Levels...)},
		{oneof(workflow.Member{}, "Position"), "ketua sekretaris bendahara anggota"},
		{oneof(workflow.Program{}, "Ceilings"), join(kinds...)},
		{oneof(workflow.Program{}, "ActivityRules"), join(kinds...)},
	} {
		if c.got != c.want {
			t.Errorf("tag oneof=%s, workflow lists %s", c.got, c.want)
		}
	}
	slices.Sort(positions)
	if want := []string{"anggota", "bendahara", "ketua", "sekretaris"}; !slices.Equal(positions, want) {
		t.Errorf("positions %v", positions)
	}
}

// Region matches names in any case and spacing or codes, names the field
// that is wrong and suggests the nearest name.
func TestRegion(t *testing.T) {
	for _, c := range []struct{ province, regency, pc, rc string }{
		{"jawa barat ", "kota bogor", "32", "32.71"},
		{"  JAWA   BARAT", "Kota\tBogor ", "32", "32.71"},
		{"32", "3271", "32", "32.71"},
		{"Jawa Barat", "", "32", ""},
		{"", "Kabupaten Garut", "32", "32.05"}, // a regency alone names its province
		{"", "", "", ""},
	} {
		place, ps := validate.Region(c.province, c.regency)
		if pc, rc := place.Codes(); ps != nil || pc != c.pc || rc != c.rc {
			t.Errorf("Region(%q, %q) = %s %s %+v; want %s %s", c.province, c.regency, pc, rc, ps, c.pc, c.rc)
		}
	}
	for _, c := range []struct{ province, regency, field, msg string }{
		{"Atlantis", "", "province", `provinsi "Atlantis" tidak ada dalam daftar Kemendagri`},
		{"Jawa Barta", "Kota Bogor", "province", "maksud Anda: Jawa Barat?"},
		{"Jawa Barat", "Kota Bogr", "regency", "maksud Anda: Kota Bogor?"},
		{"Jawa Tengah", "Kota Bogor", "regency", "melainkan di provinsi Jawa Barat"},
		{"Jawa Barat", "Kota Atlantis", "regency", "tidak ada di provinsi Jawa Barat"},
		{"", "Bogor", "regency", "Kabupaten Bogor (Jawa Barat) atau Kota Bogor (Jawa Barat)"},
	} {
		_, ps := validate.Region(c.province, c.regency)
		if len(ps) != 1 || ps[0].Field != c.field || !strings.Contains(ps[0].Message, c.msg) {
			t.Errorf("Region(%q, %q) = %+v; want %s with %q", c.province, c.regency, ps, c.field, c.msg)
		}
	}
}
