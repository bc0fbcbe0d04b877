package config

import (
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Directory kinds (directories[].kind). The builtin directory, unlockd's
// own users table, is implicit: it is never listed.
const (
	DirectoryBuiltin = "builtin"
	DirectoryLDAP    = "ldap"
	DirectorySQL     = "sql"
	DirectoryWebhook = "webhook"
)

// Drivers of an sql directory (directories[].driver).
const (
	SQLPostgres = "postgres"
	SQLMySQL    = "mysql" // MySQL and MariaDB
)

// Password schemes of an sql directory (directories[].password_scheme).
const (
	PasswordArgon2id = "argon2id"
	PasswordBcrypt   = "bcrypt"
)

// LDAP servers (directories[].server).
const (
	LDAPOpenLDAP        = "openldap"
	LDAPActiveDirectory = "active_directory"
)

// DefaultDirectoryTimeout is directories[].timeout.
const DefaultDirectoryTimeout = 10 * time.Second

// DefaultDirectoryApplyMaxAge is limits.directory_apply_max_age.
const DefaultDirectoryApplyMaxAge = 24 * time.Hour

// Directory is one user store an org may name in its directory setting.
// Name and Kind are common to every kind; the other keys belong to the
// kinds listed in directoryKinds, and setting one for another kind is a
// problem.
type Directory struct {
	Name string `yaml:"name"` // unique, not builtin
	Kind string `yaml:"kind"` // ldap, sql or webhook

	// Kind ldap.
	Server           string `yaml:"server"`    // openldap or active_directory
	URL              string `yaml:"url"`       // ldap://host:389 or ldaps://host:636
	StartTLS         bool   `yaml:"start_tls"` // upgrade an ldap:// connection
	CAFile           string `yaml:"ca_file"`   // extra PEM roots
	BindDN           string `yaml:"bind_dn"`
	BindPassword     string `yaml:"bind_password"`
	BindPasswordFile string `yaml:"bind_password_file"` // read into BindPassword by Load
	BaseDN           string `yaml:"base_dn"`            // may hold {org}
	UserFilter       string `yaml:"user_filter"`        // holds {username}; may hold {org}
	// DefaultPolicyDN is the ppolicy overlay's default policy, read for
	// the lockout duration of accounts without pwdPolicySubentry
	// (openldap only; optional).
	DefaultPolicyDN string   `yaml:"default_policy_dn"`
	Timeout         Duration `yaml:"timeout"` // bounds each operation (every kind)

	// Kind sql (internal/directory/sqltable): the application's own
	// table, reached with the statements below, each with named
	// parameters (:org, :username, ...).
	Driver         string   `yaml:"driver"` // postgres or mysql
	DSN            string   `yaml:"dsn"`
	DSNFile        string   `yaml:"dsn_file"`  // read into DSN by Load
	MaxConns       int      `yaml:"max_conns"` // pool bound; 4 when 0
	FailedReasons  []string `yaml:"failed_reasons"`
	PasswordScheme string   `yaml:"password_scheme"` // argon2id or bcrypt
	Lookup         string   `yaml:"lookup"`          // required
	Unlock         string   `yaml:"unlock"`          // required, conditional on :locked_at
	Lock           string   `yaml:"lock"`
	List           string   `yaml:"list"`
	SetPassword    string   `yaml:"set_password"`

	// Kind webhook (internal/directory/webhook), with url and ca_file.
	Secret      string `yaml:"secret"`
	SecretFile  string `yaml:"secret_file"`  // read into Secret by Load
	MaxAttempts int    `yaml:"max_attempts"` // tries per call; 3 when 0
}

// directoryKind is one entry of the kind table: the keys of Directory
// the kind takes, besides name and kind, and its checks.
type directoryKind struct {
	keys     []string
	validate func(ps *Problems, path string, d *Directory)
}

// directoryKinds is the table of directory kinds. A new kind is one entry
// here, its keys in Directory and its constructor in internal/app.
var directoryKinds = map[string]directoryKind{
	DirectoryLDAP: {
		keys: []string{"server", "url", "start_tls", "ca_file", "bind_dn", "bind_password", "bind_password_file",
			"base_dn", "user_filter", "default_policy_dn", "timeout"},
		validate: validateLDAP,
	},
	DirectorySQL: {
		keys: []string{"driver", "dsn", "dsn_file", "timeout", "max_conns", "failed_reasons", "password_scheme",
			"lookup", "unlock", "lock", "list", "set_password"},
		validate: validateSQL,
	},
	DirectoryWebhook: {
		keys:     []string{"url", "secret", "secret_file", "ca_file", "timeout", "max_attempts"},
		validate: validateWebhook,
	},
}

// DirectoryKinds lists the kinds a directories entry may have, sorted.
func DirectoryKinds() []string {
	kinds := make([]string, 0, len(directoryKinds))
	for k := range directoryKinds {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

// setDefaults fills a directory decoded from a list entry before its keys
// are applied.
func (d *Directory) setDefaults() {
	d.Timeout = Duration(DefaultDirectoryTimeout)
}

// DirectoryNamed returns the configured directory called name; ok is
// false for builtin and for a name not configured.
func (c *Config) DirectoryNamed(name string) (d Directory, ok bool) {
	for _, d := range c.Directories {
		if d.Name == name {
			return d, true
		}
	}
	return Directory{}, false
}

// HasDirectory reports whether an org may name the directory: builtin (or
// empty, meaning builtin) or one of directories.
func (c *Config) HasDirectory(name string) bool {
	if name == "" || name == DirectoryBuiltin {
		return true
	}
	_, ok := c.DirectoryNamed(name)
	return ok
}

// namePattern is what a directory's name may be: it is stored in orgs and
// shown in logs and metrics labels.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// validateDirectories checks the directories list: names unique and not
// builtin, a known kind, and only that kind's keys.
func (c *Config) validateDirectories(ps *Problems) {
	names := map[string]int{}
	for i := range c.Directories {
		d := &c.Directories[i]
		path := fmt.Sprintf("directories[%d]", i)
		switch j, dup := names[d.Name]; {
		case d.Name == "":
			ps.add(path+".name", "required")
		case d.Name == DirectoryBuiltin:
			ps.add(path+".name", "builtin is unlockd's own users table and always exists; choose another name")
		case !namePattern.MatchString(d.Name):
			ps.add(path+".name", "%q must be 1-63 lower-case letters, digits, '-' or '_'", d.Name)
		case dup:
			ps.add(path+".name", "duplicate name %q (also used by directories[%d])", d.Name, j)
		default:
			names[d.Name] = i
		}
		kind, ok := directoryKinds[d.Kind]
		if !ok {
			if d.Kind == DirectoryBuiltin {
				ps.add(path+".kind", "builtin is implicit; list only other directories (one of %s)", strings.Join(DirectoryKinds(), ", "))
			} else {
				ps.add(path+".kind", "%q is not one of %s", d.Kind, strings.Join(DirectoryKinds(), ", "))
			}
			continue
		}
		v := reflect.ValueOf(d).Elem()
		fields := yamlFields(v.Type())
		for _, key := range sortedFieldNames(fields) {
			if key == "name" || key == "kind" || slices.Contains(kind.keys, key) {
				continue
			}
			if key == "timeout" && d.Timeout == Duration(DefaultDirectoryTimeout) {
				continue
			}
			if !v.Field(fields[key]).IsZero() {
				ps.add(path+"."+key, "does not apply to kind %s", d.Kind)
			}
		}
		kind.validate(ps, path, d)
	}
}

func sortedFieldNames(fields map[string]int) []string {
	out := make([]string, 0, len(fields))
	for k := range fields {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// validateLDAP checks an ldap directory's keys.
func validateLDAP(ps *Problems, path string, d *Directory) {
	oneOf(ps, path+".server", d.Server, LDAPOpenLDAP, LDAPActiveDirectory)
	switch u, err := url.Parse(d.URL); {
	case d.URL == "":
		ps.add(path+".url", "required (ldap://host:389 or ldaps://host:636)")
	case err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "":
		ps.add(path+".url", "%q must be ldap://host[:port] or ldaps://host[:port]", d.URL)
	case u.Scheme == "ldaps" && d.StartTLS:
		ps.add(path+".start_tls", "cannot be combined with an ldaps:// url, which is TLS already")
	case u.Scheme == "ldap" && !d.StartTLS && !isLoopback(u.Hostname()):
		ps.add(path+".url", "plain ldap:// is only allowed for a loopback host; use ldaps:// or start_tls: true")
	}
	caFile(ps, path+".ca_file", d.CAFile)
	if d.BindDN == "" {
		ps.add(path+".bind_dn", "required")
	}
	if d.BindPassword == "" && d.BindPasswordFile == "" {
		ps.add(path+".bind_password", "one of bind_password or bind_password_file is required")
	}
	if d.BaseDN == "" {
		ps.add(path+".base_dn", "required (may hold {org}, the org's slug)")
	}
	if d.UserFilter == "" || !strings.Contains(d.UserFilter, "{username}") {
		ps.add(path+".user_filter", "required, with {username} (e.g. (&(objectClass=inetOrgPerson)(uid={username})))")
	} else if !strings.HasPrefix(d.UserFilter, "(") || !strings.HasSuffix(d.UserFilter, ")") {
		ps.add(path+".user_filter", "%q must be an LDAP filter in parentheses", d.UserFilter)
	}
	if d.DefaultPolicyDN != "" && d.Server == LDAPActiveDirectory {
		ps.add(path+".default_policy_dn", "applies to server openldap only")
	}
	if d.Timeout <= 0 {
		ps.add(path+".timeout", "must be positive")
	}
}

// validateSQL checks an sql directory's keys. The statements themselves
// are checked when serve or check-config --connect prepares them.
func validateSQL(ps *Problems, path string, d *Directory) {
	oneOf(ps, path+".driver", d.Driver, SQLPostgres, SQLMySQL)
	if d.DSN == "" && d.DSNFile == "" {
		ps.add(path+".dsn", "one of dsn or dsn_file is required")
	}
	if d.MaxConns < 0 {
		ps.add(path+".max_conns", "must not be negative")
	}
	for j, r := range d.FailedReasons {
		if r == "" {
			ps.add(fmt.Sprintf("%s.failed_reasons[%d]", path, j), "must not be empty")
		}
	}
	if d.PasswordScheme != "" {
		oneOf(ps, path+".password_scheme", d.PasswordScheme, PasswordArgon2id, PasswordBcrypt)
	}
	if d.Lookup == "" {
		ps.add(path+".lookup", "required (selects one org's account: :org, :username)")
	}
	if d.Unlock == "" {
		ps.add(path+".unlock", "required (lifts the lock looked up: :org, :username, :locked_at)")
	}
	if d.Timeout <= 0 {
		ps.add(path+".timeout", "must be positive")
	}
}

// validateWebhook checks a webhook directory's keys.
func validateWebhook(ps *Problems, path string, d *Directory) {
	switch u, err := url.Parse(d.URL); {
	case d.URL == "":
		ps.add(path+".url", "required (https://app.example.com/unlockd)")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		ps.add(path+".url", "%q must be an https:// URL", d.URL)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		ps.add(path+".url", "plain http:// is only allowed for a loopback host; use https://")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		ps.add(path+".url", "must carry no credentials, query or fragment")
	}
	caFile(ps, path+".ca_file", d.CAFile)
	if d.Secret == "" && d.SecretFile == "" {
		ps.add(path+".secret", "one of secret or secret_file is required")
	} else if d.Secret != "" && len(d.Secret) < 16 {
		ps.add(path+".secret", "must be at least 16 bytes")
	}
	if d.MaxAttempts < 0 {
		ps.add(path+".max_attempts", "must not be negative")
	}
	if d.Timeout <= 0 {
		ps.add(path+".timeout", "must be positive")
	}
}
