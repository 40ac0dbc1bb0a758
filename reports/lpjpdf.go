package reports

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/boombuler/barcode/qr"
	"github.com/go-pdf/fpdf"

	"grantflow/money"
	"grantflow/workflow"
)

// The report's typeface: DejaVu Sans covers every Latin letter Indonesian
// names use, and is embedded (subset) so that the PDF needs no system font.
var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
)

const (
	family = "DejaVu"
	margin = 20.0 // mm, left, right and top
	bottom = 20.0 // mm below the last line of text, above the footer
	pageW  = 210.0
	pageH  = 297.0
	textW  = pageW - 2*margin
)

var monthNames = [...]string{"Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli",
	"Agustus", "September", "Oktober", "November", "Desember"}

// tanggal writes a date as Indonesian documents do: "24 November 2026"; "-" when unset.
func tanggal(d workflow.Date) string {
	if d.IsZero() {
		return "-"
	}
	t := d.Time()
	return fmt.Sprintf("%d %s %d", t.Day(), monthNames[t.Month()-1], t.Year())
}

// tanggalPendek is tanggal with the month abbreviated ("24 Nov 2026"), for
// the date columns of long tables.
func tanggalPendek(d workflow.Date) string {
	if d.IsZero() {
		return "-"
	}
	t := d.Time()
	return fmt.Sprintf("%d %s %d", t.Day(), monthNames[t.Month()-1][:3], t.Year())
}

// waktu writes an instant in Jakarta time: "24 November 2026 14.05 WIB".
func waktu(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	t = t.In(workflow.Jakarta)
	return fmt.Sprintf("%s %02d.%02d WIB", tanggal(workflow.DateOf(t)), t.Hour(), t.Minute())
}

// percent writes part/whole with one decimal and a decimal comma ("93,3%"),
// in integer arithmetic; "-" when whole is zero.
func percent(part, whole int64) string {
	if whole == 0 {
		return "-"
	}
	p := (part*1000 + whole/2) / whole
	return fmt.Sprintf("%d,%d%%", p/10, p%10)
}

// terbilang is the amount spelled out the way a signed document repeats it.
func terbilang(v int64) string { return "(" + money.Words(v) + ")" }

// clean makes user text printable in the embedded font: fpdf indexes its
// width table by rune and knows only the Basic Multilingual Plane (an emoji
// would panic it), and control characters other than line breaks would
// print as boxes.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r > 0xFFFE || (unicode.IsControl(r) && r != '\n') {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r > 0xFFFE:
			return '?'
		case unicode.IsControl(r):
			return ' '
		}
		return r
	}, s)
}

// orDash keeps empty table cells from looking like missing data.
func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// ErrNoDate is returned by WriteLPJ for an LPJ without a document date:
// the date fixes the PDF's bytes, so there is no sensible default.
var ErrNoDate = errors.New("reports: LPJ tanpa tanggal dokumen")

// WriteLPJ renders the accountability report as an A4 PDF in Bahasa
// Indonesia and writes it to w. The same data gives the same bytes. It
// returns ErrNoDate without writing when d.Date is unset, and otherwise the
// first rendering or write error.
func WriteLPJ(w io.Writer, d LPJ) error {
	if d.Date.IsZero() {
		return ErrNoDate
	}
	x := newDoc(d)
	x.cover()
	x.letter()
	x.approvalSheet()
	x.statement()
	x.introduction()
	x.sessions()
	x.finances()
	x.closing()
	x.evidenceIndex()
	x.photos()
	x.trail()
	if x.d.Audit != nil {
		x.audit()
	}
	x.verification()
	if err := x.pdf.Error(); err != nil {
		return fmt.Errorf("reports: LPJ: %w", err)
	}
	return x.pdf.Output(w)
}

// doc is one report being rendered.
type doc struct {
	pdf        *fpdf.Fpdf
	d          LPJ
	categories map[string]string // code → name
	place      string            // where the group signs: its regency
}

func newDoc(d LPJ) *doc {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCatalogSort(true)
	created := d.Date.Time()
	pdf.SetCreationDate(created)
	pdf.SetModificationDate(created)
	pdf.AddUTF8FontFromBytes(family, "", fontRegular)
	pdf.AddUTF8FontFromBytes(family, "B", fontBold)
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, bottom)
	pdf.AliasNbPages("{nb}")
	pdf.SetTitle(clean("Laporan Pertanggungjawaban "+d.Grant.Number+" "+d.Group.Name), true)
	pdf.SetAuthor(clean(d.Group.Name), true)
	pdf.SetSubject(clean("Laporan pertanggungjawaban bantuan stimulus kelompok kerja "+d.Program.Name), true)
	pdf.SetKeywords(clean("LPJ "+d.Grant.Number+" "+string(d.Group.Kind)), true)
	pdf.SetCreator("grantflow", true)
	pdf.SetLang("id-ID")

	x := &doc{pdf: pdf, d: d, categories: map[string]string{}, place: d.Group.Regency}
	for _, c := range d.Categories {
		x.categories[c.Code] = c.Name
	}
	pdf.SetHeaderFuncMode(x.header, false)
	pdf.SetFooterFunc(x.footer)
	return x
}

// header prints the running title on every page after the cover.
func (x *doc) header() {
	p := x.pdf
	if p.PageNo() == 1 {
		return
	}
	p.SetFont(family, "", 7.5)
	p.SetTextColor(90, 90, 90)
	p.SetXY(margin, 10)
	p.CellFormat(textW, 4, clean("Laporan Pertanggungjawaban · "+x.d.Grant.Number+" · "+x.d.Group.Name), "", 0, "L", false, 0, "")
	p.SetDrawColor(150, 150, 150)
	p.SetLineWidth(0.2)
	p.Line(margin, 14.5, pageW-margin, 14.5)
	p.SetXY(margin, margin)
	p.SetTextColor(0, 0, 0)
	p.SetDrawColor(0, 0, 0)
}

