// Package demo seeds a database with a believable programme, groups, staff
// and grants in every state, through the grants service's public methods as
// people would; it also gives tests and benchmarks the demo's members and
// proposal. It lives outside internal/grants so that the production use
// cases carry no demo data.
package demo

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"text/tabwriter"

	"grantflow/internal/grants"
	"grantflow/workflow"
)

// Password is the password of every demo login.
const Password = "grantflow-demo"

type login struct {
	Email string
	Role  string
	Note  string
}

var officials = []struct {
	email, name string
	roles       []workflow.Role
	province    string
}{
	{"admin@demo.grantflow.id", "Administrator Direktorat GTK Madrasah", []workflow.Role{workflow.RoleAdmin}, ""},
	{"verifikator@demo.grantflow.id", "Siti Nurhaliza, S.Pd.I (Kankemenag)", []workflow.Role{workflow.RoleVerifier}, "Jawa Barat"},
	{"verifikator2@demo.grantflow.id", "Ahmad Fauzi, M.Pd (Kankemenag)", []workflow.Role{workflow.RoleVerifier}, "Jawa Barat"},
	{"penyetuju@demo.grantflow.id", "Dr. Hendra Gunawan (Kanwil)", []workflow.Role{workflow.RoleApprover}, ""},
	{"keuangan@demo.grantflow.id", "Rina Marlina, S.E. (Keuangan)", []workflow.Role{workflow.RoleFinance}, ""},
	{"auditor@demo.grantflow.id", "Bambang Sutrisno, Ak. (Inspektorat)", []workflow.Role{workflow.RoleAuditor}, ""},
}

var firstNames = []string{"Ahmad", "Siti", "Muhammad", "Nur", "Dewi", "Agus", "Fitri", "Rahmat", "Lilis", "Dedi", "Yuliani", "Hasan",
	"Aisyah", "Bayu", "Eka", "Fauzan", "Ratna", "Iwan", "Maya", "Slamet", "Wulan", "Zainal", "Indah", "Joko", "Kurniasih", "Lukman",
	"Nining", "Oman", "Puji", "Rizki"}
var lastNames = []string{"Hidayat", "Rahmawati", "Saputra", "Nurjanah", "Kurniawan", "Lestari", "Firmansyah", "Maulana", "Susanti",
	"Wijaya", "Permana", "Handayani", "Setiawan", "Pratama", "Suryani", "Ramadhan", "Fauziah", "Gunawan", "Anggraini", "Syahputra"}

// group describes one seeded group and the state its grant is driven to.
type group struct {
	kind     workflow.Kind
	name     string
	subject  string
	level    string
	regency  string
	madrasah []string
	members  int
	target   workflow.State
}

var groups = []group{
	{workflow.KKG, "KKG MI Kecamatan Cibiru", "", "MI", "Kota Bandung", []string{"MIN 1 Kota Bandung", "MIS Al-Hikmah Cibiru", "MIS Persis Cibiru"}, 18, workflow.Approved},
	{workflow.MGMP, "MGMP Matematika MTs Kabupaten Garut", "Matematika", "MTs", "Kabupaten Garut", []string{"MTsN 1 Garut", "MTsS Al-Musaddadiyah", "MTsS Persis Tarogong"}, 20, workflow.Recommended},
	{workflow.KKM, "KKM MTs Kabupaten Tasikmalaya", "", "MTs", "Kabupaten Tasikmalaya", []string{"MTsN 2 Tasikmalaya", "MTsS Cipasung", "MTsS Al-Ikhlas"}, 12, workflow.InReview},
	{workflow.MGBK, "MGBK MA Kota Bogor", "Bimbingan Konseling", "MA", "Kota Bogor", []string{"MAN 1 Kota Bogor", "MAS Al-Ghazali", "MAS Nurul Fajri"}, 16, workflow.Submitted},
	{workflow.KKG, "KKG RA Kecamatan Sumedang Utara", "", "RA", "Kabupaten Sumedang", []string{"RA Al-Ikhlas", "RA Miftahul Huda", "RA Darul Ulum"}, 15, workflow.RevisionRequested},
	{workflow.MGMP, "MGMP Bahasa Arab MA Kabupaten Cianjur", "Bahasa Arab", "MA", "Kabupaten Cianjur", []string{"MAN 1 Cianjur", "MAS Al-Ittihad", "MAS Nurul Huda"}, 15, workflow.Rejected},
	{workflow.POKJAWAS, "Pokjawas Madrasah Kabupaten Bekasi", "", "MA", "Kabupaten Bekasi", []string{"Kankemenag Kab. Bekasi"}, 10, workflow.Cancelled},
	{workflow.KKG, "KKG MI Kecamatan Pangandaran", "", "MI", "Kabupaten Pangandaran", []string{"MIN 1 Pangandaran", "MIS Nurul Iman", "MIS Al-Falah"}, 11, workflow.Draft},
	{workflow.KKG, "KKG MI Kecamatan Sukajadi", "", "MI", "Kota Bandung", []string{"MIN 2 Kota Bandung", "MIS Al-Istiqomah", "MIS Ar-Rahman"}, 16, workflow.Funded},
}

