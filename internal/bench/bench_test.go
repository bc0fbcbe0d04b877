package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/mailtest"
)

func TestParseWrk(t *testing.T) {
	out := "Running 10s test @ http://127.0.0.1:1\n  2 threads and 32 connections\n" +
		"BENCH requests=120000 duration_us=10000000 p50_us=2400 p99_us=9800 status_errors=3 socket_errors=1\n"
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	want := result{Rate: 12000, P50: 2400 * time.Microsecond, P99: 9800 * time.Microsecond, Failed: 4, Total: 120000}
	if r != want {
		t.Errorf("parseWrk = %+v, want %+v", r, want)
	}
	for _, bad := range []string{"", "Requests/sec: 100\n", "BENCH requests=1 duration_us=0\n", "BENCH requests=x duration_us=1\n"} {
		if _, err := parseWrk(bad); err == nil {
			t.Errorf("parseWrk(%q) succeeded", bad)
		}
	}
}

func TestParsePgbench(t *testing.T) {
	out := `pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: /tmp/load.sql
number of clients: 32
number of transactions actually processed: 293120
number of failed transactions: 7 (0.002%)
latency average = 1.067 ms
tps = 29311.413157 (without initial connection time)
`
	r, err := parsePgbench(out)
	if err != nil || r.Rate != 29311.413157 || r.Total != 293120 || r.Failed != 7 {
		t.Errorf("parsePgbench = %+v, %v", r, err)
	}
	if _, err := parsePgbench("pgbench: error: connection refused\n"); err == nil {
		t.Error("parsePgbench without tps succeeded")
	}
}

func TestLatenciesFromPgbenchLogs(t *testing.T) {
	prefix := t.TempDir() + "/pgbench-log"
	os.WriteFile(prefix+".1", []byte("0 1 300 0 1796127857 119308\n0 2 100 0 1796127857 119720\n"), 0o600)
	os.WriteFile(prefix+".1.1", []byte("1 1 200 0 1796127857 119848\n1 2 failed 0 1796127857 119900\n"), 0o600)
	lat, err := readLatencies(prefix)
	if err != nil || len(lat) != 3 {
		t.Fatalf("readLatencies = %v, %v", lat, err)
	}
	if p := percentile(lat, 50); p != 200*time.Microsecond {
		t.Errorf("p50 = %v", p)
	}
	if p := percentile(lat, 99); p != 300*time.Microsecond {
		t.Errorf("p99 = %v", p)
	}
	if _, err := readLatencies(t.TempDir() + "/none"); err == nil {
		t.Error("no logs: no error")
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i))
	}
	for p, want := range map[int]time.Duration{1: 1, 50: 50, 99: 99, 100: 100} {
		if got := percentile(d, p); got != want {
			t.Errorf("percentile(%d) = %d, want %d", p, got, want)
		}
	}
	if percentile(nil, 99) != 0 {
		t.Error("percentile of nothing")
	}
}

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "api"},
		{[]string{"help"}, 0, "api"},
		{[]string{"nope"}, 2, `unknown subcommand "nope"`},
		{[]string{"api", "-dsn", ""}, 2, "-dsn is required"},
		{[]string{"api", "-dsn", "host=db"}, 2, "-dsn must be a postgres:// URL"},
		{[]string{"api", "-dsn", "postgres://db/x", "-schema", "Public; DROP"}, 2, "-schema"},
		{[]string{"api", "-dsn", "postgres://db/x", "-duration", "1500ms"}, 2, "-duration"},
		{[]string{"api", "-dsn", "postgres://db/x", "-threads", "40"}, 2, "-threads"},
		{[]string{"api", "-dsn", "postgres://db/x", "-users", "5"}, 2, "-users"},
		{[]string{"api", "-dsn", "postgres://db/x", "-pgbench-protocol", "extended"}, 2, "-pgbench-protocol"},
		{[]string{"api", "-dsn", "postgres://db/x", "-cpuprofile", "/tmp/p"}, 2, "-cpuprofile needs -in-process"},
		{[]string{"api", "-dsn", "postgres://db/x", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"intake", "-store", "mysql"}, 2, `-store: "mysql" is neither postgres nor sqlite`},
		{[]string{"intake", "-store", "postgres", "-dsn", ""}, 2, "-store postgres needs -dsn"},
		{[]string{"intake", "-store", "sqlite", "-imap", "gmail"}, 2, "-imap must be dovecot or memory"},
		{[]string{"intake", "-store", "sqlite", "-messages", "0"}, 2, "-messages"},
		{[]string{"intake", "-store", "sqlite", "-rounds", "0"}, 2, "-rounds"},
		{[]string{"intake", "-store", "sqlite", "-schema", "x;y"}, 2, "-schema"},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errOut)
		if code != tc.code || !strings.Contains(out.String()+errOut.String(), tc.want) {
			t.Errorf("bench %q = %d, %q; want %d and %q", tc.args, code, errOut.String(), tc.code, tc.want)
		}
	}
}

