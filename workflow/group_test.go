package workflow

import "testing"

func TestMembershipLimits(t *testing.T) {
	cases := []struct {
		k        Kind
		remote   bool
		min, max int
	}{
		{KKG, false, 15, 30}, {MGMP, false, 15, 30}, {MGBK, false, 15, 30},
		{KKM, false, 10, 30}, {POKJAWAS, false, 10, 30},
		{KKG, true, 10, 30}, {MGBK, true, 10, 30}, {KKM, true, 10, 30},
		{"RT", false, 15, 30},
	}
	for _, c := range cases {
		if lo, hi := MembershipLimits(c.k, c.remote); lo != c.min || hi != c.max {
			t.Errorf("MembershipLimits(%s, %v) = %d, %d; want %d, %d", c.k, c.remote, lo, hi, c.min, c.max)
		}
	}
}

func TestGroupNormalize(t *testing.T) {
	g := Group{
		Kind:              " KKG ",
		Name:              "  KKG MI Cibinong\t",
		Level:             " MI ",
		BankAccountNumber: " 712-345.678 9 ",
		BankAccountName:   " KKG MI Cibinong ",
		NPWP:              "01.234.567.8-901.000",
		Members: []Member{{
			Name: " Siti ", NIP: "19800101 200501 1 001", SimpatikaID: "3301-0000-0000-0001", Madrasah: " MI X ", Position: " ketua ",
		}},
	}
	g.Normalize()
	if g.Kind != KKG || g.Name != "KKG MI Cibinong" || g.Level != "MI" || g.BankAccountNumber != "7123456789" ||
		g.BankAccountName != "KKG MI Cibinong" || g.NPWP != "012345678901000" {
		t.Errorf("group %+v", g)
	}
	m := g.Members[0]
	if m.Name != "Siti" || m.NIP != "198001012005011001" || m.SimpatikaID != "3301000000000001" || m.Madrasah != "MI X" || m.Position != PosKetua {
		t.Errorf("member %+v", m)
	}
}

func TestGroupValidate(t *testing.T) {
	for _, k := range Kinds {
		n := 15
		if k == KKM || k == POKJAWAS {
			n = 10
		}
		for _, size := range []int{n, 30} {
			if err := testGroup(k, size).Validate(); err != nil {
				t.Errorf("valid %s of %d: %v%s", k, size, err, dumpDetails(asError(t, err).Details))
			}
		}
	}

	cases := []struct {
		name string
		edit func(*Group)
		want []string // nil: valid
	}{
		{"remote KKG of 10", func(g *Group) { g.Remote = true; g.Members = g.Members[:10] }, nil},
		{"KKG of 10 not remote", func(g *Group) { g.Members = g.Members[:10] }, []string{"members: jumlah anggota 10; kelompok KKG harus beranggota 15 sampai 30"}},
		{"remote KKG of 9", func(g *Group) { g.Remote = true; g.Members = g.Members[:9] }, []string{"members: jumlah anggota 9; kelompok KKG di daerah 3T harus beranggota 10 sampai 30"}},
		{"31 members", func(g *Group) { g.Members = testGroup(KKG, 31).Members }, []string{"members: jumlah anggota 31"}},
		{"level mismatch KKG", func(g *Group) { g.Level = "MTs" }, []string{"level: KKG hanya untuk jenjang RA atau MI"}},
		{"unknown level is the tag's", func(g *Group) { g.Level = "mi" }, nil},
		{"RA is fine for KKG", func(g *Group) { g.Level = "RA" }, nil},
		{"person's account", func(g *Group) { g.BankAccountName = "Siti Aminah" }, []string{`bank_account_name: atas nama kelompok (memuat "KKG" atau nama kelompok)`}},
		{"account in group name without kind", func(g *Group) {
			g.Name = "Forum Guru Cibinong"
			g.BankAccountName = "forum guru cibinong"
		}, nil},
		{"account mentions kind in lower case", func(g *Group) { g.BankAccountName = "kkg kec. cibinong" }, nil},
		{"member identity", func(g *Group) {
			g.Members[3].NIP, g.Members[3].SimpatikaID = "", ""
			g.Members[6].NIP = "199001012005011001"
			g.Members[8].NIP = g.Members[6].NIP                 // duplicate NIP
			g.Members[9].SimpatikaID = g.Members[7].SimpatikaID // duplicate SIMPATIKA id
		}, []string{
			"members[3].simpatika_id: isi SIMPATIKA ID atau NIP",
			"members[8].nip: NIP sudah dipakai anggota nomor 7",
			"members[9].simpatika_id: SIMPATIKA ID sudah dipakai anggota nomor 8",
		}},
		{"positions", func(g *Group) {
			g.Members[1].Position = PosKetua // two ketua, no bendahara
		}, []string{
			"members: tepat satu ketua (sekarang 2)",
			"members: tepat satu bendahara (sekarang 0)",
		}},
	}
	for _, c := range cases {
		g := testGroup(KKG, 20)
		c.edit(&g)
		err := g.Validate()
		if c.want == nil {
			if err != nil {
				t.Errorf("%s: %v%s", c.name, err, dumpDetails(asError(t, err).Details))
			}
			continue
		}
		t.Run(c.name, func(t *testing.T) { wantDetails(t, err, c.want...) })
	}

	// MGMP: subject required, MTs/MA only.
	g := testGroup(MGMP, 15)
	g.Subject, g.Level = " ", "MI"
	wantDetails(t, g.Validate(), "subject: wajib diisi untuk MGMP", "level: MGMP hanya untuk jenjang MTs atau MA")

	// Everything wrong at once, reported at once; the fields' own rules
	// (kind, level, lengths) are the tags', tested in internal/validate.
	bad := Group{Kind: "kkg", Name: "x", Level: "SD", BankAccountName: "Budi"}
	wantDetails(t, bad.Validate(),
		"bank_account_name: (memuat nama kelompok)",
		"members: jumlah anggota 0; kelompok kkg harus beranggota 15 sampai 30",
		"members: tepat satu ketua (sekarang 0)",
		"members: tepat satu bendahara (sekarang 0)",
	)
}
