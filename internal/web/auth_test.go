package web

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"grantflow/workflow"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.user("admin")

	t.Run("success", func(t *testing.T) {
		h := h.in(t)
		// The address is matched case-insensitively and trimmed.
		r := h.do("POST", "/api/v1/session", "", map[string]string{"email": "  " + strings.ToUpper(admin.view.Email) + " ", "password": testPassword})
		expect(t, r, http.StatusCreated, "login")
		var out struct {
			Token string         `json:"token"`
			User  map[string]any `json:"user"`
		}
		r.decode(t, &out)
		if len(out.Token) < 20 {
			t.Fatalf("token %q too short", out.Token)
		}
		if out.User["email"] != admin.view.Email || out.User["name"] != admin.view.Name {
			t.Fatalf("user = %v", out.User)
		}
		if roles, _ := out.User["roles"].([]any); len(roles) != 1 || roles[0] != "admin" {
			t.Fatalf("roles = %v", out.User["roles"])
		}
		for _, secret := range []string{"password", "password_hash", "PasswordHash"} {
			if _, ok := out.User[secret]; ok {
				t.Fatalf("user shows %s: %v", secret, out.User)
			}
		}
		if strings.Contains(string(r.body), "argon2") {
			t.Fatalf("login answer leaks the hash: %s", r.body)
		}
		// The token works, and /me tells who it is.
		me := h.do("GET", "/api/v1/me", out.Token, nil)
		expect(t, me, 200, "me")
		var who workflow.Actor
		me.decode(t, &who)
		if who.UserID != admin.view.ID {
			t.Fatalf("me = %+v, want user %d", who, admin.view.ID)
		}
	})

	t.Run("wrong password and unknown email", func(t *testing.T) {
		h := h.in(t)
		for _, body := range []map[string]string{
			{"email": admin.view.Email, "password": "salah-sekali-123"},
			{"email": "tidak-ada@uji.grantflow.id", "password": testPassword},
			{"email": admin.view.Email, "password": ""},
			{"email": "", "password": ""},
		} {
			r := h.do("POST", "/api/v1/session", "", body)
			e := expect(t, r, http.StatusUnauthorized, "login "+body["email"])
			if e.Code != "unauthorized" {
				t.Fatalf("code %q", e.Code)
			}
			if strings.Contains(r.header.Get("Set-Cookie"), "session") {
				t.Fatalf("failed login sets a cookie")
			}
		}
		// Wrong password and unknown address answer the same message, so
		// the answer does not tell which addresses exist.
		a := h.do("POST", "/api/v1/session", "", map[string]string{"email": admin.view.Email, "password": "salah-sekali-456"}).apiErr(t)
		b := h.do("POST", "/api/v1/session", "", map[string]string{"email": "siapa@uji.grantflow.id", "password": "salah-sekali-456"}).apiErr(t)
		if a.Message != b.Message {
			t.Fatalf("messages differ: %q vs %q", a.Message, b.Message)
		}
	})

	t.Run("malformed login body", func(t *testing.T) {
		h := h.in(t)
		for _, body := range []string{``, `{`, `{"email":1}`, `{"email":"a","password":"b","x":1}`, `[]`} {
			r := h.do("POST", "/api/v1/session", "", body)
			if e := expect(t, r, http.StatusBadRequest, "login body "+body); e.Code != "invalid" {
				t.Fatalf("body %q: code %q", body, e.Code)
			}
		}
	})
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	victim := h.user("verifier")
	other := h.user("approver")

	// Five failures for one account are allowed (401 each)…
	for i := 0; i < 5; i++ {
		r := h.do("POST", "/api/v1/session", "", map[string]string{"email": victim.view.Email, "password": "tebakan-salah-" + string(rune('a'+i))})
		if e := expect(t, r, http.StatusUnauthorized, "failure"); e.Code != "unauthorized" {
			t.Fatalf("code %q", e.Code)
		}
	}
	// …then the account is locked, even for the right password.
	for _, pw := range []string{"tebakan-salah-z", testPassword} {
		r := h.do("POST", "/api/v1/session", "", map[string]string{"email": victim.view.Email, "password": pw})
		if e := expect(t, r, http.StatusTooManyRequests, "throttled login"); e.Code != "too_many" {
			t.Fatalf("code %q", e.Code)
		}
	}
	// The address matches in any case: the lock is per account, not per spelling.
	r := h.do("POST", "/api/v1/session", "", map[string]string{"email": strings.ToUpper(victim.view.Email), "password": testPassword})
	expect(t, r, http.StatusTooManyRequests, "throttled login, other case")
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 15*60+1 {
		t.Errorf("throttled login Retry-After = %q, want seconds until the window frees", r.header.Get("Retry-After"))
	}

	// Another account from the same client address still logs in.
	r = h.do("POST", "/api/v1/session", "", map[string]string{"email": other.view.Email, "password": testPassword})
	expect(t, r, http.StatusCreated, "other account")
}

func TestTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token("chairA")

	for _, c := range []struct {
		name, header string
	}{
		{"missing", ""},
		{"not bearer", "Basic YWRtaW46YWRtaW4="},
		{"empty bearer", "Bearer "},
		{"garbage", "Bearer bukan-token-yang-sah"},
		{"too long", "Bearer " + strings.Repeat("x", 300)},
		{"tampered", "Bearer " + tok[:len(tok)-2] + "zz"},
	} {
		req := request("GET", "/api/v1/grants", "", nil)
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		r := h.send(req)
		if e := expect(t, r, http.StatusUnauthorized, c.name); e.Code != "unauthorized" {
			t.Fatalf("%s: code %q", c.name, e.Code)
		}
	}

	// Every protected route refuses an anonymous caller before anything else,
	// even with a bad body or an unknown id.
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/me", ""},
		{"POST", "/api/v1/programs", "{"},
		{"POST", "/api/v1/users", `{"email":"x@y.z"}`},
		{"GET", "/api/v1/grants/999999", ""},
		{"POST", "/api/v1/grants/1/actions/approve", `{}`},
		{"PUT", "/api/v1/grants/abc/proposal", `{}`},
		{"GET", "/api/v1/grants/1/events", ""},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		r := h.do(c.method, c.path, "", body)
		expect(t, r, http.StatusUnauthorized, c.method+" "+c.path)
	}

	// The token works with any capitalisation of the scheme.
	req := request("GET", "/api/v1/me", "", nil)
	req.Header.Set("Authorization", "bearer "+tok)
	expect(t, h.send(req), 200, "lowercase bearer")

	// Logging out revokes the token at once; a second logout is refused too.
	expect(t, h.do("DELETE", "/api/v1/session", tok, nil), http.StatusNoContent, "logout")
	for _, path := range []string{"/api/v1/me", "/api/v1/grants"} {
		if e := expect(t, h.do("GET", path, tok, nil), http.StatusUnauthorized, "revoked token "+path); e.Code != "unauthorized" {
			t.Fatalf("code %q", e.Code)
		}
	}
	expect(t, h.do("DELETE", "/api/v1/session", tok, nil), http.StatusUnauthorized, "second logout")

	// A fresh login gives a new, working token.
	r := h.do("POST", "/api/v1/session", "", map[string]string{"email": h.user("chairA").view.Email, "password": testPassword})
	expect(t, r, http.StatusCreated, "login again")
	var out struct {
		Token string `json:"token"`
	}
	r.decode(t, &out)
	if out.Token == tok {
		t.Fatal("new login reuses the revoked token")
	}
	expect(t, h.do("GET", "/api/v1/me", out.Token, nil), 200, "new token")
}
