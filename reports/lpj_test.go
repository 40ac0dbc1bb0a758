package reports

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"grantflow/money"
	"grantflow/workflow"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.pdf")

const golden = "testdata/lpj.golden.pdf"

// goldenLPJ is the fixed report of the golden file: 24 expenses, 8 photos, final.
func goldenLPJ() LPJ {
	var photos [][]byte
	for i := range 8 {
		photos = append(photos, testJPEG(320+i*20, 240))
	}
	return SampleLPJ(24, photos)
}

func render(t testing.TB, l LPJ) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteLPJ(&b, l); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// tool runs a poppler command on pdf and returns its standard output.
func tool(t *testing.T, pdf []byte, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not found: apt-get install -y poppler-utils (.ci/run does)", name)
	}
	f := filepath.Join(t.TempDir(), "lpj.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(name, append(args, f, "-")...).Output()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return string(out)
}

// pages returns the text of each page (pdftotext with args), whitespace
// collapsed to one space so that phrases wrapped across lines still match.
func pages(t *testing.T, pdf []byte, args ...string) []string {
	t.Helper()
	raw := strings.Split(tool(t, pdf, "pdftotext", args...), "\f")
	if last := raw[len(raw)-1]; strings.TrimSpace(last) == "" {
		raw = raw[:len(raw)-1]
	}
	for i, p := range raw {
		raw[i] = strings.Join(strings.Fields(p), " ")
	}
	return raw
}

func pdfInfo(t *testing.T, pdf []byte) map[string]string {
	t.Helper()
	if _, err := exec.LookPath("pdfinfo"); err != nil {
		t.Fatal("pdfinfo not found: apt-get install -y poppler-utils")
	}
	f := filepath.Join(t.TempDir(), "lpj.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdfinfo", f).Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	info := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			info[k] = strings.TrimSpace(v)
		}
	}
	return info
}

func TestLPJGolden(t *testing.T) {
	got := render(t, goldenLPJ())
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -run TestLPJGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("LPJ differs from %s (%d bytes, want %d): look at the pages, then refresh with -update", golden, len(got), len(want))
	}

	// Page images for a person to look at: LPJ_PAGES_DIR keeps them.
	dir := os.Getenv("LPJ_PAGES_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-r", "60", "-png", golden, filepath.Join(dir, "lpj")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "lpj-*.png"))
	n, _ := strconv.Atoi(pdfInfo(t, want)["Pages"])
	if len(pngs) != n || n == 0 {
		t.Fatalf("%d page images for %d pages", len(pngs), n)
	}
	t.Logf("page images in %s", dir)
}

