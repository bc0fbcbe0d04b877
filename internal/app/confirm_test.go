package app_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestConfirmLinkEndToEnd: an unsigned request from the contact is queued
// and answered, at the address on record only, with a link; opening the
// link leaves it queued; pressing Confirm unlocks the user, a reply in the
// request's thread says so, and the link then answers 410.
func TestConfirmLinkEndToEnd(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			r := startApp(t, e)
			a, ctx, imapSrv, smtpSrv := r.App, r.Ctx, r.IMAP, r.SMTP

			// Unsigned, with a Reply-To and a Cc elsewhere: the link goes to
			// the address on record alone.
			imapSrv.Append(t, "INBOX", []byte("From: IT <it@acme.example>\r\nTo: support@unlockd.example\r\n"+
				"Reply-To: attacker@evil.example\r\nCc: attacker@evil.example\r\n"+
				"Subject: Unlock: jsmith\r\nMessage-ID: <e2e-c1@acme.example>\r\n\r\nPlease unlock jsmith.\r\n"))
			reply := waitReply(t, smtpSrv, "e2e-c1@acme.example", 1)
			link := regexp.MustCompile(`http://[^\s]+/confirm/[A-Za-z0-9_-]{43}`).FindString(reply.text)
			if link == "" || !strings.Contains(reply.text, "jsmith: waiting for you to confirm") {
				t.Fatalf("the reply carries no link:\n%s", reply.text)
			}
			for _, m := range smtpSrv.Messages() {
				if bytes.Contains(m.Data, []byte("/confirm/")) && (len(m.To) != 1 || m.To[0] != "it@acme.example") {
					t.Errorf("a link went to %v", m.To)
				}
			}
			reqs, err := a.Store.ListRequests(ctx, store.RequestFilter{State: domain.ItemPending})
			if err != nil || len(reqs) != 1 || reqs[0].Link == nil || reqs[0].Reason != domain.QueueUnverifiedSender {
				t.Fatalf("queue = %+v, %v; want jsmith pending with a link", reqs, err)
			}

			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar}
			page := fetch(t, client, http.MethodGet, link, nil)
			if page.status != http.StatusOK || !strings.Contains(page.body, "jsmith") || !strings.Contains(page.body, "Acme") {
				t.Fatalf("GET %s = %d:\n%s", link, page.status, page.body)
			}
			if u, err := a.Store.User(ctx, "acme", "jsmith"); err != nil || u.Lock == nil {
				t.Fatalf("opening the link unlocked jsmith: %+v, %v", u, err)
			}
			csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page.body)
			if csrf == nil {
				t.Fatalf("no form token on the page:\n%s", page.body)
			}
			page = fetch(t, client, http.MethodPost, link, url.Values{"csrf": {csrf[1]}})
			if page.status != http.StatusOK || !strings.Contains(page.body, "Request confirmed") {
				t.Fatalf("POST %s = %d:\n%s", link, page.status, page.body)
			}
			if u, err := a.Store.User(ctx, "acme", "jsmith"); err != nil || u.Lock != nil {
				t.Errorf("jsmith after Confirm: %+v, %v", u, err)
			}
			answer := waitReply(t, smtpSrv, "e2e-c1@acme.example", 2)
			if !strings.Contains(answer.text, "You confirmed your unlock request") || !strings.Contains(answer.text, "jsmith: unlocked") ||
				len(answer.to) != 1 || answer.to[0] != "it@acme.example" {
				t.Errorf("the answer to %v does not say jsmith is unlocked:\n%s", answer.to, answer.text)
			}
			if page := fetch(t, client, http.MethodGet, link, nil); page.status != http.StatusGone {
				t.Errorf("the used link answers %d, want 410", page.status)
			}
			if page := fetch(t, client, http.MethodPost, link, url.Values{"csrf": {csrf[1]}}); page.status != http.StatusGone {
				t.Errorf("the used link's button answers %d, want 410", page.status)
			}
			if code, body := get(t, a, "/metrics"); code != http.StatusOK || !strings.Contains(body, `unlockd_unlocks_total{channel="link"} 1`) {
				t.Errorf("/metrics does not count the link's unlock")
			}
			r.stop(t)
		})
	}
}

// reply is a reply the SMTP sink received: recipients and text part.
type reply struct {
	to   []string
	text string
}

// waitReply waits for the n-th reply threaded under the request messageID
// and returns it, its text part decoded.
func waitReply(t *testing.T, s *mailtest.SMTPServer, messageID string, n int) reply {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var got []reply
		for _, m := range s.Messages() {
			mr, err := mail.CreateReader(bytes.NewReader(m.Data))
			if err != nil {
				t.Fatal(err)
			}
			if ids, _ := mr.Header.MsgIDList("In-Reply-To"); len(ids) == 1 && ids[0] == messageID {
				got = append(got, reply{to: m.To, text: textPart(t, mr)})
			}
			mr.Close()
		}
		if len(got) >= n {
			return got[n-1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no reply %d to %s within 15s", n, messageID)
	return reply{}
}

// textPart returns the decoded text/plain part of a message.
func textPart(t *testing.T, mr *mail.Reader) string {
	t.Helper()
	for {
		p, err := mr.NextPart()
		if err != nil {
			return ""
		}
		if h, ok := p.Header.(*mail.InlineHeader); ok {
			if ct, _, _ := h.ContentType(); ct == "text/plain" {
				b, _ := io.ReadAll(p.Body)
				return string(b)
			}
		}
	}
}

// page is an HTTP answer, its body read.
type page struct {
	status int
	body   string
}

func fetch(t *testing.T, c *http.Client, method, target string, form url.Values) page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, body: string(b)}
}
