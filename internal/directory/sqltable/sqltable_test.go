package sqltable

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
)

// The made-up application's statements; the same text serves both engines.
const (
	appLookup = `SELECT login AS username, full_name AS display_name, mail AS email,
		is_locked AS locked, locked_because AS lock_reason, locked_since AS locked_at,
		lock_until AS lock_expires, admin_note AS lock_note
		FROM app_users WHERE tenant = :org AND login = :username`
	appUnlock = `UPDATE app_users SET is_locked = false, locked_because = NULL, locked_since = NULL
		WHERE tenant = :org AND login = :username AND is_locked
		AND locked_because = :lock_reason AND locked_since = :locked_at`
	appLock = `UPDATE app_users SET is_locked = true, locked_because = 'manual', locked_since = :now, admin_note = :note
		WHERE tenant = :org AND login = :username`
	appList = `SELECT login AS username, full_name AS display_name, mail AS email,
		is_locked AS locked, locked_because AS lock_reason, locked_since AS locked_at
		FROM app_users WHERE tenant = :org AND is_locked ORDER BY login LIMIT :limit`
	appSetPassword = `UPDATE app_users SET pw_hash = :password_hash WHERE tenant = :org AND login = :username`
)

var (
	acme   = domain.Org{Slug: "acme", Name: "Acme"}
	globex = domain.Org{Slug: "globex", Name: "Globex"}
	// lockedAt is when the fixtures were locked, to the microsecond both
	// engines keep.
	lockedAt = time.Date(2026, 11, 30, 9, 15, 42, 123456000, time.UTC)
)

func appConfig(e engine) Config {
	return Config{
		Driver: e.driver, DSN: e.dsn, Timeout: 2 * time.Second,
		FailedReasons: []string{"failed", "too_many_attempts"},
		Lookup:        appLookup, Unlock: appUnlock, Lock: appLock, List: appList, SetPassword: appSetPassword,
	}
}

// seed inserts the fixtures: in acme, ann and erin locked for failed
// logins, bob locked by an admin, carol active; in globex another ann and
// frank, both locked for failed logins.
func seed(t *testing.T, e engine) {
	t.Helper()
	rows := []struct {
		tenant, login, reason string
		locked                bool
	}{
		{"acme", "ann", "failed", true}, {"acme", "bob", "manual", true}, {"acme", "carol", "", false},
		{"acme", "erin", "too_many_attempts", true},
		{"globex", "ann", "failed", true}, {"globex", "frank", "failed", true},
	}
	for _, r := range rows {
		var reason, at any
		if r.locked {
			reason, at = r.reason, lockedAt
		}
		testExec(t, e, `INSERT INTO app_users (tenant, login, full_name, mail, is_locked, locked_because, locked_since)
			VALUES (:tenant, :login, :name, :mail, :locked, :reason, :at)`, map[string]any{
			"tenant": r.tenant, "login": r.login, "name": strings.ToUpper(r.login[:1]) + r.login[1:] + " " + r.tenant,
			"mail": r.login + "@" + r.tenant + ".example", "locked": r.locked, "reason": reason, "at": at,
		})
	}
}

// testQuery compiles q, whose named parameters are the keys of values,
// for e's driver, as Open would.
func testQuery(t *testing.T, e engine, q string, values map[string]any) (string, []any) {
	t.Helper()
	var names []string
	for k := range values {
		names = append(names, k)
	}
	c, err := compile(q, e.driver == MySQL, names)
	if err != nil {
		t.Fatalf("compile %q: %v", q, err)
	}
	return c.query, c.args(values)
}