// TestAPIBenchRuns runs "bench api" briefly, with the app in process, and
// checks that it prints both sides of both figures. Whether the targets
// are met is for measured runs on a quiet machine, not for a test.
func TestAPIBenchRuns(t *testing.T) {
	dsn := os.Getenv("UNLOCKD_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("set UNLOCKD_TEST_POSTGRES to run the bench against PostgreSQL")
	}
	for _, tool := range []string{"wrk", "pgbench"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required in CI: %v", tool, err)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	schema := "bench_test_" + strings.ToLower(rand.Text()[:10])
	t.Cleanup(func() { execSQL(context.Background(), dsn, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`) })
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"api", "-dsn", dsn, "-schema", schema, "-users", "20000",
		"-duration", "1s", "-rounds", "1", "-connections", "8", "-in-process"}, &out, &errOut)
	t.Logf("bench api printed:\n%s%s", out.String(), errOut.String())
	if code != 0 && !strings.Contains(errOut.String(), "missed a target") {
		t.Fatalf("bench api exited %d", code)
	}
	for _, want := range []string{"pgbench  SELECT", "unlockd  GET", "pgbench  UPDATE", "unlockd  POST", "ratios: reads", "summary"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in the output", want)
		}
	}
	if strings.Contains(out.String(), "FAILED") {
		t.Error("a load had failed requests")
	}
}

// TestIntakeBenchRuns runs "bench intake" on a small mailbox, in-process
// and (where Dovecot is installed, always in CI) against Dovecot, into
// SQLite and, given UNLOCKD_TEST_POSTGRES, PostgreSQL. The bench itself
// checks every message was decided, every user unlocked and every reply
// queued; the test checks it says so and prints both sides of the figure.
func TestIntakeBenchRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs serve")
	}
	stores := "sqlite"
	if dsn := os.Getenv("UNLOCKD_TEST_POSTGRES"); dsn != "" {
		stores = "postgres,sqlite"
	}
	imaps := []string{"memory"}
	if _, err := os.Stat(mailtest.DovecotBinary); err == nil && os.Geteuid() == 0 {
		imaps = append(imaps, "dovecot")
	} else if os.Getenv("CI") != "" {
		t.Fatalf("Dovecot (as root) is required in CI: %v", mailtest.ErrNoDovecot)
	}
	schema := "bench_test_" + strings.ToLower(rand.Text()[:10])
	t.Cleanup(func() {
		if dsn := os.Getenv("UNLOCKD_TEST_POSTGRES"); dsn != "" {
			execSQL(context.Background(), dsn, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`)
		}
	})
	for _, imap := range imaps {
		t.Run(imap, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"intake", "-imap", imap, "-store", stores, "-schema", schema,
				"-messages", "150", "-rounds", "1"}, &out, &errOut)
			t.Logf("bench intake printed:\n%s%s", out.String(), errOut.String())
			if code != 0 {
				t.Fatalf("bench intake exited %d", code)
			}
			for _, kind := range strings.Split(stores, ",") {
				if !regexp.MustCompile(kind + ` +round 1: serve drained 150 in .*msg/s; raw fetch .* ratio [0-9.]+`).MatchString(out.String()) {
					t.Errorf("no drain line for %s", kind)
				}
			}
		})
	}
}
