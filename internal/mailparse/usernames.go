package mailparse

import (
	"strings"
	"unicode"

	"github.com/unlockd/unlockd/internal/domain"
)

// maxListNames bounds the names taken from one "Unlock:" list.
const maxListNames = 50

// stopWords are never captured as usernames after a keyword: they are the
// words that follow "user", "account" or "unlock" in ordinary sentences
// ("my account is locked", "please unlock the user").
var stopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an and are as at be been being blocked but by can
		cannot can't could did disabled do does for from get gets got had has have he her
		here his i id if in is isn't it its keeps locked lockout login me my name names
		no not now of on or our out password please pls she so still that the their them
		there they this thanks thank to too us was wasn't we were which who will with
		would you your unknown account accounts user users username usernames unlock unlocked
		again also details below above following access request requests issue
		issues problem problems help support reset status asap urgent urgently
		immediately today soon`) {
		stopWords[w] = true
	}
}

// keyword classifies a token (lower case, leading punctuation removed) as a
// grammar keyword: it returns the keyword, whether a colon followed it, and
// any name glued to the colon ("unlock:jsmith").
func keyword(tok string) (kw string, colon bool, glued string) {
	t := strings.TrimLeft(tok, `([{<"'*`+"`")
	for _, k := range []string{"username", "unlock", "account", "user"} {
		if len(t) < len(k) || !strings.EqualFold(t[:len(k)], k) {
			continue
		}
		rest := t[len(k):]
		if rest == "" {
			return k, false, ""
		}
		if rest[0] == ':' {
			return k, true, rest[1:]
		}
	}
	return "", false, ""
}

// cleanName strips quotes, brackets and trailing punctuation from a
// captured token and returns it when it is a valid username that is not a
// stop word.
func cleanName(tok string) (string, bool) {
	name := strings.TrimLeft(tok, `"'`+"`([{<«“‘")
	name = strings.TrimRight(name, `.,;:!?)"'`+"`]}>»”’")
	if name == "" || domain.ValidateUsername(name) != nil || stopWords[strings.ToLower(name)] {
		return "", false
	}
	if strings.IndexFunc(name, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
		return "", false
	}
	return name, true
}

// endsSentence reports whether a raw token closes a sentence, ending an
// "Unlock:" list.
func endsSentence(tok string) bool {
	t := strings.TrimRight(tok, `)"'`+"`]}>»”’")
	return strings.HasSuffix(t, ".") || strings.HasSuffix(t, "!") || strings.HasSuffix(t, "?")
}

// findUsernames applies the username grammar of SPEC §3 to the subject
// (already stripped of "Re:"/"Fwd:") and the cleaned text, line by line,
// and returns the names in order of appearance, deduplicated.
func findUsernames(subject, text string) []string {
	var names []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, part := range []string{subject, text} {
		for line := range strings.SplitSeq(part, "\n") {
			lineUsernames(line, add)
		}
	}
	return names
}

// lineUsernames finds the usernames on one line.
func lineUsernames(line string, add func(string)) {
	toks := strings.Fields(line)
	for i := 0; i < len(toks); i++ {
		kw, colon, glued := keyword(toks[i])
		if kw == "" {
			continue
		}
		j := i + 1
		if glued == "" && !colon && j < len(toks) && toks[j] == ":" {
			colon = true
			j++
		}
		if kw == "unlock" && colon {
			i = unlockList(toks, j, glued, add) - 1
			continue
		}
		if glued != "" {
			if n, ok := cleanName(glued); ok {
				add(n)
			}
			continue
		}
		// "user name: x", "account id x", "username is x".
		filler := kw == "username"
		if !colon && (kw == "user" || kw == "account") && j < len(toks) {
			if f := strings.ToLower(toks[j]); f == "name" || f == "name:" || f == "id" || f == "id:" {
				filler = true
				colon = strings.HasSuffix(f, ":")
				j++
			}
		}
		if filler && !colon && j < len(toks) {
			if f := strings.ToLower(toks[j]); f == "is" || f == "=" || f == ":" {
				j++
			}
		}
		if j < len(toks) {
			if n, ok := cleanName(toks[j]); ok {
				add(n)
				i = j
			}
		}
	}
}

// unlockList captures the comma or space separated names after "Unlock:",
// starting at toks[j] (after a glued first name, if any). It stops at a
// stop word, an invalid name, or a token that ends a sentence, and returns
// the index of the first token not consumed.
func unlockList(toks []string, j int, glued string, add func(string)) int {
	count := 0
	// take handles one token, which may hold several comma-separated names.
	// consumed is false when the token is not a name at all (it may be the
	// next keyword); more is false when the list ends.
	take := func(tok string) (consumed, more bool) {
		lt := strings.ToLower(tok)
		if lt == "and" || lt == "&" || lt == "+" || lt == "," || lt == ";" {
			return true, true
		}
		for piece := range strings.FieldsFuncSeq(tok, func(r rune) bool { return r == ',' || r == ';' }) {
			n, ok := cleanName(piece)
			if !ok || count >= maxListNames {
				return consumed, false
			}
			add(n)
			count++
			consumed = true
		}
		return consumed, consumed && !endsSentence(tok)
	}
	if glued != "" {
		if _, more := take(glued); !more {
			return j
		}
	}
	for ; j < len(toks); j++ {
		consumed, more := take(toks[j])
		if !more {
			if consumed {
				return j + 1
			}
			return j
		}
	}
	return j
}

// findWords returns the distinct tokens of the given texts that could be
// usernames, in order, at most limit of them.
func findWords(limit int, texts ...string) []string {
	var words []string
	seen := map[string]bool{}
	for _, t := range texts {
		for tok := range strings.FieldsSeq(t) {
			w := strings.TrimLeft(tok, `"'`+"`([{<«“‘*")
			w = strings.TrimRight(w, `.,;:!?)"'`+"`]}>»”’*")
			if w == "" || seen[w] || domain.ValidateUsername(w) != nil {
				continue
			}
			if strings.IndexFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
				continue
			}
			seen[w] = true
			words = append(words, w)
			if len(words) >= limit {
				return words
			}
		}
	}
	return words
}