// footer numbers every page and, on a draft, lays the watermark over it
// (over, not under, so that photos and filled table rows cannot hide it).
func (x *doc) footer() {
	p := x.pdf
	p.SetAutoPageBreak(false, 0)
	defer p.SetAutoPageBreak(true, bottom)
	p.SetDrawColor(150, 150, 150)
	p.SetLineWidth(0.2)
	p.Line(margin, pageH-14, pageW-margin, pageH-14)
	p.SetFont(family, "", 8)
	p.SetTextColor(90, 90, 90)
	p.SetXY(margin, pageH-13)
	p.CellFormat(textW/2, 5, clean(x.d.Grant.Number), "", 0, "L", false, 0, "")
	p.CellFormat(textW/2, 5, fmt.Sprintf("Halaman %d dari {nb}", p.PageNo()), "", 0, "R", false, 0, "")
	if x.d.Draft {
		p.SetAlpha(0.13, "Normal")
		p.SetFont(family, "B", 120)
		p.SetTextColor(180, 0, 0)
		p.TransformBegin()
		p.TransformRotate(50, pageW/2, pageH/2)
		sw := p.GetStringWidth("DRAF")
		p.Text(pageW/2-sw/2, pageH/2+15, "DRAF")
		p.TransformEnd()
		p.SetAlpha(1, "Normal")
	}
	p.SetTextColor(0, 0, 0)
	p.SetDrawColor(0, 0, 0)
}

// --- building blocks ---

func (x *doc) font(style string, size float64) { x.pdf.SetFont(family, style, size) }

// title starts a new page with a centred heading.
func (x *doc) title(lines ...string) {
	x.pdf.AddPage()
	x.font("B", 13)
	for _, l := range lines {
		x.pdf.MultiCell(textW, 6.5, clean(l), "", "C", false)
	}
	x.pdf.Ln(5)
}

// heading is a section heading inside a chapter; it moves to a new page
// when fewer than a few lines would follow it on this one.
func (x *doc) heading(s string) {
	x.keep(35)
	x.pdf.Ln(2)
	x.font("B", 11)
	x.pdf.MultiCell(textW, 6, clean(s), "", "L", false)
	x.pdf.Ln(1)
}

// keep starts a new page unless h mm are left on this one.
func (x *doc) keep(h float64) {
	if x.pdf.GetY()+h > pageH-bottom {
		x.pdf.AddPage()
	}
}

// para is running text, justified and wrapped across pages.
func (x *doc) para(s string) {
	x.font("", 10)
	x.pdf.MultiCell(textW, 5.5, clean(orDash(s)), "", "J", false)
	x.pdf.Ln(2)
}

// note is a small line of secondary text (terbilang, remarks).
func (x *doc) note(s string) {
	x.font("", 8.5)
	x.pdf.SetTextColor(60, 60, 60)
	x.pdf.MultiCell(textW, 4.5, clean(s), "", "L", false)
	x.pdf.SetTextColor(0, 0, 0)
}

// fields prints "label : value" lines with the values aligned and wrapped.
func (x *doc) fields(labelW float64, kv ...string) {
	x.font("", 10)
	for i := 0; i+1 < len(kv); i += 2 {
		lines := x.pdf.SplitText(clean(orDash(kv[i+1])), textW-labelW-4)
		x.keep(5.5 * float64(max(len(lines), 1)))
		y := x.pdf.GetY()
		x.pdf.SetXY(margin, y)
		x.pdf.CellFormat(labelW, 5.5, clean(kv[i]), "", 0, "L", false, 0, "")
		x.pdf.CellFormat(4, 5.5, ":", "", 0, "L", false, 0, "")
		x.pdf.SetXY(margin+labelW+4, y)
		x.pdf.MultiCell(textW-labelW-4, 5.5, clean(orDash(kv[i+1])), "", "L", false)
	}
	x.pdf.Ln(2)
}

// column is one column of a table: its heading, width in mm and alignment.
type column struct {
	title string
	w     float64
	align string // "L", "C" or "R"
}

// row is one table row; bold rows are totals.
type row struct {
	cells []string
	bold  bool
}

const (
	cellPad  = 1.2 // mm above and below the text of a cell
	cellLine = 3.9 // mm per line of 7.5 pt text
	cellSize = 7.5
)

