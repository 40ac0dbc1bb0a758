package auth

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"grantflow/workflow"
)

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)

func TestHashAndCheckPassword(t *testing.T) {
	pw := "rahasia-kelompok-KKG"
	h, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !phc.MatchString(h) {
		t.Fatalf("hash %q is not the expected PHC string", h)
	}
	ok, err := CheckPassword(h, pw)
	if err != nil || !ok {
		t.Fatalf("CheckPassword(right) = %v, %v", ok, err)
	}
	for _, wrong := range []string{"rahasia-kelompok-kkg", "rahasia-kelompok-KKG ", "", strings.Repeat("x", MaxPasswordBytes+1)} {
		ok, err := CheckPassword(h, wrong)
		if err != nil || ok {
			t.Errorf("CheckPassword(%q) = %v, %v; want false, nil", wrong, ok, err)
		}
	}

	// Salted: the same password hashes differently each time.
	h2, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if h2 == h {
		t.Error("two hashes of one password are equal")
	}
	if ok, err := CheckPassword(h2, pw); err != nil || !ok {
		t.Errorf("CheckPassword(second hash) = %v, %v", ok, err)
	}
}

func TestHashPasswordUnicodeAndLimits(t *testing.T) {
	for _, pw := range []string{
		"kata sandi rahasia",
		"sand😀😀😀😀", // 8 characters, more bytes
		strings.Repeat("a", MaxPasswordBytes),
		strings.Repeat("é", MaxPasswordBytes/2), // exactly 256 bytes
	} {
		h, err := HashPassword(pw)
		if err != nil {
			t.Fatalf("HashPassword(%q): %v", pw, err)
		}
		if ok, err := CheckPassword(h, pw); err != nil || !ok {
			t.Errorf("CheckPassword(%q) = %v, %v", pw, ok, err)
		}
	}
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		pw   string
		want string // substring of the detail message; "" for valid
	}{
		{"12345678", ""},
		{"ééééé ab", ""}, // 8 characters
		{strings.Repeat("a", 256), ""},
		{"", "minimal 8"},
		{"1234567", "minimal 8"},
		{"ééééééé", "minimal 8"}, // 7 characters, 14 bytes
		{strings.Repeat("a", 257), "terlalu panjang"},
		{strings.Repeat("é", 129), "terlalu panjang"}, // 129 characters, 258 bytes
		{"abcdefg\xff", "tidak valid"},
	}
	for _, tt := range tests {
		err := ValidatePassword(tt.pw)
		if tt.want == "" {
			if err != nil {
				t.Errorf("ValidatePassword(%q) = %v", tt.pw, err)
			}
			continue
		}
		var e *workflow.Error
		if !errors.As(err, &e) || e.Code != workflow.EUnprocessable {
			t.Errorf("ValidatePassword(%q) = %v, want EUnprocessable", tt.pw, err)
			continue
		}
		if len(e.Details) != 1 || e.Details[0].Field != "password" || !strings.Contains(e.Details[0].Message, tt.want) {
			t.Errorf("ValidatePassword(%q) details = %+v, want password: %q", tt.pw, e.Details, tt.want)
		}
		if _, err := HashPassword(tt.pw); workflow.ErrorCode(err) != workflow.EUnprocessable {
			t.Errorf("HashPassword(%q) = %v, want EUnprocessable", tt.pw, err)
		}
	}
}

func TestCheckPasswordReadsParameters(t *testing.T) {
	// A hash made with other parameters (as after raising the cost) still verifies.
	p := argonParams{memory: 8 * 1024, time: 3, threads: 2}
	salt := []byte("0123456789abcdef")
	enc := p.encode(salt, p.key("kata sandi lama", salt, 32))
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=8192,t=3,p=2$") {
		t.Fatalf("encoded %q", enc)
	}
	if ok, err := CheckPassword(enc, "kata sandi lama"); err != nil || !ok {
		t.Errorf("CheckPassword = %v, %v", ok, err)
	}
	if ok, err := CheckPassword(enc, "kata sandi baru"); err != nil || ok {
		t.Errorf("CheckPassword(wrong) = %v, %v", ok, err)
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	good, err := HashPassword("benar-sekali")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	b64 := base64.RawStdEncoding.EncodeToString
	bad := []string{
		"x",
		"$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=4,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key, // 4 GiB: refused, not attempted
		"$argon2id$v=19$m=19456,t=1000,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=255$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=-1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,x=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "=$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$",
		"$argon2id$v=19$m=19456,t=2,p=1$!!!$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + b64([]byte("short")) + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + b64([]byte("short")),
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + b64(make([]byte, 65)),
		" " + good,
	}
	for _, enc := range bad {
		ok, err := CheckPassword(enc, "benar-sekali")
		if ok || !errors.Is(err, ErrHashFormat) || workflow.ErrorCode(err) != workflow.EInternal {
			t.Errorf("CheckPassword(%q) = %v, %v; want false, EInternal wrapping ErrHashFormat", enc, ok, err)
		}
	}
}

func TestCheckPasswordEmptyHashTakesTime(t *testing.T) {
	start := time.Now()
	ok, err := CheckPassword("", "apa saja")
	if ok || err != nil {
		t.Fatalf("CheckPassword(\"\") = %v, %v; want false, nil", ok, err)
	}
	// A real hash costs tens of milliseconds; returning at once would
	// reveal to a timing attacker that the account does not exist.
	if d := time.Since(start); d < 2*time.Millisecond {
		t.Errorf("empty hash returned in %v, without hashing", d)
	}
}

func TestHashesAreBounded(t *testing.T) {
	// Occupy every slot; a hash must then wait for one to free.
	for range cap(hashSlots) {
		hashSlots <- struct{}{}
	}
	done := make(chan error, 1)
	go func() {
		_, err := HashPassword("menunggu giliran")
		done <- err
	}()
	select {
	case <-done:
		t.Fatal("HashPassword ran while every slot was taken")
	case <-time.After(150 * time.Millisecond):
	}
	<-hashSlots // free one
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("HashPassword did not run after a slot freed")
	}
	for range cap(hashSlots) - 1 {
		<-hashSlots
	}
	if len(hashSlots) != 0 {
		t.Fatalf("%d slots still held", len(hashSlots))
	}
}
