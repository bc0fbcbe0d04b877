package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
)

// lastAudit returns the newest audit entry.
func lastAudit(t *testing.T, s *store.Store) domain.AuditEntry {
	t.Helper()
	e, err := s.ListAudit(context.Background(), store.AuditFilter{Limit: 1})
	if err != nil || len(e) != 1 {
		t.Fatalf("audit = %+v, %v", e, err)
	}
	return e[0]
}

func TestTokenListAndRevoke(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg string) {
		runCLI(t, "", "import", "--config", cfg, "--org", "acme", "--org-name", "Acme Corp").want(t, exitOK, "(org created)")
		runCLI(t, "", "import", "--config", cfg, "--org", "globex", "--org-name", "Globex").want(t, exitOK)
		var secrets []string
		for _, args := range [][]string{
			{"--role", "staff", "--name", "ops"},
			{"--role", "service", "--org", "acme", "--name", "app"},
			{"--role", "service", "--org", "globex", "--name", "app"},
		} {
			r := runCLI(t, "", append([]string{"token", "create", "--config", cfg}, args...)...)
			r.want(t, exitOK)
			secrets = append(secrets, strings.TrimSpace(r.stdout))
		}
		runCLI(t, "", "token", "create", "--config", cfg, "--role", "admin", "--org", "acme", "--name", "app").
			want(t, exitFailure, `a token named "app" already exists in org "acme"`)
		runCLI(t, "", "token", "create", "--config", cfg, "--role", "staff", "--name", "007").want(t, exitUsage, `--name "007" must not be all digits`)

		list := runCLI(t, "", "token", "list", "--config", cfg)
		list.want(t, exitOK)
		for _, want := range []string{"ID", "NAME", "LAST_USED", "ops", "staff", "acme", "globex"} {
			if !strings.Contains(list.stdout, want) {
				t.Errorf("token list lacks %q:\n%s", want, list.stdout)
			}
		}
		for _, secret := range secrets {
			if strings.Contains(list.stdout, secret) || strings.Contains(list.stdout, password.HashToken(secret)) || strings.Contains(list.stdout, password.TokenPrefix) {
				t.Fatalf("token list shows a token or its hash:\n%s", list.stdout)
			}
		}
		if got := strings.Count(list.stdout, "\n"); got != 4 {
			t.Errorf("token list has %d lines, want a header and 3 tokens:\n%s", got, list.stdout)
		}
		acme := runCLI(t, "", "token", "list", "--config", cfg, "--org", "acme")
		if acme.want(t, exitOK); strings.Contains(acme.stdout, "globex") || !strings.Contains(acme.stdout, "app") {
			t.Errorf("token list --org acme:\n%s", acme.stdout)
		}
		runCLI(t, "", "token", "list", "--config", cfg, "--org", "nope").want(t, exitUsage, `--org "nope" not found`)

		runCLI(t, "", "token", "revoke", "--config", cfg, "app").want(t, exitUsage, `2 live tokens are named "app"`, "--org")
		runCLI(t, "", "token", "revoke", "--config", cfg).want(t, exitUsage, "missing the token's NAME or ID")
		runCLI(t, "", "token", "revoke", "--config", cfg, "--org", "No Such", "app").want(t, exitUsage, "--org")
		runCLI(t, "", "token", "revoke", "--config", cfg, "--org", "nope", "app").want(t, exitUsage, `--org "nope" not found`)
		runCLI(t, "", "token", "revoke", "--config", cfg, "nobody").want(t, exitUsage, `no live token is named "nobody"`)
		runCLI(t, "", "token", "revoke", "--config", cfg, "9999").want(t, exitUsage, "no token has the ID 9999")
		runCLI(t, "", "token", "revoke", "--config", cfg, "app", "extra").want(t, exitUsage, `unexpected argument "extra"`)
		// The name before the flags, as well as after.
		runCLI(t, "", "token", "revoke", "app", "--config", cfg, "--org", "acme").want(t, exitOK, `"app" (service in org acme) revoked`)
		s := openConfigStore(t, cfg)
		if e := lastAudit(t, s); e.Action != domain.ActionTokenRevoke || e.Target != "app" || e.Actor != "cli" || e.Source != "cli" {
			t.Errorf("audit = %+v", e)
		}
		if _, err := s.TokenByHash(context.Background(), password.HashToken(secrets[1])); err == nil {
			t.Error("the revoked token is still found")
		}
		runCLI(t, "", "token", "revoke", "--config", cfg, "--org", "acme", "app").want(t, exitUsage, `no live token is named "app" in org acme`)
		toks, _ := s.ListTokens(context.Background(), store.TokenFilter{Revoked: true, OrgSlug: "acme"})
		id := strconv.FormatInt(toks[0].ID, 10)
		runCLI(t, "", "token", "revoke", "--config", cfg, id).want(t, exitFailure, "already revoked")
		all := runCLI(t, "", "token", "list", "--config", cfg, "--all")
		if all.want(t, exitOK); !strings.Contains(all.stdout, "REVOKED") || strings.Count(all.stdout, "\n") != 4 {
			t.Errorf("token list --all:\n%s", all.stdout)
		}
		// The name may be used again once revoked; the staff token goes by ID.
		runCLI(t, "", "token", "create", "--config", cfg, "--role", "service", "--org", "acme", "--name", "app").want(t, exitOK)
		staff, _ := s.ListTokens(context.Background(), store.TokenFilter{Name: "ops"})
		runCLI(t, "", "token", "revoke", "--config", cfg, strconv.FormatInt(staff[0].ID, 10)).want(t, exitOK, `"ops" (staff) revoked`)
	})
}

