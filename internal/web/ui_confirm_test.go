package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/web"
)

// syncBuffer is a log sink the server and the test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// confirmFixture is the UI fixture with carol of acme locked for failed
// logins and an unverified request for her whose reply carried a link; the
// server's log, answers and unlock counts are kept.
type confirmFixture struct {
	*uiFixture
	Token   string
	Request int64
	Log     *syncBuffer

	mu       sync.Mutex
	answers  []store.FollowUp
	unlocked map[string]int
}

func newConfirmFixture(t *testing.T, tweak func(*web.Config)) *confirmFixture {
	t.Helper()
	cf := &confirmFixture{Log: &syncBuffer{}, unlocked: map[string]int{}}
	cf.uiFixture = newUIFixtureWith(t, func(c *web.Config) {
		c.Log = slog.New(slog.NewTextHandler(cf.Log, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.Answer = func(f store.FollowUp) (domain.Mail, error) {
			cf.mu.Lock()
			defer cf.mu.Unlock()
			cf.answers = append(cf.answers, f)
			return domain.Mail{Kind: domain.MailReply, To: f.To, Subject: "Re: " + f.Subject, MessageID: "confirmed@unlockd.test", Text: f.Kind}, nil
		}
		c.Unlocked = func(channel string, n int) {
			cf.mu.Lock()
			cf.unlocked[channel] += n
			cf.mu.Unlock()
		}
		if tweak != nil {
			tweak(c)
		}
	})
	st := cf.Store
	st.ConfirmTTL = 30 * time.Minute
	now := cf.Clock.Now()
	if _, err := st.CreateUser(context.Background(), "acme", domain.User{Username: "carol", DisplayName: "Carol Cooper", FailedLogins: 5,
		Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: now, By: domain.ActorSystem}}, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	msg := store.Message{Mailbox: "support", Key: "<carol@acme.example>", MessageID: "<carol@acme.example>", Subject: "Unlock carol please"}
	d, err := st.Decide(context.Background(), msg, domain.Facts{Sender: "it@acme.example", Proof: domain.Proof{Detail: "no DKIM signature"},
		Usernames: domain.NamesIn(domain.InSubject, "carol")}, func(dm store.DecisionMail) ([]domain.Mail, error) {
		if dm.Confirm != nil {
			cf.Token = dm.Confirm.Token
		}
		return nil, nil
	})
	if err != nil || cf.Token == "" {
		t.Fatalf("decide carol's request: %v; token %q", err, cf.Token)
	}
	reqs, err := st.ListRequests(context.Background(), store.RequestFilter{State: domain.ItemPending})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		if r.DecisionID == d.ID {
			cf.Request = r.ID
		}
	}
	return cf
}

func (cf *confirmFixture) path() string { return "/confirm/" + cf.Token }

// wantUntouched checks that carol is still locked, her request pending and
// its link unused.
func (cf *confirmFixture) wantUntouched(t *testing.T) {
	t.Helper()
	if u := cf.user(t, "acme", "carol"); u.Lock == nil {
		t.Fatalf("carol was unlocked")
	}
	r, err := cf.Store.Request(context.Background(), cf.Request, "")
	if err != nil || r.State != domain.ItemPending || r.Link == nil || !r.Link.UsedAt.IsZero() {
		t.Fatalf("carol's request = %+v, %v; want pending with an unused link", r, err)
	}
}

// TestConfirmPageChangesNothing: opening the link, as a mail scanner
// does, shows who of which org would be unlocked and a Confirm button,
// and changes nothing, however often.
func TestConfirmPageChangesNothing(t *testing.T) {
	cf := newConfirmFixture(t, nil)
	b := cf.browser(t)
	for range 3 {
		p := b.get(cf.path()).want(http.StatusOK, "Confirm your unlock request")
		for _, want := range []string{"carol", "Carol Cooper", "Acme Ltd", "it@acme.example", `<button class="primary" name="confirm"`} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("the confirm page does not show %q:\n%s", want, p.Body)
			}
		}
		if p.Header.Get("Cache-Control") != "no-store" || p.Header.Get("Referrer-Policy") != "same-origin" ||
			!strings.Contains(p.Header.Get("Content-Security-Policy"), "form-action 'self'") {
			t.Errorf("confirm page headers: %v", p.Header)
		}
	}
	// A HEAD, as some scanners send, changes nothing either.
	req, _ := http.NewRequest(http.MethodHead, cf.Server.URL+cf.path(), nil)
	b.do(req)
	cf.wantUntouched(t)
	if len(cf.answers) != 0 {
		t.Errorf("opening the link answered: %+v", cf.answers)
	}
}

