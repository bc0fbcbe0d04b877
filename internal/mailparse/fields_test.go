package mailparse

import (
	"slices"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
)

func TestSingleFieldsAndFolding(t *testing.T) {
	tests := []struct {
		name       string
		raw        string
		duplicated []string
		subject    string
		from       string
		problem    string
		limit      string
		users      []domain.Name
	}{
		{name: "one of each", raw: "From: a@acme.example\r\nSubject: Unlock: bob\r\nReceived: x\r\nReceived: y\r\n\r\nhi\r\n",
			subject: "Unlock: bob", from: "a@acme.example", users: domain.NamesIn(domain.InSubject, "bob")},
		{name: "Subject twice: the topmost is read, both are counted",
			raw:        "Subject: Unlock: bob\r\nFrom: a@acme.example\r\nSubject: Lunch\r\n\r\nhi\r\n",
			duplicated: []string{"Subject"}, subject: "Unlock: bob", from: "a@acme.example", users: domain.NamesIn(domain.InSubject, "bob")},
		{name: "a long s makes a Subject, as for go-msgauth",
			raw:        "\u017fubject: Unlock: bob\r\nFrom: a@acme.example\r\nSubject: Lunch\r\n\r\n",
			duplicated: []string{"Subject"}, subject: "Unlock: bob", from: "a@acme.example", users: domain.NamesIn(domain.InSubject, "bob")},
		{name: "the same From twice names one sender, unverified",
			raw:        "From: a@acme.example\r\nFrom: A <A@ACME.example>\r\n\r\nuser bob\r\n",
			duplicated: []string{"From"}, from: "a@acme.example", problem: "2 From addresses", users: domain.NamesIn(domain.InBody, "bob")},
		{name: "top-level MIME fields twice",
			raw:        "From: a@acme.example\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: 7bit\r\ncontent-transfer-encoding: base64\r\n\r\nx\r\n",
			duplicated: []string{"Content-Type", "Content-Transfer-Encoding"}, from: "a@acme.example"},
		{name: "a name in both parts", raw: "From: a@acme.example\r\nSubject: Unlock: bob\r\n\r\nuser bob, user carol\r\n",
			subject: "Unlock: bob", from: "a@acme.example",
			users: []domain.Name{{Text: "bob", In: domain.InSubject | domain.InBody}, {Text: "carol", In: domain.InBody}}},
		{name: "past a limit: what was read", raw: "From: a@acme.example\r\nSubject: Unlock: bob\r\nX: 1\r\n" + strings.Repeat(" 2\r\n", 300) + "\r\nuser carol\r\n",
			subject: "Unlock: bob", from: "a@acme.example", limit: "a header field folded into more than 200 lines", users: domain.NamesIn(domain.InSubject, "bob")},
		{name: "the body is read as our header says", raw: "From: a@acme.example\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nuser=3A bob\r\n",
			from: "a@acme.example", users: domain.NamesIn(domain.InBody, "bob")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(m.Duplicated, tt.duplicated) || m.Subject != tt.subject || m.From != tt.from ||
				m.SenderProblem != tt.problem || m.HeaderLimit != tt.limit || !slices.Equal(m.Usernames, tt.users) {
				t.Errorf("got duplicated %q subject %q from %q problem %q limit %q users %+v\nwant %q %q %q %q %q %+v",
					m.Duplicated, m.Subject, m.From, m.SenderProblem, m.HeaderLimit, m.Usernames,
					tt.duplicated, tt.subject, tt.from, tt.problem, tt.limit, tt.users)
			}
		})
	}
}

// TestTextAttachmentsNameNoOne: a text file attached, even inline, is not
// the message's text.
func TestTextAttachmentsNameNoOne(t *testing.T) {
	raw := "From: a@acme.example\r\nSubject: see file\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nuser bob\r\n" +
		"--b\r\nContent-Type: text/plain; name=\"users.txt\"\r\n\r\nuser x1\r\n" +
		"--b\r\nContent-Type: text/plain\r\nContent-Disposition: inline; filename=\"more.txt\"\r\n\r\nuser x2\r\n" +
		"--b\r\nContent-Type: text/plain\r\nContent-Disposition: inline; filename*=utf-8''m%C3%A4re.txt\r\n\r\nuser x3\r\n--b--\r\n"
	m, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(m.Usernames); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("Usernames = %q, want only bob", got)
	}
}
