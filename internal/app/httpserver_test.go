package app_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/app"
	"github.com/unlockd/unlockd/internal/config"
)

// httpConfig is a configuration with an SQLite store, no mail and the HTTP
// server on a free loopback port; change sets the http keys under test.
func httpConfig(t *testing.T, change func(*config.HTTP)) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Database = config.Database{Driver: config.DriverSQLite, DSN: filepath.Join(t.TempDir(), "unlockd.db")}
	cfg.HTTP.Listen = "127.0.0.1:0"
	if change != nil {
		change(&cfg.HTTP)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	return cfg
}

// startHTTP starts an app with cfg and returns it; log, when set, receives
// its log lines.
func startHTTP(t *testing.T, cfg *config.Config, log io.Writer) *app.App {
	t.Helper()
	if log == nil {
		log = io.Discard
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(log, nil)), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start(t, context.Background(), a)
	return a
}

// TestSlowHeadersAreCutOff is the slowloris attack: a client sends its
// request headers one byte a second, and the server closes the connection
// once http.read_header_timeout has passed, long before the headers end.
// The same request sent at once is answered.
func TestSlowHeadersAreCutOff(t *testing.T) {
	const timeout = 2 * time.Second
	a := startHTTP(t, httpConfig(t, func(h *config.HTTP) { h.ReadHeaderTimeout = config.Duration(timeout) }), nil)
	request := "GET /healthz HTTP/1.1\r\nHost: unlockd\r\nX-Slow: " + strings.Repeat("s", 60) + "\r\n\r\n"

	fast, err := net.Dial("tcp", a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	fast.Write([]byte(request))
	resp, err := http.ReadResponse(bufio.NewReader(fast), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the request sent at once: %v, %v", resp, err)
	}

	conn, err := net.Dial("tcp", a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan []byte, 1)
	go func() {
		answer, _ := io.ReadAll(conn) // until the server closes
		closed <- answer
	}()
	began := time.Now()
	sent := 0
	for sent < len(request) {
		if _, err := conn.Write([]byte{request[sent]}); err != nil {
			break // the server has gone already
		}
		sent++
		select {
		case answer := <-closed:
			took := time.Since(began)
			t.Logf("cut off after %d of %d header bytes, %s (read_header_timeout %s); answer %q", sent, len(request), took.Round(time.Millisecond), timeout, answer)
			if took < timeout-500*time.Millisecond || took > timeout+5*time.Second {
				t.Errorf("cut off after %s, want about %s", took, timeout)
			}
			if bytes.Contains(answer, []byte("200 OK")) {
				t.Errorf("the slow request was answered: %q", answer)
			}
			return
		case <-time.After(time.Second):
		}
	}
	t.Fatalf("the server read all %d header bytes over %s without cutting the client off", sent, time.Since(began))
}

// TestLargeHeadersAreRefused: headers beyond http.max_header_bytes answer
// 431; ordinary ones pass.
func TestLargeHeadersAreRefused(t *testing.T) {
	a := startHTTP(t, httpConfig(t, func(h *config.HTTP) { h.MaxHeaderBytes = 8 * config.KiB }), nil)
	for _, tc := range []struct {
		size int
		want int
	}{{2 << 10, http.StatusOK}, {64 << 10, http.StatusRequestHeaderFieldsTooLarge}} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+a.Addr()+"/healthz", nil)
		req.Header.Set("X-Big", strings.Repeat("b", tc.size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%d bytes of headers: %d, want %d", tc.size, resp.StatusCode, tc.want)
		}
	}
}

