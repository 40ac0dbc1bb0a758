package web

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"grantflow/internal/grants"
	"grantflow/workflow"
)

// pageClient is a browser without a browser: it keeps cookies between
// requests through app.Test and reads the CSRF token off the last page.
type pageClient struct {
	h       *harness
	t       testing.TB
	cookies map[string]string
	csrf    string
	proto   string // "https" to arrive as through a TLS-terminating proxy
}

func (h *harness) client(t testing.TB) *pageClient {
	return &pageClient{h: h.in(t), t: t, cookies: map[string]string{}}
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (p *pageClient) send(req *http.Request) result {
	p.t.Helper()
	for k, v := range p.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8") // as a browser asks
	if p.proto != "" {
		req.Header.Set("X-Forwarded-Proto", p.proto)
	}
	r := p.h.send(req)
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(p.cookies, c.Name)
		} else {
			p.cookies[c.Name] = c.Value
		}
	}
	if m := csrfInput.FindSubmatch(r.body); m != nil {
		p.csrf = string(m[1])
	}
	return r
}

func (p *pageClient) get(path string) result {
	p.t.Helper()
	return p.send(request("GET", path, "", nil))
}

// post sends form as a browser would; the CSRF token of the last page is
// added unless form sets _csrf itself.
func (p *pageClient) post(path string, form url.Values) result {
	p.t.Helper()
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", p.csrf)
	}
	req := request("POST", path, "", form.Encode())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return p.send(req)
}

// login signs the named person in through the login form.
func (p *pageClient) login(who string) {
	p.t.Helper()
	p.get("/login")
	r := p.post("/login", url.Values{"email": {p.h.user(who).view.Email}, "password": {testPassword}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		p.t.Fatalf("login %s: %d %s %s", who, r.status, r.header.Get("Location"), truncate(r.body))
	}
}

// want fails unless r has status and its body contains every snippet.
func want(t testing.TB, r result, status int, snippets ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, truncate(r.body))
	}
	for _, s := range snippets {
		if !strings.Contains(string(r.body), s) {
			t.Fatalf("page lacks %q:\n%s", s, r.body)
		}
	}
}

func cookieOf(r result, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestPageLoginAndHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.client(t)
	r := p.get("/login")
	want(t, r, 200, `<html lang="id">`, `name="email"`, `name="password"`, `name="_csrf"`, `<label for="email">Email</label>`)
	csp := r.header.Get("Content-Security-Policy")
	if csp == "" || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP %q", csp)
	}
	for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Content-Type": "text/html; charset=utf-8"} {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}

	// Empty fields: both messages, each beside its field.
	e := p.post("/login", url.Values{"email": {""}, "password": {""}})
	want(t, e, http.StatusUnprocessableEntity, `id="email-galat">Email wajib diisi.`, `aria-describedby="email-galat"`,
		`id="password-galat">Kata sandi wajib diisi.`)
	// A wrong password: 401, the address kept, the message shown, no session.
	w := p.post("/login", url.Values{"email": {h.user("verifier").view.Email}, "password": {"salah-sekali-99"}})
	want(t, w, http.StatusUnauthorized, "Email atau kata sandi salah", `value="`+h.user("verifier").view.Email+`"`)
	if _, ok := p.cookies[sessionCookie]; ok {
		t.Fatal("a failed login set a session cookie")
	}

	ok := p.post("/login", url.Values{"email": {h.user("verifier").view.Email}, "password": {testPassword}})
	want(t, ok, http.StatusSeeOther)
	c := cookieOf(ok, sessionCookie)
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != "/" {
		t.Fatalf("session cookie %+v", c)
	}
	// The cookie carries a session the API accepts as a bearer token too.
	expect(t, h.do("GET", "/api/v1/me", c.Value, nil), 200, "me with the cookie's session")

	// Behind HTTPS the cookie is Secure.
	s := h.client(t)
	s.proto = "https"
	s.get("/login")
	sr := s.post("/login", url.Values{"email": {h.user("approver").view.Email}, "password": {testPassword}})
	if c := cookieOf(sr, sessionCookie); c == nil || !c.Secure {
		t.Fatalf("cookie over https %+v", c)
	}
}

