package mailparse

import (
	"github.com/unlockd/unlockd/internal/domain"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const anna = "anna.admin@customer.example"

// corpusRow is the expected facts of one testdata/*.eml file. An empty
// MessageID means the Key must be the sha256 form.
type corpusRow struct {
	file      string
	err       bool // Parse must fail: the caller rejects it as unparsable
	from      string
	problem   string
	auto      bool
	users     []string
	subject   string
	messageID string
	inReplyTo string
	replyTo   string
}

var corpus = []corpusRow{
	{file: "account_form.eml", from: anna, users: []string{"jsmith"}, subject: "account", messageID: "acct@mail.customer.example"},
	{file: "apple_alternative.eml", from: "carla@customer.example", users: []string{"kdoe"}, subject: "Re: locked out", messageID: "5F3A-APPLE@customer.example", inReplyTo: "reply-1@unlockd.example"},
	{file: "attachment_plus_text.eml", from: anna, users: []string{"ppan"}, subject: "see attached", messageID: "att@mail.customer.example"},
	{file: "auto_submitted_no.eml", from: anna, users: []string{"asno"}, subject: "manual", messageID: "asno@mail.customer.example"},
	{file: "base64_text.eml", from: anna, users: []string{"b64user"}, subject: "base64", messageID: "b64@mail.customer.example"},
	{file: "case_sensitive_usernames.eml", from: anna, users: []string{"JSmith", "jsmith", "JSMITH"}, subject: "case", messageID: "case@mail.customer.example"},
	{file: "crlf_endings.eml", from: anna, users: []string{"crlfuser"}, subject: "crlf", messageID: "crlf@mail.customer.example"},
	{file: "display_name_spoof.eml", from: "evil@attacker.example", users: []string{"ceo"}, subject: "urgent", messageID: "spoof@mail.customer.example"},
	{file: "dkim_l_tag.eml", from: anna, users: []string{"dkimuser", "appendeduser"}, subject: "dkim l=", messageID: "dkiml@mail.customer.example"},
	{file: "dsn_bounce.eml", from: "mailer-daemon@mx.customer.example", auto: true, subject: "Undelivered Mail Returned to Sender", messageID: "dsn1@mail.customer.example"},
	{file: "forged_authres.eml", from: "it@customer.example", users: []string{"authuser"}, subject: "Unlock: authuser", messageID: "authres@mail.customer.example"},
	// A forwarded message was written by someone else: it names no one
	// (the contact must name the user in words of their own).
	{file: "forwarded_request.eml", from: anna, subject: "Fwd: locked out", messageID: "fwd1@mail.customer.example"},
	{file: "garbage.eml", err: true},
	{file: "german_reply.eml", from: anna, users: []string{"kmeyer"}, subject: "AW: Konto gesperrt", messageID: "de@mail.customer.example"},
	{file: "gmail_alternative.eml", from: "bob@customer.example", users: []string{"mmuster"}, subject: "unlock please", messageID: "CAF=+abcCAGmail123@mail.gmail.com"},
	{file: "html_blockquote_reply.eml", from: anna, users: []string{"fresh"}, subject: "Re: Unlock", messageID: "bq@mail.customer.example"},
	{file: "html_style_entities.eml", from: anna, users: []string{"r.ortiz"}, subject: "html", messageID: "htmlent@mail.customer.example"},
	{file: "idn_from.eml", from: "it@xn--bcher-kva.example", users: []string{"buecher"}, subject: "IDN", messageID: "idn@mail.customer.example"},
	{file: "iso8859_qp.eml", from: "hans.weiss@customer.example", users: []string{"jmüller"}, subject: "Konto gesperrt", messageID: "latin1@mail.customer.example"},
	{file: "lf_endings.eml", from: anna, users: []string{"lfuser"}, subject: "lf", messageID: "lf@mail.customer.example"},
	{file: "list_unsubscribe.eml", from: anna, auto: true, subject: "Offer", messageID: "unsub1@mail.customer.example"},
	{file: "mailing_list.eml", from: anna, auto: true, users: []string{"newsletteruser"}, subject: "[it-news] Weekly", messageID: "list1@mail.customer.example"},
	{file: "multiple_usernames.eml", from: anna, users: []string{"alice", "bob", "carol"}, subject: "Three users", messageID: "multi@mail.customer.example"},
	{file: "nested_mixed_alternative.eml", from: anna, users: []string{"nested1"}, subject: "nested", messageID: "nested@mail.customer.example"},
	{file: "no_from.eml", problem: "no From address", users: []string{"jsmith"}, subject: "no sender", messageID: "nofrom@mail.customer.example"},
	{file: "no_message_id.eml", from: anna, users: []string{"nomid"}, subject: "no id"},
	{file: "no_username.eml", from: anna, subject: "Help", messageID: "none@mail.customer.example"},
	{file: "ooo_auto_replied.eml", from: anna, auto: true, subject: "Automatic reply: Unlock request", messageID: "ooo@mail.customer.example"},
	{file: "outlook_html_only.eml", from: anna, users: []string{"jsmith"}, subject: "Account locked", messageID: "outlook1@mail.customer.example"},
	{file: "postmaster_from.eml", from: "postmaster@customer.example", auto: true, users: []string{"jsmith"}, subject: "Delivery problem", messageID: "pm@mail.customer.example"},
	{file: "reply_chain.eml", from: anna, users: []string{"bwayne"}, subject: "Re: Unlock request", messageID: "reply2@mail.customer.example", inReplyTo: "reply-77@unlockd.example"},
	// The subject of a reply still counts (SPEC §3 searches the subject);
	// only the quoted body is ignored.
	{file: "reply_original_message.eml", from: anna, users: []string{"oldname", "newname"}, subject: "RE: Unlock: oldname", messageID: "orig1@mail.customer.example", inReplyTo: "r-oldname@unlockd.example"},
	{file: "reply_to_other.eml", from: "it@customer.example", users: []string{"jsmith"}, subject: "reply-to set", messageID: "replyto@mail.customer.example", replyTo: "collector@attacker.example"},
	{file: "return_path_empty.eml", from: anna, auto: true, users: []string{"jsmith"}, subject: "null sender", messageID: "rpempty@mail.customer.example"},
	{file: "rfc2047_b_subject.eml", from: anna, users: []string{"pweber"}, subject: "Entsperren bitte – Unlock: pweber", messageID: "b2047@mail.customer.example"},
	{file: "rfc2047_q_subject.eml", from: anna, users: []string{"löwe"}, subject: "Konto gesperrt: user löwe", messageID: "q2047@mail.customer.example"},
	{file: "rfc2231_attachment.eml", from: anna, users: []string{"tkrause"}, subject: "Screenshot attached", messageID: "rfc2231@mail.customer.example"},
	{file: "sender_differs.eml", from: "it@customer.example", problem: "Sender differs from From", users: []string{"jsmith"}, subject: "sender differs", messageID: "senderdiff@mail.customer.example"},
	{file: "sender_same.eml", from: "it@customer.example", users: []string{"jsmith"}, subject: "sender same", messageID: "sendersame@mail.customer.example"},
	{file: "signature_user_admin.eml", from: anna, users: []string{"mmeier"}, subject: "locked", messageID: "sig@mail.customer.example"},
	{file: "subject_only.eml", from: anna, users: []string{"sonly"}, subject: "Unlock: sonly", messageID: "subjonly@mail.customer.example"},
	{file: "truncated_multipart.eml", from: anna, users: []string{"truncuser"}, subject: "truncated", messageID: "trunc@mail.customer.example"},
	{file: "two_from.eml", problem: "2 From addresses", users: []string{"jsmith"}, subject: "two senders", messageID: "twofrom@mail.customer.example"},
	{file: "unknown_charset.eml", from: anna, users: []string{"charsetuser"}, subject: "unknown charset", messageID: "unkcs@mail.customer.example"},
	{file: "unparsable_from.eml", problem: "unparsable From", users: []string{"jsmith"}, subject: "bad from", messageID: "badfrom@mail.customer.example"},
	{file: "uppercase_from.eml", from: "it.admin@customer.example", users: []string{"jsmith"}, subject: "UPPER", messageID: "upper@mail.customer.example"},
	{file: "user_colon_form.eml", from: anna, users: []string{"jsmith"}, subject: "locked user", messageID: "ucolon@mail.customer.example"},
	{file: "username_form.eml", from: anna, users: []string{"jsmith"}, subject: "request", messageID: "uname@mail.customer.example"},
	{file: "utf8_8bit.eml", from: anna, users: []string{"jürgen.s"}, subject: "Konto für Jürgen", messageID: "utf8@mail.customer.example"},
	{file: "vacation_precedence_bulk.eml", from: anna, auto: true, subject: "Vacation", messageID: "vac@mail.customer.example"},
	{file: "windows1252_qp.eml", from: anna, users: []string{"jsmith"}, subject: "Locked out", messageID: "cp1252@mail.customer.example"},
	{file: "x_loop.eml", from: "unlock@unlockd.example", auto: true, users: []string{"jsmith"}, subject: "Re: Unlock: jsmith", messageID: "xloop@mail.customer.example"},
}

var hashKeyPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// MustReadFile returns the contents of a testdata file.
func MustReadFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, r := range corpus {
		if rows[r.file] {
			t.Errorf("%s: two rows", r.file)
		}
		rows[r.file] = true
	}
	for _, f := range files {
		if !rows[filepath.Base(f)] {
			t.Errorf("%s has no row in corpus", f)
		}
	}
	if len(files) < 40 {
		t.Errorf("corpus has %d files, want at least 40", len(files))
	}
	for _, r := range corpus {
		t.Run(r.file, func(t *testing.T) {
			m, err := Parse(MustReadFile(t, r.file))
			if r.err {
				if err == nil {
					t.Fatalf("Parse succeeded, want an error")
				}
				if !strings.HasPrefix(err.Error(), "mailparse: ") {
					t.Errorf("error %q lacks the package prefix", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkRow(t, r, m)
		})
	}
}

func checkRow(t *testing.T, r corpusRow, m *Message) {
	t.Helper()
	if m.From != r.from {
		t.Errorf("From = %q, want %q", m.From, r.from)
	}
	if m.SenderProblem != r.problem {
		t.Errorf("SenderProblem = %q, want %q", m.SenderProblem, r.problem)
	}
	if (m.AutoGenerated != "") != r.auto {
		t.Errorf("AutoGenerated = %q, want non-empty %v", m.AutoGenerated, r.auto)
	}
	if !slices.Equal(texts(m.Usernames), r.users) {
		t.Errorf("Usernames = %q, want %q (text %q)", m.Usernames, r.users, m.Text)
	}
	if m.Subject != r.subject {
		t.Errorf("Subject = %q, want %q", m.Subject, r.subject)
	}
	if m.MessageID != r.messageID {
		t.Errorf("MessageID = %q, want %q", m.MessageID, r.messageID)
	}
	if r.messageID != "" && m.Key != r.messageID {
		t.Errorf("Key = %q, want the Message-ID %q", m.Key, r.messageID)
	}
	if r.messageID == "" && !hashKeyPattern.MatchString(m.Key) {
		t.Errorf("Key = %q, want sha256:<hex>", m.Key)
	}
	if m.InReplyTo != r.inReplyTo {
		t.Errorf("InReplyTo = %q, want %q", m.InReplyTo, r.inReplyTo)
	}
	if m.ReplyTo != r.replyTo {
		t.Errorf("ReplyTo = %q, want %q", m.ReplyTo, r.replyTo)
	}
}

// texts returns the names alone.
func texts(names []domain.Name) []string {
	var out []string
	for _, n := range names {
		out = append(out, n.Text)
	}
	return out
}
