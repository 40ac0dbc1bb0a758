package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"grantflow/internal/auth"
	"grantflow/internal/grants"
	"grantflow/money"
	"grantflow/workflow"
)

// The pages are html/template files embedded in the binary: each page is
// one file defining "content" (and "title"), rendered inside layout.html.
// Adding a page is one handler calling s.render(c, status, "name", data)
// and one templates/name.html.
//
//go:embed templates/*.html static/*
var pageFS embed.FS

// Cookie names. The session cookie carries the same session token as the
// API's bearer token (one sessions table); the pre-session cookie exists
// only to protect the login form itself against CSRF.
const (
	sessionCookie = "gf_sesi"
	loginCSRF     = "gf_csrf"
)

var bulan = [...]string{"Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"}

// tanggal writes a calendar date as Indonesians do: "24 November 2026".
func tanggal(d workflow.Date) string {
	if d.IsZero() {
		return "—"
	}
	t := d.Time()
	return fmt.Sprintf("%d %s %d", t.Day(), bulan[t.Month()-1], t.Year())
}

// waktu writes an instant in Jakarta time: "24 November 2026 10.15 WIB".
func waktu(t time.Time) string {
	l := t.In(workflow.Jakarta)
	return fmt.Sprintf("%s %02d.%02d WIB", tanggal(workflow.DateOf(l)), l.Hour(), l.Minute())
}

// eventLabels name the audit events that are not workflow actions.
var eventLabels = map[string]string{
	"open":           "membuka hibah",
	"save_proposal":  "menyimpan proposal",
	"record_expense": "mencatat belanja",
	"void_expense":   "membatalkan belanja",
	"record_refund":  "mencatat setoran sisa dana",
	"add_evidence":   "mengunggah bukti",
}

var flagLabels = map[string]string{
	workflow.FlagMeterai:   "perlu meterai",
	workflow.FlagDuplicate: "nota ganda",
	workflow.FlagOutside:   "di luar masa kegiatan",
	// Staff only (workflow.SessionFlags): session costs not tied to a held session.
	workflow.FlagNoSession:      "tanpa kegiatan",
	workflow.FlagSessionNotHeld: "kegiatan tidak terlaksana",
	workflow.FlagReportOverdue:  "LPJ terlambat",
}

var activityStatusLabels = map[workflow.ActivityStatus]string{
	workflow.ActivityPlanned:   "direncanakan",
	workflow.ActivityHeld:      "terlaksana",
	workflow.ActivityCancelled: "dibatalkan",
}

var ledgerKindLabels = map[string]string{
	workflow.EntryDisbursement: "Penyaluran dana",
	workflow.EntryExpense:      "Belanja",
	workflow.EntryTaxWithheld:  "Pajak dipungut",
	workflow.EntryTaxDeposited: "Pajak disetor",
	workflow.EntryVoid:         "Pembatalan belanja",
	workflow.EntryRefund:       "Setor sisa dana",
}

// categoryNames are the SPEC §2 default category names; a programme's own
// codes fall back to the code itself.
var categoryNames = func() map[string]string {
	m := map[string]string{}
	for _, c := range workflow.DefaultCategories() {
		m[c.Code] = c.Name
	}
	return m
}()

func lookup[K comparable](m map[K]string, k K) string {
	if l, ok := m[k]; ok {
		return l
	}
	return fmt.Sprint(k)
}