// TestConfirmButton: the Confirm button unlocks carol once, with the
// threaded answer and the link channel counted; the link is then gone,
// and staff see in the queue when it was used.
func TestConfirmButton(t *testing.T) {
	cf := newConfirmFixture(t, nil)
	staff := cf.signedIn(t, uiStaff)
	staff.get("/queue").want(http.StatusOK, "not used yet")
	var api struct {
		Confirmation *struct {
			SentAt    time.Time  `json:"sent_at"`
			ExpiresAt time.Time  `json:"expires_at"`
			UsedAt    *time.Time `json:"used_at"`
		} `json:"confirmation"`
	}

	b := cf.browser(t)
	b.get(cf.path()).want(http.StatusOK, "Confirming unlocks")
	cf.Clock.Add(2 * time.Minute)
	p := b.post(cf.path(), url.Values{"confirm": {"yes"}}).want(http.StatusOK, "Request confirmed")
	if !strings.Contains(p.Body, "carol") || !strings.Contains(p.Body, "unlocked") {
		t.Errorf("the answer page does not say carol is unlocked:\n%s", p.Body)
	}
	if u := cf.user(t, "acme", "carol"); u.Lock != nil || u.FailedLogins != 0 {
		t.Errorf("carol after the click: %+v", u)
	}
	if len(cf.answers) != 1 || cf.answers[0].Kind != store.FollowUpConfirmed || cf.answers[0].MessageID != "<carol@acme.example>" {
		t.Errorf("answers = %+v, want one confirmed answer in the request's thread", cf.answers)
	}
	if cf.unlocked["link"] != 1 {
		t.Errorf("unlocks counted: %v, want one through the link channel", cf.unlocked)
	}
	if n := cf.auditActions(t, "acme", "carol"); n[domain.ActionUnlock] != 1 {
		t.Errorf("audit of carol = %v, want one unlock", n)
	}

	// Again, from the same browser or another: 410, nothing changes.
	b.post(cf.path(), url.Values{"confirm": {"yes"}}).want(http.StatusGone, "")
	other := cf.browser(t)
	other.get(cf.path()).want(http.StatusGone, "already used")
	if len(cf.answers) != 1 || cf.unlocked["link"] != 1 {
		t.Errorf("a used link acted again")
	}

	r, err := cf.Store.Request(context.Background(), cf.Request, "")
	if err != nil || r.State != domain.ItemApplied {
		t.Fatalf("request = %+v, %v", r, err)
	}
	tok, hash := password.NewToken()
	if _, err := cf.Store.CreateToken(context.Background(), store.Token{Name: "staff", Role: domain.RoleStaff}, hash, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	status, _, body := uiFixtureAPI(t, cf.uiFixture, tok, "GET", "/api/v1/requests/"+strconv.FormatInt(cf.Request, 10), "")
	if err := json.Unmarshal(body, &api); err != nil || status != http.StatusOK || api.Confirmation == nil || api.Confirmation.UsedAt == nil ||
		!api.Confirmation.UsedAt.Equal(cf.Clock.Now()) || !api.Confirmation.ExpiresAt.Equal(api.Confirmation.SentAt.Add(30*time.Minute)) {
		t.Errorf("API request %d: %s", status, body)
	}
	staff.get("/requests/"+strconv.FormatInt(cf.Request, 10)).want(http.StatusOK, `<span class="badge ok">used</span>`)
	if strings.Contains(cf.Log.String(), cf.Token) {
		t.Errorf("the log holds the token:\n%s", cf.Log.String())
	}
}

// TestConfirmForgery: the Confirm button without the page's token, with
// another token, or from another site changes nothing.
func TestConfirmForgery(t *testing.T) {
	cf := newConfirmFixture(t, nil)
	b := cf.browser(t)
	// Without having opened the page: no cookie to match.
	b.post(cf.path(), url.Values{"csrf": {"guess"}}).want(http.StatusForbidden, "did not come from this site")
	b.get(cf.path()).want(http.StatusOK, "Confirm")
	b.post(cf.path(), url.Values{"csrf": {"AAAAAAAAAAAAAAAAAAAAAAAAAA"}}).want(http.StatusForbidden, "did not come from this site")
	b.post(cf.path(), nil, "Sec-Fetch-Site", "cross-site").want(http.StatusForbidden, "cross-origin request refused")
	b.post(cf.path(), nil, "Origin", "https://evil.example").want(http.StatusForbidden, "cross-origin request refused")
	cf.wantUntouched(t)
}

// TestConfirmLinkGoneOrUnknown: unknown and malformed links are 404,
// expired ones 410, each with a page saying so, and nothing changes.
func TestConfirmLinkGoneOrUnknown(t *testing.T) {
	cf := newConfirmFixture(t, nil)
	b := cf.browser(t)
	for _, path := range []string{"/confirm/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "/confirm/short", "/confirm/" + cf.Token + "x",
		"/confirm/%00" + cf.Token[1:]} {
		b.get(path).want(http.StatusNotFound, "this link is not valid")
	}
	b.get(cf.path()).want(http.StatusOK, "Confirm")
	cf.Clock.Add(30 * time.Minute)
	b.get(cf.path()).want(http.StatusGone, "this link expired")
	b.post(cf.path(), nil).want(http.StatusGone, "this link expired")
	cf.wantUntouched(t)
}

// TestConfirmThrottled: each client address may open links burst times at
// once; behind a trusted proxy the forwarded address counts, and a
// forged X-Forwarded-For from anyone else does not make a new client.
func TestConfirmThrottled(t *testing.T) {
	cf := newConfirmFixture(t, func(c *web.Config) {
		c.SignIn.ClientBurst, c.SignIn.ClientRefill = 3, time.Minute
		c.Proxies = web.Proxies{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	})
	b := cf.browser(t)
	get := func(client string) *uiPage {
		req, _ := http.NewRequest(http.MethodGet, cf.Server.URL+cf.path(), nil)
		req.Header.Set("X-Forwarded-For", client)
		return b.do(req)
	}
	for range 3 {
		get("198.51.100.1").want(http.StatusOK, "Confirm")
	}
	p := get("198.51.100.1").want(http.StatusTooManyRequests, "too many confirmation links")
	if p.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	get("198.51.100.2").want(http.StatusOK, "Confirm")
	// The proxy passes on what the client wrote on the left: ignored.
	get("203.0.113.9, 198.51.100.1").want(http.StatusTooManyRequests, "")
	// The button counts too: a throttled client cannot use the link.
	form := url.Values{"csrf": {b.csrf}}
	req, _ := http.NewRequest(http.MethodPost, cf.Server.URL+cf.path(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "198.51.100.1")
	b.do(req).want(http.StatusTooManyRequests, "")
	cf.wantUntouched(t)
}
