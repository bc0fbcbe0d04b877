package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
)

var (
	acme   = domain.Org{Slug: "acme"}
	globex = domain.Org{Slug: "globex"}
)

func mustOpen(t *testing.T, c Config) *Directory {
	t.Helper()
	d, err := Open(context.Background(), "app", c)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// noSecret fails the test when err shows the secret.
func noSecret(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testSecret) {
		t.Errorf("the error shows the secret: %v", err)
	}
}

func TestOperations(t *testing.T) {
	a := startApp(t)
	d := mustOpen(t, a.config(t))
	ctx := context.Background()
	if err := d.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}

	got, err := d.Lookup(ctx, acme, []string{"ann", "bob", "carol", "nobody", "frank"})
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	if len(got) != 3 {
		t.Fatalf("lookup = %d accounts, want ann, bob, carol: %+v", len(got), got)
	}
	ann := got["ann"]
	if ann.DisplayName != "Ann" || ann.Email != "ann@acme.example" || ann.Lock == nil || ann.Lock.Reason != domain.LockFailedLogins ||
		!ann.Lock.At.Equal(lockedAt) || ann.Lock.Mark != "ppolicy:20261130091542Z" {
		t.Errorf("ann = %+v, lock %+v", ann, ann.Lock)
	}
	if l := got["bob"].Lock; l == nil || l.Reason != domain.LockAdmin || l.Note != "on leave" {
		t.Errorf("bob's lock = %+v", l)
	}
	if got["carol"].Lock != nil {
		t.Errorf("carol is locked: %+v", got["carol"].Lock)
	}

	if err := d.Unlock(ctx, acme, "ann", *ann.Lock); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if err := d.Unlock(ctx, acme, "ann", *ann.Lock); !errors.Is(err, domain.ErrNotLocked) {
		t.Fatalf("second unlock = %v, want ErrNotLocked", err)
	}

	// An admin lock set between the lookup and the unlock survives.
	erin := mustLookup(t, d, acme, "erin")
	if err := d.Lock(ctx, acme, "erin", "laptop stolen"); err != nil {
		t.Fatalf("lock: %v", err)
	}
	if err := d.Unlock(ctx, acme, "erin", *erin.Lock); !errors.Is(err, domain.ErrLockChanged) {
		t.Fatalf("unlock after an admin lock = %v, want ErrLockChanged", err)
	}
	if l := mustLookup(t, d, acme, "erin").Lock; l == nil || l.Reason != domain.LockAdmin || l.Note != "laptop stolen" {
		t.Errorf("erin's lock = %+v, want the admin lock with its note", l)
	}
	if err := d.Lock(ctx, acme, "erin", "again"); err == nil || !strings.Contains(err.Error(), "already locked") {
		t.Errorf("locking an admin-locked user = %v", err)
	}
	if err := d.Lock(ctx, acme, "nobody", "x"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("lock of nobody = %v, want ErrNotFound", err)
	}

	// Another org's account is out of reach.
	frank := mustLookup(t, d, globex, "frank")
	if err := d.Unlock(ctx, acme, "frank", *frank.Lock); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("acme's unlock of globex's frank = %v, want ErrNotFound", err)
	}

	users, err := d.ListLocked(ctx, acme, 10)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Username)
	}
	if strings.Join(names, ",") != "bob,erin" {
		t.Errorf("acme's locked users = %v, want bob, erin", names)
	}
	if err := d.SetPassword(ctx, acme, "carol", "x"); !errors.Is(err, domain.ErrUnsupported) {
		t.Errorf("set password = %v, want ErrUnsupported", err)
	}
}

func mustLookup(t *testing.T, d *Directory, org domain.Org, username string) domain.User {
	t.Helper()
	got, err := d.Lookup(context.Background(), org, []string{username})
	if err != nil {
		t.Fatalf("lookup %s: %v", username, err)
	}
	u, ok := got[username]
	if !ok {
		t.Fatalf("lookup %s: not found", username)
	}
	return u
}

