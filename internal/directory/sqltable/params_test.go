package sqltable

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestCompile(t *testing.T) {
	allowed := []string{"org", "username", "locked_at"}
	tests := []struct {
		name, stmt string
		mysql      bool
		query      string
		params     []string
		err        string
	}{
		{name: "postgres", stmt: "SELECT 1 FROM t WHERE tenant = :org AND login = :username AND t2 = :org",
			query: "SELECT 1 FROM t WHERE tenant = $1 AND login = $2 AND t2 = $1", params: []string{"org", "username"}},
		{name: "mysql", mysql: true, stmt: "SELECT 1 FROM t WHERE tenant = :org AND login = :username AND t2 = :org",
			query: "SELECT 1 FROM t WHERE tenant = ? AND login = ? AND t2 = ?", params: []string{"org", "username", "org"}},
		{name: "cast", stmt: "SELECT :locked_at::timestamptz, x::text",
			query: "SELECT $1::timestamptz, x::text", params: []string{"locked_at"}},
		{name: "string literal", stmt: "SELECT ':org', 'it''s :username', :org",
			query: "SELECT ':org', 'it''s :username', $1", params: []string{"org"}},
		{name: "mysql backslash in literal", mysql: true, stmt: `SELECT 'a\' :org', :username`,
			query: `SELECT 'a\' :org', ?`, params: []string{"username"}},
		{name: "postgres backslash is a character", stmt: `SELECT 'a\', :username`,
			query: `SELECT 'a\', $1`, params: []string{"username"}},
		{name: "postgres escape string", stmt: `SELECT E'a\' :org', :username`,
			query: `SELECT E'a\' :org', $1`, params: []string{"username"}},
		{name: "quoted identifier", stmt: `SELECT ":org" FROM t WHERE u = :username`,
			query: `SELECT ":org" FROM t WHERE u = $1`, params: []string{"username"}},
		{name: "backtick identifier", mysql: true, stmt: "SELECT `:org` FROM t WHERE u = :username",
			query: "SELECT `:org` FROM t WHERE u = ?", params: []string{"username"}},
		{name: "dollar quoted", stmt: "SELECT $x$ :org $x$, $$ :org $$, :username",
			query: "SELECT $x$ :org $x$, $$ :org $$, $1", params: []string{"username"}},
		{name: "line comment", stmt: "SELECT 1 -- :nope\nWHERE u = :username",
			query: "SELECT 1 -- :nope\nWHERE u = $1", params: []string{"username"}},
		{name: "mysql hash comment", mysql: true, stmt: "SELECT 1 # :nope\nWHERE u = :username",
			query: "SELECT 1 # :nope\nWHERE u = ?", params: []string{"username"}},
		{name: "mysql double dash needs a space", mysql: true, stmt: "SELECT 1--:username",
			query: "SELECT 1--?", params: []string{"username"}},
		{name: "block comment nested in postgres", stmt: "SELECT /* a /* :x */ :y */ :org",
			query: "SELECT /* a /* :x */ :y */ $1", params: []string{"org"}},
		{name: "array slice", stmt: "SELECT a[1:2], b[lo:hi] FROM t WHERE u=:username",
			query: "SELECT a[1:2], b[lo:hi] FROM t WHERE u=$1", params: []string{"username"}},
		{name: "mysql assignment", mysql: true, stmt: "SET @a := :org",
			query: "SET @a := ?", params: []string{"org"}},
		{name: "unknown parameter", stmt: "SELECT :usrname", err: "unknown parameter :usrname"},
		{name: "postgres positional", stmt: "SELECT $1", err: "positional placeholder"},
		{name: "mysql positional", mysql: true, stmt: "SELECT ?", err: "positional placeholder"},
		{name: "postgres question mark is an operator", stmt: "SELECT j ? 'k' FROM t WHERE u = :username",
			query: "SELECT j ? 'k' FROM t WHERE u = $1", params: []string{"username"}},
		{name: "unterminated literal", stmt: "SELECT ':org", err: "unterminated ' literal"},
		{name: "unterminated comment", stmt: "SELECT /* :org", err: "unterminated /* comment"},
		{name: "unterminated dollar", stmt: "SELECT $a$ :org", err: "unterminated dollar-quoted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := compile(tt.stmt, tt.mysql, allowed)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("compile(%q) = %q, %v; want error containing %q", tt.stmt, c.query, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("compile(%q): %v", tt.stmt, err)
			}
			if c.query != tt.query || !slices.Equal(c.params, tt.params) {
				t.Fatalf("compile(%q) = %q %v; want %q %v", tt.stmt, c.query, c.params, tt.query, tt.params)
			}
		})
	}
}

// FuzzCompile checks compile never panics and that what it accepts has
// exactly one placeholder per parameter it reports.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"SELECT :org", "':x' :username", "$a$ :o $a$ :org", "/* /* */ */ :org", "x::int", "E'\\'' :org"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, stmt string, mysql bool) {
		c, err := compile(stmt, mysql, []string{"org", "username"})
		if err != nil {
			return
		}
		for _, p := range c.params {
			if p != "org" && p != "username" {
				t.Fatalf("compile(%q) reports parameter %q", stmt, p)
			}
		}
		if mysql && strings.Count(c.query, "?") < len(c.params) {
			t.Fatalf("compile(%q) = %q: fewer placeholders than parameters %v", stmt, c.query, c.params)
		}
	})
}

// A DSN that does not parse is refused without quoting its password.
func TestBadDSNHidesPassword(t *testing.T) {
	for _, c := range []Config{
		{Driver: Postgres, DSN: "postgres://app:hun%ter2@127.0.0.1/app"},
		{Driver: Postgres, DSN: "host=127.0.0.1 password=hunter2 port=x"},
		{Driver: MySQL, DSN: "app:hunter2@tcp(127.0.0.1/app"},
		{Driver: MySQL, DSN: "app:hunter2@tcp(127.0.0.1)/app?parseTime=maybe"},
	} {
		c.Lookup, c.Unlock = "SELECT :org, :username", "UPDATE t SET x = :org WHERE u = :username AND a = :locked_at"
		_, err := Open(context.Background(), "app", c)
		if err == nil || !strings.HasPrefix(err.Error(), `directory "app": dsn: `) {
			t.Errorf("open with dsn %q = %v, want a dsn error", c.DSN, err)
		}
		if err != nil && strings.Contains(err.Error(), "ter2") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}
