package mailtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Dovecot is a real IMAP server, Debian's dovecot-imapd, run in the
// foreground on a loopback port with a configuration of its own in a
// folder of the caller's: plain IMAP, one user, Maildir storage. Tests and
// benchmarks use it where the in-process server would flatter the figures.
type Dovecot struct {
	Addr     string
	User     string
	Password string
	dir      string
	conf     string // the configuration file
	cmd      *exec.Cmd
	uid, gid int
}

// DovecotBinary is where Debian installs the server.
const DovecotBinary = "/usr/sbin/dovecot"

// ErrNoDovecot says the server is not installed.
var ErrNoDovecot = errors.New("mailtest: dovecot is not installed (apt-get install dovecot-imapd)")

// StartDovecot starts a Dovecot in a folder of its own (which Close
// removes) and waits until it accepts connections. Mail is owned by the
// system's dovecot user and the server's processes read their files as
// it, so it must run as root, as Debian's package sets it up.
func StartDovecot() (*Dovecot, error) {
	if _, err := os.Stat(DovecotBinary); err != nil {
		return nil, ErrNoDovecot
	}
	dir, err := os.MkdirTemp("", "unlockd-dovecot-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil { // the server's users must reach it
		return nil, err
	}
	u, err := user.Lookup("dovecot")
	if err != nil {
		return nil, fmt.Errorf("mailtest: dovecot user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid) // err is the one of user.Lookup, checked
	gid, _ := strconv.Atoi(u.Gid)
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	d := &Dovecot{Addr: fmt.Sprintf("127.0.0.1:%d", port), User: "support", Password: "secret", dir: dir, uid: uid, gid: gid}
	for _, sub := range []string{"run", "state", "home"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(d.User+":{PLAIN}"+d.Password+"::::::\n"), 0o644); err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = %[3]d
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[3]d gid=%[4]d home=%[1]s/home/%%u
}
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener imaps {
    port = 0
  }
}
`, dir, port, uid, gid)
	confPath := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	if err := d.maildir(); err != nil {
		return nil, err
	}
	d.conf = confPath
	if err := d.start(); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// start runs the server in the foreground and waits until it listens.
func (d *Dovecot) start() error {
	d.cmd = exec.Command(DovecotBinary, "-F", "-c", d.conf)
	if err := d.cmd.Start(); err != nil {
		return fmt.Errorf("mailtest: start dovecot: %w", err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", d.Addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
			return fmt.Errorf("mailtest: dovecot did not listen on %s: %v\n%s", d.Addr, err, log)
		}
	}
}

// maildir makes the user's Maildir, owned by the mail user.
func (d *Dovecot) maildir() error {
	home := filepath.Join(d.dir, "home", d.User)
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(home, "Maildir", sub), 0o700); err != nil {
			return err
		}
	}
	return filepath.Walk(home, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, d.uid, d.gid)
	})
}

// Deliver puts messages straight into the user's INBOX as Maildir files,
// much faster than APPEND: what a local delivery agent does.
func (d *Dovecot) Deliver(msgs ...[]byte) error {
	dir := filepath.Join(d.dir, "home", d.User, "Maildir")
	for i, m := range msgs {
		name := fmt.Sprintf("%d.M%dP%d.unlockd", time.Now().UnixNano(), i, os.Getpid())
		tmp := filepath.Join(dir, "tmp", name)
		if err := os.WriteFile(tmp, m, 0o600); err != nil {
			return err
		}
		if err := os.Chown(tmp, d.uid, d.gid); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(dir, "new", name)); err != nil {
			return err
		}
	}
	return nil
}

// Count returns how many messages folder holds ("INBOX" or a folder name),
// by counting Maildir files.
func (d *Dovecot) Count(folder string) int {
	dir := filepath.Join(d.dir, "home", d.User, "Maildir")
	if folder != "INBOX" {
		dir = filepath.Join(dir, "."+strings.ReplaceAll(folder, "/", "."))
	}
	n := 0
	for _, sub := range []string{"new", "cur"} {
		entries, _ := os.ReadDir(filepath.Join(dir, sub))
		n += len(entries)
	}
	return n
}

// Restart stops the server and starts it again on the same port with the
// same mail, as an upgrade or a crash and restart would: every client
// connection drops.
func (d *Dovecot) Restart() error {
	d.stop()
	return d.start()
}

// Close stops the server and removes its folder.
func (d *Dovecot) Close() error {
	d.stop()
	return os.RemoveAll(d.dir)
}

// stop ends the server, killing it if it takes more than 5 s.
func (d *Dovecot) stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		d.cmd.Process.Kill()
		<-done
	}
	d.cmd = nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
