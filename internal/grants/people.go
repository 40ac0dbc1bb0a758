package grants

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"

	"grantflow/internal/auth"
	"grantflow/internal/postgres"
	"grantflow/internal/validate"
	"grantflow/workflow"
)

// NewUser is the input of CreateUser.
type NewUser struct {
	Email    string          `json:"email" validate:"max=254,nocontrol" label:"Email"`
	Name     string          `json:"name" validate:"max=200,oneline" label:"Nama pengguna"`
	Password string          `json:"password" label:"Kata sandi"`
	Roles    []workflow.Role `json:"roles" validate:"max=10,dive,max=40,nocontrol" label:"Peran"`
	GroupID  int64           `json:"group_id" validate:"min=0" label:"Kelompok"`
	Province string          `json:"province" validate:"max=100,nocontrol" label:"Provinsi"`
	Regency  string          `json:"regency" validate:"max=100,nocontrol" label:"Kabupaten/kota"`
}

// UserView is a user as the API shows it: never the password hash.
type UserView struct {
	ID       int64           `json:"id"`
	Email    string          `json:"email"`
	Name     string          `json:"name"`
	Roles    []workflow.Role `json:"roles"`
	GroupID  int64           `json:"group_id,omitempty"`
	Province string          `json:"province,omitempty"`
	Regency  string          `json:"regency,omitempty"`
	// ProvinceCode and RegencyCode are the scope's official codes.
	ProvinceCode string `json:"province_code,omitempty"`
	RegencyCode  string `json:"regency_code,omitempty"`
}

// ViewUser converts a stored user for the API.
func ViewUser(u postgres.User) UserView {
	return UserView{ID: u.ID, Email: u.Email, Name: u.Name, Roles: u.Roles, GroupID: u.GroupID, Province: u.Province, Regency: u.Regency,
		ProvinceCode: u.ProvinceCode, RegencyCode: u.RegencyCode}
}

// Actor returns the identity the workflow checks for the user u shows, its
// scope by code included: callers that created a user (the demo, tests)
// act as them without a session.
func (u UserView) Actor() workflow.Actor {
	return workflow.Actor{UserID: u.ID, Name: u.Name, Roles: u.Roles, GroupID: u.GroupID,
		Province: u.Province, Regency: u.Regency, ProvinceCode: u.ProvinceCode, RegencyCode: u.RegencyCode}
}

// System is the actor of the command line (user add, demo): an administrator
// with no user row behind it.
var System = workflow.Actor{Name: "system", Roles: []workflow.Role{workflow.RoleAdmin}}

