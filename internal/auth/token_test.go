package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"testing"
)

func TestNewToken(t *testing.T) {
	shape := regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	seen := make(map[string]bool)
	for range 1000 {
		tok, hash, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if !shape.MatchString(tok) {
			t.Fatalf("token %q is not 43 base64url characters", tok)
		}
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) != 32 {
			t.Fatalf("token %q decodes to %d bytes, %v", tok, len(raw), err)
		}
		if hash != TokenHash(tok) {
			t.Fatalf("hash %q != TokenHash(token) %q", hash, TokenHash(tok))
		}
		if seen[tok] {
			t.Fatalf("token %q repeated", tok)
		}
		seen[tok] = true
	}
}

func TestTokenHash(t *testing.T) {
	// Known SHA-256 values, so the stored form cannot drift silently.
	tests := map[string]string{
		"":    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	}
	for in, want := range tests {
		if got := TokenHash(in); got != want {
			t.Errorf("TokenHash(%q) = %s, want %s", in, got, want)
		}
	}
	tok := "Zm9vYmFyLWJhei1xdXV4LXRva2VuLWZvci10ZXN0aW5n"
	sum := sha256.Sum256([]byte(tok))
	if TokenHash(tok) != hex.EncodeToString(sum[:]) {
		t.Error("TokenHash differs from hex SHA-256")
	}
}