var pageFuncs = template.FuncMap{
	"rp":      money.Format,
	"tanggal": tanggal,
	"waktu":   waktu,
	"state":   func(s workflow.State) string { return s.Label() },
	"action":  func(a workflow.Action) string { return a.Label() },
	"role":    func(r workflow.Role) string { return r.Label() },
	"event": func(a string) string {
		if l, ok := eventLabels[a]; ok {
			return l
		}
		return workflow.Action(a).Label()
	},
	"flag":   func(f string) string { return lookup(flagLabels, f) },
	"evkind": func(k string) string { return lookup(evidenceKindLabels, k) },
	// allows reports whether the person may take action a on grant v now.
	"allows":   func(v grants.View, a string) bool { return slices.Contains(v.AllowedActions, workflow.Action(a)) },
	"actState": func(s workflow.ActivityStatus) string { return lookup(activityStatusLabels, s) },
	"ledger":   func(k string) string { return lookup(ledgerKindLabels, k) },
	"category": func(c string) string { return lookup(categoryNames, c) },
	"kapital":  sentence,
	// fieldErr is the message of a field of a form, "" when it has none.
	"fieldErr": func(e formErrors, name string) string { return e.Fields[name] },
	// fid turns a field name such as budget[1].unit_price into an id.
	"fid":      fieldID,
	"fld":      newField,
	"inc":      func(i int) int { return i + 1 },
	"sisa":     func(a, b int64) int64 { return a - b },
	"editable": proposalEditable,
	"mstatus":  func(st string) string { return lookup(monitorStatusLabels, st) },
	// The survival chart's grid and axis: months 0–12 over 520 px from x=50.
	"ys":      func() []int { return []int{20, 70, 120, 170, 220} },
	"months":  func() []int { return []int{1, 3, 6, 12} },
	"mx":      func(m int) int { return 50 + m*520/12 },
	"kinds":   func() []workflow.Kind { return workflow.Kinds },
	"hasRole": hasRole,
	"minpw":   func() int { return auth.MinPasswordChars },
	"kind": func(k workflow.ActivityKind) string {
		if k == workflow.On {
			return "On"
		}
		return "In"
	},
	"percent": func(share float64) string { return strings.Replace(fmt.Sprintf("%.0f %%", share*100), ".", ",", 1) },
	"bps": func(bps int) string {
		return strings.Replace(strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.2f", float64(bps)/100), "0"), ".0"), ".", ",", 1) + " %"
	},
}

// field is one labelled input of a form, for the "field" template of
// layout.html: the label, the value typed and the message beside it.
type field struct {
	Name, ID, Label, Value, Type, Help, Err string
}

// newField builds a field; typ is an input type, with "rupiah" for an
// amount (text with a numeric keypad) and "textarea" for long text.
func newField(e formErrors, name, label, value, typ, help string) field {
	return field{Name: name, ID: fieldID(name), Label: label, Value: value, Type: typ, Help: help, Err: e.Fields[name]}
}

// fieldID turns a form field name into an HTML id usable in CSS selectors.
func fieldID(name string) string {
	return strings.NewReplacer("[", "-", "]", "", ".", "-", "_", "-").Replace(name)
}

// pageSet holds every parsed page and the stylesheet.
type pageSet struct {
	pages map[string]*template.Template
	css   []byte
}

// loadPages parses layout.html with each other template. It fails on the
// first template that does not parse: a broken page must stop the server
// at start, not answer 500 later.
func loadPages() (*pageSet, error) {
	entries, err := pageFS.ReadDir("templates")
	if err != nil {
		return nil, err
	}
	ps := &pageSet{pages: map[string]*template.Template{}}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(pageFuncs).ParseFS(pageFS, "templates/layout.html", "templates/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", e.Name(), err)
		}
		ps.pages[name] = t
	}
	if ps.css, err = pageFS.ReadFile("static/gaya.css"); err != nil {
		return nil, err
	}
	return ps, nil
}

// page is what every template receives: the person (nil on the login and
// error pages of someone not signed in), the CSRF token for its forms and
// the page's own data.
type page struct {
	Title   string
	User    *grants.UserView
	CSRF    string
	Unread  int  // the person's unread notifications, shown in the header
	Staff   bool // staff roles see the dashboard in the menu
	Admin   bool
	Auditor bool
	Data    any
}

// render executes a page into a buffer first, so a template failure
// answers the error page instead of half a page.
func (s *Server) render(c *fiber.Ctx, status int, name, title string, data any) error {
	t, ok := s.pages.pages[name]
	if !ok {
		return workflow.Errorf(workflow.EInternal, "halaman %s tidak ada", name)
	}
	p := page{Title: title, CSRF: s.csrfToken(c), Data: data}
	if u, ok := c.Locals("user").(grants.UserView); ok {
		p.User = &u
		p.Unread = s.unread(c)
		for _, r := range u.Roles {
			p.Staff = p.Staff || !r.IsGroupRole()
		}
		p.Admin, p.Auditor = slices.Contains(u.Roles, workflow.RoleAdmin), slices.Contains(u.Roles, workflow.RoleAuditor)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, p); err != nil {
		return workflow.Wrap(workflow.EInternal, err, "halaman %s tidak dapat ditampilkan", name)
	}
	c.Type("html", "utf-8")
	return c.Status(status).Send(b.Bytes())
}

