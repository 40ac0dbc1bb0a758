package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"grantflow/workflow"
)

// SampleLPJ returns a complete, consistent LPJ of a closed KKM grant of
// Rp 30.000.000 (7 sessions, the RAB of 7 lines, two tranches, the given
// number of expenses spread over the lines and the activity period, the
// refund of what is left, meetings after the funding, and one photo per
// JPEG given). It is fixed data for the golden-file tests and the LPJ
// benchmark, which must render the same report; it is not for production.
func SampleLPJ(expenses int, photos [][]byte) LPJ {
	d := workflow.MustDate
	jkt := func(day string, hh, mm int) time.Time {
		t := d(day).Time()
		return time.Date(t.Year(), t.Month(), t.Day(), hh, mm, 0, 0, workflow.Jakarta)
	}
	l := LPJ{
		Date:   d("2026-11-24"),
		Letter: Letter{Number: "017/KKM-PGD/XI/2026"},
		Program: Program{Name: "Program Bantuan Stimulus Kelompok Kerja Guru dan Kepala Madrasah", Year: 2026,
			ActivityEndsOn: d("2026-09-30"), ReportDueOn: d("2026-11-30")},
		Group: Group{Name: "KKM MI Kecamatan Pangandaran", Kind: workflow.KKM, Level: "MI", Province: "Jawa Barat",
			Regency: "Kabupaten Pangandaran", SKNumber: "B-1234/Kk.10.32/PP.00/03/2026", BankName: "Bank Syariah Indonesia",
			BankAccountNumber: "7123456789", BankAccountName: "KKM MI Kecamatan Pangandaran", NPWP: "12.345.678.9-012.000", Members: 28},
		Proposal: Proposal{
			Background: "Kepala madrasah ibtidaiyah di Kecamatan Pangandaran menghadapi tuntutan Kurikulum Merdeka: " +
				"perencanaan berbasis data rapor pendidikan, supervisi akademik yang membimbing, dan pengelolaan " +
				"sumber daya madrasah yang transparan. Sebagian besar anggota belum pernah mengikuti pelatihan " +
				"supervisi akademik dan rapor pendidikan madrasah.\n\nKelompok Kerja Madrasah (KKM) menjadi wadah " +
				"belajar bersama yang paling dekat dengan madrasah, sehingga bantuan stimulus ini digunakan untuk " +
				"lima sesi In dan dua sesi On yang saling menguatkan.",
			Objectives: "1. Kepala madrasah menyusun rencana kerja berbasis data rapor pendidikan.\n" +
				"2. Kepala madrasah mempraktikkan supervisi akademik yang membimbing guru di madrasah masing-masing.\n" +
				"3. Kelompok menghasilkan modul praktik baik yang dapat digunakan madrasah lain.",
			SustainabilityPlan: "Setelah masa bantuan berakhir, KKM tetap bertemu setiap bulan secara bergilir di madrasah " +
				"anggota dengan iuran sukarela untuk konsumsi. Modul praktik baik dibagikan melalui grup daring dan " +
				"diperbarui setiap semester; dua anggota yang telah menjadi fasilitator membimbing anggota baru.",
		},
		Categories: []workflow.Category{
			{Code: "konsumsi", Name: "Konsumsi"}, {Code: "honorarium", Name: "Honorarium narasumber", CapPercent: 30},
			{Code: "transport", Name: "Transport"}, {Code: "atk_bahan", Name: "ATK dan bahan"},
			{Code: "penggandaan", Name: "Penggandaan"}, {Code: "sewa", Name: "Sewa tempat/alat"},
			{Code: "dokumentasi", Name: "Dokumentasi dan pelaporan"},
		},
		Budget: []workflow.BudgetLine{
			{ID: 101, Seq: 1, Category: "konsumsi", Description: "Konsumsi peserta In dan On", Quantity: 210, Unit: "orang-kali", UnitPrice: 40_000},
			{ID: 102, Seq: 2, Category: "honorarium", Description: "Honorarium narasumber", Quantity: 10, Unit: "OJ", UnitPrice: 850_000},
			{ID: 103, Seq: 3, Category: "transport", Description: "Transport peserta kegiatan On", Quantity: 60, Unit: "orang-kali", UnitPrice: 75_000},
			{ID: 104, Seq: 4, Category: "atk_bahan", Description: "ATK dan bahan pelatihan", Quantity: 30, Unit: "paket", UnitPrice: 100_000},
			{ID: 105, Seq: 5, Category: "penggandaan", Description: "Penggandaan modul", Quantity: 30, Unit: "eksemplar", UnitPrice: 60_000},
			{ID: 106, Seq: 6, Category: "sewa", Description: "Sewa LCD dan pengeras suara", Quantity: 5, Unit: "hari", UnitPrice: 300_000},
			{ID: 107, Seq: 7, Category: "dokumentasi", Description: "Dokumentasi dan pelaporan", Quantity: 1, Unit: "paket", UnitPrice: 2_300_000},
		},
		Disbursements: []workflow.Disbursement{
			{ID: 1, Tranche: 1, Amount: 21_000_000, TransferredOn: d("2026-02-02"), Reference: "BSI-2026020200417", CreatedAt: jkt("2026-02-02", 10, 15)},
			{ID: 2, Tranche: 2, Amount: 9_000_000, TransferredOn: d("2026-05-04"), Reference: "BSI-2026050400932", CreatedAt: jkt("2026-05-04", 9, 40)},
		},
		FundingEndedOn: d("2026-09-30"),
		Meetings: []Meeting{
			{HeldOn: d("2026-09-20"), Topic: "Evaluasi akhir kegiatan bantuan", Attendees: 26},
			{HeldOn: d("2026-10-15"), Topic: "Pertemuan rutin: tindak lanjut supervisi akademik", Attendees: 22},
			{HeldOn: d("2026-11-12"), Topic: "Pertemuan rutin: penyusunan RKAM 2027", Attendees: 24},
		},
		Signatories: Signatories{
			Chair:      Signatory{Name: "H. Ahmad Syarifuddin, S.Pd.I., M.Pd.", ID: "197205142005011003"},
			Treasurer:  Signatory{Name: "Siti Nurhaliza, S.Ag.", ID: "198103222009012004"},
			Verifier:   Signatory{Name: "Dra. Euis Komariah, M.Si.", ID: "196909091994032001"},
			OfficeHead: Signatory{Name: "Dr. H. Dedi Mulyadi, M.Ag.", ID: "196712311993031012"},
		},
	}
	for i, b := range l.Budget {
		l.Budget[i].Amount = b.Quantity * b.UnitPrice
		l.Grant.Approved += l.Budget[i].Amount
	}

	facilitators := []string{"Dr. Nana Suryana, M.Pd. (LPMP Jawa Barat)", "Pengawas madrasah", "Drs. Cecep Hidayat", "Pengawas madrasah",
		"Dr. Ratna Dewi, M.Pd.", "Tim fasilitator KKM", "Dr. Nana Suryana, M.Pd. (LPMP Jawa Barat)"}
	sessions := []struct {
		kind  workflow.ActivityKind
		title string
		on    string
	}{
		{workflow.In, "Membaca rapor pendidikan madrasah", "2026-02-10"}, {workflow.On, "Menyusun rencana kerja di madrasah", "2026-02-24"},
		{workflow.In, "Supervisi akademik yang membimbing", "2026-03-10"}, {workflow.On, "Praktik supervisi di kelas", "2026-03-24"},
		{workflow.In, "Refleksi hasil supervisi", "2026-04-14"}, {workflow.In, "Pengelolaan keuangan madrasah yang transparan", "2026-05-12"},
		{workflow.In, "Diseminasi modul praktik baik", "2026-06-09"},
	}
	for i, s := range sessions {
		l.Sessions = append(l.Sessions, Session{Seq: i + 1, Kind: s.kind, Title: s.title, PlannedOn: d(s.on), Status: workflow.ActivityHeld,
			HeldOn: d(s.on), Location: []string{"MI Al-Hikmah Pangandaran", "Madrasah anggota"}[i%2*1], Hours: []int{8, 6}[i%2*1],
			Facilitator: facilitators[i], Present: 28 - i%4, Members: 28,
			Summary: "Peserta mengikuti paparan, diskusi kelompok dan praktik terbimbing; setiap kepala madrasah menyusun rencana tindak lanjut yang diperiksa fasilitator.",
			Outputs: []string{"Rencana kerja berbasis data untuk 28 madrasah", "Instrumen supervisi yang telah diuji", "Modul praktik baik (draf)"}[i%3]})
	}

	// Spread the expenses over the lines in proportion to their amounts, each
	// line spending 95 % of its amount, dated across the activity period.
	counts := make([]int, len(l.Budget))
	line := make([]int, expenses)
	var cum int64
	for i := range expenses {
		at := (int64(i)*2 + 1) * l.Grant.Approved / int64(2*expenses)
		for j := range l.Budget {
			if at < cum+l.Budget[j].Amount || j == len(l.Budget)-1 {
				line[i] = j
				break
			}
			cum += l.Budget[j].Amount
		}
		cum = 0
		counts[line[i]]++
	}
	seen := make([]int, len(l.Budget))
	vendors := []string{"Warung Makan Bu Iis", "CV Sinar Pangandaran", "Toko Buku Al-Ikhlas", "Fotokopi Barokah", "Rental Multimedia Pantai", "Koperasi Madrasah"}
	start, days := d("2026-02-03"), d("2026-09-25").DaysSince(d("2026-02-03"))
	for i := range expenses {
		j := line[i]
		b := l.Budget[j]
		target := b.Amount * 95 / 100
		amount := target / int64(counts[j]) / 100 * 100
		if seen[j] == counts[j]-1 {
			amount = target - amount*int64(counts[j]-1)
		}
		seen[j]++
		on := start.AddDays(i * days / max(expenses, 1))
		e := workflow.Expense{ID: int64(4001 + i), SpentOn: on, BudgetLineID: b.ID, Vendor: vendors[i%len(vendors)],
			Description: fmt.Sprintf("%s, nota %d", b.Description, i+1), Amount: amount, CreatedAt: jkt(on.String(), 15, i%60)}
		switch b.Category {
		case "honorarium":
			e.TaxPPh = amount * 5 / 100
		case "atk_bahan", "sewa":
			e.TaxPPN = amount * 11 / 111
		}
		l.Expenses = append(l.Expenses, e)
	}
	for i, e := range l.Expenses {
		for j := range l.Budget {
			if l.Budget[j].ID == e.BudgetLineID {
				l.Budget[j].Spent += e.Amount
			}
		}
		l.Grant.Spent += e.Amount
		l.Evidence = append(l.Evidence, Evidence{File: fmt.Sprintf("belanja/%04d-nota.pdf", e.ID), Kind: "receipt",
			SHA256: sampleHash("nota", i), Uploader: l.Signatories.Treasurer.Name, UploadedAt: e.CreatedAt})
	}
	for i, s := range l.Sessions {
		l.Evidence = append(l.Evidence, Evidence{File: fmt.Sprintf("kegiatan-%d/daftar-hadir.pdf", s.Seq), Kind: "attendance",
			SHA256: sampleHash("hadir", i), Uploader: l.Signatories.Chair.Name, UploadedAt: jkt(s.HeldOn.String(), 16, 30)})
	}
	names := sessionNames(l.Sessions)
	for i, jpg := range photos {
		s := l.Sessions[i%len(l.Sessions)]
		l.Photos = append(l.Photos, Photo{Caption: names[i%len(names)], JPEG: jpg})
		l.Evidence = append(l.Evidence, Evidence{File: fmt.Sprintf("kegiatan-%d/foto-%02d.jpg", s.Seq, i/len(l.Sessions)+1), Kind: "photo",
			SHA256: hex.EncodeToString(sha256Sum(jpg)), Uploader: l.Signatories.Chair.Name, UploadedAt: jkt(s.HeldOn.String(), 17, i%60)})
	}
	for _, t := range l.Disbursements {
		l.Grant.Disbursed += t.Amount
	}
	l.Grant.Requested = l.Grant.Approved
	l.Grant.Refunded = l.Grant.Disbursed - l.Grant.Spent
	l.Refunds = []workflow.Refund{{ID: 1, Amount: l.Grant.Refunded, PaidOn: d("2026-10-05"), NTPN: "8A4C2E1F9B7D3A05", CreatedAt: jkt("2026-10-05", 11, 0)}}
	l.Ledger = workflow.Ledger(l.Disbursements, l.Expenses, l.Refunds)
	l.Grant.Number, l.Grant.State = "KKM-2026-000123", workflow.Closed

	// The trail: the workflow's transitions and one record per money row, chained.
	type step struct {
		action, actor string
		role          workflow.Role
		at            time.Time
		comment       string
	}
	steps := []step{
		{"open", l.Signatories.Chair.Name, workflow.RoleChair, jkt("2026-01-12", 9, 0), ""},
		{string(workflow.Submit), l.Signatories.Chair.Name, workflow.RoleChair, jkt("2026-01-14", 20, 12), ""},
		{string(workflow.StartReview), l.Signatories.Verifier.Name, workflow.RoleVerifier, jkt("2026-01-16", 8, 30), ""},
		{string(workflow.Recommend), l.Signatories.Verifier.Name, workflow.RoleVerifier, jkt("2026-01-19", 13, 5), "Proposal lengkap, RAB sesuai juknis."},
		{string(workflow.Approve), "Drs. H. Yusuf Mansur, M.M.", workflow.RoleApprover, jkt("2026-01-26", 10, 45), "Disetujui sesuai rekomendasi."},
		{string(workflow.Disburse), "Rina Marlina, S.E.", workflow.RoleFinance, l.Disbursements[0].CreatedAt, "Tahap 1"},
	}
	for _, e := range l.Expenses {
		steps = append(steps, step{"record_expense", l.Signatories.Treasurer.Name, workflow.RoleTreasurer, e.CreatedAt, e.Description})
	}
	steps = append(steps,
		step{string(workflow.Disburse), "Rina Marlina, S.E.", workflow.RoleFinance, l.Disbursements[1].CreatedAt, "Tahap 2"},
		step{"record_refund", l.Signatories.Treasurer.Name, workflow.RoleTreasurer, l.Refunds[0].CreatedAt, "NTPN " + l.Refunds[0].NTPN},
		step{string(workflow.SubmitReport), l.Signatories.Treasurer.Name, workflow.RoleTreasurer, jkt("2026-11-02", 14, 20), ""},
		step{string(workflow.AcceptReport), "Ir. Bambang Sutrisno, Ak.", workflow.RoleAuditor, jkt("2026-11-24", 10, 0), "LPJ lengkap dan sesuai."},
	)
	prev := ""
	for i, s := range steps {
		ev := workflow.Event{ID: int64(i + 1), Seq: i + 1, Action: s.action, ActorName: s.actor, ActorRole: s.role, Comment: s.comment, At: s.at, PrevHash: prev}
		ev.Hash = workflow.ChainHash(prev, ev.Canonical())
		prev = ev.Hash
		l.Trail = append(l.Trail, ev)
	}
	l.Verification = Verification{Code: "V7KQ2M9XD4HPAZT3", URL: "https://grantflow.kemenag.go.id/verify/V7KQ2M9XD4HPAZT3", ChainHead: prev}
	return l
}

func sampleHash(kind string, i int) string {
	return hex.EncodeToString(sha256Sum(fmt.Appendf(nil, "%s-%d", kind, i)))
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