func TestReplayRefused(t *testing.T) {
	a := startApp(t)
	d := mustOpen(t, a.config(t))
	ctx := context.Background()
	ann := mustLookup(t, d, acme, "ann")
	if err := d.Unlock(ctx, acme, "ann", *ann.Lock); err != nil {
		t.Fatal(err)
	}
	reqs := a.captured()
	unlock := reqs[len(reqs)-1]
	if unlock.path != "/unlockd/unlock" {
		t.Fatalf("last request %s", unlock.path)
	}

	// ann is locked again, the same way; the same request and signature
	// sent again at once is refused by the nonce the app remembers.
	a.set(func() {
		a.accounts["acme"]["ann"] = &account{locked: true, reason: "failed_logins", at: lockedAt, mark: "ppolicy:20261130091542Z"}
	})
	if code, body := a.resend(t, unlock); code != http.StatusUnauthorized || !strings.Contains(body, "nonce seen before") {
		t.Errorf("unlock replayed inside the window: HTTP %d %s, want 401", code, body)
	}
	if !a.accounts["acme"]["ann"].locked {
		t.Error("the replay inside the window unlocked ann")
	}
	// Retries are new requests with nonces of their own, never replays.
	a.set(func() { a.fail = 1 })
	if err := d.Unlock(ctx, acme, "ann", *ann.Lock); err != nil {
		t.Errorf("unlock after one 503: %v", err)
	}
	reqs = a.captured()
	if n1, n2 := nonceOf(t, reqs[len(reqs)-2]), nonceOf(t, reqs[len(reqs)-1]); n1 == n2 {
		t.Errorf("the retry reused the nonce %s", n1)
	}
	a.set(func() {
		a.accounts["acme"]["ann"] = &account{locked: true, reason: "failed_logins", at: lockedAt, mark: "ppolicy:20261130091542Z"}
	})

	// The same request and signature, six minutes later: stale, whatever
	// the receiver remembers.
	later := time.Now().Add(6 * time.Minute)
	if _, err := Verify([]byte(testSecret), unlock.signature, unlock.body, later, DefaultWindow); !errors.Is(err, ErrStaleSignature) {
		t.Errorf("Verify of a replay after the window = %v, want ErrStaleSignature", err)
	}
	a.set(func() {
		a.nonces = map[string]bool{} // a receiver that forgot its nonces
		a.now = later
	})
	if code, body := a.resend(t, unlock); code != http.StatusUnauthorized || !strings.Contains(body, "outside the time window") {
		t.Errorf("replayed unlock: HTTP %d %s, want 401", code, body)
	}
	if !a.accounts["acme"]["ann"].locked {
		t.Error("the replay unlocked ann")
	}

	// A request signed with a stale time is refused, permanently.
	a.set(func() { a.now = time.Time{} })
	d.Now = func() time.Time { return time.Now().Add(-10 * time.Minute) }
	err := d.Unlock(ctx, acme, "ann", *ann.Lock)
	if err == nil || domain.IsTemporary(err) || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("unlock signed 10 minutes ago = %v, want a permanent HTTP 401", err)
	}
	noSecret(t, err)
}