func TestOperatorListRemoveUnlockCommands(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg string) {
		runCLI(t, "", "import", "--config", cfg, "--org", "acme", "--org-name", "Acme").want(t, exitOK)
		runCLI(t, "a long enough password\n", "operator", "add", "--config", cfg, "--role", "staff", "--email", "ops@support.example").want(t, exitOK)
		runCLI(t, "a long enough password\n", "operator", "add", "--config", cfg, "--role", "admin", "--org", "acme", "--email", "ann@acme.example").want(t, exitOK)
		s := openConfigStore(t, cfg)
		for range store.MaxOperatorFailures {
			s.SignIn(context.Background(), nil, store.Credentials{Email: "ann@acme.example", Password: "wrong"}, "test")
		}
		list := runCLI(t, "", "operator", "list", "--config", cfg)
		list.want(t, exitOK)
		lines := strings.Split(strings.TrimSpace(list.stdout), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "EMAIL") || !strings.Contains(lines[1], "ann@acme.example") ||
			!strings.Contains(lines[1], "acme") || strings.Count(lines[1], "20") < 2 || !strings.Contains(lines[2], "ops@support.example") {
			t.Fatalf("operator list:\n%s", list.stdout)
		}

		runCLI(t, "", "operator", "unlock", "--config", cfg, "--email", "ops@support.example").want(t, exitFailure, "is not locked")
		runCLI(t, "", "operator", "unlock", "--config", cfg, "--email", "nobody@support.example").want(t, exitUsage, "--email: no operator has the address")
		runCLI(t, "", "operator", "unlock", "--config", cfg, "--email", "not an address").want(t, exitUsage, "--email")
		runCLI(t, "", "operator", "unlock", "--config", cfg).want(t, exitUsage, "--email")
		runCLI(t, "", "operator", "unlock", "--config", cfg, "--email", "Ann@ACME.example").want(t, exitOK, "may sign in again")
		if e := lastAudit(t, s); e.Action != domain.ActionOperatorUnlock || e.Source != "cli" || e.Target != "ann@acme.example" {
			t.Errorf("audit = %+v", e)
		}
		if _, err := s.SignIn(context.Background(), nil, store.Credentials{Email: "ann@acme.example", Password: "a long enough password"}, "test"); err != nil {
			t.Errorf("sign-in after unlock: %v", err)
		}

		runCLI(t, "", "operator", "remove", "--config", cfg, "--email", "nobody@support.example").want(t, exitUsage, "--email")
		runCLI(t, "", "operator", "remove", "--config", cfg, "--email", "ann@acme.example").want(t, exitOK, "removed")
		if e := lastAudit(t, s); e.Action != domain.ActionOperatorRemove || e.Source != "cli" || e.Actor != "cli" {
			t.Errorf("audit = %+v", e)
		}
		if list := runCLI(t, "", "operator", "list", "--config", cfg); strings.Contains(list.stdout, "ann@") {
			t.Errorf("operator list after remove:\n%s", list.stdout)
		}
		runCLI(t, "", "operator", "frobnicate").want(t, exitUsage, `unknown subcommand "frobnicate"`, "operator unlock")
	})
}