func TestPageCSRF(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.grantIn(t, h.prog, h.groupA, workflow.Submitted)

	t.Run("login without or with a forged token", func(t *testing.T) {
		p := h.client(t)
		p.get("/login")
		for _, tok := range []string{"", "palsu", csrfOf("tebakan-penyerang-yang-panjang-sekali-32", "login")} {
			r := p.post("/login", url.Values{"_csrf": {tok}, "email": {h.user("verifier").view.Email}, "password": {testPassword}})
			want(t, r, http.StatusForbidden, "Akses ditolak", "Formulir kedaluwarsa atau tidak sah")
			if _, ok := p.cookies[sessionCookie]; ok {
				t.Fatal("a refused login set a session")
			}
		}
		// A post with no cookie at all (a cross-site form on a fresh browser).
		fresh := h.client(t)
		want(t, fresh.post("/login", url.Values{"_csrf": {p.csrf}, "email": {"a@b.c"}, "password": {"x"}}), http.StatusForbidden)
	})

	t.Run("action without a valid token changes nothing", func(t *testing.T) {
		p := h.client(t)
		p.login("verifier")
		want(t, p.get(fmt.Sprintf("/hibah/%d", g.ID)), 200, `value="start_review"`)
		for _, tok := range []string{"", p.csrf + "x", csrfOf("sesi-orang-lain", "session")} {
			r := p.post(fmt.Sprintf("/hibah/%d/tindakan", g.ID), url.Values{"_csrf": {tok}, "action": {"start_review"}})
			want(t, r, http.StatusForbidden, "Akses ditolak")
		}
		if got := h.getGrant(t, "verifier", g.ID).State; got != workflow.Submitted {
			t.Fatalf("state %s after refused posts", got)
		}
		// The token of one session does not serve another.
		q := h.client(t)
		q.login("verapprover")
		r := q.post(fmt.Sprintf("/hibah/%d/tindakan", g.ID), url.Values{"_csrf": {p.csrf}, "action": {"start_review"}})
		want(t, r, http.StatusForbidden)
		// Logout is a form too.
		want(t, p.post("/keluar", url.Values{"_csrf": {"palsu"}}), http.StatusForbidden)
	})
}

func TestPageSessionLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	t.Run("signed out goes to login", func(t *testing.T) {
		p := h.client(t)
		for _, path := range []string{"/", "/hibah/1"} {
			r := p.get(path)
			if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
				t.Fatalf("%s: %d %q", path, r.status, r.header.Get("Location"))
			}
		}
	})

	t.Run("expired session redirects to login and clears the cookie", func(t *testing.T) {
		p := h.client(t)
		p.login("approver")
		want(t, p.get("/"), 200, "Menunggu persetujuan")
		tok := p.cookies[sessionCookie]
		if _, err := h.db.SQL().ExecContext(context.Background(), `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`, h.user("approver").view.ID); err != nil {
			t.Fatal(err)
		}
		r := p.get("/")
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
			t.Fatalf("expired: %d %q", r.status, r.header.Get("Location"))
		}
		if c := cookieOf(r, sessionCookie); c == nil || c.MaxAge >= 0 {
			t.Fatalf("expired cookie not cleared: %+v", c)
		}
		expect(t, h.do("GET", "/api/v1/me", tok, nil), http.StatusUnauthorized, "expired session through the API")
	})

	t.Run("login rotates the session and logout revokes it", func(t *testing.T) {
		p := h.client(t)
		p.login("finance")
		first := p.cookies[sessionCookie]
		// Logging in again from the same browser (a signed-in person's
		// GET /login goes home, so post with the token of the page shown)
		// gives a new session and revokes the old one.
		if r := p.get("/login"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
			t.Fatalf("login page while signed in: %d %q", r.status, r.header.Get("Location"))
		}
		p.get("/")
		r := p.post("/login", url.Values{"email": {h.user("finance").view.Email}, "password": {testPassword}})
		want(t, r, http.StatusSeeOther)
		second := p.cookies[sessionCookie]
		if second == "" || second == first {
			t.Fatalf("session not rotated: %q → %q", first, second)
		}
		expect(t, h.do("GET", "/api/v1/me", first, nil), http.StatusUnauthorized, "old session after a new login")
		expect(t, h.do("GET", "/api/v1/me", second, nil), 200, "new session")

		// The old session's token is dead with it; the page after login carries the new one.
		want(t, p.post("/keluar", url.Values{}), http.StatusForbidden)
		p.get("/")
		out := p.post("/keluar", url.Values{})
		if out.status != http.StatusSeeOther || out.header.Get("Location") != "/login" {
			t.Fatalf("logout: %d %q", out.status, out.header.Get("Location"))
		}
		expect(t, h.do("GET", "/api/v1/me", second, nil), http.StatusUnauthorized, "session after logout")
		if _, ok := p.cookies[sessionCookie]; ok {
			t.Fatal("logout left the cookie")
		}
	})
}

