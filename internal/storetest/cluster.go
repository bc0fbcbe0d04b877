package storetest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// EnvPostgresBin names the variable holding the folder of PostgreSQL's
// server programs (initdb, pg_ctl) for tests that run a private cluster;
// without it the newest /usr/lib/postgresql/*/bin is used.
const EnvPostgresBin = "UNLOCKD_TEST_PGBIN"

// Cluster is a private PostgreSQL server that one test creates, starts,
// stops and restarts at will, on a free loopback port, never the shared
// server of EnvPostgres. Its data folder is removed when the test ends.
type Cluster struct {
	bin  string
	dir  string
	port int
	// runAs is the user the server programs run as: initdb refuses root.
	runAs string
}

// NewCluster runs initdb for a new cluster, not started. Without the
// server programs it skips the test with the reason, unless PostgreSQL
// tests are required (EnvPostgres or CI set), when it fails.
func NewCluster(tb testing.TB) *Cluster {
	tb.Helper()
	bin := findPostgresBin()
	if bin == "" {
		msg := "no PostgreSQL server programs (initdb, pg_ctl): install Debian's postgresql or set " + EnvPostgresBin
		if os.Getenv(EnvPostgres) != "" || os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	dir, err := os.MkdirTemp("", "unlockd-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	c := &Cluster{bin: bin, dir: dir, port: freePort(tb)}
	tb.Cleanup(func() {
		c.pgctl(nil, "stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			tb.Fatalf("initdb refuses to run as root and there is no postgres user to run it as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
		c.runAs = "postgres"
	}
	c.run(tb, "initdb", "-D", c.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
	return c
}

// DSN is the cluster's postgres database, as a URL.
func (c *Cluster) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start(tb testing.TB) {
	tb.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.port, c.dir)
	c.pgctl(tb, "start", "-w", "-t", "60", "-l", filepath.Join(c.dir, "server.log"), "-o", opts)
}

// Stop stops the server as a crash would: sessions are cut and the next
// start recovers from the log.
func (c *Cluster) Stop(tb testing.TB) {
	tb.Helper()
	c.pgctl(tb, "stop", "-w", "-m", "immediate")
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

func (c *Cluster) pgctl(tb testing.TB, args ...string) {
	c.run(tb, "pg_ctl", append([]string{"-D", c.data()}, args...)...)
}

// run runs a server program as runAs; tb nil ignores failures (cleanup).
func (c *Cluster) run(tb testing.TB, prog string, args ...string) {
	path := filepath.Join(c.bin, prog)
	cmd := exec.Command(path, args...)
	if c.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.runAs, "--", path}, args...)...)
	}
	cmd.Dir = c.dir
	out, err := cmd.CombinedOutput()
	if err != nil && tb != nil {
		tb.Helper()
		log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		tb.Fatalf("%s %v: %v\n%s\nserver log:\n%s", prog, args, err, out, log)
	}
}

// findPostgresBin returns EnvPostgresBin, or the newest Debian
// /usr/lib/postgresql/N/bin holding initdb, or "".
func findPostgresBin() string {
	if dir := os.Getenv(EnvPostgresBin); dir != "" {
		return dir
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(found, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(found[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(found[j]))))
		return vi < vj
	})
	if len(found) == 0 {
		return ""
	}
	return filepath.Dir(found[len(found)-1])
}

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