// errorPage is the data of templates/error.html.
type errorPage struct {
	Status  int
	Heading string
	Message string
}

var errorHeadings = map[int]string{
	fiber.StatusNotFound:            "Halaman tidak ditemukan",
	fiber.StatusForbidden:           "Akses ditolak",
	fiber.StatusInternalServerError: "Terjadi kesalahan pada server",
	fiber.StatusServiceUnavailable:  "Layanan sedang tidak tersedia",
	fiber.StatusTooManyRequests:     "Terlalu banyak permintaan",
}

// pageError renders err as the Indonesian error page with the status the
// one statusOf table gives its code; only internal errors are logged.
func (s *Server) pageError(c *fiber.Ctx, err error) error {
	var we *workflow.Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &we):
	case errors.As(err, &fe) && fiberErrors[fe.Code] != nil:
		we = fiberErrors[fe.Code]
	default:
		we = workflow.Wrap(workflow.EInternal, err, "terjadi kesalahan pada server")
	}
	status, ok := statusOf[we.Code]
	if !ok {
		status = fiber.StatusInternalServerError
	}
	msg := we.Message
	switch we.Code {
	case workflow.EInternal:
		s.log.Error("internal error", "request_id", c.Locals("request_id"), "path", c.Path(), "error", err.Error())
		msg = "Maaf, terjadi kesalahan. Silakan coba lagi; bila berulang, hubungi admin."
	case workflow.EUnavailable:
		c.Set(fiber.HeaderRetryAfter, "5")
	}
	heading, ok := errorHeadings[status]
	if !ok {
		heading = "Permintaan tidak dapat diproses"
	}
	data := errorPage{Status: status, Heading: heading, Message: sentence(msg)}
	if rerr := s.render(c, status, "error", heading, data); rerr != nil {
		// The error page itself failed: fall back to plain text, once.
		s.log.Error("error page failed", "error", rerr.Error())
		c.Type("txt", "utf-8")
		return c.Status(status).SendString(heading)
	}
	return nil
}

// pageHeaders sets the security headers of every page and turns the
// errors of the handlers after it into the HTML error page (the API's
// error handler answers JSON). CSP allows only this origin's stylesheet
// and no inline script or style; Referrer-Policy is same-origin rather
// than no-referrer so that same-site posts keep their Referer.
func (s *Server) pageHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set(fiber.HeaderCacheControl, "no-store") // pages carry personal data
	if err := c.Next(); err != nil {
		return s.pageError(c, err)
	}
	return nil
}

// pageSession reads the session cookie and, when it names a live session,
// sets the person as the API's authenticate does. A dead or forged cookie
// is cleared and the visitor treated as signed out.
func (s *Server) pageSession(c *fiber.Ctx) error {
	tok := c.Cookies(sessionCookie)
	if tok == "" {
		return c.Next()
	}
	u, err := s.svc.Authenticate(c.UserContext(), tok)
	switch workflow.ErrorCode(err) {
	case "":
		c.Locals("actor", u.Actor())
		c.Locals("user", grants.ViewUser(u))
		c.Locals("session", tok)
	case workflow.EUnauthorized:
		s.clearCookie(c, sessionCookie)
	default:
		return err
	}
	return c.Next()
}