// table draws rows under a heading row that is repeated at the top of every
// page the table runs on. Cells wrap (a word longer than its column is
// broken, never cut); a row taller than what is left of the page moves to
// the next page, and one taller than a whole page continues there, line by
// line, so that no text is ever lost.
func (x *doc) table(cols []column, rows []row) {
	p := x.pdf
	p.SetAutoPageBreak(false, 0)
	defer p.SetAutoPageBreak(true, bottom)
	p.SetLineWidth(0.2)
	limit := pageH - bottom

	split := func(cells []string) ([][]string, int) {
		lines := make([][]string, len(cols))
		n := 1
		for i, c := range cols {
			s := ""
			if i < len(cells) {
				s = clean(cells[i])
			}
			lines[i] = p.SplitText(s, c.w)
			n = max(n, len(lines[i]))
		}
		return lines, n
	}
	draw := func(lines [][]string, from, to int, fill bool, align func(int) string) {
		y := p.GetY()
		h := float64(to-from)*cellLine + 2*cellPad
		xPos := margin
		for i, c := range cols {
			style := "D"
			if fill {
				style = "FD"
			}
			p.Rect(xPos, y, c.w, h, style)
			for k := from; k < to && k < len(lines[i]); k++ {
				p.SetXY(xPos, y+cellPad+float64(k-from)*cellLine)
				p.CellFormat(c.w, cellLine, lines[i][k], "", 0, align(i), false, 0, "")
			}
			xPos += c.w
		}
		p.SetXY(margin, y+h)
	}
	x.font("B", cellSize) // the heading is measured in the font it prints in
	headLines, headN := split(titles(cols))
	headH := float64(headN)*cellLine + 2*cellPad
	head := func() {
		p.SetFillColor(226, 232, 240)
		x.font("B", cellSize)
		draw(headLines, 0, headN, true, func(int) string { return "C" })
	}
	if p.GetY()+headH+cellLine+2*cellPad > limit {
		p.AddPage()
	}
	head()
	fresh := true // nothing but the heading on this page yet
	for _, r := range rows {
		style := ""
		if r.bold {
			style = "B"
		}
		x.font(style, cellSize)
		lines, n := split(r.cells)
		for from := 0; from < n; {
			fit := int((limit - p.GetY() - 2*cellPad) / cellLine)
			if fit < n-from && !fresh || fit < 1 {
				p.AddPage()
				head()
				x.font(style, cellSize)
				fresh = true
				continue
			}
			to := min(n, from+fit)
			if r.bold {
				p.SetFillColor(241, 245, 249)
			}
			draw(lines, from, to, r.bold, func(i int) string { return cols[i].align })
			from, fresh = to, false
		}
	}
	x.font("", 10)
	p.Ln(3)
}

func titles(cols []column) []string {
	t := make([]string, len(cols))
	for i, c := range cols {
		t[i] = c.title
	}
	return t
}

// signature draws one signature block at the given column: what the
// signer signs as, space to sign, the name underlined and the identifier.
func (x *doc) signature(xPos, y, w float64, role string, s Signatory) {
	p := x.pdf
	x.font("", 10)
	p.SetXY(xPos, y)
	p.MultiCell(w, 5, clean(role), "", "C", false)
	p.SetXY(xPos, y+33)
	x.font("B", 10)
	name := clean(orDash(s.Name))
	p.CellFormat(w, 5, name, "", 0, "C", false, 0, "")
	nw := math.Min(p.GetStringWidth(name)+4, w)
	p.Line(xPos+(w-nw)/2, y+38, xPos+(w+nw)/2, y+38)
	x.font("", 9)
	p.SetXY(xPos, y+39)
	p.CellFormat(w, 5, clean("NIP/ID. "+orDash(s.ID)), "", 0, "C", false, 0, "")
}

// kindNames are the full names of the group kinds, as the juknis writes them.
var kindNames = map[workflow.Kind]string{
	workflow.KKG:      "Kelompok Kerja Guru (KKG)",
	workflow.MGMP:     "Musyawarah Guru Mata Pelajaran (MGMP)",
	workflow.MGBK:     "Musyawarah Guru Bimbingan dan Konseling (MGBK)",
	workflow.KKM:      "Kelompok Kerja Madrasah (KKM)",
	workflow.POKJAWAS: "Kelompok Kerja Pengawas (Pokjawas)",
}

func (x *doc) kindTitle() string {
	if n, ok := kindNames[x.d.Group.Kind]; ok {
		return n
	}
	return "Kelompok Kerja " + string(x.d.Group.Kind)
}

func (x *doc) officeHead() string {
	return "Kepala Kantor Kementerian Agama " + x.d.Group.Regency
}

// sessionNames names the sessions as groups do, counting In and On sessions
// separately in the order given: "In-1 …", "On-1 …", "In-2 …". A title
// that already starts with its own name (the demo's "In-1: Lokakarya …")
// is not prefixed twice.
func sessionNames(sessions []Session) []string {
	names := make([]string, len(sessions))
	in, on := 0, 0
	for i, s := range sessions {
		var name string
		if s.Kind == workflow.On {
			on++
			name = fmt.Sprintf("On-%d", on)
		} else {
			in++
			name = fmt.Sprintf("In-%d", in)
		}
		if rest, ok := strings.CutPrefix(s.Title, name); ok && (rest == "" || strings.ContainsRune(" :.-–", []rune(rest)[0])) {
			names[i] = s.Title
		} else {
			names[i] = name + " " + s.Title
		}
	}
	return names
}

// --- sections, in the order of issue #9 ---

func (x *doc) cover() {
	p, d := x.pdf, x.d
	p.AddPage()
	p.SetLineWidth(0.8)
	// The frame ends above the page footer.
	p.Rect(12, 12, pageW-24, pageH-12-17, "D")
	p.SetLineWidth(0.2)
	p.Rect(14, 14, pageW-28, pageH-14-19, "D")
	p.SetY(45)
	x.font("B", 20)
	p.MultiCell(textW, 10, "LAPORAN PERTANGGUNGJAWABAN", "", "C", false)
	x.font("B", 13)
	p.MultiCell(textW, 7, "(LPJ)", "", "C", false)
	p.Ln(6)
	x.font("", 12)
	p.MultiCell(textW, 6.5, clean("BANTUAN STIMULUS "+strings.ToUpper(x.kindTitle())), "", "C", false)
	p.MultiCell(textW, 6.5, clean(d.Program.Name), "", "C", false)
	p.MultiCell(textW, 6.5, fmt.Sprintf("Tahun Anggaran %d", d.Program.Year), "", "C", false)
	p.Ln(25)
	x.font("B", 16)
	p.MultiCell(textW, 8, clean(d.Group.Name), "", "C", false)
	x.font("", 11)
	if d.Group.Subject != "" {
		p.MultiCell(textW, 6, clean("Mata pelajaran "+d.Group.Subject), "", "C", false)
	}
	p.MultiCell(textW, 6, clean(d.Group.Regency+", Provinsi "+d.Group.Province), "", "C", false)
	p.Ln(12)
	x.font("", 11)
	p.MultiCell(textW, 6, clean("Nomor hibah: "+d.Grant.Number), "", "C", false)
	p.MultiCell(textW, 6, "Nilai hibah: "+money.Format(d.Grant.Approved), "", "C", false)
	p.SetY(pageH - 75)
	x.font("B", 12)
	p.MultiCell(textW, 6.5, "KEMENTERIAN AGAMA REPUBLIK INDONESIA", "", "C", false)
	x.font("", 11)
	p.MultiCell(textW, 6, clean("KANTOR KEMENTERIAN AGAMA "+strings.ToUpper(d.Group.Regency)), "", "C", false)
	p.MultiCell(textW, 6, strconv.Itoa(d.Date.Year()), "", "C", false)
}

