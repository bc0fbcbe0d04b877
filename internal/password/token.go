package password

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// TokenPrefix starts every API token, so a leaked one is easy to recognise
// in logs and by secret scanners.
const TokenPrefix = "ulk_"

// NewToken returns a new API token with 256 bits from crypto/rand, and its
// hash for storage. The token itself is shown once and never stored.
func NewToken() (token, hash string) {
	token = TokenPrefix + strings.ToLower(rand.Text()) + strings.ToLower(rand.Text())
	return token, HashToken(token)
}

// HashToken returns the stored form of a token. Tokens carry 256 random
// bits, so a fast hash suffices: there is nothing to guess.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