func testExec(t *testing.T, e engine, q string, values map[string]any) {
	t.Helper()
	q, args := testQuery(t, e, q, values)
	if _, err := mustDB(t, e).Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func mustOpen(t *testing.T, c Config) *Directory {
	t.Helper()
	d, err := Open(context.Background(), "app", c)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func mustLookup(t *testing.T, d *Directory, org domain.Org, username string) (domain.User, bool) {
	t.Helper()
	got, err := d.Lookup(context.Background(), org, []string{username})
	if err != nil {
		t.Fatalf("lookup %s/%s: %v", org.Slug, username, err)
	}
	u, ok := got[username]
	return u, ok
}

// rowState returns how app_users has tenant/login, one string per row.
func rowState(t *testing.T, e engine, tenant, login string) []string {
	t.Helper()
	q, args := testQuery(t, e, `SELECT is_locked, COALESCE(locked_because, '') FROM app_users WHERE tenant = :tenant AND login = :login`,
		map[string]any{"tenant": tenant, "login": login})
	rows, err := mustDB(t, e).Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var locked bool
		var reason string
		if err := rows.Scan(&locked, &reason); err != nil {
			t.Fatal(err)
		}
		if locked {
			out = append(out, "locked "+reason)
		} else {
			out = append(out, "active")
		}
	}
	return out
}

func TestDirectory(t *testing.T) {
	runEngines(t, func(t *testing.T, e engine) {
		seed(t, e)
		d := mustOpen(t, appConfig(e))
		ctx := context.Background()
		if c := d.Capabilities(); !c.Lock || !c.ListLocked || !c.SetPassword {
			t.Errorf("capabilities = %+v, want all", c)
		}
		if err := d.Ping(ctx); err != nil {
			t.Fatalf("ping: %v", err)
		}

		t.Run("lookup", func(t *testing.T) {
			got, err := d.Lookup(ctx, acme, []string{"ann", "bob", "carol", "erin", "nobody", "ANN", "x' OR '1'='1", "ann"})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 4 {
				t.Fatalf("lookup found %d accounts, want ann, bob, carol, erin: %+v", len(got), got)
			}
			ann := got["ann"]
			if ann.DisplayName != "Ann acme" || ann.Email != "ann@acme.example" || ann.Lock == nil ||
				ann.Lock.Reason != domain.LockFailedLogins || !ann.Lock.At.Equal(lockedAt) ||
				ann.Lock.Mark != "2026-11-30T09:15:42.123456Z failed" {
				t.Errorf("ann = %+v lock %+v", ann, ann.Lock)
			}
			if l := got["bob"].Lock; l == nil || l.Reason != domain.LockAdmin {
				t.Errorf("bob's lock = %+v, want admin", l)
			}
			if l := got["erin"].Lock; l == nil || l.Reason != domain.LockFailedLogins {
				t.Errorf("erin's lock = %+v, want failed_logins (too_many_attempts is in failed_reasons)", l)
			}
			if got["carol"].Lock != nil {
				t.Errorf("carol is locked: %+v", got["carol"].Lock)
			}
		})

		t.Run("unlock twice", func(t *testing.T) {
			ann, _ := mustLookup(t, d, acme, "ann")
			if err := d.Unlock(ctx, acme, "ann", *ann.Lock); err != nil {
				t.Fatalf("unlock: %v", err)
			}
			if s := rowState(t, e, "acme", "ann"); len(s) != 1 || s[0] != "active" {
				t.Errorf("acme/ann after unlock: %v", s)
			}
			if s := rowState(t, e, "globex", "ann"); len(s) != 1 || s[0] != "locked failed" {
				t.Errorf("globex/ann after acme's unlock: %v", s)
			}
			if err := d.Unlock(ctx, acme, "ann", *ann.Lock); !errors.Is(err, domain.ErrNotLocked) {
				t.Fatalf("second unlock = %v, want ErrNotLocked", err)
			}
		})

		t.Run("admin lock set in between survives", func(t *testing.T) {
			erin, _ := mustLookup(t, d, acme, "erin")
			if err := d.Lock(ctx, acme, "erin", "laptop stolen"); err != nil {
				t.Fatalf("lock: %v", err)
			}
			if err := d.Unlock(ctx, acme, "erin", *erin.Lock); !errors.Is(err, domain.ErrLockChanged) {
				t.Fatalf("unlock after an admin lock = %v, want ErrLockChanged", err)
			}
			if s := rowState(t, e, "acme", "erin"); len(s) != 1 || s[0] != "locked manual" {
				t.Errorf("acme/erin: %v, want the admin lock", s)
			}
		})

		t.Run("lock with a note", func(t *testing.T) {
			d.Now = func() time.Time { return time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC) }
			defer func() { d.Now = time.Now }()
			if err := d.Lock(ctx, acme, "carol", "left the company"); err != nil {
				t.Fatalf("lock: %v", err)
			}
			carol, _ := mustLookup(t, d, acme, "carol")
			if l := carol.Lock; l == nil || l.Reason != domain.LockAdmin || l.Note != "left the company" || !l.At.Equal(d.Now()) {
				t.Errorf("carol's lock = %+v", l)
			}
			if err := d.Lock(ctx, acme, "nobody", "x"); !errors.Is(err, domain.ErrNotFound) {
				t.Errorf("lock of nobody = %v, want ErrNotFound", err)
			}
			if err := d.Lock(ctx, acme, "frank", "x"); !errors.Is(err, domain.ErrNotFound) {
				t.Errorf("acme's lock of globex's frank = %v, want ErrNotFound", err)
			}
		})

		t.Run("list", func(t *testing.T) {
			users, err := d.ListLocked(ctx, acme, 10)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, u := range users {
				names = append(names, u.Username)
			}
			if strings.Join(names, ",") != "bob,carol,erin" {
				t.Errorf("acme's locked users = %v, want bob, carol, erin", names)
			}
			users, err = d.ListLocked(ctx, acme, 2)
			if err != nil || len(users) != 2 {
				t.Errorf("list with limit 2 = %d users, %v", len(users), err)
			}
		})

		t.Run("org separation", func(t *testing.T) {
			if _, ok := mustLookup(t, d, acme, "frank"); ok {
				t.Error("acme's lookup found globex's frank")
			}
			frank, ok := mustLookup(t, d, globex, "frank")
			if !ok {
				t.Fatal("globex's frank not found")
			}
			if err := d.Unlock(ctx, acme, "frank", *frank.Lock); !errors.Is(err, domain.ErrNotFound) {
				t.Errorf("acme's unlock of globex's frank = %v, want ErrNotFound", err)
			}
			if s := rowState(t, e, "globex", "frank"); len(s) != 1 || s[0] != "locked failed" {
				t.Errorf("globex/frank: %v", s)
			}
		})

		t.Run("set password", func(t *testing.T) {
			if err := d.SetPassword(ctx, acme, "carol", "Correct-Horse-42"); err != nil {
				t.Fatal(err)
			}
			var hash string
			q := `SELECT pw_hash FROM app_users WHERE tenant = 'acme' AND login = 'carol'`
			if err := mustDB(t, e).QueryRow(q).Scan(&hash); err != nil {
				t.Fatal(err)
			}
			if err := password.Verify("Correct-Horse-42", hash); err != nil {
				t.Errorf("the stored hash %q does not verify: %v", hash, err)
			}
		})
	})
}