// CreateUser adds a person. Only admins may; every invalid field is reported
// at once (EUnprocessable), a taken e-mail answers EConflict.
func (s *Service) CreateUser(ctx context.Context, a workflow.Actor, in NewUser) (UserView, error) {
	if err := require(a, workflow.RoleAdmin); err != nil {
		return UserView{}, err
	}
	in.Email = auth.NormalizeEmail(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	in.Province, in.Regency = strings.TrimSpace(in.Province), strings.TrimSpace(in.Regency)
	var p workflow.Problems
	if addr, err := mail.ParseAddress(in.Email); err != nil || addr.Address != in.Email || len(in.Email) > 254 {
		p.Add("email", "alamat email tidak valid")
	}
	if in.Name == "" || len(in.Name) > 200 {
		p.Add("name", "nama wajib diisi (paling banyak 200 karakter)")
	}
	if err := auth.ValidatePassword(in.Password); err != nil {
		var we *workflow.Error
		if errors.As(err, &we) && len(we.Details) > 0 {
			p = append(p, we.Details...)
		} else {
			p.Add("password", "kata sandi tidak valid")
		}
	}
	group, staff := false, false
	seen := map[workflow.Role]bool{}
	if len(in.Roles) == 0 {
		p.Add("roles", "paling sedikit satu peran")
	}
	for i, r := range in.Roles {
		switch {
		case r == workflow.RoleAdmin:
		case r.IsStaff():
			staff = true
		case r.IsGroupRole():
			group = true
		default:
			p.Add("roles", "peran %q tidak dikenal (peran ke-%d)", r, i+1)
		}
		if seen[r] {
			p.Add("roles", "peran %q disebut dua kali", r)
		}
		seen[r] = true
	}
	// Segregation of duties: a group's own officer never also verifies,
	// approves, pays or audits.
	if group && (staff || seen[workflow.RoleAdmin]) {
		p.Add("roles", "peran ketua/bendahara tidak boleh digabung dengan peran staf")
	}
	// The chair confirms what the treasurer reports (report confirmation,
	// the LPJ's two signatures): two people.
	if seen[workflow.RoleChair] && seen[workflow.RoleTreasurer] {
		p.Add("roles", "ketua dan bendahara harus dua orang yang berbeda")
	}
	if group && in.GroupID <= 0 {
		p.Add("group_id", "ketua dan bendahara wajib terhubung ke satu kelompok")
	}
	if !group && in.GroupID != 0 {
		p.Add("group_id", "hanya ketua dan bendahara yang terhubung ke kelompok")
	}
	if !staff && (in.Province != "" || in.Regency != "") {
		p.Add("province", "wilayah kerja hanya untuk peran staf")
	}
	// The scope is matched against the official list like a group's
	// region (names or codes) and stored by its codes; a regency scope
	// names its province too.
	place, rp := validate.Region(in.Province, in.Regency)
	if in.Regency != "" && in.Province == "" {
		p.Add("regency", "kabupaten/kota memerlukan provinsi")
	} else {
		p = append(p, rp...)
	}
	if err := validate.With(in, p.Err("data pengguna tidak valid"), "data pengguna tidak valid"); err != nil {
		return UserView{}, err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return UserView{}, workflow.Wrap(workflow.EInternal, err, "kata sandi tidak dapat disimpan")
	}
	var out postgres.User
	err = s.db.InTx(ctx, func(tx *postgres.Tx) error {
		if group {
			if _, err := tx.Group(ctx, in.GroupID); err != nil {
				if workflow.ErrorCode(err) == workflow.ENotFound {
					return (workflow.Problems{{Field: "group_id", Message: "kelompok tidak ditemukan"}}).Err("data pengguna tidak valid")
				}
				return err
			}
		}
		out, err = tx.CreateUser(ctx, postgres.User{Email: in.Email, Name: in.Name, PasswordHash: hash, Roles: in.Roles,
			GroupID: in.GroupID, Province: place.Province.Name, Regency: place.Regency.Name,
			ProvinceCode: place.Province.Code, RegencyCode: place.Regency.Code})
		return err
	})
	return ViewUser(out), err
}

// Login checks a password and opens a session. It answers EUnauthorized for
// a wrong address or password alike, ETooMany while the account has failed
// too often from this client address or the address has failed too often,
// and EUnavailable (counting nothing) when the database cannot be reached.
// An account that failed often from anywhere is only delayed, at most
// s.throttle.MaxDelay an attempt.
func (s *Service) Login(ctx context.Context, email, password, addr string) (string, UserView, error) {
	email = auth.NormalizeEmail(email)
	// Counted before the password is checked, in PostgreSQL under row
	// locks, so that parallel guesses on every instance each take one of
	// the allowed attempts (a success gives its attempt back). A database
	// that cannot be reached answers 503 and counts nothing.
	at := s.loginAttempt(email, addr)
	count, err := s.db.CountLogin(ctx, at)
	if err != nil {
		return "", UserView{}, err
	}
	if !count.Allowed {
		err := workflow.Errorf(workflow.ETooMany, "terlalu banyak percobaan masuk, coba lagi dalam %d detik", int(count.RetryAfter.Seconds())+1)
		err.RetryAfter = count.RetryAfter
		return "", UserView{}, err
	}
	// Failures on the account from anywhere only slow it down, so that
	// guesses from other addresses never lock the owner out. The delay
	// depends on the count alone, never on the password.
	if err := loginDelay(ctx, s.throttle.Delay(count.AccountFailures)); err != nil {
		s.forgiveUnjudged(ctx, at)
		return "", UserView{}, err
	}
	bad := workflow.Errorf(workflow.EUnauthorized, "email atau kata sandi salah")
	// A password no account can have is refused before the lookup, so that
	// known and unknown addresses take the same time.
	if email == "" || password == "" || len(password) > auth.MaxPasswordBytes {
		return "", UserView{}, bad
	}
	u, err := s.db.UserByEmail(ctx, email)
	if err != nil && workflow.ErrorCode(err) != workflow.ENotFound {
		s.forgiveUnjudged(ctx, at)
		return "", UserView{}, err
	}
	// An unknown address ("" hash) costs one hash too, so timing reveals nothing.
	ok, err := auth.CheckPassword(u.PasswordHash, password)
	if err != nil || !ok || u.ID == 0 || u.Disabled {
		return "", UserView{}, bad
	}
	if err := s.db.ForgiveLogin(ctx, at, true); err != nil {
		return "", UserView{}, err
	}
	token, tokenHash, err := auth.NewToken()
	if err != nil {
		return "", UserView{}, workflow.Wrap(workflow.EInternal, err, "sesi tidak dapat dibuat")
	}
	// The database judges a session's expiry against its own now()
	// (SessionUser), so the expiry is set on the wall clock too, never on
	// the service clock that tests and demos move.
	if err := s.db.CreateSession(ctx, tokenHash, u.ID, time.Now().Add(s.max)); err != nil {
		return "", UserView{}, err
	}
	return token, ViewUser(u), nil
}

// Authenticate returns the user of a bearer token or session cookie, or EUnauthorized.
func (s *Service) Authenticate(ctx context.Context, token string) (postgres.User, error) {
	if token == "" || len(token) > 200 {
		return postgres.User{}, workflow.Errorf(workflow.EUnauthorized, "silakan masuk terlebih dahulu")
	}
	h := auth.TokenHash(token)
	if s.sessions == nil {
		return s.db.SessionUser(ctx, h, s.idle)
	}
	if u, ok := s.sessions.Get(h); ok {
		return u, nil
	}
	gen := s.sessions.Begin()
	// On a miss SessionUser also moves last_seen_at (at most once a
	// minute), so with the cache the touches stay batched: one lookup per
	// session per TTL reaches the database at all.
	u, err := s.db.SessionUser(ctx, h, s.idle)
	if err == nil {
		s.sessions.Put(gen, h, u.ID, u)
	}
	return u, err
}

// Logout revokes the session of token. This instance forgets it at once;
// the others are told by the database (NOTIFY) and within the cache's TTL
// at the latest.
func (s *Service) Logout(ctx context.Context, token string) error {
	h := auth.TokenHash(token)
	err := s.db.RevokeSession(ctx, h)
	if s.sessions != nil {
		s.sessions.Forget(h)
	}
	return err
}

// SessionMax is how long a session lives at most (the cookie's lifetime).
func (s *Service) SessionMax() time.Duration { return s.max }