func TestLPJReadBack(t *testing.T) {
	l := goldenLPJ()
	pdf := render(t, l)
	info := pdfInfo(t, pdf)
	n, err := strconv.Atoi(info["Pages"])
	if err != nil || n < 12 {
		t.Fatalf("pages %q", info["Pages"])
	}
	if info["Title"] != "Laporan Pertanggungjawaban KKM-2026-000123 KKM MI Kecamatan Pangandaran" ||
		info["Author"] != "KKM MI Kecamatan Pangandaran" || !strings.Contains(info["Subject"], "Laporan pertanggungjawaban") ||
		!strings.HasPrefix(info["Page size"], "595.28 x 841.89") || !strings.Contains(info["CreationDate"], "Nov 24") {
		t.Errorf("metadata %v", info)
	}
	if !bytes.Contains(pdf, []byte("/Lang (id-ID)")) {
		t.Error("no /Lang (id-ID) in the catalog")
	}

	ps := pages(t, pdf)
	if len(ps) != n {
		t.Fatalf("pdftotext found %d pages, pdfinfo %d", len(ps), n)
	}
	for i, p := range ps {
		if want := "Halaman " + strconv.Itoa(i+1) + " dari " + strconv.Itoa(n); !strings.Contains(p, want) {
			t.Errorf("page %d lacks %q", i+1, want)
		}
	}
	for i, p := range pages(t, pdf, "-raw") {
		if strings.Contains(p, "D R A F") || strings.Contains(p, "DRAF") {
			t.Errorf("page %d of the final report says DRAF", i+1)
		}
	}
	all := strings.Join(ps, " ")
	// What a district office reads first, in the order of issue #9.
	order := []string{"LAPORAN PERTANGGUNGJAWABAN (LPJ)", "Nomor : 017/KKM-PGD/XI/2026", "Lampiran : 1 (satu) berkas", "Perihal :",
		"Kepada Yth. Kepala Kantor Kementerian Agama Kabupaten Pangandaran", "LEMBAR PENGESAHAN",
		"SURAT PERNYATAAN TANGGUNG JAWAB MUTLAK", "METERAI", "BAB I PENDAHULUAN", "A. Latar Belakang", "B. Tujuan",
		"BAB II PELAKSANAAN KEGIATAN", "In-1 Membaca rapor", "On-1 Menyusun rencana", "In-2 Supervisi akademik", "On-2 Praktik supervisi", "In-5 Diseminasi", "BAB III LAPORAN KEUANGAN",
		"Konsumsi peserta In dan On", "Honorarium narasumber", "Dokumentasi dan pelaporan", "Penerimaan dana", "Belanja",
		"Pengembalian sisa dana", "C. Buku Kas Umum (BKU)", "BAB IV PENUTUP", "A. Rencana Keberlanjutan",
		"B. Pertemuan setelah Pendanaan Berakhir", "LAMPIRAN 1 INDEKS BUKTI", "LAMPIRAN 2 DOKUMENTASI KEGIATAN",
		"LAMPIRAN 3 JEJAK PERSETUJUAN", "LAMPIRAN 4 VERIFIKASI DOKUMEN"}
	at := 0
	for _, s := range order {
		i := strings.Index(all[at:], s)
		if i < 0 {
			t.Fatalf("%q missing or out of order (after %q)", s, all[max(0, at-60):at])
		}
		at += i + len(s)
	}
	for _, s := range []string{
		"Rp 30.000.000", "(tiga puluh juta rupiah)", "Rp 28.500.000", "(dua puluh delapan juta lima ratus ribu rupiah)",
		"Rp 1.500.000 (satu juta lima ratus ribu rupiah)", "8A4C2E1F9B7D3A05", "Rp 21.000.000", "Rp 9.000.000",
		"24 November 2026", "Kabupaten Pangandaran, 24 November 2026", "Kelompok Kerja Madrasah (KKM)", "Tahun Anggaran 2026",
		"H. Ahmad Syarifuddin, S.Pd.I., M.Pd.", "Siti Nurhaliza, S.Ag.", "Dra. Euis Komariah, M.Si.", "Dr. H. Dedi Mulyadi, M.Ag.",
		"NIP/ID. 197205142005011003", "28 / 28", "100,0%", "95,0%", "7 dari 7 kegiatan terlaksana",
		"Pertemuan rutin: penyusunan RKAM 2027", "V7KQ2M9XD4HPAZT3", "https://grantflow.kemenag.go.id/verify/V7KQ2M9XD4HPAZT3",
		"belanja/4001-nota.pdf", "kegiatan-1/foto-01.jpg", "setujui", "pemberi persetujuan", "catat belanja", "buka hibah", "Disetujui sesuai rekomendasi.",
		"14 Januari 2026 20.12 WIB", money.Format(l.Ledger[len(l.Ledger)-1].Balance),
	} {
		if !strings.Contains(all, s) {
			t.Errorf("text lacks %q", s)
		}
	}
	// Meetings before the funding ended are not "since funding ended".
	if strings.Contains(all, "Evaluasi akhir kegiatan bantuan") {
		t.Error("a meeting before the funding ended is listed in the closing")
	}
	// Long hex strings may wrap inside their column: compare without spaces.
	flat := strings.ReplaceAll(all, " ", "")
	for _, s := range []string{l.Verification.ChainHead, l.Evidence[0].SHA256} {
		if !strings.Contains(flat, s) {
			t.Errorf("hash %s not in the text", s)
		}
	}
	// Budget lines print in RAB order, each with its realisation.
	budget := all[strings.Index(all, "A. Realisasi Anggaran"):strings.Index(all, "B. Penerimaan")]
	prev := -1
	for _, b := range l.Budget {
		i := strings.Index(budget, b.Description)
		if i < prev {
			t.Errorf("budget line %q out of RAB order", b.Description)
		}
		prev = i
		if !strings.Contains(budget, money.Format(b.Spent)) {
			t.Errorf("realisation %s of %q missing", money.Format(b.Spent), b.Description)
		}
	}
}

