package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
	"github.com/unlockd/unlockd/internal/totp"
	"github.com/unlockd/unlockd/migrations"
)

// result is what one run of the command line produced.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command line in-process with the given standard input.
func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

func (r result) want(t *testing.T, code int, stderrHas ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	for _, s := range stderrHas {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr %q does not mention %q", r.stderr, s)
		}
	}
}

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// engineConfig writes a config file for a fresh database on engine e.
func engineConfig(t *testing.T, e storetest.Engine) string {
	t.Helper()
	return writeFile(t, t.TempDir(), "unlockd.yaml", fmt.Sprintf("database:\n  driver: %s\n  dsn: %q\n", e.Name, storetest.DSN(t, e)))
}

// openConfigStore opens the store the config file at path names.
func openConfigStore(t *testing.T, path string) *store.Store {
	t.Helper()
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(context.Background(), cfg.Database.Driver, cfg.Database.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// eachEngine runs body against every available engine with a config file.
func eachEngine(t *testing.T, body func(t *testing.T, cfg string)) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) { body(t, engineConfig(t, e)) })
	}
}

func TestUsageAndVersion(t *testing.T) {
	runCLI(t, "").want(t, exitUsage, "Usage: unlockd")
	runCLI(t, "", "frobnicate").want(t, exitUsage, `unknown command "frobnicate"`)
	runCLI(t, "", "--help").want(t, exitOK, "check-config")
	if r := runCLI(t, "", "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "unlockd ") {
		t.Errorf("version: %+v", r)
	}
	for _, cmd := range [][]string{{"migrate"}, {"import"}, {"check-config"}, {"version"}, {"token", "create"}, {"operator", "add"}, {"operator", "reset-totp"}, {"operator"}} {
		runCLI(t, "", append(cmd, "--help")...).want(t, exitOK, "Usage: unlockd "+cmd[0])
	}
	runCLI(t, "", "migrate", "--bogus").want(t, exitUsage, "bogus")
	runCLI(t, "", "migrate").want(t, exitUsage, "--config")
	runCLI(t, "", "token").want(t, exitUsage, "token create")
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", "database:\n  driver: sqlite\n  dsn: x.db\n")
	r := runCLI(t, "", "check-config", "--config", good)
	r.want(t, exitOK)
	if !strings.Contains(r.stdout, "ok") || r.stderr != "" {
		t.Errorf("stdout = %q, stderr = %q", r.stdout, r.stderr)
	}
	open := writeFile(t, dir, "open.yaml", "http:\n  listen: :8080\n  public_url: http://unlock.example.com\n")
	runCLI(t, "", "check-config", "--config", open).want(t, exitOK, "warning: http.listen :8080 is not a loopback address", "warning: /metrics on :8080 is open")
	bad := writeFile(t, dir, "bad.yaml", "database:\n  driver: oracle\nmailboxes:\n  - name: a\n    imap:\n      adress: x:1\n")
	runCLI(t, "", "check-config", "--config", bad).want(t, exitUsage, "database.driver", "mailboxes[0].imap.adress: unknown key")
	runCLI(t, "", "check-config", "--config", filepath.Join(dir, "missing.yaml")).want(t, exitUsage, "missing.yaml")
	example, _ := filepath.Abs("../../config.example.yaml")
	runCLI(t, "", "check-config", "--config", example).want(t, exitOK)
}

func TestMigrateIsIdempotent(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			files, err := fs.Glob(migrations.FS, e.Name+"/*.sql")
			if err != nil || len(files) == 0 {
				t.Fatalf("no %s migrations: %v", e.Name, err)
			}
			cfg := engineConfig(t, e)
			runCLI(t, "", "migrate", "--config", cfg).want(t, exitOK, fmt.Sprintf("applied %d migration", len(files)))
			runCLI(t, "", "migrate", "--config", cfg).want(t, exitOK, "applied 0 migration")
		})
	}
}

