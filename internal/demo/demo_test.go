package demo

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// output is an io.Writer safe for concurrent use that the test can read.
type output struct {
	mu sync.Mutex
	b  strings.Builder
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// waitFor waits until the output holds s, failing the test after timeout.
func (o *output) waitFor(t *testing.T, s string, timeout time.Duration, done <-chan error) {
	t.Helper()
	deadline := time.After(timeout)
	for !strings.Contains(o.String(), s) {
		select {
		case err := <-done:
			t.Fatalf("Run returned %v before printing %q; output:\n%s", err, s, o)
		case <-deadline:
			t.Fatalf("no %q after %v; output:\n%s", s, timeout, o)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// find returns the first submatch of pattern in s, failing the test when
// there is none.
func find(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("output does not match %s:\n%s", pattern, s)
	}
	return m[1]
}

// TestRun runs the demo as `unlockd demo` does and checks what it prints
// of each sample, the mail it captured, the HTTP server, and a clean stop.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &output{}
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{Listen: "127.0.0.1:0", Out: out}) }()
	out.waitFor(t, "sample requests decided", 60*time.Second, done)
	t.Logf("start to summary: %v", time.Since(start).Round(time.Millisecond))
	out.waitFor(t, "Press Ctrl-C", 10*time.Second, done) // the last line
	text := out.String()

	samples := strings.Split(text, "\n[")[1:]
	if len(samples) != 4 {
		t.Fatalf("%d samples printed, want 4:\n%s", len(samples), text)
	}
	wants := [][]string{
		{`"Unlock: jsmith"`, "sender authenticated (dkim=pass d=acme.example)", "jsmith: unlocked",
			`reply     to it@acme.example: "Re: Unlock: jsmith"`},
		{`"Unlock: rpatel"`, "sender NOT authenticated", "rpatel: queued for review (unverified_sender)",
			`reply     to it@acme.example: "Re: Unlock: rpatel"`, "notice    to staff@unlockd.demo"},
		{`"Unlock: mlopez"`, "sender authenticated", "mlopez: queued for review (admin_lock)",
			`reply     to it@acme.example: "Re: Unlock: mlopez"`, "notice    to admin@acme.example", "notice    to staff@unlockd.demo"},
		{"out-of-office", "decision  ignored", "mail out  none"},
	}
	for i, want := range wants {
		for _, w := range want {
			if !strings.Contains(samples[i], w) {
				t.Errorf("sample %d does not show %q:\n[%s", i+1, w, samples[i])
			}
		}
	}
	if strings.Contains(samples[3], "  reply ") {
		t.Errorf("the out-of-office got a reply:\n[%s", samples[3])
	}
	if n := strings.Count(text, "\n  reply "); n != 3 {
		t.Errorf("%d replies captured, want 3", n)
	}
	if strings.Contains(text, "to helpdesk@acme-support.example") {
		t.Error("the forged request's Reply-To got mail; replies go to the address on record")
	}
	for _, w := range []string{"3 replies and 3 notifications captured", "staff staff@unlockd.demo   password ",
		"readyz", "rpatel, mlopez wait for review"} {
		if !strings.Contains(text, w) {
			t.Errorf("summary does not show %q:\n%s", w, text)
		}
	}

	url := find(t, text, `HTTP +(http://\S+/)`)
	resp, err := http.Get(url + "healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz = %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not stop")
	}
	if dir := find(t, text, `SQLite in (\S+)`); dirExists(dir) {
		t.Errorf("temporary folder %s left behind", dir)
	}
}

func dirExists(dir string) bool {
	_, err := os.Stat(dir)
	return !errors.Is(err, os.ErrNotExist)
}

// TestListenTaken: an address given explicitly must be free, while the
// default falls back to a free port.
func TestListenTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = Run(context.Background(), Options{Listen: ln.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), "http.listen") {
		t.Errorf("Run on a taken --listen address: %v, want an http.listen error", err)
	}

	// Hold the default port unless something else already does.
	if ln, err := net.Listen("tcp", "127.0.0.1:8080"); err == nil {
		defer ln.Close()
	}
	out := &output{}
	d := &demo{p: &printer{w: out}, stopped: make(chan struct{})}
	defer d.close()
	if err := d.start(context.Background(), t.TempDir(), Options{}.withDefaults()); err != nil {
		t.Fatalf("start with the default address taken: %v", err)
	}
	if got := d.app.Addr(); got == "127.0.0.1:8080" || !strings.Contains(out.String(), "127.0.0.1:8080 is taken") {
		t.Errorf("listening on %s with the default address taken; printout:\n%s", got, out)
	}
}
