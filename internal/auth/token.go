package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"

	"grantflow/workflow"
)

// tokenBytes is the entropy of a session or API token: 256 bits.
const tokenBytes = 32

// NewToken returns a fresh random token for a session or an API client, and
// its hash. Give the token to the client once and store only the hash, so a
// leaked database cannot be replayed as sessions. The token is 32 random
// bytes in unpadded base64url (43 characters, safe in headers, cookies and
// URLs); the hash is TokenHash(token). It returns an EInternal error if the
// system random source fails.
func NewToken() (token string, hash string, err error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", workflow.Wrap(workflow.EInternal, err, "gagal membuat token sesi")
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, TokenHash(token), nil
}

// TokenHash returns the lowercase hex SHA-256 of token, the form in which
// tokens are stored and looked up. A plain hash suffices (no salt, no
// stretching) because tokens carry 256 random bits; it never fails.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