func TestLPJDraftWatermark(t *testing.T) {
	l := goldenLPJ()
	l.Draft = true
	// The rotated watermark comes out letter by letter, in content order, with -raw.
	for i, p := range pages(t, render(t, l), "-raw") {
		if !strings.Contains(p, "D R A F") {
			t.Errorf("page %d has no DRAF watermark", i+1)
		}
	}
}

func TestLPJDeterministic(t *testing.T) {
	a, b := render(t, goldenLPJ()), render(t, goldenLPJ())
	if !bytes.Equal(a, b) {
		t.Fatal("two renders of the same data differ")
	}
	l := goldenLPJ()
	l.Date = l.Date.AddDays(1)
	if bytes.Equal(a, render(t, l)) {
		t.Fatal("a different document date gives the same bytes")
	}
}

func TestLPJLongTables(t *testing.T) {
	l := SampleLPJ(300, nil)
	long := strings.Repeat("Pembelian perlengkapan pelatihan supervisi akademik untuk madrasah anggota kelompok kerja, ", 8) + "AKHIRURAIANPANJANG"
	huge := strings.Repeat("Rincian sangat panjang yang melebihi satu halaman penuh tabel belanja. ", 120) + "AKHIRRINCIANRAKSASA"
	l.Expenses[7].Description = long
	l.Expenses[150].Description = huge
	l.Expenses[151].Vendor = "Penyedia dengan nama yang sangat panjang sekali CV Sumber Rezeki Abadi Sentosa Jaya Makmur"
	pdf := render(t, l)
	ps, raw := pages(t, pdf, "-layout"), pages(t, pdf)
	all := strings.Join(raw, " ")
	// Read each column of the expense table on its own (its x range in
	// points), so that wrapped lines of one cell come out in order.
	column := func(xmm, wmm float64) string {
		const pt = 72 / 25.4
		text := pages(t, pdf, "-x", strconv.Itoa(int(xmm*pt)), "-y", "0", "-W", strconv.Itoa(int(wmm*pt)), "-H", "842")
		return strings.Join(text, " ")
	}
	vendors, texts := column(margin+8+19+25, 25), column(margin+8+19+25+25, 40)
	for _, c := range []struct{ col, s string }{{texts, long}, {texts, huge}, {vendors, l.Expenses[151].Vendor}} {
		if !inOrder(c.col, c.s) {
			t.Errorf("text cut: %.60q… not whole in its column", c.s)
		}
	}
	// Every page the expense table runs over starts with its heading row.
	first, last := -1, -1
	for i, p := range raw {
		if strings.Contains(p, "Konsumsi peserta In dan On, nota 1 ") && first < 0 {
			first = i
		}
		if strings.Contains(p, "Jumlah, tanpa yang dibatalkan") {
			last = i
		}
	}
	if first < 0 || last-first < 5 {
		t.Fatalf("expense table on pages %d..%d", first+1, last+1)
	}
	header := regexp.MustCompile(`No Tanggal Mata anggaran Penyedia Uraian Bruto PPN PPh`)
	for i := first; i <= last; i++ {
		if !header.MatchString(ps[i]) {
			t.Errorf("page %d of the expense table has no heading row: %.200q", i+1, ps[i])
		}
	}
	// The ledger runs over the following pages with its own heading.
	bku := 0
	for _, p := range ps {
		if strings.Contains(p, "Tanggal Jenis Referensi Uraian dan penyedia Masuk Keluar Saldo") {
			bku++
		}
	}
	if bku < 8 {
		t.Errorf("BKU heading on %d pages, want one per ledger page (≥ 8 for %d rows)", bku, len(l.Ledger))
	}
	for i := 1; i <= 300; i += 37 {
		if !strings.Contains(all, ", nota "+strconv.Itoa(i)+" ") && !strings.Contains(all, ", nota "+strconv.Itoa(i)) {
			t.Errorf("expense %d missing", i)
		}
	}
}

