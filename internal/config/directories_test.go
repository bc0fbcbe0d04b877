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
			[]string{`directories[0].kind: "nis" is not one of ldap`}},
		{"builtin kind", "directories:\n  - name: corp\n    kind: builtin\n",
			[]string{`directories[0].kind: builtin is implicit; list only other directories (one of ldap)`}},
		{"plain ldap to a remote host", "directories:\n  - name: corp\n" + strings.Replace(ok, "127.0.0.1", "ldap.example.com", 1),
			[]string{`directories[0].url: plain ldap:// is only allowed for a loopback host; use ldaps:// or start_tls: true`}},
		{"filter without username", "directories:\n  - name: corp\n" + strings.Replace(ok, "{username}", "x", 1),
			[]string{`directories[0].user_filter: required, with {username} (e.g. (&(objectClass=inetOrgPerson)(uid={username})))`}},
		{"missing keys", "directories:\n  - name: corp\n    kind: ldap\n", []string{
			`directories[0].server: required; one of openldap or active_directory`,
			`directories[0].url: required (ldap://host:389 or ldaps://host:636)`,
			`directories[0].bind_dn: required`,
		}},
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