// Seed fills an empty database with a programme with the §2 defaults,
// groups of every kind with members, one user per role, and grants in every
// state the service reaches, then prints the logins. On a database that
// already has users it only prints the logins.
func Seed(ctx context.Context, s *grants.Service, w io.Writer) error {
	n, err := s.DB().CountUsers(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintln(w, "database already has users: demo not seeded again")
		// The grants may have moved on since the seed: show where they are now.
		vs, err := s.Grants(ctx, grants.System, grants.ListFilter{})
		if err != nil {
			return err
		}
		now := map[string]workflow.State{}
		for _, v := range vs {
			now[v.Group.Name] = v.State
		}
		logins := loginList()
		for i, l := range logins {
			if l.Role != "chair" {
				continue
			}
			name := l.Note[:strings.LastIndex(l.Note, " (")]
			if st, ok := now[name]; ok {
				logins[i].Note = name + " (" + string(st) + ")"
			}
		}
		return printLogins(w, logins)
	}
	today := s.Today()
	prog, err := s.CreateProgram(ctx, grants.System, workflow.Program{
		Name: fmt.Sprintf("Bantuan KKG/MGMP/KKM Madrasah %d", today.Year()), Year: today.Year(),
		ProposalOpensOn: today.AddDays(-30), ProposalClosesOn: today.AddDays(60),
		ActivityEndsOn: today.AddDays(240), ReportDueOn: today.AddDays(270), BudgetTotal: 5_000_000_000,
	})
	if err != nil {
		return fmt.Errorf("demo programme: %w", err)
	}
	staff := map[string]workflow.Actor{}
	for _, st := range officials {
		u, err := s.CreateUser(ctx, grants.System, grants.NewUser{Email: st.email, Name: st.name, Password: Password, Roles: st.roles, Province: st.province})
		if err != nil {
			return fmt.Errorf("demo user %s: %w", st.email, err)
		}
		staff[st.email] = u.Actor()
	}
	for gi, dg := range groups {
		grp := workflow.Group{Kind: dg.kind, Name: dg.name, Subject: dg.subject, Level: dg.level, Province: "Jawa Barat",
			Regency: dg.regency, SKNumber: fmt.Sprintf("B-%d/Kk.10.%02d/PP.00/%d", 1200+gi, gi+1, today.Year()),
			BankName: "Bank Syariah Indonesia", BankAccountNumber: fmt.Sprintf("71%08d", 4410000+gi*7919),
			BankAccountName: dg.name, Remote: dg.members < 15 && dg.kind != workflow.KKM && dg.kind != workflow.POKJAWAS}
		grp.Members = Members(gi, dg.members, dg.madrasah...)
		g, err := s.CreateGroup(ctx, grants.System, grp)
		if err != nil {
			return fmt.Errorf("demo group %s: %w", dg.name, err)
		}
		chair, err := s.CreateUser(ctx, grants.System, grants.NewUser{Email: fmt.Sprintf("ketua%d@demo.grantflow.id", gi+1), Name: g.Members[0].Name,
			Password: Password, Roles: []workflow.Role{workflow.RoleChair}, GroupID: g.ID})
		if err != nil {
			return err
		}
		treasurer, err := s.CreateUser(ctx, grants.System, grants.NewUser{Email: fmt.Sprintf("bendahara%d@demo.grantflow.id", gi+1), Name: g.Members[2].Name,
			Password: Password, Roles: []workflow.Role{workflow.RoleTreasurer}, GroupID: g.ID})
		if err != nil {
			return err
		}
		staff["chair"] = workflow.Actor{UserID: chair.ID, Name: chair.Name, Roles: chair.Roles, GroupID: g.ID}
		staff["treasurer"] = workflow.Actor{UserID: treasurer.ID, Name: treasurer.Name, Roles: treasurer.Roles, GroupID: g.ID}
		if err := drive(ctx, s, prog, g, dg, staff, today); err != nil {
			return fmt.Errorf("demo grant of %s: %w", dg.name, err)
		}
	}
	fmt.Fprintln(w, "demo seeded")
	return printLogins(w, loginList())
}

