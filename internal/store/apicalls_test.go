package store_test

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// tokenFixture is org acme with user jsmith, locked for failed logins, org
// globex, and a staff and an acme admin token, by hash.
func tokenFixture(t *testing.T, s *store.Store) {
	t.Helper()
	clk := withClock(s)
	mustOrg(t, s, "acme", nil)
	mustOrg(t, s, "globex", nil)
	now := clk.Now()
	mustUser(t, s, "acme", domain.User{Username: "jsmith", DisplayName: "J Smith", Email: "j@acme.example",
		FailedLogins: 5, LastFailedAt: now, Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: now, By: domain.ActorSystem}})
	for _, tok := range []store.Token{{Name: "staff", Role: domain.RoleStaff}, {Name: "acme-admin", Role: domain.RoleAdmin, OrgSlug: "acme"}} {
		if _, err := s.CreateToken(ctx, tok, "hash-"+tok.Name, "test", "cli"); err != nil {
			t.Fatal(err)
		}
	}
}

// unlockEntries are the unlock entries of the audit log about target,
// newest first.
func unlockEntries(t *testing.T, s *store.Store, target string) []domain.AuditEntry {
	t.Helper()
	entries, err := s.ListAudit(ctx, store.AuditFilter{Target: target, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	var out []domain.AuditEntry
	for _, e := range entries {
		if e.Action == domain.ActionUnlock {
			out = append(out, e)
		}
	}
	return out
}

// mustRevoke revokes the token with hash through s.
func mustRevoke(t *testing.T, s *store.Store, hash string) {
	t.Helper()
	tok, err := s.TokenByHash(ctx, hash)
	if err == nil {
		err = s.RevokeToken(ctx, tok.ID, "test", "cli")
	}
	if err != nil {
		t.Error(err)
	}
}

// allowAll is a TokenCheck that lets any live token through, recording
// the tokens it saw.
type allowAll struct {
	mu   sync.Mutex
	seen []store.Token
}

func (a *allowAll) check(hash string) store.TokenCheck {
	return store.TokenCheck{Hash: hash, Allow: func(t store.Token) (string, error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.seen = append(a.seen, t)
		return "token:" + t.Name, nil
	}}
}

// refuse is a TokenCheck whose Allow says no with err.
func refuse(hash string, err error) store.TokenCheck {
	return store.TokenCheck{Hash: hash, Allow: func(store.Token) (string, error) { return "", err }}
}

func TestUserByToken(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		tokenFixture(t, s)
		want, err := s.User(ctx, "acme", "jsmith")
		if err != nil {
			t.Fatal(err)
		}
		var a allowAll
		got, err := s.UserByToken(ctx, a.check("hash-acme-admin"), "acme", "jsmith")
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("UserByToken = %+v, %v; want %+v", got, err, want)
		}
		if len(a.seen) != 1 || a.seen[0].Name != "acme-admin" || a.seen[0].Role != domain.RoleAdmin || a.seen[0].OrgSlug != "acme" {
			t.Errorf("Allow saw %+v", a.seen)
		}
		if _, err := s.UserByToken(ctx, a.check("hash-staff"), "acme", "jsmith"); err != nil || a.seen[1].OrgSlug != "" {
			t.Errorf("staff token: %v, Allow saw %+v", err, a.seen[1])
		}

		_, err = s.UserByToken(ctx, a.check("hash-nobody"), "acme", "jsmith")
		if !errors.Is(err, store.ErrNoToken) || len(a.seen) != 2 {
			t.Errorf("unknown token: %v (Allow called %d times)", err, len(a.seen))
		}
		_, err = s.UserByToken(ctx, a.check("hash-staff"), "acme", "nobody")
		wantCode(t, err, domain.CodeNotFound)
		_, err = s.UserByToken(ctx, a.check("hash-staff"), "initech", "jsmith")
		wantCode(t, err, domain.CodeNotFound)
		if _, err := s.UserByToken(ctx, a.check("hash-staff"), "globex", "jsmith"); domain.ErrorMessage(err) != `user "jsmith" not found` {
			t.Errorf("user of another org: %v", err)
		}

		// A refusal wins over anything about the user, found or not.
		no := domain.Errorf(domain.CodeForbidden, "no")
		for _, name := range []string{"jsmith", "nobody"} {
			if _, err := s.UserByToken(ctx, refuse("hash-acme-admin", no), "acme", name); !errors.Is(err, no) {
				t.Errorf("refused, user %s: %v", name, err)
			}
		}

		mustRevoke(t, s, "hash-acme-admin")
		if _, err := s.UserByToken(ctx, a.check("hash-acme-admin"), "acme", "jsmith"); !errors.Is(err, store.ErrNoToken) {
			t.Errorf("revoked token: %v", err)
		}
	})
}