// nonceOf returns the n= of a captured request's signature.
func nonceOf(t *testing.T, c captured) string {
	t.Helper()
	n, err := Verify([]byte(testSecret), c.signature, c.body, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestVerify(t *testing.T) {
	secret := []byte(testSecret)
	body := []byte(`{"org":"acme"}`)
	now := time.Unix(1_800_000_000, 0)
	const nonce = "0123456789abcdefABCDEF"
	good := Sign(secret, now, nonce, body)
	if !strings.HasPrefix(good, "t=1800000000,n="+nonce+",v1=") {
		t.Fatalf("Sign = %q", good)
	}
	if a, b := NewNonce(), NewNonce(); a == b || !validNonce(a) {
		t.Errorf("NewNonce gave %q and %q", a, b)
	}
	v1 := "v1=" + strings.SplitN(good, "v1=", 2)[1]
	tests := []struct {
		name, header string
		body         []byte
		at           time.Time
		want         error
	}{
		{"good", good, body, now, nil},
		{"within the window", good, body, now.Add(4 * time.Minute), nil},
		{"after the window", good, body, now.Add(5*time.Minute + time.Second), ErrStaleSignature},
		{"from the future", good, body, now.Add(-6 * time.Minute), ErrStaleSignature},
		{"another body", good, []byte(`{"org":"globex"}`), now, ErrBadSignature},
		{"another secret", Sign([]byte("another secret, 16+ bytes"), now, nonce, body), body, now, ErrBadSignature},
		{"time changed", strings.Replace(good, "t=1800000000", "t=1800000001", 1), body, now, ErrBadSignature},
		{"nonce changed", strings.Replace(good, "n="+nonce, "n=1"+nonce[1:], 1), body, now, ErrBadSignature},
		{"no nonce", "t=1800000000," + v1, body, now, ErrBadSignature},
		{"short nonce", Sign(secret, now, "abc", body), body, now, ErrBadSignature},
		{"nonce with a separator", Sign(secret, now, "0123456789abcdef.x", body), body, now, ErrBadSignature},
		{"two nonces", "t=1800000000,n=" + nonce + ",n=" + nonce + "," + v1, body, now, ErrBadSignature},
		{"rotated secret, second v1", Sign([]byte("old secret, 16+ bytes"), now, nonce, body) + "," + v1, body, now, nil},
		{"no v1", "t=1800000000,n=" + nonce, body, now, ErrBadSignature},
		{"no t", "n=" + nonce + "," + v1, body, now, ErrBadSignature},
		{"garbage", "Bearer abc", body, now, ErrBadSignature},
		{"short v1", "t=1800000000,v1=abcd", body, now, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Verify(secret, tt.header, tt.body, tt.at, DefaultWindow)
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if (err == nil) != (n == nonce) {
				t.Errorf("Verify gave the nonce %q with %v", n, err)
			}
			noSecret(t, err)
		})
	}
}

func TestRetries(t *testing.T) {
	a := startApp(t)
	d := mustOpen(t, a.config(t))
	ctx := context.Background()

	a.set(func() { a.fail = 2 })
	n := len(a.captured())
	if _, err := d.Lookup(ctx, acme, []string{"ann"}); err != nil {
		t.Fatalf("lookup after two 503s: %v", err)
	}
	if got := len(a.captured()) - n; got != 3 {
		t.Errorf("%d requests, want 3 (two answered 503)", got)
	}

	a.set(func() { a.fail = 100 })
	n = len(a.captured())
	_, err := d.Lookup(ctx, acme, []string{"ann"})
	if !domain.IsTemporary(err) || !strings.Contains(err.Error(), "HTTP 503") {
		t.Errorf("lookup with the app answering 503 = %v, want a temporary error", err)
	}
	if got := len(a.captured()) - n; got != 3 {
		t.Errorf("%d requests, want max_attempts 3", got)
	}
	noSecret(t, err)
}

func TestClientErrorIsPermanent(t *testing.T) {
	a := startApp(t)
	d := mustOpen(t, a.config(t))
	a.set(func() {
		a.reply = func(w http.ResponseWriter) bool {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error": "unknown org \u001b[31macme\u001b[0m` + strings.Repeat(" and more", 100) + `"}`))
			return true
		}
	})
	n := len(a.captured())
	_, err := d.Lookup(context.Background(), acme, []string{"ann"})
	if err == nil || domain.IsTemporary(err) || !strings.Contains(err.Error(), "HTTP 400: unknown org [31macme [0m and more") {
		t.Fatalf("lookup answered 400 = %v, want a permanent error with the message", err)
	}
	if strings.ContainsRune(err.Error(), 0x1b) || len(err.Error()) > 400 {
		t.Errorf("the message is not cleaned or not cut short: %q", err)
	}
	if got := len(a.captured()) - n; got != 1 {
		t.Errorf("%d requests, want 1: a 4xx is not retried", got)
	}
}

func TestHangingServerIsTemporary(t *testing.T) {
	a := startApp(t)
	c := a.config(t)
	c.Timeout = time.Second
	d := mustOpen(t, c)
	a.set(func() { a.hang = true })
	start := time.Now()
	err := d.Unlock(context.Background(), acme, "ann", domain.Lock{Reason: domain.LockFailedLogins, At: lockedAt})
	took := time.Since(start)
	if !domain.IsTemporary(err) {
		t.Errorf("unlock against a hanging app = %v, want temporary", err)
	}
	if took > c.Timeout+500*time.Millisecond {
		t.Errorf("took %v, want about the timeout %v", took, c.Timeout)
	}
	t.Logf("%v after %v", err, took.Round(time.Millisecond))
	noSecret(t, err)
}

// Answers that make no sense are permanent errors, never an unlock.
func TestGarbageAnswers(t *testing.T) {
	a := startApp(t)
	d := mustOpen(t, a.config(t))
	ctx := context.Background()
	ann := mustLookup(t, d, acme, "ann")
	tests := []struct {
		name, body string
		call       func() error
		want       string
	}{
		{"not json", "<html>ok</html>", func() error { return d.Unlock(ctx, acme, "ann", *ann.Lock) }, "not valid"},
		{"unknown result", `{"result":"yes"}`, func() error { return d.Unlock(ctx, acme, "ann", *ann.Lock) }, `result "yes"`},
		{"empty object", `{}`, func() error { return d.Unlock(ctx, acme, "ann", *ann.Lock) }, `result ""`},
		{"unknown field", `{"result":"unlocked","extra":1}`, func() error { return d.Unlock(ctx, acme, "ann", *ann.Lock) }, "unknown field"},
		{"two values", `{"result":"unlocked"}{"result":"unlocked"}`, func() error { return d.Unlock(ctx, acme, "ann", *ann.Lock) }, "data after"},
		{"no users list", `{}`, lookup(d, "ann"), `no "users"`},
		{"misspelt locked", `{"users":[{"username":"ann","lockd":true}]}`, lookup(d, "ann"), "unknown field"},
		{"no locked", `{"users":[{"username":"ann"}]}`, lookup(d, "ann"), `no "locked"`},
		{"not asked for", `{"users":[{"username":"bob","locked":false}]}`, lookup(d, "ann"), `"bob" was not asked for`},
		{"twice", `{"users":[{"username":"ann","locked":false},{"username":"ann","locked":false}]}`, lookup(d, "ann"), `two accounts for username "ann"`},
		{"bad reason", `{"users":[{"username":"ann","locked":true,"lock_reason":"oops","locked_at":"2026-11-30T09:15:42Z"}]}`, lookup(d, "ann"), "lock reason"},
		{"no locked_at", `{"users":[{"username":"ann","locked":true,"lock_reason":"admin"}]}`, lookup(d, "ann"), "locked_at"},
		{"list over the limit", `{"users":[{"username":"a","locked":true,"lock_reason":"admin","locked_at":"2026-11-30T09:15:42Z"},{"username":"b","locked":true,"lock_reason":"admin","locked_at":"2026-11-30T09:15:42Z"}]}`,
			func() error { _, err := d.ListLocked(ctx, acme, 1); return err }, "more than the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.set(func() {
				a.reply = func(w http.ResponseWriter) bool { w.Write([]byte(tt.body)); return true }
			})
			err := tt.call()
			if err == nil || domain.IsTemporary(err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("answer %s = %v, want a permanent error containing %q", tt.body, err, tt.want)
			}
		})
	}
}