// Members returns n members of the group numbered seed, as the demo,
// tests and benchmarks need them: the first is the ketua, the second the
// sekretaris, the third the bendahara, the rest anggota; each has a valid
// NIP, unique within the group (n ≤ 30) and across groups of different
// seeds (0 ≤ seed < 1 512 000: the seed is written into the birth date and
// appointment month, so that no two seeded groups share members and the
// one-group-once rule never joins them), and teaches at one of madrasah
// (default "MIN 1 Kota Bandung").
func Members(seed, n int, madrasah ...string) []workflow.Member {
	if len(madrasah) == 0 {
		madrasah = []string{"MIN 1 Kota Bandung"}
	}
	positions := []workflow.Position{workflow.PosKetua, workflow.PosSekretaris, workflow.PosBendahara}
	out := make([]workflow.Member, n)
	for m := range out {
		pos := workflow.PosAnggota
		if m < len(positions) {
			pos = positions[m]
		}
		out[m] = workflow.Member{
			Name: firstNames[(seed*7+m)%len(firstNames)] + " " + lastNames[(seed*3+m*5)%len(lastNames)],
			NIP: fmt.Sprintf("19%02d%02d%02d20%02d%02d1%03d", 70+seed%25, 1+(seed/25)%12, 1+(seed/300)%28,
				5+(seed/8400)%15, 1+(seed/126000)%12, m),
			Madrasah: madrasah[m%len(madrasah)], Position: pos}
	}
	return out
}

// Proposal returns a complete proposal for a group of kind k that fits
// the programme defaults, starting its sessions on from.
func Proposal(k workflow.Kind, from workflow.Date) workflow.Proposal {
	rule := map[workflow.Kind]int{workflow.KKM: 5, workflow.POKJAWAS: 5}[k]
	if rule == 0 {
		rule = 3
	}
	p := workflow.Proposal{
		Background:         "Kelompok kerja membutuhkan penguatan pembelajaran mendalam dan asesmen formatif sesuai Kurikulum Merdeka di madrasah anggota.",
		Objectives:         "1. Anggota menyusun modul ajar berdiferensiasi. 2. Anggota mempraktikkan asesmen formatif di kelas. 3. Terbentuk komunitas belajar yang rutin bertemu.",
		SustainabilityPlan: "Pertemuan bulanan bergilir di madrasah anggota dengan iuran sukarela; dokumentasi praktik baik dibagikan melalui grup kelompok kerja.",
	}
	day := 0
	for i := 0; i < rule; i++ {
		p.Activities = append(p.Activities, workflow.Activity{Kind: workflow.In, Title: fmt.Sprintf("In-%d: Lokakarya modul ajar dan asesmen", i+1), PlannedOn: from.AddDays(day), PlannedParticipants: 15})
		day += 14
		if i < 2 {
			p.Activities = append(p.Activities, workflow.Activity{Kind: workflow.On, Title: fmt.Sprintf("On-%d: Praktik mengajar di madrasah anggota", i+1), PlannedOn: from.AddDays(day), PlannedParticipants: 15})
			day += 14
		}
	}
	p.Budget = []workflow.BudgetLine{
		{Category: "konsumsi", Description: "Makan siang dan snack peserta", Quantity: 5 * 15, Unit: "orang-kali", UnitPrice: 45_000},
		{Category: "honorarium", Description: "Honorarium narasumber In", Quantity: 3, Unit: "OJ", UnitPrice: 900_000},
		{Category: "transport", Description: "Transport peserta On", Quantity: 30, Unit: "orang-kali", UnitPrice: 50_000},
		{Category: "atk_bahan", Description: "ATK dan bahan praktik", Quantity: 1, Unit: "paket", UnitPrice: 1_250_000},
		{Category: "penggandaan", Description: "Penggandaan modul", Quantity: 60, Unit: "eksemplar", UnitPrice: 15_000},
		{Category: "dokumentasi", Description: "Dokumentasi dan penyusunan laporan", Quantity: 1, Unit: "paket", UnitPrice: 1_000_000},
	}
	return p
}