func TestPageQueuesAndGrant(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sub := h.grantIn(t, h.prog, h.groupA, workflow.Submitted)
	rec := h.grantIn(t, h.prog, h.groupB, workflow.Recommended)

	v := h.client(t)
	v.login("verifier")
	want(t, v.get("/"), 200, "Antrean verifikasi", sub.Number, "(1)", "diajukan")
	page := v.get(fmt.Sprintf("/hibah/%d", sub.ID))
	want(t, page, 200, "Hibah "+sub.Number, "Rencana anggaran (RAB)", "Konsumsi", "Riwayat", "Mulai verifikasi",
		`<span class="lencana lencana-submitted" id="status-hibah">diajukan</span>`)
	if strings.Contains(string(page.body), `value="recommend"`) {
		t.Fatal("recommend offered before the review started")
	}

	a := h.client(t)
	a.login("approver")
	want(t, a.get("/"), 200, "Menunggu persetujuan", rec.Number)

	c := h.client(t)
	c.login("chairA")
	home := c.get("/")
	want(t, home, 200, "Hibah kelompok Anda", sub.Number, "diajukan", "Saldo")
	if strings.Contains(string(home.body), rec.Number) {
		t.Fatal("chair of A sees group B's grant")
	}
	// Another group's grant, an unknown one and an unknown page: the
	// Indonesian 404 page; the API keeps answering JSON.
	want(t, c.get(fmt.Sprintf("/hibah/%d", rec.ID)), http.StatusNotFound, "Halaman tidak ditemukan", `lang="id"`)
	want(t, c.get("/hibah/abc"), http.StatusNotFound, "Halaman tidak ditemukan")
	want(t, c.get("/tidak-ada"), http.StatusNotFound, "Halaman tidak ditemukan")
	api := h.do("GET", "/api/v1/tidak-ada", h.token("chairA"), nil)
	expect(t, api, http.StatusNotFound, "unknown API route")
	// A client that does not ask for HTML keeps the JSON 404 off the API too.
	expect(t, h.do("GET", "/tidak-ada", "", nil), http.StatusNotFound, "unknown path without Accept: text/html")
}

func TestPageActionForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.grantIn(t, h.prog, h.groupA, workflow.Submitted)
	path := fmt.Sprintf("/hibah/%d", g.ID)
	p := h.client(t)
	p.login("verifier")
	p.get(path)

	r := p.post(path+"/tindakan", url.Values{"action": {"start_review"}, "expected_state": {"submitted"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != path {
		t.Fatalf("start_review: %d %q %s", r.status, r.header.Get("Location"), truncate(r.body))
	}
	want(t, p.get(path), 200, "sedang diverifikasi", `value="recommend"`, `id="approved_amount"`)

	// Recommend without a comment and with an amount that is no number:
	// both messages beside their fields, the typed amount kept, nothing changed.
	bad := p.post(path+"/tindakan", url.Values{"action": {"recommend"}, "approved_amount": {"dua juta"}, "comment": {""}})
	want(t, bad, http.StatusUnprocessableEntity, `id="approved_amount-galat">Format jumlah tidak valid`, `value="dua juta"`,
		`aria-describedby="approved_amount-bantuan approved_amount-galat"`)
	// A readable amount but no comment: the service's rule, beside the comment.
	nc := p.post(path+"/tindakan", url.Values{"action": {"recommend"}, "approved_amount": {"1.000.000"}, "comment": {"  "}})
	want(t, nc, http.StatusUnprocessableEntity, `id="comment-galat">Catatan wajib diisi`, `aria-describedby="comment-bantuan comment-galat"`)
	// Over the requested amount.
	over := p.post(path+"/tindakan", url.Values{"action": {"recommend"}, "approved_amount": {"Rp 999.000.000"}, "comment": {"Lengkap."}})
	want(t, over, http.StatusUnprocessableEntity, `id="approved_amount-galat">Jumlah yang direkomendasikan Rp 999.000.000 melebihi`, "Lengkap.")
	// A stale page: the state moved on since it was shown.
	stale := p.post(path+"/tindakan", url.Values{"action": {"request_revision"}, "comment": {"Lengkapi."}, "expected_state": {"submitted"}})
	want(t, stale, http.StatusConflict, "muat ulang halaman")
	// An action this person may not take, and one that does not exist.
	want(t, p.post(path+"/tindakan", url.Values{"action": {"approve"}, "comment": {"x"}}), http.StatusForbidden, "Anda tidak berwenang")
	want(t, p.post(path+"/tindakan", url.Values{"action": {"terbang"}}), http.StatusUnprocessableEntity, "Tindakan tidak dikenal")
	if got := h.getGrant(t, "verifier", g.ID); got.State != workflow.InReview || got.AmountApproved != 0 {
		t.Fatalf("refused posts changed the grant: %s %d", got.State, got.AmountApproved)
	}

	ok := p.post(path+"/tindakan", url.Values{"action": {"recommend"}, "approved_amount": {"Rp 1.000.000"}, "comment": {"Sesuai juknis."}})
	want(t, ok, http.StatusSeeOther)
	after := h.getGrant(t, "verifier", g.ID)
	if after.State != workflow.Recommended || after.AmountApproved != 1_000_000 {
		t.Fatalf("after recommend: %s %d", after.State, after.AmountApproved)
	}
	want(t, p.get(path), 200, "direkomendasikan", "Rp 1.000.000", "Sesuai juknis.")
}

func TestPageErrorPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// A bare app with the pages' middleware in front of failing handlers:
	// the error page answers each status in Indonesian, and an internal
	// error's own text never reaches the visitor.
	app := fiber.New(fiber.Config{ErrorHandler: h.srv.handleError})
	app.Get("/rusak", h.srv.pageHeaders, func(*fiber.Ctx) error { return errors.New("pipa bocor di baris 42") })
	app.Get("/sibuk", h.srv.pageHeaders, func(*fiber.Ctx) error {
		return workflow.Errorf(workflow.EUnavailable, "basis data tidak terjangkau")
	})
	app.Get("/larang", h.srv.pageHeaders, func(*fiber.Ctx) error { return workflow.Errorf(workflow.EForbidden, "hanya admin") })
	get := func(path string) result {
		resp, err := app.Test(httptest.NewRequest("GET", path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return result{status: resp.StatusCode, header: resp.Header, body: b}
	}
	r := get("/rusak")
	want(t, r, http.StatusInternalServerError, `lang="id"`, "Terjadi kesalahan pada server", "Galat 500")
	if strings.Contains(string(r.body), "pipa bocor") {
		t.Fatal("the internal error's text reached the page")
	}
	s := get("/sibuk")
	want(t, s, http.StatusServiceUnavailable, "Layanan sedang tidak tersedia", "Basis data tidak terjangkau")
	if s.header.Get("Retry-After") == "" {
		t.Error("503 page without Retry-After")
	}
	want(t, get("/larang"), http.StatusForbidden, "Akses ditolak", "Hanya admin")
}

// The home page is each role's own work: a group's grant with what to do
// next (the grant read's own next_steps), and for an auditor the LPJs that
// are overdue, with the way to the red flags.
func TestHomeNextStepsAndOverdue(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.fundedGrantFor(t)
	var full grants.View
	h.do("GET", fmt.Sprintf("/api/v1/grants/%d", g.ID), h.token("treasurerA"), nil).decode(t, &full)
	if len(full.NextSteps) == 0 {
		t.Fatal("a funded grant with no session held has no next steps")
	}
	p := h.client(t)
	p.login("treasurerA")
	want(t, p.get("/"), 200, "Langkah berikutnya", html.EscapeString(full.NextSteps[0]))

	a := h.client(t)
	a.login("auditor")
	want(t, a.get("/"), 200, "LPJ terlambat <span class=\"jumlah\">(0)</span>", `href="/risiko"`)
	// The round's dates moved into the past, in their order: the LPJ was due yesterday.
	if _, err := h.db.SQL().ExecContext(context.Background(), `UPDATE programs SET proposal_closes_on = CAST($1 AS date) - 3,
		activity_ends_on = CAST($1 AS date) - 2, report_due_on = CAST($1 AS date) - 1 WHERE id = $2`, h.today().String(), h.prog.ID); err != nil {
		t.Fatal(err)
	}
	want(t, a.get("/"), 200, "LPJ terlambat <span class=\"jumlah\">(1)</span>", fmt.Sprintf(`<a href="/hibah/%d">%s</a>`, g.ID, g.Number))
}
