package config

import (
	"errors"
	"strings"
	"testing"
)

func TestLoadDirectories(t *testing.T) {
	dir := t.TempDir()
	MustWriteFile(t, dir, "secrets/bind", "bind-secret\n")
	ca := MustWriteCA(t, dir, "certs/ca.pem")
	path := MustWriteFile(t, dir, "etc/config.yaml", `directories:
  - name: corp
    kind: ldap
    server: openldap
    url: ldaps://ldap.example.com:636
    ca_file: ../certs/ca.pem
    bind_dn: cn=unlockd,dc=example,dc=com
    bind_password_file: ../secrets/bind
    base_dn: ou={org},dc=example,dc=com
    user_filter: (&(objectClass=inetOrgPerson)(uid={username}))
limits:
  directory_apply_max_age: 2h
`)
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatalf("Load:\n%v", err)
	}
	d, ok := cfg.DirectoryNamed("corp")
	if !ok || d.Kind != DirectoryLDAP || d.BindPassword != "bind-secret" || d.CAFile != ca ||
		d.Timeout.Std() != DefaultDirectoryTimeout {
		t.Fatalf("corp = %+v, %v", d, ok)
	}
	if cfg.Limits.DirectoryApplyMaxAge.Std().Hours() != 2 {
		t.Errorf("directory_apply_max_age = %v", cfg.Limits.DirectoryApplyMaxAge)
	}
	if !cfg.HasDirectory("") || !cfg.HasDirectory("builtin") || !cfg.HasDirectory("corp") || cfg.HasDirectory("crop") {
		t.Error("HasDirectory answers wrongly")
	}
	if s := cfg.String(); strings.Contains(s, "bind-secret") {
		t.Errorf("the bind password is printed:\n%s", s)
	}
	if !contains(cfg.Secrets(), "bind-secret") {
		t.Error("Secrets misses the bind password")
	}
	if Default().Limits.DirectoryApplyMaxAge.Std() != DefaultDirectoryApplyMaxAge {
		t.Error("no default directory_apply_max_age")
	}
}

const sqlOK = `    kind: sql
    driver: postgres
    dsn: postgres://app@127.0.0.1/app
    lookup: SELECT username, locked, lock_reason, locked_at FROM users WHERE tenant = :org AND username = :username
    unlock: UPDATE users SET locked = false WHERE tenant = :org AND username = :username AND locked_at = :locked_at
`

