package validate_test

import (
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
	group := func() workflow.Group {
		g := workflow.Group{Kind: workflow.KKG, Name: "KKG MI Uji", Level: "MI", Province: "Jawa Barat", Regency: "Kota Bandung"}
		g.Members = demo.Members(1, 15)
		return g
	}
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
		{"member name NUL", func() any { g := group(); g.Members[3].Name = "Siti\x00"; return g }(), "members[3].name", "Nama anggota mengandung karakter kontrol"},
		{"member NIP length", func() any { g := group(); g.Members[2].NIP = strings.Repeat("1", 19); return g }(), "members[2].nip", "NIP anggota"},
		{"group name NUL", func() any { g := group(); g.Name = "KKG\x00"; return g }(), "name", "Nama kelompok"},
		{"user name NUL", grants.NewUser{Name: "a\x00"}, "name", "Nama pengguna"},
		{"user role NUL", grants.NewUser{Roles: []workflow.Role{"admin\x00"}}, "roles[0]", "Peran"},
		{"programme category cap", workflow.Program{Categories: []workflow.Category{{Code: "k", Name: "K", CapPercent: 101}}}, "categories[0].cap_percent", "Batas persen kategori"},
		{"programme days", workflow.Program{DormantAfterDays: -1}, "dormant_after_days", "Batas hari tidak aktif"},
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
	for _, ok := range []any{expense(), group(), grants.VoidInput{Reason: "Salah nominal.\nDicatat ulang."}} {
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