func TestTwoRowsForOneUsername(t *testing.T) {
	runEngines(t, func(t *testing.T, e engine) {
		seed(t, e)
		db := mustDB(t, e)
		// A second acme/ann row, locked for failed logins at the same time.
		q := `INSERT INTO app_users (tenant, login, is_locked, locked_because, locked_since)
			SELECT tenant, login, is_locked, locked_because, locked_since FROM app_users WHERE tenant = 'acme' AND login = 'ann'`
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
		d := mustOpen(t, appConfig(e))
		ctx := context.Background()
		_, err := d.Lookup(ctx, acme, []string{"ann"})
		if err == nil || !strings.Contains(err.Error(), `2 accounts for username "ann"`) || domain.IsTemporary(err) {
			t.Fatalf("lookup of a doubled username = %v, want a permanent error naming it", err)
		}
		// An unlock that reaches both rows changes neither.
		was := domain.Lock{Reason: domain.LockFailedLogins, At: lockedAt, Mark: mark(lockedAt, "failed")}
		err = d.Unlock(ctx, acme, "ann", was)
		if err == nil || !strings.Contains(err.Error(), "matched 2 rows") || domain.IsTemporary(err) {
			t.Fatalf("unlock of a doubled username = %v, want a permanent error", err)
		}
		if s := rowState(t, e, "acme", "ann"); len(s) != 2 || s[0] != "locked failed" || s[1] != "locked failed" {
			t.Errorf("acme/ann rows after the refused unlock: %v, want both still locked", s)
		}
	})
}

