package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
)

// The sign-in attack tests run the real binary, built here without the race
// detector, against an SQLite store seeded with argon2id hashes of the
// production cost (password.Default), and talk to it over HTTP as an
// attacker would.

const (
	attackOperator = "staff@unlockd.example"
	attackPassword = "correct horse battery"
)

// signInTarget is a running `unlockd serve` and what was seeded for it.
type signInTarget struct {
	proc  *serveProcess
	base  string
	token string // a service token of org acme, for /authenticate
	// csrf is the sign-in form's token and its cookie.
	csrf string
}

// startSignInTarget seeds a store with org acme (user bob), a service token,
// the staff operator attackOperator and the extra operators named, all with
// production-cost hashes, and starts serve on it. Every client address is
// its own (the test's requests come through a trusted proxy, 127.0.0.1,
// each naming another client), so the per-client throttle never answers:
// what is measured is the password-hashing budget and the per-address lock,
// as against a distributed attacker.
func startSignInTarget(t *testing.T, extraOperators []string) *signInTarget {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "unlockd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dsn := filepath.Join(t.TempDir(), "unlockd.db")
	ctx := context.Background()
	s, err := store.Open(ctx, store.SQLite, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	hash, err := password.Hash(attackPassword, password.Default)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: domain.DefaultPolicy()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, "acme", domain.User{Username: "bob", PasswordHash: hash}, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	token, tokenHash := password.NewToken()
	if _, err := s.CreateToken(ctx, store.Token{Name: "app", Role: domain.RoleService, OrgSlug: "acme"}, tokenHash, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	for _, email := range append([]string{attackOperator}, extraOperators...) {
		if _, err := s.AddOperator(ctx, store.Operator{Email: email, Role: domain.RoleStaff}, hash, "test", "cli"); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	cfg := writeFile(t, t.TempDir(), "unlockd.yaml", fmt.Sprintf(`database: {driver: sqlite, dsn: %q}
http: {listen: "127.0.0.1:0", trusted_proxies: [127.0.0.1], password_hashes: 2}
`, dsn))
	// serve runs at a higher CPU priority than the rest of the test run
	// (as root; elsewhere nice only warns): what the probes measure is then
	// how unlockd shares the CPU between its own requests, not how busy the
	// machine's other test packages keep it.
	cmd := exec.Command(bin, "serve", "--config", cfg)
	if nice, err := exec.LookPath("nice"); err == nil {
		cmd = exec.Command(nice, "-n", "-10", bin, "serve", "--config", cfg)
	}
	tg := &signInTarget{proc: startCommand(t, cmd), token: token}
	addr := regexp.MustCompile(`"unlockd running" http=(\S+)`)
	waitFor(t, "serve to listen", func() bool {
		m := addr.FindStringSubmatch(tg.proc.stderr.String())
		if m != nil {
			tg.base = "http://" + m[1]
		}
		return m != nil
	})
	resp, err := http.Get(tg.base + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "unlockd_signin" {
			tg.csrf = c.Value
		}
	}
	if tg.csrf == "" {
		t.Fatal("GET /signin set no form token")
	}
	return tg
}

// attempt is one answered sign-in.
type attempt struct {
	status     int
	retryAfter string
	body       string
	took       time.Duration
}

// signIn posts the sign-in form for email with a wrong password, as
// client (the address the trusted proxy names).
func (tg *signInTarget) signIn(t *testing.T, email, client string) attempt {
	t.Helper()
	form := url.Values{"csrf": {tg.csrf}, "email": {email}, "password": {"not the password"}}
	req, err := http.NewRequest(http.MethodPost, tg.base+"/signin", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", client)
	req.AddCookie(&http.Cookie{Name: "unlockd_signin", Value: tg.csrf})
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return attempt{}
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Error(err)
	}
	return attempt{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(body), took: time.Since(start)}
}

// clientAddr names the i-th client.
func clientAddr(i int) string { return fmt.Sprintf("198.51.%d.%d", 100+i/250, 1+i%250) }

// vmHWM returns the peak resident set of process pid, in bytes.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	n, err := readHWM(pid)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// readHWM reads the peak resident set of process pid, in bytes.
func readHWM(pid int) (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(status)
	if m == nil {
		return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
	}
	kb, err := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10, err
}

// TestSignInFloodIsBounded fires 200 sign-in attempts, 50 at a time, half
// for a real operator and half for an unknown email, at a separate serve
// process, while /healthz and the host application's /authenticate are
// asked every 100 ms. Password hashing stays within its budget, so the
// process's peak memory grows by at most 250 MB; both kinds of email get
// the same answers (401 or 429) in the same proportions; the probes answer
// within a second throughout.
func TestSignInFloodIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	tg := startSignInTarget(t, nil)
	pid := tg.proc.cmd.Process.Pid // nice execs serve in its own process
	before := vmHWM(t, pid)

	stop := make(chan struct{})
	var probes sync.WaitGroup
	var slowest time.Duration
	var probeErrs []string
	probes.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			for _, p := range []struct{ name, method, path, body string }{
				{"healthz", http.MethodGet, "/healthz", ""},
				{"authenticate", http.MethodPost, "/api/v1/orgs/acme/authenticate", `{"username":"bob","password":"wrong"}`},
			} {
				req, _ := http.NewRequest(p.method, tg.base+p.path, strings.NewReader(p.body))
				req.Header.Set("Authorization", "Bearer "+tg.token)
				req.Header.Set("Content-Type", "application/json")
				start := time.Now()
				resp, err := http.DefaultClient.Do(req)
				took := time.Since(start)
				slowest = max(slowest, took)
				switch {
				case err != nil:
					probeErrs = append(probeErrs, fmt.Sprintf("%s: %v", p.name, err))
				case resp.StatusCode != http.StatusOK || took > time.Second:
					probeErrs = append(probeErrs, fmt.Sprintf("%s: status %d after %s", p.name, resp.StatusCode, took))
				}
				if resp != nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}
	})

	const attempts, inFlight = 200, 50
	results := make([]attempt, attempts)
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range attempts {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			email := attackOperator
			if i%2 == 1 {
				email = "ghost@unlockd.example"
			}
			results[i] = tg.signIn(t, email, clientAddr(i))
		})
	}
	wg.Wait()
	flood := time.Since(start)
	time.Sleep(300 * time.Millisecond) // the probes keep going a little after
	close(stop)
	probes.Wait()
	after := vmHWM(t, pid)

	count := [2]map[int]int{{}, {}}
	for i, r := range results {
		count[i%2][r.status]++
		if r.status != http.StatusUnauthorized && r.status != http.StatusTooManyRequests {
			t.Errorf("attempt %d: status %d, want 401 or 429", i, r.status)
		}
		if r.status == http.StatusTooManyRequests && r.retryAfter == "" {
			t.Errorf("attempt %d: 429 without Retry-After", i)
		}
	}
	share := func(c map[int]int) float64 { return 100 * float64(c[429]) / float64(attempts/2) }
	growth := after - before
	t.Logf("flood of %d attempts (%d at a time) took %s; VmHWM %d MB → %d MB (growth %d MB); real operator %v, unknown %v; slowest probe %s",
		attempts, inFlight, flood.Round(time.Millisecond), before>>20, after>>20, growth>>20, count[0], count[1], slowest.Round(time.Millisecond))
	if growth > 250<<20 {
		t.Errorf("peak RSS grew by %d MB, want at most 250 MB", growth>>20)
	}
	if d := share(count[0]) - share(count[1]); d > 10 || d < -10 {
		t.Errorf("429s: %.0f%% for the real operator, %.0f%% for the unknown email; want within 10 points", share(count[0]), share(count[1]))
	}
	for _, e := range probeErrs {
		t.Errorf("probe during the flood: %s", e)
	}
}