func (x *doc) letter() {
	p, d := x.pdf, x.d
	p.AddPage()
	x.font("B", 12)
	p.MultiCell(textW, 6, clean(strings.ToUpper(d.Group.Name)), "", "C", false)
	x.font("", 9)
	p.MultiCell(textW, 4.5, clean(d.Group.Regency+", Provinsi "+d.Group.Province+" · SK "+orDash(d.Group.SKNumber)), "", "C", false)
	p.SetLineWidth(0.6)
	p.Line(margin, p.GetY()+1.5, pageW-margin, p.GetY()+1.5)
	p.SetLineWidth(0.2)
	p.Ln(6)
	x.font("", 10)
	p.CellFormat(textW, 5.5, clean(x.place+", "+tanggal(d.Date)), "", 1, "R", false, 0, "")
	p.Ln(2)
	l := d.Letter
	if l.Attachment == "" {
		l.Attachment = "1 (satu) berkas"
	}
	if l.Subject == "" {
		l.Subject = "Laporan Pertanggungjawaban Bantuan Stimulus " + x.kindTitle()
	}
	x.fields(22, "Nomor", l.Number, "Lampiran", l.Attachment, "Perihal", l.Subject)
	p.Ln(3)
	x.font("", 10)
	p.MultiCell(textW, 5.5, clean("Kepada Yth.\n"+x.officeHead()+"\ndi tempat"), "", "L", false)
	p.Ln(5)
	x.para("Dengan hormat,")
	x.para(fmt.Sprintf("Bersama ini kami sampaikan Laporan Pertanggungjawaban penggunaan bantuan stimulus %s dalam %s "+
		"Tahun Anggaran %d dengan nomor hibah %s. Bantuan yang disetujui sebesar %s %s telah kami terima sebesar %s, "+
		"kami belanjakan sebesar %s dan sisanya sebesar %s telah kami setorkan kembali ke kas negara.",
		x.kindTitle(), d.Program.Name, d.Program.Year, d.Grant.Number, money.Format(d.Grant.Approved), terbilang(d.Grant.Approved),
		money.Format(d.Grant.Disbursed), money.Format(d.Grant.Spent), money.Format(d.Grant.Refunded)))
	x.para("Laporan ini memuat pelaksanaan kegiatan In dan On, realisasi anggaran, buku kas umum, bukti-bukti pendukung " +
		"serta jejak persetujuan yang dapat diverifikasi secara daring. Demikian laporan ini kami sampaikan; atas perhatian " +
		"Bapak/Ibu kami ucapkan terima kasih.")
	x.keep(50)
	x.signature(pageW-margin-75, p.GetY()+4, 75, "Ketua "+d.Group.Name, d.Signatories.Chair)
}

func (x *doc) approvalSheet() {
	d := x.d
	x.title("LEMBAR PENGESAHAN", "LAPORAN PERTANGGUNGJAWABAN BANTUAN STIMULUS "+strings.ToUpper(x.kindTitle()))
	x.fields(48,
		"Nama kelompok", d.Group.Name,
		"Jenis kelompok", string(d.Group.Kind),
		"Jenjang", d.Group.Level,
		"Kabupaten/Kota", d.Group.Regency,
		"Provinsi", d.Group.Province,
		"Nomor SK", d.Group.SKNumber,
		"Jumlah anggota", fmt.Sprintf("%d orang", d.Group.Members),
		"Program", fmt.Sprintf("%s (%d)", d.Program.Name, d.Program.Year),
		"Nomor hibah", d.Grant.Number,
		"Nilai hibah disetujui", money.Format(d.Grant.Approved)+" "+terbilang(d.Grant.Approved),
		"Dana diterima", money.Format(d.Grant.Disbursed),
		"Dana dibelanjakan", money.Format(d.Grant.Spent),
		"Sisa dana disetor", money.Format(d.Grant.Refunded),
	)
	p := x.pdf
	x.keep(150)
	p.Ln(2)
	x.font("", 10)
	p.CellFormat(textW, 5.5, clean(x.place+", "+tanggal(d.Date)), "", 1, "R", false, 0, "")
	y := p.GetY() + 2
	x.signature(margin, y, 75, "Ketua", d.Signatories.Chair)
	x.signature(pageW-margin-75, y, 75, "Bendahara", d.Signatories.Treasurer)
	y += 52
	x.signature(margin, y, 75, "Diperiksa oleh\nVerifikator", d.Signatories.Verifier)
	x.signature(pageW-margin-75, y, 75, "Mengesahkan\n"+x.officeHead(), d.Signatories.OfficeHead)
	p.SetY(y + 50)
}

