// Package auth holds the pure parts of authentication: argon2id password
// hashing, random session and API tokens, and the failed-login policy
// (LoginLimits: the limits, the delay, the keys counted; the server counts
// them in internal/postgres) beside an older in-memory Throttle. It does no
// I/O besides reading crypto/rand; sessions and users are stored by
// internal/postgres.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"grantflow/workflow"
)

// Password length limits. The maximum is in bytes because it bounds the work
// of hashing; the minimum is in characters because that is what a person counts.
const (
	MinPasswordChars = 8
	MaxPasswordBytes = 256
)

// Argon2id parameters for new hashes: the OWASP minimum (19 MiB, 2 passes,
// 1 lane), about 32 ms on the target machines. CheckPassword reads the
// parameters from each stored hash, so raising these later keeps old hashes
// valid.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Limits on parameters read from a stored hash, so that a corrupted or
// planted row cannot make one login allocate gigabytes or spin for minutes.
const (
	maxArgonMemory  = 256 * 1024 // KiB
	maxArgonTime    = 16
	maxArgonThreads = 16
)

// hashSlots bounds concurrent hashes: each costs ~19 MiB and a core for
// ~32 ms, so a burst of logins queues here instead of exhausting memory.
var hashSlots = make(chan struct{}, runtime.NumCPU())

// ErrHashFormat is the cause (see errors.Is) of the error CheckPassword
// returns for a stored hash it cannot read.
var ErrHashFormat = errors.New("auth: unrecognised password hash")

// ValidatePassword returns nil for an acceptable password, else an
// EUnprocessable *workflow.Error with a detail on field "password": at least
// MinPasswordChars characters, at most MaxPasswordBytes bytes, valid UTF-8.
func ValidatePassword(pw string) error {
	var p workflow.Problems
	switch {
	case len(pw) > MaxPasswordBytes:
		p.Add("password", "Kata sandi terlalu panjang (paling banyak %d byte)", MaxPasswordBytes)
	case !utf8.ValidString(pw):
		p.Add("password", "Kata sandi memuat karakter yang tidak valid")
	case utf8.RuneCountInString(pw) < MinPasswordChars:
		p.Add("password", "Kata sandi minimal %d karakter", MinPasswordChars)
	}
	return p.Err("Kata sandi tidak memenuhi syarat")
}

// HashPassword validates pw with ValidatePassword and returns its argon2id
// hash in PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// with salt and hash in unpadded standard base64. It returns the validation
// error for an unacceptable password and an EInternal error if the system
// random source fails. It waits while runtime.NumCPU() other hashes run.
func HashPassword(pw string) (string, error) {
	if err := ValidatePassword(pw); err != nil {
		return "", err
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", workflow.Wrap(workflow.EInternal, err, "gagal membuat salt kata sandi")
	}
	p := argonParams{memory: argonMemory, time: argonTime, threads: argonThreads}
	key := p.key(pw, salt, argonKeyLen)
	return p.encode(salt, key), nil
}

// CheckPassword reports whether pw matches the PHC-encoded argon2id hash,
// comparing in constant time. A mismatch is (false, nil). A malformed hash
// gives false and an EInternal *workflow.Error wrapping ErrHashFormat.
//
// An empty encoded string is a valid input meaning "no password set": it
// still spends the time of one hash and returns (false, nil), so a login
// for an unknown account takes as long as one with a wrong password.
// A password longer than MaxPasswordBytes never matches and is not hashed.
func CheckPassword(encoded, pw string) (bool, error) {
	if encoded == "" {
		p := argonParams{memory: argonMemory, time: argonTime, threads: argonThreads}
		p.key(pw, make([]byte, argonSaltLen), argonKeyLen)
		return false, nil
	}
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, workflow.Wrap(workflow.EInternal, err, "format hash kata sandi tidak dikenali")
	}
	if len(pw) > MaxPasswordBytes {
		return false, nil // HashPassword never stored one this long
	}
	got := p.key(pw, salt, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

type argonParams struct {
	memory  uint32
	time    uint32
	threads uint8
}

// key runs argon2id under the package semaphore.
func (p argonParams) key(pw string, salt []byte, keyLen uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, keyLen)
}

func (p argonParams) encode(salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key))
}

// decode parses a PHC argon2id string and checks its parameters are within
// the limits above.
func decode(encoded string) (p argonParams, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: not a $argon2id$ string", ErrHashFormat)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: version %q", ErrHashFormat, parts[2])
	}
	var seen [3]bool
	for _, kv := range strings.Split(parts[3], ",") {
		name, val, ok := strings.Cut(kv, "=")
		n, perr := strconv.ParseUint(val, 10, 32)
		if !ok || perr != nil || n == 0 {
			return p, nil, nil, fmt.Errorf("%w: parameter %q", ErrHashFormat, kv)
		}
		switch {
		case name == "m" && !seen[0] && n <= maxArgonMemory:
			p.memory, seen[0] = uint32(n), true
		case name == "t" && !seen[1] && n <= maxArgonTime:
			p.time, seen[1] = uint32(n), true
		case name == "p" && !seen[2] && n <= maxArgonThreads:
			p.threads, seen[2] = uint8(n), true
		default:
			return p, nil, nil, fmt.Errorf("%w: parameter %q", ErrHashFormat, kv)
		}
	}
	if !seen[0] || !seen[1] || !seen[2] || p.memory < 8*uint32(p.threads) {
		return p, nil, nil, fmt.Errorf("%w: parameters %q", ErrHashFormat, parts[3])
	}
	salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, nil, nil, fmt.Errorf("%w: salt", ErrHashFormat)
	}
	key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, fmt.Errorf("%w: hash", ErrHashFormat)
	}
	return p, salt, key, nil
}