// requireLogin sends a visitor without a live session to the login page.
func requireLogin(c *fiber.Ctx) error {
	if _, ok := c.Locals("actor").(workflow.Actor); !ok {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	return c.Next()
}

// CSRF protection is a token derived with HMAC-SHA256 from a secret the
// browser already holds in an HttpOnly cookie: the session token once
// signed in, a random pre-session cookie on the login form (double submit).
// Why this design: it needs no server-side state and no shared key, so any
// instance behind the load balancer verifies a token another issued; a
// cross-site page cannot read the cookie, so it cannot compute the token.
// The HMAC keeps the form token from revealing the cookie it comes from.
const csrfField = "_csrf"

func csrfOf(secret, purpose string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("grantflow csrf v1 " + purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfToken returns the token the forms of this response must carry,
// setting the pre-session cookie when a signed-out visitor has none.
func (s *Server) csrfToken(c *fiber.Ctx) string {
	if tok, ok := c.Locals("session").(string); ok {
		return csrfOf(tok, "session")
	}
	pre := c.Cookies(loginCSRF)
	if v, ok := c.Locals(loginCSRF).(string); ok {
		pre = v
	}
	if len(pre) < 32 {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		pre = base64.RawURLEncoding.EncodeToString(b)
		c.Locals(loginCSRF, pre)
		s.setCookie(c, loginCSRF, pre, 0)
	}
	return csrfOf(pre, "login")
}

// checkCSRF refuses (403) a form post whose _csrf does not match the
// token of the cookie it came with. It runs before any other use of the form.
func (s *Server) checkCSRF(c *fiber.Ctx) error {
	var want string
	if tok, ok := c.Locals("session").(string); ok {
		want = csrfOf(tok, "session")
	} else if pre := c.Cookies(loginCSRF); len(pre) >= 32 {
		want = csrfOf(pre, "login")
	}
	got := c.FormValue(csrfField)
	if want == "" || !hmac.Equal([]byte(got), []byte(want)) {
		return errCSRF
	}
	return c.Next()
}

// errCSRF refuses a form whose token is missing or not this session's.
var errCSRF = workflow.Errorf(workflow.EForbidden, "Formulir kedaluwarsa atau tidak sah. Muat ulang halaman lalu coba lagi.")

// validCSRF reports whether got is the form token of the signed-in session
// (for the streamed multipart forms, which read the token inside the body).
func validCSRF(got, session string) bool {
	return session != "" && hmac.Equal([]byte(got), []byte(csrfOf(session, "session")))
}

// afterStream checks the CSRF token a streamed multipart form carried in
// its body (read only once the body was), then gives the request its
// database deadline, as the deadline middleware does for other requests
// (it starts after the upload, which may take minutes). The caller defers
// cancel.
func (s *Server) afterStream(c *fiber.Ctx, token string) (context.Context, context.CancelFunc, error) {
	session, _ := c.Locals("session").(string)
	if !validCSRF(token, session) {
		return nil, nil, errCSRF
	}
	ctx, cancel := s.dbContext()
	c.SetUserContext(ctx)
	return ctx, cancel, nil
}

// setCookie sets an HttpOnly, SameSite=Lax cookie for the whole site,
// Secure when the request came over HTTPS; maxAge 0 makes it end with the
// browser session.
func (s *Server) setCookie(c *fiber.Ctx, name, value string, maxAge time.Duration) {
	ck := &fiber.Cookie{Name: name, Value: value, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
		Secure: c.Protocol() == "https"}
	if maxAge > 0 {
		ck.MaxAge = int(maxAge.Seconds())
	}
	c.Cookie(ck)
}

func (s *Server) clearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
		Secure: c.Protocol() == "https", MaxAge: -1, Expires: time.Unix(1, 0)})
}