func TestTokenCreate(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg string) {
		r := runCLI(t, "", "token", "create", "--config", cfg, "--role", "staff", "--name", "ops")
		r.want(t, exitOK)
		tok := strings.TrimSuffix(r.stdout, "\n")
		if strings.Contains(tok, "\n") || !strings.HasPrefix(tok, password.TokenPrefix) {
			t.Fatalf("stdout %q is not the token alone", r.stdout)
		}
		got, err := openConfigStore(t, cfg).TokenByHash(context.Background(), password.HashToken(tok))
		if err != nil || got.Name != "ops" || got.Role != domain.RoleStaff {
			t.Errorf("stored token = %+v, %v", got, err)
		}
		runCLI(t, "", "token", "create", "--config", cfg, "--role", "admin", "--name", "x").want(t, exitUsage, "--org is required")
		runCLI(t, "", "token", "create", "--config", cfg, "--role", "root", "--name", "x").want(t, exitUsage, "--role")
		runCLI(t, "", "token", "create", "--config", cfg, "--role", "service", "--org", "nope", "--name", "x").want(t, exitUsage, `--org "nope" not found`)
		runCLI(t, "", "token", "create", "--config", cfg, "--role", "service", "--org", "No Such", "--name", "x").want(t, exitUsage, `--org slug "No Such"`)
		runCLI(t, "", "token", "create", "--config", cfg, "--role", "staff", "--org", "acme", "--name", "x").want(t, exitUsage, "--org must not be given for role staff")
		runCLI(t, "", "token", "create", "--config", cfg, "--role", "staff", "--name", strings.Repeat("n", 201)).want(t, exitUsage, "--name is longer than 200 bytes")
	})
}

func TestOperatorAdd(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg string) {
		args := []string{"operator", "add", "--config", cfg, "--role", "staff", "--email", "Ann@Support.example"}
		// Every rule of domain.CheckPassword, exit 2 naming it; nothing
		// is written, so the good password below is the first operator.
		for _, weak := range []struct{ stdin, rule string }{
			{"\n", "password is empty"},
			{"short\n", "shorter than 12 characters"},
			{"            \n", "shorter than 12 characters"},
			{"aaaaaaaaaaaa\n", "one character or a short sequence repeated"},
			{"123456789012\n", "run of keyboard"},
			{"password123456\n", "most common passwords"},
			{"qwertyuiop12\n", "run of keyboard"},
			{"ann@support.example\n", "username or email address"},
			{"correct\x00horse battery\n", "control characters"},
			{strings.Repeat("x7", 600) + "\n", "longer than 1024 bytes"},
		} {
			runCLI(t, weak.stdin, args...).want(t, exitUsage, weak.rule)
		}
		runCLI(t, "", args...).want(t, exitUsage, "no password")
		runCLI(t, "a long enough password\n", args...).want(t, exitOK, "ann@support.example")
		runCLI(t, "a long enough password\n", args...).want(t, exitFailure, "already exists")
		runCLI(t, "a long enough password\n", "operator", "add", "--config", cfg, "--role", "admin", "--email", "b@x.example").want(t, exitUsage, "--org")
		runCLI(t, "a long enough password\n", "operator", "add", "--config", cfg, "--role", "admin", "--org", "nope", "--email", "b@x.example").want(t, exitUsage, `--org "nope" not found`)
		runCLI(t, "a long enough password\n", "operator", "add", "--config", cfg, "--role", "staff", "--email", "notanemail").want(t, exitUsage, `--email "notanemail" is not a valid email address`)
		runCLI(t, "a long enough password\n", "operator", "add", "--config", cfg, "--role", "service", "--email", "b@x.example").want(t, exitUsage, `--role "service" must be staff or admin`)
	})
}

func TestOperatorResetTOTP(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg string) {
		runCLI(t, "a long enough password\n", "operator", "add", "--config", cfg, "--role", "staff", "--email", "ann@support.example").want(t, exitOK)
		reset := []string{"operator", "reset-totp", "--config", cfg, "--email", "Ann@Support.example"}
		runCLI(t, "", "operator", "reset-totp", "--config", cfg).want(t, exitUsage, "--email")
		runCLI(t, "", "operator", "reset-totp", "--config", cfg, "--email", "not an address").want(t, exitUsage, "--email")
		runCLI(t, "", "operator", "reset-totp", "--config", cfg, "--email", "nobody@support.example").want(t, exitUsage, "--email: no operator")
		runCLI(t, "", reset...).want(t, exitFailure, "no second factor")

		s := openConfigStore(t, cfg)
		ctx := context.Background()
		op, err := s.SignIn(ctx, nil, store.Credentials{Email: "ann@support.example", Password: "a long enough password"}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.EnrolTOTP(ctx, op, totp.NewSecret(), 0, []string{totp.RecoveryHash(totp.NewRecoveryCodes(1)[0])}, "test"); err != nil {
			t.Fatal(err)
		}
		token, _, err := s.CreateSession(ctx, op)
		if err != nil {
			t.Fatal(err)
		}
		runCLI(t, "", reset...).want(t, exitOK, "ann@support.example")
		if _, err := s.Session(ctx, token); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("session after reset-totp: %v, want it ended", err)
		}
		// The password alone signs in again, for the operator to enrol anew.
		if op, err := s.SignIn(ctx, nil, store.Credentials{Email: "ann@support.example", Password: "a long enough password"}, "test"); err != nil || op.TOTP {
			t.Errorf("sign-in after reset-totp = %+v, %v", op, err)
		}
		entries, err := s.ListAudit(ctx, store.AuditFilter{Limit: 1})
		if err != nil || len(entries) != 1 || entries[0].Action != domain.ActionTOTPReset || entries[0].Actor != "cli" {
			t.Errorf("audit = %+v, %v; want totp_reset by cli", entries, err)
		}
	})
}