func (x *doc) statement() {
	p, d := x.pdf, x.d
	x.title("SURAT PERNYATAAN TANGGUNG JAWAB MUTLAK", "(SPTJM)")
	x.para("Yang bertanda tangan di bawah ini:")
	x.fields(35, "Nama", d.Signatories.Chair.Name, "NIP/ID", d.Signatories.Chair.ID,
		"Jabatan", "Ketua "+d.Group.Name, "Alamat", d.Group.Regency+", Provinsi "+d.Group.Province)
	x.para(fmt.Sprintf("dengan ini menyatakan dengan sesungguhnya bahwa atas bantuan stimulus %s nomor %s sebesar %s %s:",
		x.kindTitle(), d.Grant.Number, money.Format(d.Grant.Approved), terbilang(d.Grant.Approved)))
	for i, s := range []string{
		"Bertanggung jawab penuh atas penggunaan dana bantuan yang kami terima sesuai dengan petunjuk teknis dan RAB yang disetujui.",
		fmt.Sprintf("Dana sebesar %s telah digunakan untuk kegiatan kelompok kerja dan seluruh bukti pengeluaran yang sah kami simpan serta lampirkan.", money.Format(d.Grant.Spent)),
		fmt.Sprintf("Sisa dana sebesar %s %s telah disetorkan kembali ke kas negara.", money.Format(d.Grant.Refunded), terbilang(d.Grant.Refunded)),
		"Apabila di kemudian hari terdapat kerugian negara akibat penggunaan dana ini, kami bersedia mengembalikannya dan menerima sanksi sesuai ketentuan peraturan perundang-undangan.",
	} {
		x.font("", 10)
		y := p.GetY()
		p.CellFormat(7, 5.5, fmt.Sprintf("%d.", i+1), "", 0, "L", false, 0, "")
		p.SetXY(margin+7, y)
		p.MultiCell(textW-7, 5.5, clean(s), "", "J", false)
		p.Ln(1)
	}
	p.Ln(2)
	x.para("Demikian surat pernyataan ini kami buat dengan sebenar-benarnya.")
	x.keep(60)
	x.font("", 10)
	p.CellFormat(textW, 5.5, clean(x.place+", "+tanggal(d.Date)), "", 1, "R", false, 0, "")
	y := p.GetY() + 2
	sx := pageW - margin - 75
	x.signature(sx, y, 75, "Yang membuat pernyataan,\nKetua", d.Signatories.Chair)
	// The stamp duty (meterai) goes over the signature, left of the name.
	p.SetDashPattern([]float64{1, 1}, 0)
	p.Rect(sx+4, y+12, 26, 18, "D")
	p.SetDashPattern([]float64{}, 0)
	x.font("", 6.5)
	p.SetXY(sx+4, y+16)
	p.MultiCell(26, 3.2, "METERAI\nRp 10.000", "", "C", false)
	p.SetY(y + 50)
}

func (x *doc) introduction() {
	d := x.d
	x.title("BAB I", "PENDAHULUAN")
	x.heading("A. Latar Belakang")
	x.para(d.Proposal.Background)
	x.heading("B. Tujuan")
	x.para(d.Proposal.Objectives)
	x.heading("C. Identitas Kelompok")
	x.fields(48,
		"Nama kelompok", d.Group.Name,
		"Jenis / jenjang", string(d.Group.Kind)+" / "+orDash(d.Group.Level),
		"Mata pelajaran", d.Group.Subject,
		"Kabupaten/Kota", d.Group.Regency,
		"Provinsi", d.Group.Province,
		"Nomor SK", d.Group.SKNumber,
		"Jumlah anggota", fmt.Sprintf("%d orang", d.Group.Members),
		"Rekening", d.Group.BankName+" "+d.Group.BankAccountNumber+" a.n. "+d.Group.BankAccountName,
		"NPWP", d.Group.NPWP,
	)
}

func (x *doc) sessions() {
	x.title("BAB II", "PELAKSANAAN KEGIATAN")
	x.para(fmt.Sprintf("Kegiatan In (in-service di kelompok) dan On (on-the-job di madrasah anggota) yang direncanakan dalam proposal "+
		"dan realisasinya. Kehadiran dihitung dari %d anggota terdaftar.", x.d.Group.Members))
	cols := []column{{"No", 8, "C"}, {"Kegiatan dan tempat", 40, "L"}, {"Tanggal", 22, "C"}, {"JP", 9, "C"},
		{"Narasumber", 27, "L"}, {"Hadir / anggota", 20, "C"}, {"Hasil dan keluaran", 44, "L"}}
	var rows []row
	held, hours := 0, 0
	names := sessionNames(x.d.Sessions)
	for i, s := range x.d.Sessions {
		name := names[i]
		date, jp, att := tanggal(s.HeldOn), strconv.Itoa(s.Hours), fmt.Sprintf("%d / %d\n%s", s.Present, s.Members, percent(int64(s.Present), int64(s.Members)))
		outputs := orDash(s.Outputs)
		switch s.Status {
		case workflow.ActivityHeld:
			held++
			hours += s.Hours
			name += "\nTempat: " + orDash(s.Location)
		case workflow.ActivityCancelled:
			date, jp, att, outputs = "dibatalkan", "-", "-", "Dibatalkan verifikator: "+orDash(s.CancelReason)
		default:
			date, jp, att = "rencana "+tanggal(s.PlannedOn), "-", "-"
		}
		rows = append(rows, row{cells: []string{strconv.Itoa(i + 1), name, date, jp, orDash(s.Facilitator), att, outputs}})
	}
	rows = append(rows, row{bold: true, cells: []string{"", fmt.Sprintf("%d dari %d kegiatan terlaksana", held, len(x.d.Sessions)), "", strconv.Itoa(hours), "", "", ""}})
	x.table(cols, rows)
	for i, s := range x.d.Sessions {
		if s.Status != workflow.ActivityHeld || strings.TrimSpace(s.Summary) == "" {
			continue
		}
		x.heading("Ringkasan " + names[i])
		x.para(s.Summary)
	}
}