// pageRoutes mounts the web pages. Every page passes pageHeaders (security
// headers, HTML errors) and pageSession; pages of signed-in people also
// requireLogin, and every post checkCSRF.
func (s *Server) pageRoutes(app *fiber.App) {
	open := []fiber.Handler{s.pageHeaders, s.pageSession}
	signed := append(open[:len(open):len(open)], requireLogin)
	post := func(hs []fiber.Handler, h fiber.Handler) []fiber.Handler {
		return append(hs[:len(hs):len(hs)], s.checkCSRF, h)
	}
	get := func(hs []fiber.Handler, h fiber.Handler) []fiber.Handler { return append(hs[:len(hs):len(hs)], h) }

	app.Get("/static/gaya.css", s.stylesheet)
	app.Get("/login", get(open, s.loginPage)...)
	app.Post("/login", post(open, s.loginPost)...)
	app.Post("/keluar", post(signed, s.logoutPost)...)
	app.Get("/", get(signed, s.homePage)...)
	app.Get("/hibah/:id", get(signed, s.grantPage)...)
	app.Post("/hibah/:id/tindakan", post(signed, s.actPost)...)
	app.Get("/hibah/:id/proposal", get(signed, s.proposalPage)...)
	app.Post("/hibah/:id/proposal", post(signed, s.proposalPost)...)
	app.Get("/hibah/:id/belanja", get(signed, s.expensePage)...)
	// The expense form is multipart and streamed: its CSRF token is read
	// inside the body by expensePost itself.
	app.Post("/hibah/:id/belanja", get(signed, s.expensePost)...)
	app.Post("/hibah/:id/belanja/:eid/batal", post(signed, s.voidPost)...)
	app.Get("/hibah/:id/kegiatan/:aid", get(signed, s.activityPage)...)
	app.Post("/hibah/:id/kegiatan/:aid/pelaksanaan", post(signed, s.realizePost)...)
	// Multipart and streamed like the expense form: CSRF read inside the body.
	app.Post("/hibah/:id/kegiatan/:aid/bukti", get(signed, s.evidencePost)...)
	app.Post("/hibah/:id/kegiatan/:aid/batal", post(signed, s.cancelActivityPost)...)
	app.Post("/hibah/:id/penyaluran", post(signed, s.disbursePost)...)
	// The API's downloads on the page's session, at the API's paths without
	// its prefix: the LPJ, the auditor's dossier, and evidence files and
	// their EXIF-free previews (the thumbnails), each checked by the service
	// as for the API.
	app.Get("/grants/:id/report.pdf", get(signed, s.reportPDF)...)
	app.Get("/grants/:id/dossier.zip", get(signed, s.dossier)...)
	app.Get("/evidence/:id", get(signed, s.evidence)...)
	app.Get("/hibah/:id/setoran", get(signed, s.refundPage)...)
	app.Post("/hibah/:id/setoran", post(signed, s.refundPost)...)
	app.Get("/kelompok/:id/pertemuan", get(signed, s.meetingsPage)...)
	// The meeting form is multipart and streamed (its photo): its CSRF token is
	// read inside the body by meetingPost itself.
	app.Post("/kelompok/:id/pertemuan", get(signed, s.meetingPost)...)
	app.Get("/pemantauan", get(signed, s.monitoringPage)...)
	app.Get("/pemantauan/ekspor", get(signed, s.monitoring)...) // the API's export, with the page's session
	app.Get("/notifikasi", get(signed, s.notificationsPage)...)
	app.Post("/notifikasi/:id/baca", post(signed, s.markReadPost)...)
	app.Get("/lpj", get(signed, s.auditPage)...)
	app.Get("/risiko", get(signed, s.riskPage)...)           // pages_risk.go
	app.Get("/risiko/ekspor", get(signed, s.riskRanking)...) // the API's export, with the page's session
	admin := append(signed[:len(signed):len(signed)], requireAdmin)
	app.Get("/admin/program", get(admin, s.programsPage)...)
	app.Post("/admin/program", post(admin, s.programPost)...)
	app.Get("/admin/kelompok", get(admin, s.groupsPage)...)
	app.Post("/admin/kelompok", post(admin, s.groupPost)...)
	app.Get("/admin/pengguna", get(admin, s.usersPage)...)
	app.Post("/admin/pengguna", post(admin, s.userPost)...)
	app.Get("/verify/:code", get(open, s.verifyPage)...) // public, like the API's verification

	// Anything else outside the API that a browser asks for is a page that
	// does not exist. Other clients keep the API's JSON 404, so scripts
	// that mistype a path still read a JSON error.
	browserMiss := func(c *fiber.Ctx) bool {
		return !strings.HasPrefix(c.Path(), "/api/") && strings.Contains(c.Get(fiber.HeaderAccept), "text/html")
	}
	app.Use(func(c *fiber.Ctx) error {
		if !browserMiss(c) {
			return c.Next()
		}
		return s.pageHeaders(c)
	}, func(c *fiber.Ctx) error {
		if !browserMiss(c) {
			return c.Next()
		}
		return workflow.Errorf(workflow.ENotFound, "Alamat %s tidak ada di grantflow.", c.Path())
	})
}

// stylesheet serves the one stylesheet; it changes only with the binary.
func (s *Server) stylesheet(c *fiber.Ctx) error {
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	c.Type("css", "utf-8")
	return c.Send(s.pages.css)
}