func TestDeadMailCommands(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg string) {
		runCLI(t, "", "migrate", "--config", cfg).want(t, exitOK)
		s := openConfigStore(t, cfg)
		ctx := context.Background()
		var ids []int64
		for i, subject := range []string{"Re: unlock", "Re: \x1b[2Jcleared"} {
			if err := s.QueueMail(ctx, domain.Mail{Kind: domain.MailReply, To: "it@acme.example", Subject: subject,
				MessageID: fmt.Sprintf("d%d@unlockd.example", i), Text: "x"}); err != nil {
				t.Fatal(err)
			}
		}
		pending, _ := s.Outbox(ctx, store.MailPending)
		for _, m := range pending {
			if err := s.MailFailed(ctx, m.ID, "550 5.1.1 no such user\r\n\x1b[31mred", time.Now(), true); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
		list := runCLI(t, "", "dead-mail", "list", "--config", cfg)
		list.want(t, exitOK)
		if !strings.Contains(list.stdout, "550 5.1.1 no such user") || !strings.Contains(list.stdout, "it@acme.example") ||
			strings.Count(list.stdout, "\n") != 3 {
			t.Errorf("dead-mail list:\n%s", list.stdout)
		}
		if strings.ContainsAny(list.stdout, "\x1b\r") {
			t.Errorf("dead-mail list passes control characters to the terminal: %q", list.stdout)
		}
		page := runCLI(t, "", "dead-mail", "list", "--config", cfg, "--after", strconv.FormatInt(ids[0], 10), "--limit", "1")
		if page.want(t, exitOK); strings.Count(page.stdout, "\n") != 2 || !strings.Contains(page.stdout, "cleared") {
			t.Errorf("second page:\n%s", page.stdout)
		}
		runCLI(t, "", "dead-mail", "list", "--config", cfg, "--limit", "0").want(t, exitUsage, "--limit")

		first, second := strconv.FormatInt(ids[0], 10), strconv.FormatInt(ids[1], 10)
		runCLI(t, "", "dead-mail", "retry", "--config", cfg, first).want(t, exitOK, "queued again")
		if e := lastAudit(t, s); e.Action != domain.ActionMailRetry || e.Source != "cli" {
			t.Errorf("audit = %+v", e)
		}
		runCLI(t, "", "dead-mail", "retry", "--config", cfg, first).want(t, exitUsage, "dead mail "+first+" not found")
		runCLI(t, "", "dead-mail", "discard", "--config", cfg, "abc").want(t, exitUsage, `ID "abc" must be a positive whole number`)
		runCLI(t, "", "dead-mail", "discard", "--config", cfg).want(t, exitUsage, "missing the mail's ID")
		runCLI(t, "", "dead-mail", "discard", second, "--config", cfg).want(t, exitOK, "discarded")
		if e := lastAudit(t, s); e.Action != domain.ActionMailDiscard || e.Source != "cli" {
			t.Errorf("audit = %+v", e)
		}
		if dead, _ := s.ListDeadMail(ctx, store.DeadMailFilter{}); len(dead) != 0 {
			t.Errorf("dead mail left = %+v", dead)
		}
		if pending, _ := s.Outbox(ctx, store.MailPending); len(pending) != 1 || pending[0].ID != ids[0] {
			t.Errorf("pending = %+v, want the retried mail", pending)
		}
	})
}

