package sqltable

import (
	"errors"
	"fmt"
	"time"
)

// Drivers the table may live in.
const (
	Postgres = "postgres"
	MySQL    = "mysql" // MySQL and MariaDB
)

// Defaults for the zero values of Config.
const (
	DefaultTimeout  = 5 * time.Second
	DefaultMaxConns = 4
)

// DefaultFailedReasons are the lock_reason values that mean a failed-login
// lock when Config.FailedReasons is empty.
var DefaultFailedReasons = []string{"failed_logins"}

// Password schemes SetPassword can hash with.
const (
	Argon2id = "argon2id"
	Bcrypt   = "bcrypt"
)

// Config describes one sql directory. Its field names follow the
// configuration keys (driver, dsn, timeout, max_conns, failed_reasons,
// password_scheme, lookup, unlock, lock, list, set_password).
type Config struct {
	// Driver is Postgres or MySQL (MySQL and MariaDB).
	Driver string
	// DSN is lib/pq's (postgres://… or key=value) or go-sql-driver's
	// (user:pass@tcp(host:3306)/db) data source name. It holds a
	// password: never log it.
	DSN string
	// Timeout bounds every call, its statements and waits together;
	// DefaultTimeout when zero.
	Timeout time.Duration
	// MaxConns bounds the connection pool; DefaultMaxConns when zero.
	MaxConns int
	// FailedReasons are the lock_reason values meaning a failed-login
	// lock, which email may lift. Any other value, NULL included, is an
	// admin lock. DefaultFailedReasons when empty.
	FailedReasons []string
	// PasswordScheme is how SetPassword hashes :password_hash: Argon2id
	// (the default, PHC string) or Bcrypt.
	PasswordScheme string

	// Lookup selects one org's account by username (required).
	Lookup string
	// Unlock lifts the lock Lookup returned, conditionally (required).
	Unlock string
	// Lock sets an admin lock with a note (optional: Capabilities.Lock).
	Lock string
	// List selects the org's locked accounts (optional:
	// Capabilities.ListLocked).
	List string
	// SetPassword stores a password hash (optional:
	// Capabilities.SetPassword).
	SetPassword string
}

// statement is one configurable statement: its name in errors and the
// configuration, the parameters it may use and those it must.
type statement struct {
	name     string
	text     string
	allowed  []string
	required []string
}

// statements returns c's statements, the unset optional ones included.
func (c *Config) statements() []statement {
	return []statement{
		{"lookup", c.Lookup, []string{"org", "username"}, []string{"org", "username"}},
		{"unlock", c.Unlock, []string{"org", "username", "locked_at", "lock_reason", "now"}, []string{"org", "username", "locked_at"}},
		{"lock", c.Lock, []string{"org", "username", "note", "now"}, []string{"org", "username"}},
		{"list", c.List, []string{"org", "limit"}, []string{"org"}},
		{"set_password", c.SetPassword, []string{"org", "username", "password_hash", "now"}, []string{"org", "username", "password_hash"}},
	}
}

// withDefaults returns c with its zero values defaulted, or the first
// problem with it.
func (c Config) withDefaults() (Config, error) {
	switch c.Driver {
	case Postgres, MySQL:
	case "":
		return c, errors.New("driver is required (postgres or mysql)")
	default:
		return c, fmt.Errorf("driver %q must be postgres or mysql", c.Driver)
	}
	if c.DSN == "" {
		return c, errors.New("dsn is required")
	}
	if c.Timeout < 0 || c.MaxConns < 0 {
		return c, errors.New("timeout and max_conns must not be negative")
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
	if len(c.FailedReasons) == 0 {
		c.FailedReasons = DefaultFailedReasons
	}
	switch c.PasswordScheme {
	case "":
		c.PasswordScheme = Argon2id
	case Argon2id, Bcrypt:
	default:
		return c, fmt.Errorf("password_scheme %q must be argon2id or bcrypt", c.PasswordScheme)
	}
	if c.Lookup == "" || c.Unlock == "" {
		return c, errors.New("the lookup and unlock statements are required")
	}
	return c, nil
}
