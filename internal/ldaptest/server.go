package ldaptest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// client reaches a test server as its administrator; Server and
// ADServer share it.
type client struct {
	url            string
	rootDN, rootPW string
}

// Server is a running (or stopped) slapd of one test.
type Server struct {
	client
	dir     string
	slapd   string
	port    int // ldap:// with StartTLS
	tlsPort int // ldaps://
	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	log     *syncBuffer
}

// syncBuffer is slapd's stderr, kept for the failure message.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		s.b.Reset()
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Installed reports whether slapd and its ppolicy module are installed,
// so that a caller outside tests (unlockd demo --directory ldap) can say
// so instead of starting it.
func Installed() bool {
	if findSlapd() == "" {
		return false
	}
	_, err := os.Stat("/usr/lib/ldap/ppolicy.so")
	return err == nil
}

// findSlapd returns slapd's path, or "".
func findSlapd() string {
	if p, err := exec.LookPath("slapd"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/slapd"); err == nil {
		return "/usr/sbin/slapd"
	}
	return ""
}

// Start starts a new slapd with an empty directory holding only the
// suffix, the policies and the service accounts, and stops it when the
// test ends. Without slapd it skips the test, or fails it when CI is set.
func Start(tb testing.TB) *Server {
	tb.Helper()
	slapd := findSlapd()
	if slapd == "" {
		msg := "no slapd: install Debian's slapd and ldap-utils (apt-get install -y slapd ldap-utils)"
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	if _, err := os.Stat("/usr/lib/ldap/ppolicy.so"); err != nil {
		tb.Fatalf("ldaptest: slapd without the ppolicy module: %v", err)
	}
	dir, err := os.MkdirTemp("", "unlockd-slapd-")
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{dir: dir, slapd: slapd, port: freePort(tb), tlsPort: freePort(tb)}
	s.client = client{url: s.URL(), rootDN: RootDN, rootPW: RootPassword}
	tb.Cleanup(func() {
		s.kill()
		if tb.Failed() {
			tb.Logf("slapd's log (last part):\n%s", tail(s.logText(), 4000))
		}
		os.RemoveAll(dir)
	})
	if err := writeConfig(dir); err != nil {
		tb.Fatal(err)
	}
	s.Start(tb)
	s.seed(tb)
	return s
}

// URL is the plain ldap:// address; the server offers StartTLS there.
func (s *Server) URL() string { return fmt.Sprintf("ldap://127.0.0.1:%d", s.port) }

// LDAPSURL is the ldaps:// address.
func (s *Server) LDAPSURL() string { return fmt.Sprintf("ldaps://127.0.0.1:%d", s.tlsPort) }

// CAFile is the PEM file of the CA that signed the server's certificate.
func (s *Server) CAFile() string { return filepath.Join(s.dir, "ca.pem") }

// Start starts slapd in the foreground (-d 256) on the server's ports and
// data, and waits until it answers a bind. It is a no-op while running.
func (s *Server) Start(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	if s.cmd != nil {
		s.mu.Unlock()
		return
	}
	urls := fmt.Sprintf("ldap://127.0.0.1:%d/ ldaps://127.0.0.1:%d/", s.port, s.tlsPort)
	cmd := exec.Command(s.slapd, "-d", "256", "-h", urls, "-f", filepath.Join(s.dir, "slapd.conf"))
	if s.log == nil {
		s.log = &syncBuffer{}
	}
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		tb.Fatalf("ldaptest: start slapd: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-done:
			tb.Fatalf("ldaptest: slapd exited at start:\n%s", tail(s.logText(), 4000))
		default:
		}
		c, err := s.dial()
		if err == nil {
			err = c.Bind(s.rootDN, s.rootPW)
			c.Close()
			if err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("ldaptest: slapd does not answer after 30s: %v\n%s", err, tail(s.logText(), 4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops slapd (SIGTERM, then SIGKILL after 10 s) and waits until
// it has exited and its ports are closed. The data stays for Start.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// kill ends slapd at once, for cleanup.
func (s *Server) kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd != nil {
		cmd.Process.Kill()
		<-done
	}
}

func (s *Server) logText() string {
	if s.log == nil {
		return ""
	}
	return s.log.String()
}

// dial connects to the plain port as nobody.
func (s *client) dial() (*ldap.Conn, error) {
	c, err := ldap.DialURL(s.url, ldap.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}))
	if err != nil {
		return nil, err
	}
	c.SetTimeout(10 * time.Second)
	return c, nil
}

// Conn returns a connection bound as dn with password, closed when the
// test ends.
func (s *client) Conn(tb testing.TB, dn, password string) *ldap.Conn {
	tb.Helper()
	c, err := s.dial()
	if err != nil {
		tb.Fatalf("ldaptest: dial: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	if err := c.Bind(dn, password); err != nil {
		tb.Fatalf("ldaptest: bind as %s: %v", dn, err)
	}
	return c
}

// Root returns a connection bound as the administrator (slapd's rootdn,
// the AD's Administrator).
func (s *client) Root(tb testing.TB) *ldap.Conn {
	tb.Helper()
	return s.Conn(tb, s.rootDN, s.rootPW)
}

// TLSConfig trusts the test CA, for clients of the ldaps port.
func (s *Server) TLSConfig(tb testing.TB) *tls.Config {
	tb.Helper()
	return tlsConfig(tb, s.CAFile(), "127.0.0.1")
}

func tlsConfig(tb testing.TB, caFile, host string) *tls.Config {
	tb.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{RootCAs: pool, ServerName: host}
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