func TestUnlockUserByToken(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		tokenFixture(t, s)
		unlocks := func() []domain.AuditEntry { return unlockEntries(t, s, "jsmith") }
		stillLocked := func(when string) {
			t.Helper()
			u, err := s.User(ctx, "acme", "jsmith")
			if err != nil || u.Lock == nil || u.FailedLogins != 5 || len(unlocks()) != 0 {
				t.Fatalf("%s: user %+v, %v, unlocks %+v; want it untouched", when, u, err, unlocks())
			}
		}

		no := domain.Errorf(domain.CodeInvalid, "bad input")
		if _, err := s.UnlockUserByToken(ctx, refuse("hash-acme-admin", no), "acme", "jsmith", "http:1"); !errors.Is(err, no) {
			t.Errorf("refused: %v", err)
		}
		stillLocked("after a refusal")
		if _, err := s.UnlockUserByToken(ctx, refuse("hash-nobody", no), "acme", "jsmith", "http:2"); !errors.Is(err, store.ErrNoToken) {
			t.Errorf("unknown token: %v", err)
		}
		stillLocked("after an unknown token")
		_, err := s.UnlockUserByToken(ctx, refuse("hash-acme-admin", nil), "acme", "nobody", "http:3")
		wantCode(t, err, domain.CodeNotFound)

		var a allowAll
		u, err := s.UnlockUserByToken(ctx, a.check("hash-acme-admin"), "acme", "jsmith", "http:4")
		if err != nil || u.Lock != nil || u.FailedLogins != 0 || !u.LastFailedAt.IsZero() || u.DisplayName != "J Smith" {
			t.Fatalf("UnlockUserByToken = %+v, %v", u, err)
		}
		stored, err := s.User(ctx, "acme", "jsmith")
		if err != nil || !reflect.DeepEqual(stored, u) {
			t.Errorf("stored %+v, %v; returned %+v", stored, err, u)
		}
		e := unlocks()
		if len(e) != 1 || e[0].Actor != "token:acme-admin" || e[0].Source != "http:4" || e[0].Note != "lock reason failed_logins" || e[0].OrgID == 0 {
			t.Errorf("unlock audit = %+v", e)
		}
		_, err = s.UnlockUserByToken(ctx, a.check("hash-acme-admin"), "acme", "jsmith", "http:5")
		wantCode(t, err, domain.CodeConflict)
		if n := len(unlocks()); n != 1 {
			t.Errorf("%d unlock entries after a second unlock, want 1", n)
		}
	})
}

// TestUnlockUserByTokenRaces unlocks one locked user from many callers at
// once, round after round, while failed logins change the same row: each
// round unlocks exactly once. On PostgreSQL most callers read the user
// locked and find the row changed when they write (changeUserAsRead), so
// this holds only if that write checks the row's version.
func TestUnlockUserByTokenRaces(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		tokenFixture(t, s)
		var a allowAll
		const rounds, callers = 10, 12
		for round := range rounds {
			if round > 0 {
				if _, err := s.LockUser(ctx, "acme", "jsmith", "again", "test", "cli"); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			var ok, conflicts int
			for i := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if i%4 == 3 { // a failed login on the same row, now and then
						if _, _, _, err := s.RecordFailedLogin(ctx, "acme", "jsmith", "test"); err != nil {
							t.Error(err)
						}
						return
					}
					_, err := s.UnlockUserByToken(ctx, a.check("hash-staff"), "acme", "jsmith", fmt.Sprintf("http:%d-%d", round, i))
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case domain.ErrorCode(err) == domain.CodeConflict:
						conflicts++
					default:
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if ok != 1 {
				t.Fatalf("round %d: %d unlocks succeeded (%d conflicts), want exactly 1", round, ok, conflicts)
			}
		}
		if n := len(unlockEntries(t, s, "jsmith")); n != rounds {
			t.Errorf("%d unlock entries, want %d", n, rounds)
		}
	})
}