func TestImportOrgNameAndLockNote(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg string) {
		dir := t.TempDir()
		users := writeFile(t, dir, "users.csv", "username,display_name,email,status,lock_reason,lock_note\n"+
			"boss,The Boss,,locked,admin,on leave until June\nbob,Bob,,locked,failed_logins,\n")
		runCLI(t, "", "import", "--config", cfg, "--org", "acme", "--org-name", "Acme Corp", "--users", users).
			want(t, exitOK, "imported 0 contact(s) and 2 user(s) into acme (org created)")
		s := openConfigStore(t, cfg)
		ctx := context.Background()
		if o, _ := s.Org(ctx, "acme"); o.Name != "Acme Corp" {
			t.Errorf("org name = %q", o.Name)
		}
		if u, _ := s.User(ctx, "acme", "boss"); u.Lock == nil || u.Lock.Note != "on leave until June" {
			t.Errorf("boss = %+v", u.Lock)
		}
		if u, _ := s.User(ctx, "acme", "bob"); u.Lock == nil || u.Lock.Note != "imported" {
			t.Errorf("bob = %+v", u.Lock)
		}
		runCLI(t, "", "import", "--config", cfg, "--org", "acme", "--org-name", " Acme Inc ").want(t, exitOK)
		if o, _ := s.Org(ctx, "acme"); o.Name != "Acme Inc" {
			t.Errorf("org name after rename = %q", o.Name)
		}
		if e := lastAudit(t, s); e.Action != domain.ActionImport {
			t.Errorf("audit = %+v", e)
		}
		runCLI(t, "", "import", "--config", cfg, "--org", "acme", "--org-name", "bell\a").want(t, exitUsage, "--org-name", "control character")
		runCLI(t, "", "import", "--config", cfg, "--org", "acme", "--org-name", strings.Repeat("n", 201)).want(t, exitUsage, "--org-name: name is longer than 200 bytes")
		bad := writeFile(t, dir, "bad.csv", "username,display_name,email,status,lock_note\nann,Ann,,active,left\n")
		runCLI(t, "", "import", "--config", cfg, "--org", "acme", "--users", bad).want(t, exitFailure, "bad.csv line 2", "lock_note must be empty")
	})
}

// TestRevokedTokenRefusedByRunningServer: a token revoked with the command
// line while serve runs is refused at its next request.
func TestRevokedTokenRefusedByRunningServer(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeFile(t, dir, "serve.yaml", fmt.Sprintf("database:\n  driver: sqlite\n  dsn: %q\nhttp:\n  listen: %s\nlog:\n  format: json\n",
		filepath.Join(dir, "u.db"), addr))
	runCLI(t, "", "import", "--config", cfg, "--org", "acme", "--org-name", "Acme").want(t, exitOK)
	r := runCLI(t, "", "token", "create", "--config", cfg, "--role", "admin", "--org", "acme", "--name", "helpdesk")
	r.want(t, exitOK)
	token := strings.TrimSpace(r.stdout)

	ctx, cancel := context.WithCancel(context.Background())
	var errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfg}, strings.NewReader(""), io.Discard, &errOut)
	}()
	defer func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("serve exit %d: %s", code, errOut.String())
		}
	}()
	get := func() int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/orgs/acme/users", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor(t, "serve to answer", func() bool { return get() == http.StatusOK })
	runCLI(t, "", "token", "revoke", "--config", cfg, "--org", "acme", "helpdesk").want(t, exitOK, "revoked")
	if code := get(); code != http.StatusUnauthorized {
		t.Errorf("the request right after the revocation = %d, want 401", code)
	}
}