// A 10 MB answer is refused after MaxResponseBytes (or at once, when its
// Content-Length says so), quickly, with little memory.
func TestHugeAnswer(t *testing.T) {
	garbage := []byte(strings.Repeat("x", 10<<20))
	for _, withLength := range []bool{false, true} {
		t.Run(fmt.Sprintf("content length %v", withLength), func(t *testing.T) {
			a := startApp(t)
			d := mustOpen(t, a.config(t))
			a.set(func() {
				a.reply = func(w http.ResponseWriter) bool {
					if withLength {
						w.Header().Set("Content-Length", strconv.Itoa(len(garbage)))
					}
					w.Write(garbage)
					return true
				}
			})
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := d.Lookup(context.Background(), acme, []string{"ann"})
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if err == nil || domain.IsTemporary(err) || !strings.Contains(err.Error(), "longer than 1048576 bytes") {
				t.Fatalf("lookup answered 10 MB = %v, want a permanent error", err)
			}
			if took > time.Second {
				t.Errorf("took %v", took)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("allocated %d bytes reading a 10 MB answer, want well under 10 MB", alloc)
			}
			t.Logf("%v after %v, %d KiB allocated", err, took.Round(time.Millisecond), (after.TotalAlloc-before.TotalAlloc)>>10)
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"plain http", Config{URL: "http://app.example/unlockd", Secret: testSecret}, "must be https"},
		{"credentials", Config{URL: "https://u:p@app.example/", Secret: testSecret}, "credentials"},
		{"query", Config{URL: "https://app.example/?k=v", Secret: testSecret}, "no query"},
		{"relative", Config{URL: "/unlockd", Secret: testSecret}, "not an absolute URL"},
		{"short secret", Config{URL: "https://app.example/", Secret: "short"}, "at least 16 bytes"},
		{"missing ca file", Config{URL: "https://app.example/", Secret: testSecret, CAFile: "/nonexistent/ca.pem"}, "ca_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(context.Background(), "app", tt.c)
			if err == nil || !strings.HasPrefix(err.Error(), `directory "app": `) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("open = %v, want an error containing %q", err, tt.want)
			}
			noSecret(t, err)
		})
	}
	for _, u := range []string{"http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]:9/"} {
		if _, err := Open(context.Background(), "app", Config{URL: u, Secret: testSecret}); err != nil {
			t.Errorf("open %s: %v", u, err)
		}
	}
}

// Without the CA file the app's certificate is not trusted: a temporary
// error (the directory cannot answer), never a call that goes through.
func TestUntrustedCertificate(t *testing.T) {
	a := startApp(t)
	c := a.config(t)
	c.CAFile, c.MaxAttempts = "", 1
	d := mustOpen(t, c)
	err := d.Ping(context.Background())
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("ping of an untrusted server = %v", err)
	}
	if n := len(a.captured()); n != 0 {
		t.Errorf("the app received %d requests", n)
	}
}

func lookup(d *Directory, username string) func() error {
	return func() error { _, err := d.Lookup(context.Background(), acme, []string{username}); return err }
}