// TestSignInUnknownEmailLooksKnown tries 50 real operators and 50 unknown
// emails once each, interleaved (alternating which of a pair goes first):
// the same statuses and the same pages
// (once the echoed email is taken out), with median times within 20% of
// each other. Then one of each, until both are locked: the same answers,
// one for one, with the same Retry-After.
func TestSignInUnknownEmailLooksKnown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const n = 50
	known := make([]string, n)
	unknown := make([]string, n)
	for i := range n {
		known[i] = fmt.Sprintf("op%02d@unlockd.example", i)
		unknown[i] = fmt.Sprintf("no%02d@unlockd.example", i)
	}
	tg := startSignInTarget(t, known)
	tg.signIn(t, "warm-up@unlockd.example", clientAddr(999)) // computes the dummy hash once
	page := func(a attempt, email string) string { return strings.ReplaceAll(a.body, email, "EMAIL") }
	var tookKnown, tookUnknown []time.Duration
	var want string
	for i := range n {
		// Alternate which goes first, so that neither kind pays for its place.
		var k, u attempt
		if i%2 == 0 {
			k, u = tg.signIn(t, known[i], clientAddr(2*i)), tg.signIn(t, unknown[i], clientAddr(2*i+1))
		} else {
			u, k = tg.signIn(t, unknown[i], clientAddr(2*i+1)), tg.signIn(t, known[i], clientAddr(2*i))
		}
		if k.status != http.StatusUnauthorized || u.status != http.StatusUnauthorized {
			t.Fatalf("try %d: status %d for a known email, %d for an unknown one; want 401 for both", i, k.status, u.status)
		}
		if want == "" {
			want = page(k, known[i])
		}
		if got := page(k, known[i]); got != want {
			t.Fatalf("try %d: the page for a known email differs:\n%s\nwant\n%s", i, got, want)
		}
		if got := page(u, unknown[i]); got != want {
			t.Fatalf("try %d: the page for an unknown email differs:\n%s\nwant\n%s", i, got, want)
		}
		tookKnown, tookUnknown = append(tookKnown, k.took), append(tookUnknown, u.took)
	}
	mk, mu := median(tookKnown), median(tookUnknown)
	t.Logf("median sign-in time: known email %s, unknown email %s (%+.1f%%)", mk.Round(time.Microsecond), mu.Round(time.Microsecond),
		100*(float64(mu)-float64(mk))/float64(mk))
	if lo, hi := min(mk, mu), max(mk, mu); float64(hi) > 1.2*float64(lo) {
		t.Errorf("median times %s (known) and %s (unknown) differ by more than 20%%", mk, mu)
	}

	for i := range store.MaxOperatorFailures + 2 {
		k, u := tg.signIn(t, attackOperator, clientAddr(200+i)), tg.signIn(t, "ghost@unlockd.example", clientAddr(300+i))
		if k.status != u.status || k.retryAfter != u.retryAfter || page(k, attackOperator) != page(u, "ghost@unlockd.example") {
			t.Fatalf("try %d: known %d (Retry-After %q), unknown %d (Retry-After %q), or their pages differ",
				i, k.status, k.retryAfter, u.status, u.retryAfter)
		}
		want := http.StatusUnauthorized
		if i >= store.MaxOperatorFailures-1 {
			want = http.StatusTooManyRequests
		}
		if k.status != want {
			t.Fatalf("try %d: status %d, want %d", i, k.status, want)
		}
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