const contactsCSV = "email,name\nIT@Acme.example,IT desk\nceo@acme.example,Chief\n"
const usersCSV = "username,display_name,email,status,lock_reason\njsmith,John Smith,j@acme.example,locked,failed_logins\nJSmith,Jane Smith,,active,\nboss,The Boss,,locked,admin\n"

func TestImport(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg string) {
		dir := t.TempDir()
		contacts := writeFile(t, dir, "contacts.csv", contactsCSV)
		users := writeFile(t, dir, "users.csv", usersCSV)
		runCLI(t, "", "import", "--config", cfg, "--org", "acme", "--contacts", contacts, "--users", users).
			want(t, exitOK, "imported 2 contact(s) and 3 user(s) into acme (org created)")
		// An address another org has too is imported, with a warning.
		shared := writeFile(t, dir, "shared.csv", "email,name\nnew@initech.example,New\nCEO@acme.example,Chief\n")
		runCLI(t, "", "import", "--config", cfg, "--org", "initech", "--contacts", shared).
			want(t, exitOK, "warning: ceo@acme.example is also a contact of acme")

		s := openConfigStore(t, cfg)
		ctx := context.Background()
		u, err := s.User(ctx, "acme", "jsmith")
		if err != nil || u.Lock == nil || u.Lock.Reason != domain.LockFailedLogins {
			t.Fatalf("jsmith = %+v, %v", u, err)
		}
		if u, _ := s.User(ctx, "acme", "JSmith"); u.Lock != nil || u.DisplayName != "Jane Smith" {
			t.Errorf("JSmith = %+v", u)
		}

		// A second import with one new good row and one row already on record
		// writes nothing and names the row.
		again := writeFile(t, dir, "again.csv", "username,display_name,email\nnewbie,New,\njsmith,Dup,\n")
		runCLI(t, "", "import", "--config", cfg, "--org", "acme", "--users", again).
			want(t, exitFailure, "again.csv line 3", `"jsmith" already exists`, "nothing was imported")
		if _, err := s.User(ctx, "acme", "newbie"); domain.ErrorCode(err) != domain.CodeNotFound {
			t.Errorf("partial import: newbie = %v", err)
		}

		// A bad row aborts before the database is touched, naming file and line.
		bad := writeFile(t, dir, "bad.csv", "username,display_name,email,status,lock_reason\nok1,,,active,\nbad user,,,active,\nok2,,,locked,\n")
		runCLI(t, "", "import", "--config", cfg, "--org", "globex", "--users", bad).want(t, exitFailure, "bad.csv line 3", "bad.csv line 4")
		if _, err := s.Org(ctx, "globex"); domain.ErrorCode(err) != domain.CodeNotFound {
			t.Errorf("org created by a failed import: %v", err)
		}
		badContacts := writeFile(t, dir, "badc.csv", "email,name\nnot-an-address,X\n")
		runCLI(t, "", "import", "--config", cfg, "--org", "acme", "--contacts", badContacts).want(t, exitFailure, "badc.csv line 2")

		runCLI(t, "", "import", "--config", cfg, "--org", "acme").want(t, exitUsage, "--contacts, --users")
		runCLI(t, "", "import", "--config", cfg, "--org", "Bad Slug", "--users", users).want(t, exitUsage, "--org")
		runCLI(t, "", "import", "--config", cfg, "--org", "acme", "--users", filepath.Join(dir, "none.csv")).want(t, exitFailure, "none.csv")
	})
}

// TestServeStopsGracefully: serve migrates, runs and exits 0 when its
// context ends (as on SIGTERM).
func TestServeStopsGracefully(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "serve.yaml", fmt.Sprintf("database:\n  driver: sqlite\n  dsn: %q\nhttp:\n  listen: 127.0.0.1:0\nlog:\n  format: json\n", filepath.Join(dir, "u.db")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut lockedBuffer
	go func() { // stop as soon as serve says it runs, as a signal would
		for ctx.Err() == nil && !strings.Contains(errOut.String(), `"msg":"unlockd running"`) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfg}, strings.NewReader(""), io.Discard, &errOut)
	}()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("serve exit %d: %s", code, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start and stop within 30 s: %s", errOut.String())
	}
}

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
