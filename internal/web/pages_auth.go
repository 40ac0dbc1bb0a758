package web

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"grantflow/workflow"
)

// formErrors are the messages of one form: per field (shown beside it and
// linked with aria-describedby) and for the form as a whole.
type formErrors struct {
	Fields map[string]string
	Form   []string
}

// has reports whether any message was collected.
func (f formErrors) has() bool { return len(f.Fields) > 0 || len(f.Form) > 0 }

// field records msg for field, keeping the first message of each field.
func (f *formErrors) field(name, msg string) {
	if f.Fields == nil {
		f.Fields = map[string]string{}
	}
	if prev, ok := f.Fields[name]; ok {
		msg = prev + "; " + msg
	}
	f.Fields[name] = msg
}

// from spreads a service error over the form: details whose field the form
// shows go beside that field, every other message above the form. It
// returns the HTTP status of the error, or 0 when err is not one a form
// can show (not found, internal, unavailable), which the caller returns.
func (f *formErrors) from(err error, shown ...string) int {
	code := workflow.ErrorCode(err)
	switch code {
	case workflow.EInvalid, workflow.EUnprocessable, workflow.EConflict, workflow.EForbidden,
		workflow.EUnauthorized, workflow.ETooMany:
	default:
		return 0
	}
	var we *workflow.Error
	if !errors.As(err, &we) {
		return 0
	}
	placed := false
	for _, d := range we.Details {
		if d.Field != "" && slices.Contains(shown, d.Field) {
			f.field(d.Field, sentence(d.Message))
			placed = true
		} else {
			f.Form = append(f.Form, sentence(d.Message))
		}
	}
	if !placed || len(we.Details) == 0 {
		f.Form = append([]string{sentence(we.Message)}, f.Form...)
	}
	return statusOf[code]
}

// sentence capitalises a service message for a page.
func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// loginForm is the data of templates/login.html.
type loginForm struct {
	Email  string
	Errors formErrors
}

func (s *Server) loginPage(c *fiber.Ctx) error {
	if _, ok := c.Locals("actor").(workflow.Actor); ok {
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	return s.render(c, fiber.StatusOK, "login", "Masuk", loginForm{})
}

// loginPost opens a session and puts it in the cookie. The session is
// rotated: whatever session the browser carried before is revoked, and
// the new one has a new token, so a session id planted before login is
// worth nothing after it.
func (s *Server) loginPost(c *fiber.Ctx) error {
	f := loginForm{Email: strings.TrimSpace(c.FormValue("email"))}
	password := c.FormValue("password")
	if f.Email == "" {
		f.Errors.field("email", "Email wajib diisi.")
	}
	if password == "" {
		f.Errors.field("password", "Kata sandi wajib diisi.")
	}
	if f.Errors.has() {
		return s.render(c, fiber.StatusUnprocessableEntity, "login", "Masuk", f)
	}
	token, _, err := s.svc.Login(c.UserContext(), f.Email, password, c.IP())
	if err != nil {
		status := f.Errors.from(err, "email", "password")
		if status == 0 {
			return err
		}
		var we *workflow.Error
		if errors.As(err, &we) && we.RetryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(we.RetryAfter.Seconds())+1))
		}
		return s.render(c, status, "login", "Masuk", f)
	}
	if err := s.endSession(c); err != nil {
		return err
	}
	s.setCookie(c, sessionCookie, token, 0)
	s.clearCookie(c, loginCSRF)
	return c.Redirect("/", fiber.StatusSeeOther)
}

// logoutPost revokes the session and clears the cookie.
func (s *Server) logoutPost(c *fiber.Ctx) error {
	if err := s.endSession(c); err != nil {
		return err
	}
	s.clearCookie(c, sessionCookie)
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// endSession revokes the session the request's cookie names, if it is live.
func (s *Server) endSession(c *fiber.Ctx) error {
	tok, ok := c.Locals("session").(string)
	if !ok {
		return nil
	}
	return s.svc.Logout(c.UserContext(), tok)
}
