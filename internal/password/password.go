// Package password hashes, verifies and generates passwords. Hashes are
// argon2id in the PHC string format, so parameters can be raised later
// without invalidating stored hashes.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/unlockd/unlockd/internal/domain"
)

// Params are argon2id cost parameters.
type Params struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// Default follows the second recommendation of RFC 9106 scaled to a small
// server: 64 MiB, three passes.
var Default = Params{Time: 3, Memory: 64 * 1024, Threads: 2}

const (
	saltLen = 16
	keyLen  = 32
	// MaxLength bounds the input to the hash function. The rules for a
	// chosen password are domain.CheckPassword's.
	MaxLength = domain.MaxPasswordBytes
)

// ErrMismatch is returned by Verify for a wrong password.
var ErrMismatch = errors.New("password: mismatch")

// Hash returns the PHC-format argon2id hash of pw.
func Hash(pw string, p Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Dummy returns a well-formed hash with parameters p that no password
// matches (its salt and key are random), without computing one: verifying
// against it costs exactly what verifying against a real hash of p costs,
// which is what answers for unknown accounts need.
func Dummy(p Params) string {
	salt, key := make([]byte, saltLen), make([]byte, keyLen)
	rand.Read(salt)
	rand.Read(key)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports nil when pw matches hash, ErrMismatch when it does not, and
// another error when hash is malformed.
func Verify(pw, hash string) error {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("password: unsupported hash format")
	}
	var version int
	var p Params
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return errors.New("password: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return fmt.Errorf("password: parameters: %w", err)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("password: salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return errors.New("password: malformed key")
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

const (
	upper  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	lower  = "abcdefghijkmnopqrstuvwxyz"
	digits = "23456789"
)

// GeneratedLength is the length of Generate's passwords.
const GeneratedLength = 20

// Generate returns a random password of GeneratedLength characters from
// crypto/rand with at least one upper-case letter, one lower-case letter and
// one digit. Look-alike characters (I, l, O, 0, 1) are left out so the
// password can be read aloud.
func Generate() string {
	all := upper + lower + digits
	for {
		b := make([]byte, GeneratedLength)
		for i := range b {
			b[i] = all[randIndex(len(all))]
		}
		s := string(b)
		if strings.ContainsAny(s, upper) && strings.ContainsAny(s, lower) && strings.ContainsAny(s, digits) {
			return s
		}
	}
}

// randIndex returns a uniform index below n (n <= 256) from crypto/rand,
// rejecting bytes that would bias the result.
func randIndex(n int) int {
	limit := 256 - 256%n
	var buf [1]byte
	for {
		if _, err := rand.Read(buf[:]); err != nil {
			panic("password: crypto/rand failed: " + err.Error()) // rand.Read never fails on supported platforms
		}
		if int(buf[0]) < limit {
			return int(buf[0]) % n
		}
	}
}