type step struct {
	who    workflow.Actor
	action workflow.Action
	in     grants.ActInput
}

// drive takes a group's grant to dg.target through the service, as
// the people of staff (plus "chair" and "treasurer" of the group) would.
func drive(ctx context.Context, s *grants.Service, prog workflow.Program, g workflow.Group, dg group, staff map[string]workflow.Actor, today workflow.Date) error {
	chair := staff["chair"]
	v, err := s.OpenGrant(ctx, chair, prog.ID, g.ID)
	if err != nil || dg.target == workflow.Draft {
		return err
	}
	if _, err := s.SaveProposal(ctx, chair, v.ID, Proposal(g.Kind, today.AddDays(30))); err != nil {
		return err
	}
	verifier, approver, admin := staff["verifikator@demo.grantflow.id"], staff["penyetuju@demo.grantflow.id"], staff["admin@demo.grantflow.id"]
	steps := []step{{chair, workflow.Submit, grants.ActInput{}}}
	switch dg.target {
	case workflow.Submitted:
	case workflow.Cancelled:
		steps = append(steps, step{admin, workflow.Cancel, grants.ActInput{Comment: "Kelompok mengundurkan diri dari program tahun ini."}})
	case workflow.RevisionRequested:
		steps = append(steps, step{verifier, workflow.StartReview, grants.ActInput{}},
			step{verifier, workflow.RequestRevision, grants.ActInput{Comment: "Rincian honorarium narasumber perlu disertai jumlah jam pelajaran."}})
	case workflow.Rejected:
		steps = append(steps, step{verifier, workflow.StartReview, grants.ActInput{}},
			step{verifier, workflow.Reject, grants.ActInput{Comment: "SK kelompok kerja sudah tidak berlaku."}})
	case workflow.InReview:
		steps = append(steps, step{verifier, workflow.StartReview, grants.ActInput{}})
	case workflow.Recommended, workflow.Approved, workflow.Funded:
		p := Proposal(g.Kind, today)
		if err := p.Normalize(); err != nil {
			return err
		}
		amount := p.Total()
		steps = append(steps, step{verifier, workflow.StartReview, grants.ActInput{}},
			step{verifier, workflow.Recommend, grants.ActInput{Comment: "Proposal lengkap dan sesuai juknis.", ApprovedAmount: amount}})
		if dg.target != workflow.Recommended {
			steps = append(steps, step{approver, workflow.Approve, grants.ActInput{Comment: "Disetujui."}})
		}
	}
	for _, st := range steps {
		if v, err = s.Act(ctx, st.who, v.ID, st.action, st.in); err != nil {
			return fmt.Errorf("%s: %w", st.action, err)
		}
	}
	if dg.target == workflow.Funded {
		return fund(ctx, s, prog, v, g, staff, today)
	}
	return nil
}