func TestStatementRefusedAtOpen(t *testing.T) {
	runEngines(t, func(t *testing.T, e engine) {
		tests := []struct {
			name string
			edit func(*Config)
			want string
		}{
			{"syntax error", func(c *Config) {
				c.Unlock = "UPDATE app_users SET WHERE tenant = :org AND login = :username AND locked_since = :locked_at"
			},
				`directory "app": statement unlock: `},
			{"no such column", func(c *Config) { c.List = "SELECT nope FROM app_users WHERE tenant = :org" },
				`directory "app": statement list: `},
			{"unknown parameter", func(c *Config) {
				c.Lock = "UPDATE app_users SET admin_note = :reason WHERE tenant = :org AND login = :username"
			},
				`directory "app": statement lock: unknown parameter :reason`},
			{"no org", func(c *Config) { c.Lookup = "SELECT login AS username FROM app_users WHERE login = :username" },
				`directory "app": statement lookup must use :org`},
			{"unconditional unlock", func(c *Config) {
				c.Unlock = "UPDATE app_users SET is_locked = false WHERE tenant = :org AND login = :username"
			},
				`directory "app": statement unlock must use :locked_at`},
			{"parameter in a literal only", func(c *Config) {
				c.SetPassword = "UPDATE app_users SET pw_hash = ':password_hash' WHERE tenant = :org AND login = :username"
			}, `directory "app": statement set_password must use :password_hash`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := appConfig(e)
				tt.edit(&c)
				d, err := Open(context.Background(), "app", c)
				if err == nil {
					d.Close()
					t.Fatal("open succeeded")
				}
				t.Log(err)
				if !strings.HasPrefix(err.Error(), tt.want) || domain.IsTemporary(err) {
					t.Fatalf("open = %v (temporary %v), want a permanent error starting %q", err, domain.IsTemporary(err), tt.want)
				}
			})
		}
	})
}

func TestUnexpectedColumns(t *testing.T) {
	runEngines(t, func(t *testing.T, e engine) {
		seed(t, e)
		c := appConfig(e)
		c.Lookup = `SELECT login AS username, is_locked AS locked, locked_because AS lock_reson, locked_since AS locked_at
			FROM app_users WHERE tenant = :org AND login = :username`
		d := mustOpen(t, c)
		_, err := d.Lookup(context.Background(), acme, []string{"ann"})
		if err == nil || !strings.Contains(err.Error(), `unexpected column "lock_reson"`) {
			t.Fatalf("lookup with a misspelt column = %v", err)
		}
	})
}

// Usernames are case-sensitive. MySQL's default collations are not: its
// lookup of "ann" also returns "Ann", which is dropped, and an unlock whose
// WHERE reaches both rows changes neither.
func TestUsernameCase(t *testing.T) {
	runEngines(t, func(t *testing.T, e engine) {
		seed(t, e)
		testExec(t, e, `INSERT INTO app_users (tenant, login, is_locked, locked_because, locked_since)
			VALUES ('acme', 'Ann', true, 'failed', :at)`, map[string]any{"at": lockedAt})
		d := mustOpen(t, appConfig(e))
		got, err := d.Lookup(context.Background(), acme, []string{"ann", "Ann", "ANN"})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := got["ANN"]; len(got) != 2 || ok || got["ann"].Username != "ann" || got["Ann"].Username != "Ann" {
			t.Fatalf("lookup of ann, Ann, ANN = %+v, want ann and Ann, each itself", got)
		}
		err = d.Unlock(context.Background(), acme, "ann", *got["ann"].Lock)
		if e.driver == MySQL {
			if err == nil || !strings.Contains(err.Error(), "matched 2 rows") {
				t.Errorf("unlock of ann reaching Ann too = %v, want refused", err)
			}
			// The comparison is case-insensitive here too: both rows.
			if s := rowState(t, e, "acme", "ann"); strings.Join(s, ",") != "locked failed,locked failed" {
				t.Errorf("acme/ann and acme/Ann: %v, want both still locked", s)
			}
			return
		}
		if err != nil {
			t.Errorf("unlock of ann: %v", err)
		}
		if s := rowState(t, e, "acme", "ann"); strings.Join(s, ",") != "active" {
			t.Errorf("acme/ann: %v, want active", s)
		}
		if s := rowState(t, e, "acme", "Ann"); strings.Join(s, ",") != "locked failed" {
			t.Errorf("acme/Ann: %v, want still locked", s)
		}
	})
}