func (x *doc) finances() {
	d := x.d
	x.title("BAB III", "LAPORAN KEUANGAN")
	x.heading("A. Realisasi Anggaran per Baris RAB")
	cols := []column{{"No", 8, "C"}, {"Kategori dan uraian", 39, "L"}, {"Volume", 18, "C"}, {"Harga satuan", 21, "R"},
		{"Anggaran", 23, "R"}, {"Realisasi", 23, "R"}, {"%", 15, "R"}, {"Sisa", 23, "R"}}
	var rows []row
	var budget, spent int64
	for i, b := range d.Budget {
		cat := b.Category
		if n, ok := x.categories[cat]; ok {
			cat = n
		}
		budget += b.Amount
		spent += b.Spent
		rows = append(rows, row{cells: []string{strconv.Itoa(i + 1), cat + "\n" + b.Description,
			fmt.Sprintf("%d %s", b.Quantity, b.Unit), money.Format(b.UnitPrice), money.Format(b.Amount),
			money.Format(b.Spent), percent(b.Spent, b.Amount), money.Format(b.Amount - b.Spent)}})
	}
	rows = append(rows, row{bold: true, cells: []string{"", "Jumlah", "", "", money.Format(budget), money.Format(spent),
		percent(spent, budget), money.Format(budget - spent)}})
	x.table(cols, rows)
	x.note("Jumlah anggaran: " + terbilang(budget))
	x.note("Jumlah realisasi: " + terbilang(spent))

	// Taxes of the expenses that stand, as the expense table below counts
	// them: a voided expense's withholding and its deposit stay in the
	// ledger, where they cancel, but were never the grant's taxes. The
	// ledger deposits every withholding on its day (workflow.Ledger).
	var withheld int64
	for _, e := range d.Expenses {
		if !e.Voided() {
			withheld += e.TaxPPN + e.TaxPPh
		}
	}
	deposited := withheld
	x.heading("B. Penerimaan, Belanja, Pajak dan Pengembalian Dana")
	x.fields(62,
		"Dana diterima", money.Format(d.Grant.Disbursed)+" "+terbilang(d.Grant.Disbursed),
		"Dana dibelanjakan", money.Format(d.Grant.Spent)+" "+terbilang(d.Grant.Spent),
		"Pajak dipungut", money.Format(withheld)+" "+terbilang(withheld),
		"Pajak disetor", money.Format(deposited)+" "+terbilang(deposited),
		"Sisa dana disetor ke kas negara", money.Format(d.Grant.Refunded)+" "+terbilang(d.Grant.Refunded),
		"Saldo akhir", money.Format(d.Grant.Balance),
	)

	x.heading("Penerimaan dana")
	rows = rows[:0]
	var in int64
	for _, t := range d.Disbursements {
		in += t.Amount
		rows = append(rows, row{cells: []string{strconv.Itoa(t.Tranche), tanggal(t.TransferredOn), orDash(t.Reference), money.Format(t.Amount)}})
	}
	rows = append(rows, row{bold: true, cells: []string{"", "", "Jumlah", money.Format(in)}})
	x.table([]column{{"Tahap", 20, "C"}, {"Tanggal transfer", 40, "C"}, {"Referensi bank", 70, "L"}, {"Jumlah", 40, "R"}}, rows)

	x.heading("Belanja")
	names := map[int64]string{}
	for _, b := range d.Budget {
		names[b.ID] = b.Description
	}
	rows = rows[:0]
	var gross, ppn, pph int64
	for i, e := range d.Expenses {
		text := orDash(e.Description)
		if e.Voided() {
			text += "\nDIBATALKAN " + tanggal(e.VoidedOn) + ": " + e.VoidReason
		} else {
			gross += e.Amount
			ppn += e.TaxPPN
			pph += e.TaxPPh
		}
		if e.Amount > workflow.MeteraiThreshold {
			text += "\n(nota bermeterai)"
		}
		rows = append(rows, row{cells: []string{strconv.Itoa(i + 1), tanggalPendek(e.SpentOn), orDash(names[e.BudgetLineID]),
			orDash(e.Vendor), text, money.Format(e.Amount), rupiahOrDash(e.TaxPPN), rupiahOrDash(e.TaxPPh)}})
	}
	rows = append(rows, row{bold: true, cells: []string{"", "", "", "", "Jumlah, tanpa yang dibatalkan", money.Format(gross), money.Format(ppn), money.Format(pph)}})
	x.table([]column{{"No", 8, "C"}, {"Tanggal", 19, "C"}, {"Mata anggaran", 25, "L"}, {"Penyedia", 25, "L"},
		{"Uraian", 40, "L"}, {"Bruto", 21, "R"}, {"PPN", 16, "R"}, {"PPh", 16, "R"}}, rows)
	x.note("Jumlah belanja: " + terbilang(gross))

	x.heading("Pengembalian sisa dana")
	rows = rows[:0]
	var back int64
	for _, r := range d.Refunds {
		back += r.Amount
		rows = append(rows, row{cells: []string{tanggal(r.PaidOn), r.NTPN, money.Format(r.Amount)}})
	}
	rows = append(rows, row{bold: true, cells: []string{"", "Jumlah", money.Format(back)}})
	x.table([]column{{"Tanggal setor", 40, "C"}, {"NTPN", 80, "L"}, {"Jumlah", 50, "R"}}, rows)
	x.note("Jumlah dikembalikan: " + terbilang(back))

	x.heading("C. Buku Kas Umum (BKU)")
	rows = rows[:0]
	var tin, tout int64
	for _, e := range d.Ledger {
		tin += e.In
		tout += e.Out
		rows = append(rows, row{cells: []string{tanggalPendek(e.Date), entryKinds[e.Kind], orDash(e.Ref), orDash(e.Description),
			rupiahOrDash(e.In), rupiahOrDash(e.Out), money.Format(e.Balance)}})
	}
	rows = append(rows, row{bold: true, cells: []string{"", "", "", "Jumlah", money.Format(tin), money.Format(tout), money.Format(tin - tout)}})
	x.table([]column{{"Tanggal", 18, "C"}, {"Jenis", 20, "L"}, {"Referensi", 19, "L"}, {"Uraian dan penyedia", 44, "L"},
		{"Masuk", 23, "R"}, {"Keluar", 23, "R"}, {"Saldo", 23, "R"}}, rows)
}