// getWith GETs url with an Authorization header when auth is set.
func getWith(t *testing.T, url, auth string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const metricsToken = "metrics-0123456789abcdef"

// TestMetricsToken: with http.metrics_token, /metrics answers only the
// right bearer token; other routes are unchanged.
func TestMetricsToken(t *testing.T) {
	a := startHTTP(t, httpConfig(t, func(h *config.HTTP) { h.MetricsToken = metricsToken }), nil)
	url := "http://" + a.Addr() + "/metrics"
	for _, auth := range []string{"", "Bearer", "Bearer ", "Bearer wrong-token-0123456789", "Basic " + metricsToken,
		"Bearer " + metricsToken + "x", "Bearer " + metricsToken[:len(metricsToken)-1]} {
		resp, body := getWith(t, url, auth)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") ||
			strings.Contains(body, "unlockd_") {
			t.Errorf("Authorization %q: %d %q", auth, resp.StatusCode, body)
		}
	}
	for _, auth := range []string{"Bearer " + metricsToken, "bearer " + metricsToken} {
		if resp, body := getWith(t, url, auth); resp.StatusCode != http.StatusOK || !strings.Contains(body, "unlockd_queue_depth") {
			t.Errorf("Authorization %q: %d, want the metrics", auth, resp.StatusCode)
		}
	}
	if resp, _ := getWith(t, "http://"+a.Addr()+"/healthz", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d", resp.StatusCode)
	}
	if a.MetricsAddr() != "" {
		t.Errorf("MetricsAddr = %q without metrics_listen", a.MetricsAddr())
	}
}

// TestMetricsListen: with http.metrics_listen, /metrics moves to its own
// listener, which serves nothing else; with a token there too, it needs
// the token.
func TestMetricsListen(t *testing.T) {
	a := startHTTP(t, httpConfig(t, func(h *config.HTTP) { h.MetricsListen = "127.0.0.1:0" }), nil)
	if resp, body := getWith(t, "http://"+a.Addr()+"/metrics", ""); resp.StatusCode == http.StatusOK || strings.Contains(body, "unlockd_") {
		t.Errorf("/metrics on http.listen = %d %q, want it gone", resp.StatusCode, body)
	}
	if resp, _ := getWith(t, "http://"+a.Addr()+"/healthz", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz on http.listen = %d", resp.StatusCode)
	}
	if a.MetricsAddr() == "" || a.MetricsAddr() == a.Addr() {
		t.Fatalf("MetricsAddr = %q, Addr = %q", a.MetricsAddr(), a.Addr())
	}
	if resp, body := getWith(t, "http://"+a.MetricsAddr()+"/metrics", ""); resp.StatusCode != http.StatusOK || !strings.Contains(body, "unlockd_queue_depth") {
		t.Errorf("/metrics on metrics_listen = %d", resp.StatusCode)
	}
	for _, path := range []string{"/healthz", "/api/v1/orgs", "/signin"} {
		if resp, _ := getWith(t, "http://"+a.MetricsAddr()+path, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s on metrics_listen = %d, want 404", path, resp.StatusCode)
		}
	}

	b := startHTTP(t, httpConfig(t, func(h *config.HTTP) { h.MetricsListen, h.MetricsToken = "127.0.0.1:0", metricsToken }), nil)
	if resp, _ := getWith(t, "http://"+b.MetricsAddr()+"/metrics", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/metrics on metrics_listen without the token = %d, want 401", resp.StatusCode)
	}
	if resp, _ := getWith(t, "http://"+b.MetricsAddr()+"/metrics", "Bearer "+metricsToken); resp.StatusCode != http.StatusOK {
		t.Errorf("/metrics on metrics_listen with the token = %d, want 200", resp.StatusCode)
	}
}

// TestPlainHTTPWarning: listening beyond loopback without an https
// public_url logs a warning at start, and one for the open /metrics.
func TestPlainHTTPWarning(t *testing.T) {
	var log bytes.Buffer
	cfg := httpConfig(t, func(h *config.HTTP) { h.Listen, h.PublicURL = ":0", "http://unlock.example.com" })
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(&log, nil)), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	for _, want := range []string{"level=WARN", "session cookies are sent without Secure", "/metrics on :0 is open"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	log.Reset()
	a, err = app.New(context.Background(), httpConfig(t, nil), slog.New(slog.NewTextHandler(&log, nil)), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if strings.Contains(log.String(), "WARN") {
		t.Errorf("a loopback listener warns:\n%s", log.String())
	}
}
