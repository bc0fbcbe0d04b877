package mailparse

import (
	"strings"
)

// cleanText removes from a body text what SPEC §3 says to ignore: lines
// quoted with ">" or "|", everything from a reply header or a forwarded
// message's marker on ("On ... wrote:",
// "Am ... schrieb ...:", "Le ... a écrit :", "-----Original Message-----",
// an Outlook "From: ... Sent: ..." block), and everything after a
// signature separator ("-- " or "--" alone on a line). Line endings become
// LF; trailing space is trimmed from every line.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	var out []string
	for i, line := range lines {
		line = strings.TrimRight(line, " \t\u00a0")
		if cutsHere(lines, i) {
			break
		}
		if t := strings.TrimLeft(line, " \t"); strings.HasPrefix(t, ">") || strings.HasPrefix(t, "|") {
			continue
		}
		out = append(out, line)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// cutsHere reports whether lines[i] starts a signature or quoted reply.
func cutsHere(lines []string, i int) bool {
	line := strings.TrimRight(lines[i], " \t\u00a0")
	if line == "--" {
		return true
	}
	t := strings.TrimSpace(line)
	lt := strings.ToLower(t)
	if isOriginalMessage(lt) || isForwardMarker(lt) {
		return true
	}
	// "On <date>, <name> wrote:" may be wrapped over up to three lines.
	if strings.HasPrefix(lt, "on ") && endsWithin(lines, i, 3, "wrote:") {
		return true
	}
	if strings.HasPrefix(lt, "am ") && containsWithin(lines, i, 3, "schrieb") && endsWithin(lines, i, 3, ":") {
		return true
	}
	if strings.HasPrefix(lt, "le ") && endsWithin(lines, i, 3, "a écrit :", "a écrit:") {
		return true
	}
	// "<name> wrote:" directly above quoted lines.
	if strings.HasSuffix(lt, "wrote:") && nextNonEmptyQuoted(lines, i) {
		return true
	}
	// Outlook: "From: ..." followed within a few lines by "Sent: ...".
	if isHeaderLine(lt, "from", "von", "de") {
		for j := i + 1; j < len(lines) && j <= i+4; j++ {
			if isHeaderLine(strings.ToLower(strings.TrimSpace(lines[j])), "sent", "gesendet", "envoyé") {
				return true
			}
		}
	}
	return false
}

// isOriginalMessage matches "-----Original Message-----" and its German
// form, with any number of dashes.
func isOriginalMessage(lt string) bool {
	if !strings.HasPrefix(lt, "--") {
		return false
	}
	core := strings.TrimSpace(strings.Trim(lt, "- "))
	return core == "original message" || core == "ursprüngliche nachricht"
}

// isForwardMarker matches the lines that open a forwarded message:
// Gmail's "---------- Forwarded message ---------", Apple Mail's "Begin
// forwarded message:", Thunderbird's "-------- Forwarded Message --------"
// and their German and French forms. What follows was written by someone
// else, so it names no one.
func isForwardMarker(lt string) bool {
	core := strings.TrimSpace(strings.Trim(lt, "-: "))
	switch core {
	case "forwarded message", "begin forwarded message", "weitergeleitete nachricht",
		"message transféré", "message transfere", "original message follows":
		return true
	}
	return false
}

// isHeaderLine reports whether lt (lower case) starts with one of the
// field names followed by a colon, allowing Outlook's "*From:*" bold.
func isHeaderLine(lt string, names ...string) bool {
	lt = strings.TrimLeft(lt, "*")
	for _, n := range names {
		if rest, ok := strings.CutPrefix(lt, n); ok {
			rest = strings.TrimLeft(rest, "*")
			if strings.HasPrefix(strings.TrimLeft(rest, " "), ":") {
				return true
			}
		}
	}
	return false
}

func endsWithin(lines []string, i, n int, suffixes ...string) bool {
	for j := i; j < len(lines) && j < i+n; j++ {
		lt := strings.ToLower(strings.TrimSpace(lines[j]))
		if j > i && lt == "" {
			return false
		}
		for _, s := range suffixes {
			if strings.HasSuffix(lt, s) {
				return true
			}
		}
	}
	return false
}

func containsWithin(lines []string, i, n int, sub string) bool {
	for j := i; j < len(lines) && j < i+n; j++ {
		if strings.Contains(strings.ToLower(lines[j]), sub) {
			return true
		}
	}
	return false
}

func nextNonEmptyQuoted(lines []string, i int) bool {
	for j := i + 1; j < len(lines); j++ {
		t := strings.TrimSpace(lines[j])
		if t != "" {
			return strings.HasPrefix(t, ">")
		}
	}
	return false
}

// stripSubjectPrefixes removes reply and forward markers ("Re:", "Fwd:",
// "Fw:", "AW:", "WG:", "SV:", "VS:", "TR:", with optional "[n]" counts)
// from the start of a subject.
func stripSubjectPrefixes(s string) string {
	for {
		t := strings.TrimSpace(s)
		colon := strings.IndexByte(t, ':')
		if colon <= 0 || colon > 8 {
			return t
		}
		p := strings.ToLower(t[:colon])
		if i := strings.IndexAny(p, "[("); i > 0 {
			p = p[:i]
		}
		switch strings.TrimSpace(p) {
		case "re", "fwd", "fw", "aw", "wg", "sv", "vs", "tr", "antw", "r":
			s = t[colon+1:]
		default:
			return t
		}
	}
}