func rupiahOrDash(v int64) string {
	if v == 0 {
		return "-"
	}
	return money.Format(v)
}

func (x *doc) closing() {
	d := x.d
	x.title("BAB IV", "PENUTUP")
	x.heading("A. Rencana Keberlanjutan")
	x.para(d.Proposal.SustainabilityPlan)
	x.heading("B. Pertemuan setelah Pendanaan Berakhir")
	var rows []row
	for _, m := range d.Meetings {
		if !d.FundingEndedOn.IsZero() && m.HeldOn.Before(d.FundingEndedOn) {
			continue
		}
		rows = append(rows, row{cells: []string{strconv.Itoa(len(rows) + 1), tanggal(m.HeldOn), orDash(m.Topic), strconv.Itoa(m.Attendees)}})
	}
	since := "pendanaan berakhir"
	if !d.FundingEndedOn.IsZero() {
		since += " (" + tanggal(d.FundingEndedOn) + ")"
	}
	if len(rows) == 0 {
		x.para("Belum ada pertemuan yang tercatat sejak " + since + ".")
	} else {
		x.para(fmt.Sprintf("Sejak %s kelompok mencatat %d pertemuan:", since, len(rows)))
		x.table([]column{{"No", 10, "C"}, {"Tanggal", 35, "C"}, {"Topik", 100, "L"}, {"Hadir", 25, "C"}}, rows)
	}
	x.heading("C. Penutup")
	x.para("Demikian laporan pertanggungjawaban ini kami susun dengan sebenarnya sebagai wujud akuntabilitas penggunaan " +
		"dana bantuan. Kelompok kerja berkomitmen melanjutkan pertemuan rutin untuk meningkatkan mutu pembelajaran di madrasah.")
}

func (x *doc) evidenceIndex() {
	x.title("LAMPIRAN 1", "INDEKS BUKTI")
	x.para("Setiap berkas bukti dicatat dengan sidik SHA-256-nya; berkas yang sama dalam dosir auditor memiliki sidik yang sama.")
	var rows []row
	for i, e := range x.d.Evidence {
		rows = append(rows, row{cells: []string{strconv.Itoa(i + 1), orDash(e.File), evidenceKinds(e.Kind), orDash(e.SHA256), orDash(e.Uploader), waktu(e.UploadedAt)}})
	}
	if len(rows) == 0 {
		x.para("Tidak ada berkas bukti.")
		return
	}
	x.table([]column{{"No", 8, "C"}, {"Berkas", 38, "L"}, {"Jenis", 18, "L"}, {"SHA-256", 52, "L"}, {"Pengunggah", 26, "L"}, {"Waktu", 28, "L"}}, rows)
}

// evidenceKinds names the kinds of evidence files in Bahasa Indonesia.
func evidenceKinds(k string) string {
	switch k {
	case "receipt":
		return "nota"
	case "attendance":
		return "daftar hadir"
	case "photo":
		return "foto"
	case "minutes":
		return "notulen"
	case "output":
		return "hasil kegiatan"
	case "other":
		return "lainnya"
	}
	return orDash(k)
}

// photos lays the thumbnails out three to a row, each scaled to fit its box
// with its aspect kept, captioned below.
func (x *doc) photos() {
	p := x.pdf
	x.title("LAMPIRAN 2", "DOKUMENTASI KEGIATAN")
	if len(x.d.Photos) == 0 {
		x.para("Tidak ada foto kegiatan.")
		return
	}
	const perRow, gap, boxH, capH = 3, 5.0, 40.0, 9.0
	boxW := (textW - gap*(perRow-1)) / perRow
	for i, ph := range x.d.Photos {
		col := i % perRow
		if col == 0 {
			x.keep(boxH + capH + 2)
		}
		y := p.GetY()
		x0 := margin + float64(col)*(boxW+gap)
		name := fmt.Sprintf("foto-%d", i+1)
		info := p.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "JPG"}, bytes.NewReader(ph.JPEG))
		if info != nil && info.Width() > 0 && info.Height() > 0 {
			w, h := boxW, boxW*info.Height()/info.Width()
			if h > boxH {
				w, h = boxH*info.Width()/info.Height(), boxH
			}
			p.ImageOptions(name, x0+(boxW-w)/2, y+(boxH-h)/2, w, h, false, fpdf.ImageOptions{ImageType: "JPG"}, 0, "")
		}
		p.SetDrawColor(180, 180, 180)
		p.Rect(x0, y, boxW, boxH, "D")
		p.SetDrawColor(0, 0, 0)
		x.font("", 7)
		p.SetXY(x0, y+boxH+0.5)
		lines := p.SplitText(clean(fmt.Sprintf("%d. %s", i+1, ph.Caption)), boxW)
		for k, l := range lines {
			if k == 2 && len(lines) > 2 {
				// Captions are labels: two lines show which session a photo
				// belongs to; the full caption is in the evidence index.
				break
			}
			p.SetXY(x0, y+boxH+0.5+float64(k)*3.3)
			p.CellFormat(boxW, 3.3, l, "", 0, "C", false, 0, "")
		}
		if col == perRow-1 || i == len(x.d.Photos)-1 {
			p.SetXY(margin, y+boxH+capH+2)
		} else {
			p.SetXY(margin, y)
		}
	}
}

