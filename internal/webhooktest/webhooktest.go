// Package webhooktest is a host application for tests of the webhook
// directory kind outside its package: an in-process HTTPS server that
// checks every request's signature and timestamp with webhook.Verify and
// refuses a nonce it has seen (a replay), decodes strictly and answers
// lookup, unlock, lock, list and ping from its accounts, kept per org.
package webhooktest

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
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/directory/webhook"
)

// Secret is the signing secret the application expects.
const Secret = "webhooktest-secret-0123456789abcdef"

// account is one of the application's users.
type account struct {
	Locked bool
	Reason string // failed_logins or admin
	At     time.Time
	Note   string
}

// App is the application. Its URL and CAFile go in the directory's
// configuration (url, ca_file), with Secret.
type App struct {
	URL    string // the base URL: operations are POSTed below it
	CAFile string // PEM of the server's certificate

	srv *httptest.Server

	mu       sync.Mutex
	accounts map[string]map[string]*account
	fail     int // answer this many requests 503 first
	// BeforeUnlock, when set, runs under the lock before an unlock is
	// answered: a test changes an account there, as a person might
	// between unlockd's lookup and its unlock.
	BeforeUnlock func(org, username string)
	calls        map[string]int
	nonces       map[string]bool // accepted so far
}

// Start runs the application until the test ends.
func Start(tb testing.TB) *App {
	tb.Helper()
	a := &App{accounts: map[string]map[string]*account{}, calls: map[string]int{}, nonces: map[string]bool{}}
	a.srv = httptest.NewTLSServer(http.HandlerFunc(a.serve))
	tb.Cleanup(a.srv.Close)
	a.URL = a.srv.URL + "/unlockd"
	a.CAFile = filepath.Join(tb.TempDir(), "app-ca.pem")
	if err := os.WriteFile(a.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.srv.Certificate().Raw}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return a
}

// Set gives org's username an account, locked for reason when reason is
// not empty.
func (a *App) Set(org, username, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.setLocked(org, username, reason)
}

// SetLocked is Set for BeforeUnlock, which runs with the lock held.
func (a *App) SetLocked(org, username, reason string) { a.setLocked(org, username, reason) }

func (a *App) setLocked(org, username, reason string) {
	if a.accounts[org] == nil {
		a.accounts[org] = map[string]*account{}
	}
	acc := &account{}
	if reason != "" {
		acc = &account{Locked: true, Reason: reason, At: time.Now().UTC().Truncate(time.Millisecond)}
	}
	a.accounts[org][username] = acc
}

// State is "active", "locked <reason>" or "absent".
func (a *App) State(org, username string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	acc, ok := a.accounts[org][username]
	switch {
	case !ok:
		return "absent"
	case !acc.Locked:
		return "active"
	}
	return "locked " + acc.Reason
}

// Fail answers the next n requests 503 Service Unavailable.
func (a *App) Fail(n int) {
	a.mu.Lock()
	a.fail = n
	a.mu.Unlock()
}

// Calls is how many requests the operation (lookup, unlock, ...) got.
func (a *App) Calls(op string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[op]
}

func (a *App) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	sig := r.Header.Get(webhook.SignatureHeader)
	nonce, err := webhook.Verify([]byte(Secret), sig, body, time.Now(), webhook.DefaultWindow)
	if err != nil || a.nonces[nonce] {
		http.Error(w, `{"error":"bad or replayed signature"}`, http.StatusUnauthorized)
		return
	}
	a.nonces[nonce] = true
	op := r.URL.Path[len("/unlockd/"):]
	a.calls[op]++
	if a.fail > 0 {
		a.fail--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	ans, err := a.answer(op, body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	json.NewEncoder(w).Encode(ans)
}

// request is every operation's body, decoded strictly.
type request struct {
	Org        string   `json:"org"`
	Usernames  []string `json:"usernames"`
	Username   string   `json:"username"`
	LockReason string   `json:"lock_reason"`
	LockedAt   string   `json:"locked_at"`
	Mark       string   `json:"mark"`
	Note       string   `json:"note"`
	Limit      int      `json:"limit"`
}

func result(s string) map[string]string { return map[string]string{"result": s} }

func (a *App) answer(op string, body []byte) (any, error) {
	var req request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, err
	}
	accounts := a.accounts[req.Org]
	switch op {
	case "ping":
		return result("ok"), nil
	case "lookup":
		users := []map[string]any{}
		for _, u := range req.Usernames {
			if acc, ok := accounts[u]; ok {
				users = append(users, acc.wire(u))
			}
		}
		return map[string]any{"users": users}, nil
	case "list":
		names := make([]string, 0, len(accounts))
		for u, acc := range accounts {
			if acc.Locked {
				names = append(names, u)
			}
		}
		sort.Strings(names)
		users := []map[string]any{}
		for _, u := range names[:min(len(names), req.Limit)] {
			users = append(users, accounts[u].wire(u))
		}
		return map[string]any{"users": users}, nil
	case "unlock":
		if a.BeforeUnlock != nil {
			a.BeforeUnlock(req.Org, req.Username)
			accounts = a.accounts[req.Org]
		}
		acc, ok := accounts[req.Username]
		switch {
		case !ok:
			return result("not_found"), nil
		case !acc.Locked:
			return result("not_locked"), nil
		case acc.Reason != req.LockReason || acc.At.Format(time.RFC3339Nano) != req.LockedAt:
			return result("lock_changed"), nil
		}
		*acc = account{}
		return result("unlocked"), nil
	case "lock":
		acc, ok := accounts[req.Username]
		switch {
		case !ok:
			return result("not_found"), nil
		case acc.Locked && acc.Reason == "admin":
			return result("already_locked"), nil
		}
		*acc = account{Locked: true, Reason: "admin", At: time.Now().UTC().Truncate(time.Millisecond), Note: req.Note}
		return result("locked"), nil
	}
	return nil, fmt.Errorf("no operation %s", op)
}

// wire is the account as the protocol sends it.
func (acc *account) wire(username string) map[string]any {
	u := map[string]any{"username": username, "locked": acc.Locked}
	if acc.Locked {
		u["lock_reason"], u["locked_at"], u["lock_note"] = acc.Reason, acc.At.Format(time.RFC3339Nano), acc.Note
	}
	return u
}