func TestLoadSQLAndWebhookDirectories(t *testing.T) {
	dir := t.TempDir()
	MustWriteFile(t, dir, "secrets/dsn", "app:dsn-secret@tcp(127.0.0.1:3306)/app\n")
	MustWriteFile(t, dir, "secrets/hook", "hook-secret-0123456789\n")
	ca := MustWriteCA(t, dir, "certs/ca.pem")
	path := MustWriteFile(t, dir, "etc/config.yaml", `directories:
  - name: app
    kind: sql
    driver: mysql
    dsn_file: ../secrets/dsn
    timeout: 3s
    max_conns: 2
    failed_reasons: [failed, too_many]
    password_scheme: bcrypt
    lookup: SELECT 1 WHERE :org = :username
    unlock: UPDATE t SET x = 1 WHERE :org = :username AND :locked_at
    list: SELECT 1 WHERE :org
  - name: hook
    kind: webhook
    url: https://app.example.com/unlockd
    secret_file: ../secrets/hook
    ca_file: ../certs/ca.pem
    max_attempts: 5
`)
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatalf("Load:\n%v", err)
	}
	app, _ := cfg.DirectoryNamed("app")
	if app.DSN != "app:dsn-secret@tcp(127.0.0.1:3306)/app" || app.Driver != SQLMySQL || app.Timeout.Std().Seconds() != 3 ||
		app.MaxConns != 2 || len(app.FailedReasons) != 2 || app.PasswordScheme != PasswordBcrypt || app.List == "" {
		t.Errorf("app = %+v", app)
	}
	hook, _ := cfg.DirectoryNamed("hook")
	if hook.Secret != "hook-secret-0123456789" || hook.CAFile != ca || hook.MaxAttempts != 5 || hook.Timeout.Std() != DefaultDirectoryTimeout {
		t.Errorf("hook = %+v", hook)
	}
	s := cfg.String()
	for _, secret := range []string{"dsn-secret", "hook-secret-0123456789"} {
		if strings.Contains(s, secret) {
			t.Errorf("%s is printed:\n%s", secret, s)
		}
		if !contains(cfg.Secrets(), secret) {
			t.Errorf("Secrets misses %s", secret)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestDirectoryProblems(t *testing.T) {
	const ok = `    kind: ldap
    server: openldap
    url: ldap://127.0.0.1:3389
    bind_dn: cn=admin
    bind_password: pw
    base_dn: dc=example
    user_filter: (uid={username})
`
	for _, c := range []struct {
		name, content string
		want          []string
	}{
		{"unknown key", "directories:\n  - name: corp\n" + ok + "    bind_pasword: x\n",
			[]string{`directories[0].bind_pasword: unknown key (line 10); did you mean "bind_password"?`}},
		{"builtin name", "directories:\n  - name: builtin\n" + ok,
			[]string{`directories[0].name: builtin is unlockd's own users table and always exists; choose another name`}},
		{"duplicate", "directories:\n  - name: corp\n" + ok + "  - name: corp\n" + ok,
			[]string{`directories[1].name: duplicate name "corp" (also used by directories[0])`}},
		{"unknown kind", "directories:\n  - name: corp\n    kind: nis\n",
			[]string{`directories[0].kind: "nis" is not one of ldap, sql, webhook`}},
		{"builtin kind", "directories:\n  - name: corp\n    kind: builtin\n",
			[]string{`directories[0].kind: builtin is implicit; list only other directories (one of ldap, sql, webhook)`}},
		{"plain ldap to a remote host", "directories:\n  - name: corp\n" + strings.Replace(ok, "127.0.0.1", "ldap.example.com", 1),
			[]string{`directories[0].url: plain ldap:// is only allowed for a loopback host; use ldaps:// or start_tls: true`}},
		{"filter without username", "directories:\n  - name: corp\n" + strings.Replace(ok, "{username}", "x", 1),
			[]string{`directories[0].user_filter: required, with {username} (e.g. (&(objectClass=inetOrgPerson)(uid={username})))`}},
		{"missing keys", "directories:\n  - name: corp\n    kind: ldap\n", []string{
			`directories[0].server: required; one of openldap or active_directory`,
			`directories[0].url: required (ldap://host:389 or ldaps://host:636)`,
			`directories[0].bind_dn: required`,
		}},
		{"ldap key on sql", "directories:\n  - name: app\n" + sqlOK + "    bind_dn: cn=x\n",
			[]string{`directories[0].bind_dn: does not apply to kind sql`}},
		{"sql missing keys", "directories:\n  - name: app\n    kind: sql\n", []string{
			`directories[0].driver: required; one of postgres or mysql`,
			`directories[0].dsn: one of dsn or dsn_file is required`,
			`directories[0].lookup: required`,
			`directories[0].unlock: required`,
		}},
		{"sql bad driver and scheme", "directories:\n  - name: app\n" + strings.Replace(sqlOK, "driver: postgres", "driver: sqlite", 1) +
			"    password_scheme: md5\n    max_conns: -1\n", []string{
			`directories[0].driver: invalid value "sqlite": must be postgres or mysql`,
			`directories[0].password_scheme: invalid value "md5": must be argon2id or bcrypt`,
			`directories[0].max_conns: must not be negative`,
		}},
		{"sql unknown key", "directories:\n  - name: app\n" + sqlOK + "    unlcok: x\n",
			[]string{`directories[0].unlcok: unknown key`}},
		{"webhook missing keys", "directories:\n  - name: hook\n    kind: webhook\n", []string{
			`directories[0].url: required`,
			`directories[0].secret: one of secret or secret_file is required`,
		}},
		{"webhook plain http", "directories:\n  - name: hook\n    kind: webhook\n    url: http://app.example.com/u\n    secret: 0123456789abcdef\n",
			[]string{`directories[0].url: plain http:// is only allowed for a loopback host; use https://`}},
		{"webhook short secret and query", "directories:\n  - name: hook\n    kind: webhook\n    url: https://app.example.com/u?x=1\n    secret: short\n", []string{
			`directories[0].url: must carry no credentials, query or fragment`,
			`directories[0].secret: must be at least 16 bytes`,
		}},
		{"webhook sql key", "directories:\n  - name: hook\n    kind: webhook\n    url: https://app.example.com/u\n    secret: 0123456789abcdef\n    lookup: SELECT 1\n",
			[]string{`directories[0].lookup: does not apply to kind webhook`}},
		{"apply max age", "limits: {directory_apply_max_age: 0s}\n",
			[]string{`limits.directory_apply_max_age: must be positive`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.content), "", nil)
			var ps *Problems
			if !errors.As(err, &ps) {
				t.Fatalf("got %v, want problems", err)
			}
			for _, w := range c.want {
				found := false
				for _, p := range ps.List {
					found = found || strings.HasPrefix(p.String(), w)
				}
				if !found {
					t.Errorf("missing %q in:\n%v", w, err)
				}
			}
		})
	}
}