// TestTokenRevokedByAnotherProcess revokes a token through a second store
// on the same database, with connections of its own, as the CLI would,
// while the first keeps serving it: the first store's next call with the
// token fails, its prepared statements notwithstanding.
func TestTokenRevokedByAnotherProcess(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			serving, cli := storetest.OpenTwo(t, e)
			tokenFixture(t, serving)
			var a allowAll
			for range 3 { // the statements are prepared and in use
				if _, err := serving.UserByToken(ctx, a.check("hash-acme-admin"), "acme", "jsmith"); err != nil {
					t.Fatal(err)
				}
			}
			mustRevoke(t, cli, "hash-acme-admin")
			if _, err := serving.UserByToken(ctx, a.check("hash-acme-admin"), "acme", "jsmith"); !errors.Is(err, store.ErrNoToken) {
				t.Errorf("read after the revocation: %v", err)
			}
			if _, err := serving.UnlockUserByToken(ctx, a.check("hash-acme-admin"), "acme", "jsmith", "http:x"); !errors.Is(err, store.ErrNoToken) {
				t.Errorf("unlock after the revocation: %v", err)
			}
			if u, err := cli.User(ctx, "acme", "jsmith"); err != nil || u.Lock == nil {
				t.Errorf("user after the refused unlock: %+v, %v", u, err)
			}
		})
	}
}

func TestPoolSize(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			s := storetest.Open(t, e)
			want := func(n int) {
				t.Helper()
				if e.Name == store.SQLite {
					n = 1 // always one connection
				}
				if got := s.OpenConns(); got != n {
					t.Errorf("OpenConns = %d, want %d", got, n)
				}
			}
			want(store.DefaultMaxOpenConns)
			s.SetPool(store.Pool{MaxOpen: 40, MaxIdle: 8})
			want(40)
			s.ReserveConns(3)
			want(43)
			s.SetPool(store.Pool{})
			want(store.DefaultMaxOpenConns + 3)
		})
	}
}

// TestUnlockUserByTokenBetweenReadAndWrite changes what an unlock read
// before it writes (PostgreSQL's two round trips, changeUserAsRead): a
// change to the user makes it decide again on the row as it now is, and a
// revocation committed in between refuses it.
func TestUnlockUserByTokenBetweenReadAndWrite(t *testing.T) {
	for _, e := range storetest.Engines() {
		if e.Name != store.Postgres {
			continue // SQLite reads and writes in one transaction
		}
		t.Run(e.Name, func(t *testing.T) {
			serving, cli := storetest.OpenTwo(t, e)
			tokenFixture(t, serving)
			var a allowAll
			once := func(f func()) {
				done := false
				store.SetAfterCallRead(t, func() {
					if !done {
						done = true
						f()
					}
				})
			}

			// Unlocked by someone else in between: a conflict, one entry.
			once(func() {
				if _, err := cli.UnlockUser(ctx, "acme", "jsmith", "operator:ann", "cli"); err != nil {
					t.Error(err)
				}
			})
			_, err := serving.UnlockUserByToken(ctx, a.check("hash-staff"), "acme", "jsmith", "http:1")
			wantCode(t, err, domain.CodeConflict)

			// Read locked for failed logins, then locked by an admin in
			// between: the unlock lifts the admin's lock, and says so.
			for range domain.DefaultPolicy().MaxFailedLogins {
				if _, _, _, err := serving.RecordFailedLogin(ctx, "acme", "jsmith", "test"); err != nil {
					t.Fatal(err)
				}
			}
			once(func() {
				if _, err := cli.LockUser(ctx, "acme", "jsmith", "stop", "operator:ann", "cli"); err != nil {
					t.Error(err)
				}
			})
			_, err = serving.UnlockUserByToken(ctx, a.check("hash-staff"), "acme", "jsmith", "http:2")
			if err != nil {
				t.Fatal(err)
			}
			entries, _ := cli.ListAudit(ctx, store.AuditFilter{Target: "jsmith", Limit: 1})
			if len(entries) != 1 || entries[0].Source != "http:2" || entries[0].Note != "lock reason admin" {
				t.Errorf("last audit entry = %+v", entries)
			}

			// Revoked in between: refused, nothing written.
			if _, err := cli.LockUser(ctx, "acme", "jsmith", "again", "operator:ann", "cli"); err != nil {
				t.Fatal(err)
			}
			once(func() { mustRevoke(t, cli, "hash-acme-admin") })
			if _, err := serving.UnlockUserByToken(ctx, a.check("hash-acme-admin"), "acme", "jsmith", "http:3"); !errors.Is(err, store.ErrNoToken) {
				t.Errorf("unlock with a token revoked before its write: %v", err)
			}
			if u, err := cli.User(ctx, "acme", "jsmith"); err != nil || u.Lock == nil || u.Lock.Note != "again" {
				t.Errorf("user after the refused unlock: %+v, %v", u, err)
			}
		})
	}
}