func (x *doc) trail() {
	x.title("LAMPIRAN 3", "JEJAK PERSETUJUAN")
	x.para("Setiap peristiwa tercatat berurutan dan dirantai dengan hash SHA-256, sehingga perubahan sekecil apa pun terlihat saat diverifikasi.")
	var rows []row
	for _, e := range x.d.Trail {
		rows = append(rows, row{cells: []string{strconv.Itoa(e.Seq), waktu(e.At), orDash(e.ActorName), e.ActorRole.Label(),
			actionLabel(e.Action), orDash(e.Comment)}})
	}
	if len(rows) == 0 {
		x.para("Belum ada peristiwa.")
		return
	}
	x.table([]column{{"No", 9, "C"}, {"Waktu", 30, "L"}, {"Pelaku", 32, "L"}, {"Peran", 25, "L"}, {"Tindakan", 27, "L"}, {"Catatan", 47, "L"}}, rows)
}

// recordLabels name the events that record facts rather than move the
// grant through the state machine (internal/grants writes them).
var recordLabels = map[string]string{
	"open":                           "buka hibah",
	"save_proposal":                  "simpan proposal",
	"record_expense":                 "catat belanja",
	"void_expense":                   "batalkan belanja",
	"record_refund":                  "catat setor sisa dana",
	"add_evidence":                   "unggah bukti",
	workflow.EventRealizeActivity:    "catat pelaksanaan sesi",
	workflow.EventCorrectRealization: "koreksi pelaksanaan sesi",
	workflow.EventCancelActivity:     "batalkan sesi",
	// issue #13
	"draw_audit_sample":    "ambil sampel audit",
	"record_audit_finding": "catat temuan audit",
}

// actionLabel names an event's action in Bahasa Indonesia; an action this
// package does not know yet prints with its underscores as spaces.
func actionLabel(a string) string {
	if workflow.Action(a).Valid() {
		return workflow.Action(a).Label()
	}
	if l, ok := recordLabels[a]; ok {
		return l
	}
	return strings.ReplaceAll(a, "_", " ")
}

func (x *doc) verification() {
	p, v := x.pdf, x.d.Verification
	x.title("LAMPIRAN 4", "VERIFIKASI DOKUMEN")
	x.para("Keaslian laporan ini dapat diperiksa dengan memindai kode QR atau membuka alamat di bawah. Halaman verifikasi " +
		"menunjukkan nomor hibah, kelompok, status, jumlah dana, sidik SHA-256 laporan yang dibekukan dan keutuhan rantai peristiwa.")
	x.keep(70)
	y := p.GetY() + 2
	const size = 50.0
	if v.URL != "" {
		if err := x.qr(v.URL, margin, y, size); err != nil {
			p.SetError(err)
			return
		}
	}
	p.SetXY(margin+size+8, y)
	x.font("", 10)
	w := textW - size - 8
	for _, kv := range [][2]string{{"Kode verifikasi", v.Code}, {"Alamat", v.URL}, {"Hash kepala rantai", v.ChainHead}, {"Status hibah", x.d.Grant.State.Label()}} {
		p.SetX(margin + size + 8)
		x.font("B", 9)
		p.CellFormat(w, 5, kv[0], "", 2, "L", false, 0, "")
		x.font("", 9)
		p.SetX(margin + size + 8)
		p.MultiCell(w, 4.8, clean(orDash(kv[1])), "", "L", false)
		p.Ln(1.5)
	}
	p.SetY(math.Max(p.GetY(), y+size) + 4)
	if x.d.Draft {
		x.note("Dokumen ini DRAF: isinya masih dapat berubah sampai laporan diterima auditor dan dibekukan.")
	}
}

// qr draws the QR code of s as filled squares, one per dark module (merged
// along each row), in a size×size mm square at (x0, y0). Vector squares
// print sharply at any size and need no image in the PDF.
func (x *doc) qr(s string, x0, y0, size float64) error {
	code, err := qr.Encode(s, qr.M, qr.Auto)
	if err != nil {
		return fmt.Errorf("reports: QR code: %w", err)
	}
	b := code.Bounds()
	n := b.Dx()
	const quiet = 4 // modules of white border the standard asks for
	m := size / float64(n+2*quiet)
	p := x.pdf
	p.SetFillColor(0, 0, 0)
	for yy := 0; yy < b.Dy(); yy++ {
		for xx := 0; xx < n; {
			if !dark(code.At(b.Min.X+xx, b.Min.Y+yy)) {
				xx++
				continue
			}
			start := xx
			for xx < n && dark(code.At(b.Min.X+xx, b.Min.Y+yy)) {
				xx++
			}
			p.Rect(x0+float64(quiet+start)*m, y0+float64(quiet+yy)*m, float64(xx-start)*m, m, "F")
		}
	}
	p.SetFillColor(255, 255, 255)
	return nil
}

func dark(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r+g+b < 3*0x8000
}

// Fonts returns the embedded regular and bold TrueType fonts, so that the
// benchmark's bare-fpdf baseline embeds the same font as the report.
func Fonts() (regular, bold []byte) { return fontRegular, fontBold }
