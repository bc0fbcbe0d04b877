package domain

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Bounds on a chosen password.
const (
	// MinPasswordLength is the fewest characters a chosen password may
	// have, not counting leading and trailing white space.
	MinPasswordLength = 12
	// MaxPasswordBytes bounds the input to the password hash.
	MaxPasswordBytes = 1024
)

// CodeWeakPassword is the code of a chosen password that breaks a rule of
// CheckPassword; the HTTP layer answers it with 422.
const CodeWeakPassword Code = "weak_password"

// CheckPassword is the one password rule for operators and users, on
// every way a password comes in (command line, API, web UI). It returns
// nil, or an *Error of code CodeWeakPassword whose message names the rule
// broken:
//
//   - not empty, at most MaxPasswordBytes, valid UTF-8 without control
//     characters;
//   - at least MinPasswordLength characters once leading and trailing white
//     space is trimmed;
//   - not one character, or a shorter sequence, repeated ("aaaa…",
//     "abcabc…");
//   - not a run of a keyboard row, the alphabet or the digits;
//   - not the username or email address (or its local part) of the account,
//     in any case, with or without digits and symbols around it; identities
//     are those names;
//   - not one of the most common passwords (common_passwords.txt), in any
//     case, with or without digits and symbols around it, and with common
//     look-alike substitutions undone (p@ssw0rd).
//
// The password is checked as given but stored as given too: the rules trim
// only to measure.
func CheckPassword(pw string, identities ...string) error {
	t := strings.TrimSpace(pw)
	switch {
	case pw == "":
		return weakf("password is empty")
	case len(pw) > MaxPasswordBytes:
		return weakf("password is longer than %d bytes", MaxPasswordBytes)
	case !utf8.ValidString(pw) || strings.IndexFunc(pw, unicode.IsControl) >= 0:
		return weakf("password must be UTF-8 text without control characters")
	case utf8.RuneCountInString(t) < MinPasswordLength:
		return weakf("password is shorter than %d characters (leading and trailing spaces do not count)", MinPasswordLength)
	}
	lower := strings.ToLower(t)
	switch {
	case repeats(lower):
		return weakf("password is one character or a short sequence repeated")
	case isSequence(lower):
		return weakf("password is a run of keyboard, alphabet or number keys")
	case isIdentity(lower, identities):
		return weakf("password is the username or email address, or a variant of it")
	case isCommon(lower):
		return weakf("password is one of the most common passwords, or a variant of one")
	}
	return nil
}

func weakf(format string, args ...any) *Error { return Errorf(CodeWeakPassword, format, args...) }

// repeats reports whether s is a unit of at most half its length repeated,
// the last repetition possibly cut short: "aaaaaaaaaaaa", "abcabcabcabc",
// "passwordpasswo".
func repeats(s string) bool {
	r := []rune(s)
	for period := 1; period <= len(r)/2; period++ {
		periodic := true
		for i := period; i < len(r); i++ {
			if r[i] != r[i-period] {
				periodic = false
				break
			}
		}
		if periodic {
			return true
		}
	}
	return false
}

// sequences are keyboard rows, the alphabet and the digits, forwards and
// backwards, each written twice so that a run may wrap around.
var sequences = func() []string {
	rows := []string{"1234567890", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm",
		"qwertyuiop", "asdfghjkl", "zxcvbnm", "azertyuiop", "qwertzuiop", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p"}
	var out []string
	for _, row := range rows {
		out = append(out, row+row, reverse(row+row))
	}
	return out
}()

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// minSequence is the shortest variant of a password that counts as a run
// ("qwerty" in "qwerty!123456"); a shorter one is too likely by chance.
const minSequence = 6

// isSequence reports whether s, or a variant of it of at least minSequence
// characters, is a run of one of the sequences.
func isSequence(s string) bool {
	for _, v := range variants(s) {
		if utf8.RuneCountInString(v) < minSequence {
			continue
		}
		for _, seq := range sequences {
			if strings.Contains(seq, v) {
				return true
			}
		}
	}
	return false
}

// variants returns s; s without the symbols around it ("1q2w3e4r5t6y!" →
// "1q2w3e4r5t6y"); s with the digits and symbols around its letters cut
// off ("password1234!" → "password"); and each of those with look-alike
// substitutions undone ("p@ssw0rd" → "password").
func variants(s string) []string {
	bare := strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	core := strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	out := []string{s, unleet(s)}
	for _, v := range []string{bare, core} {
		if v != "" && v != s {
			out = append(out, v, unleet(v))
		}
	}
	return out
}

var leet = strings.NewReplacer("@", "a", "4", "a", "8", "b", "3", "e", "1", "i", "!", "i", "0", "o", "$", "s", "5", "s", "7", "t", "+", "t")

func unleet(s string) string { return leet.Replace(s) }

// isIdentity reports whether s, or a variant of it, is one of identities or
// the local part of one that is an email address.
func isIdentity(s string, identities []string) bool {
	var names []string
	for _, id := range identities {
		id = strings.ToLower(strings.TrimSpace(id))
		if id == "" {
			continue
		}
		names = append(names, id)
		if at := strings.LastIndexByte(id, '@'); at > 0 {
			names = append(names, id[:at])
		}
	}
	for _, v := range variants(s) {
		for _, n := range names {
			if strings.EqualFold(v, n) {
				return true
			}
		}
	}
	return false
}

// commonPasswordsText is the embedded list; see the head of the file for
// where it comes from.
//
//go:embed common_passwords.txt
var commonPasswordsText string

// commonPasswords is the list as a set, built on first use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := map[string]struct{}{}
	for line := range strings.Lines(commonPasswordsText) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			set[strings.ToLower(line)] = struct{}{}
		}
	}
	return set
})

// isCommon reports whether s, or a variant of it, is on the list.
func isCommon(s string) bool {
	set := commonPasswords()
	for _, v := range variants(s) {
		if _, ok := set[v]; ok {
			return true
		}
	}
	return false
}