func TestLPJRefusesNoDate(t *testing.T) {
	l := goldenLPJ()
	l.Date = workflow.Date{}
	var b bytes.Buffer
	if err := WriteLPJ(&b, l); !errors.Is(err, ErrNoDate) || b.Len() != 0 {
		t.Fatalf("err %v, %d bytes written", err, b.Len())
	}
}

func TestLPJOddText(t *testing.T) {
	l := SampleLPJ(3, [][]byte{testJPEG(100, 400), []byte("not a jpeg")})
	l.Group.Name = "KKG 😀 Bel\x07 \u0000 مدرسة"
	l.Expenses[0].Vendor = strings.Repeat("W", 300)
	l.Sessions = nil
	l.Trail = nil
	l.Evidence = nil
	l.Verification.URL = ""
	var b bytes.Buffer
	err := WriteLPJ(&b, l)
	// A broken photo is reported, not rendered as garbage and not a panic.
	if err == nil {
		t.Fatal("no error for a photo that is not a JPEG")
	}
	l.Photos = l.Photos[:1]
	pdf := render(t, l)
	text := strings.Join(pages(t, pdf), " ")
	if !strings.Contains(text, "KKG ? Bel") || !strings.Contains(strings.ReplaceAll(text, " ", ""), strings.Repeat("W", 300)) {
		t.Errorf("odd text not rendered: %.300q", text)
	}
}

// inOrder reports whether every word of want appears in hay in order: the
// text of a cell that runs over pages has the repeated heading row and the
// page furniture between its parts, but must lose no word.
func inOrder(hay, want string) bool {
	for _, w := range strings.Fields(want) {
		i := strings.Index(hay, w)
		if i < 0 {
			return false
		}
		hay = hay[i+len(w):]
	}
	return true
}

// BenchmarkWriteLPJ renders the report of SPEC §9's size: 7 sessions, 300
// expenses and 40 photos (one 1600×1200 JPEG, told apart by a comment
// segment). cmd/bench compares the same render with bare fpdf.
func BenchmarkWriteLPJ(b *testing.B) {
	base := testJPEG(1600, 1200)
	var photos [][]byte
	for i := range 40 {
		p := append([]byte{0xFF, 0xD8, 0xFF, 0xFE, 0, 5, 'f', byte('0' + i/10), byte('0' + i%10)}, base[2:]...)
		photos = append(photos, p)
	}
	l := SampleLPJ(300, photos)
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteLPJ(io.Discard, l); err != nil {
			b.Fatal(err)
		}
	}
}

// Sessions are named In-n/On-n once, whether or not the group's title
// already starts with that name; event actions read in Indonesian.
func TestSessionNamesAndActionLabels(t *testing.T) {
	got := sessionNames([]Session{
		{Kind: workflow.In, Title: "In-1: Lokakarya modul"}, {Kind: workflow.On, Title: "Praktik di madrasah"},
		{Kind: workflow.In, Title: "In-2"}, {Kind: workflow.In, Title: "In-30 hari belajar"}, {Kind: workflow.On, Title: "On-2 – refleksi"},
	})
	want := []string{"In-1: Lokakarya modul", "On-1 Praktik di madrasah", "In-2", "In-3 In-30 hari belajar", "On-2 – refleksi"}
	if !slices.Equal(got, want) {
		t.Errorf("sessionNames = %q, want %q", got, want)
	}
	for a, want := range map[string]string{workflow.EventRealizeActivity: "catat pelaksanaan sesi",
		workflow.EventCancelActivity: "batalkan sesi", "submit": "ajukan proposal"} {
		if got := actionLabel(a); got != want {
			t.Errorf("actionLabel(%q) = %q, want %q", a, got, want)
		}
	}
}
