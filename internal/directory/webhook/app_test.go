package webhook

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

const testSecret = "s3cr3t-0123456789abcdef-never-shown"

// account is one of the test application's users.
type account struct {
	name, email string
	locked      bool
	reason      string // failed_logins or admin
	at          time.Time
	note        string
	mark        string
}

// app is the host application the webhook calls: an HTTPS server that
// checks every request's signature with Verify (within DefaultWindow of
// its clock), decodes it strictly and answers from its accounts.
type app struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	now      time.Time // the app's clock; the real one when zero
	accounts map[string]map[string]*account
	fail     int // answer this many requests 503 first
	hang     bool
	reply    func(w http.ResponseWriter) bool // replaces the answer when it returns true
	requests []captured
	nonces   map[string]bool // accepted so far: a repeat is a replay
}

// captured is a request as the app received it.
type captured struct {
	path, signature string
	body            []byte
}

var lockedAt = time.Date(2026, 11, 30, 9, 15, 42, 123456789, time.UTC)

func startApp(t *testing.T) *app {
	t.Helper()
	a := &app{t: t, nonces: map[string]bool{}, accounts: map[string]map[string]*account{
		"acme": {
			"ann":   {name: "Ann", email: "ann@acme.example", locked: true, reason: "failed_logins", at: lockedAt, mark: "ppolicy:20261130091542Z"},
			"bob":   {name: "Bob", locked: true, reason: "admin", at: lockedAt, note: "on leave"},
			"carol": {name: "Carol"},
			"erin":  {name: "Erin", locked: true, reason: "failed_logins", at: lockedAt},
		},
		"globex": {
			"frank": {name: "Frank", locked: true, reason: "failed_logins", at: lockedAt},
		},
	}}
	a.srv = httptest.NewTLSServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

// config returns a Config for the app, trusting its certificate through
// a CA file.
func (a *app) config(t *testing.T) Config {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return Config{URL: a.srv.URL + "/unlockd/", Secret: testSecret, CAFile: ca, Timeout: 2 * time.Second, MaxAttempts: 3}
}

func (a *app) clock() time.Time {
	if a.now.IsZero() {
		return time.Now()
	}
	return a.now
}

func (a *app) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests = append(a.requests, captured{path: r.URL.Path, signature: r.Header.Get(SignatureHeader), body: body})
	nonce, err := Verify([]byte(testSecret), r.Header.Get(SignatureHeader), body, a.clock(), DefaultWindow)
	switch {
	case err != nil:
		http.Error(w, `{"error": "`+err.Error()+`"}`, http.StatusUnauthorized)
		return
	case a.nonces[nonce]:
		http.Error(w, `{"error": "replayed: nonce seen before"}`, http.StatusUnauthorized)
		return
	}
	a.nonces[nonce] = true
	if a.hang {
		a.mu.Unlock()
		<-r.Context().Done()
		a.mu.Lock()
		return
	}
	if a.fail > 0 {
		a.fail--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	if a.reply != nil && a.reply(w) {
		return
	}
	ans, err := a.answer(r.URL.Path, body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	json.NewEncoder(w).Encode(ans)
}

// decode reads a request body strictly, as a careful receiver would.
func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (a *app) answer(path string, body []byte) (any, error) {
	switch path {
	case "/unlockd/ping":
		return map[string]string{"result": "ok"}, nil
	case "/unlockd/lookup":
		var req lookupRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		users := []map[string]any{}
		for _, u := range req.Usernames {
			if acc, ok := a.accounts[req.Org][u]; ok {
				users = append(users, acc.wire(u))
			}
		}
		return map[string]any{"users": users}, nil
	case "/unlockd/list":
		var req listRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		users := []map[string]any{}
		for u, acc := range a.accounts[req.Org] {
			if acc.locked && len(users) < req.Limit {
				users = append(users, acc.wire(u))
			}
		}
		return map[string]any{"users": users}, nil
	case "/unlockd/unlock":
		var req unlockRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		acc, ok := a.accounts[req.Org][req.Username]
		switch {
		case !ok:
			return map[string]string{"result": "not_found"}, nil
		case !acc.locked:
			return map[string]string{"result": "not_locked"}, nil
		case acc.reason != req.LockReason || acc.at.Format(time.RFC3339Nano) != req.LockedAt || acc.wire(req.Username)["mark"] != req.Mark:
			return map[string]string{"result": "lock_changed"}, nil
		}
		acc.locked, acc.reason, acc.at, acc.mark = false, "", time.Time{}, ""
		return map[string]string{"result": "unlocked"}, nil
	case "/unlockd/lock":
		var req lockRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		acc, ok := a.accounts[req.Org][req.Username]
		switch {
		case !ok:
			return map[string]string{"result": "not_found"}, nil
		case acc.locked && acc.reason == "admin":
			return map[string]string{"result": "already_locked"}, nil
		}
		acc.locked, acc.reason, acc.at, acc.note, acc.mark = true, "admin", a.clock().Truncate(time.Second), req.Note, ""
		return map[string]string{"result": "locked"}, nil
	}
	return nil, fmt.Errorf("no operation %s", path)
}

// wire is the account as the protocol sends it.
func (acc *account) wire(username string) map[string]any {
	u := map[string]any{"username": username, "display_name": acc.name, "email": acc.email, "locked": acc.locked}
	if acc.locked {
		u["lock_reason"], u["locked_at"], u["lock_note"] = acc.reason, acc.at, acc.note
		u["mark"] = acc.mark
		if acc.mark == "" {
			u["mark"] = acc.at.Format(time.RFC3339Nano)
		}
	}
	return u
}

func (a *app) set(f func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f()
}

func (a *app) captured() []captured {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.requests)
}

// resend sends a captured request again, signature and all.
func (a *app) resend(t *testing.T, c captured) (int, string) {
	t.Helper()
	r, _ := http.NewRequest(http.MethodPost, a.srv.URL+c.path, bytes.NewReader(c.body))
	r.Header.Set(SignatureHeader, c.signature)
	resp, err := a.srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