// fund pays the first tranche, records In-1 and On-1 as held today
// (most members present) and, when a file store is configured, their
// attendance sheets and photos and a few expenses with receipts (one with
// tax withheld, one voided; the session costs name In-1).
func fund(ctx context.Context, s *grants.Service, prog workflow.Program, v grants.View, g workflow.Group, staff map[string]workflow.Actor, today workflow.Date) error {
	share := prog.TrancheAmounts(v.AmountApproved)[0]
	if _, err := s.Disburse(ctx, staff["keuangan@demo.grantflow.id"], v.ID, grants.DisbursementInput{
		Tranche: 1, Amount: share, TransferredOn: today, Reference: "BSI-TRF-" + today.String()}); err != nil {
		return fmt.Errorf("disburse: %w", err)
	}
	chair := staff["chair"]
	var present []int64
	for _, m := range g.Members[:len(g.Members)-2] { // two sent apologies
		present = append(present, m.ID)
	}
	held := v.Activities[:2] // In-1, then On-1 at the members' madrasah
	for i, a := range held {
		in := grants.RealizationInput{HeldOn: today, Location: []string{"Aula MIN 2 Kota Bandung", "MIS Al-Istiqomah (kelas IV)"}[i], Hours: []int{6, 4}[i],
			Facilitator: "Dra. Hj. Euis Kurniasih, M.Pd. (pengawas madrasah)", AttendeeIDs: present,
			Summary: "Anggota mengkaji modul ajar berdiferensiasi dan merancang asesmen formatif untuk satu pokok bahasan.",
			Outputs: "Draf modul ajar per anggota; lembar asesmen formatif."}
		if _, err := s.RealizeActivity(ctx, chair, v.ID, a.ID, in); err != nil {
			return fmt.Errorf("demo session %q: %w", a.Title, err)
		}
	}
	if !s.HasStore() {
		return nil
	}
	for i, a := range held {
		for j, kind := range []string{"attendance", "photo"} {
			obj, err := s.Ingest(ctx, bytes.NewReader(receipt(10+2*i+j)))
			if err != nil {
				return fmt.Errorf("demo evidence: %w", err)
			}
			if _, err := s.AddActivityEvidence(ctx, chair, v.ID, a.ID, kind, &obj); err != nil {
				return fmt.Errorf("demo evidence: %w", err)
			}
		}
	}
	treasurer := staff["treasurer"]
	line := func(category string) int64 {
		for _, b := range v.Budget {
			if b.Category == category {
				return b.ID
			}
		}
		return 0
	}
	expenses := []grants.ExpenseInput{
		{Vendor: "Rumah Makan Sunda Ibu Imas", Description: "Konsumsi In-1 (14 orang)", Amount: 630_000, BudgetLineID: line("konsumsi"), ActivityID: held[0].ID},
		{Vendor: "Drs. H. Asep Saepudin, M.Pd", Description: "Honorarium narasumber In-1 (2 JP)", Amount: 900_000, TaxPPh: 45_000, BudgetLineID: line("honorarium"), ActivityID: held[0].ID},
		{Vendor: "Toko Buku Pelita", Description: "ATK dan kertas HVS", Amount: 1_100_000, TaxPPN: 108_108, BudgetLineID: line("atk_bahan")},
		{Vendor: "Toko Buku Pelita", Description: "ATK (salah input, dicatat ulang)", Amount: 150_000, BudgetLineID: line("atk_bahan")},
	}
	var last workflow.Expense
	for i, f := range expenses {
		f.SpentOn = today
		obj, err := s.Ingest(ctx, bytes.NewReader(receipt(i)))
		if err != nil {
			return fmt.Errorf("demo receipt: %w", err)
		}
		if last, err = s.RecordExpense(ctx, treasurer, v.ID, f, &obj); err != nil {
			return fmt.Errorf("demo expense %q: %w", f.Description, err)
		}
	}
	_, err := s.VoidExpense(ctx, treasurer, v.ID, last.ID, "Nota yang sama sudah dicatat pada belanja ATK sebelumnya.")
	return err
}

// receipt draws a small distinct PNG standing in for a photographed receipt.
func receipt(i int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 240, 320))
	for y := 0; y < 320; y++ {
		for x := 0; x < 240; x++ {
			c := color.RGBA{250, 250, 245, 255}
			if y%24 == 12 && x > 20 && x < 220-(y*7+i*31)%80 {
				c = color.RGBA{60, 60, 60, 255}
			}
			img.Set(x, y, c)
		}
	}
	img.Set(i, 0, color.RGBA{uint8(i), 0, 0, 255})
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

func loginList() []login {
	var out []login
	for _, st := range officials {
		out = append(out, login{st.email, string(st.roles[0]), st.name})
	}
	for gi, dg := range groups {
		out = append(out, login{fmt.Sprintf("ketua%d@demo.grantflow.id", gi+1), "chair", dg.name + " (" + string(dg.target) + ")"})
		out = append(out, login{fmt.Sprintf("bendahara%d@demo.grantflow.id", gi+1), "treasurer", dg.name})
	}
	return out
}

func printLogins(w io.Writer, logins []login) error {
	fmt.Fprintf(w, "\ndemo logins (password for all: %s)\n", Password)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tROLE\tWHO / GROUP (GRANT STATE)")
	for _, l := range logins {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", l.Email, l.Role, l.Note)
	}
	return tw.Flush()
}
