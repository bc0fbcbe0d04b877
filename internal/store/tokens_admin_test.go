package store_test

import (
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

func mustToken(t *testing.T, s *store.Store, tok store.Token) store.Token {
	t.Helper()
	_, hash := password.NewToken()
	got, err := s.CreateToken(ctx, tok, hash, "test", "cli")
	if err != nil {
		t.Fatalf("CreateToken(%+v): %v", tok, err)
	}
	return got
}

// TestTokenNamesUniquePerOrg: live tokens' names are unique per org (and
// among staff tokens); another org, or a revoked token, may have the name.
func TestTokenNamesUniquePerOrg(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		mustOrg(t, s, "acme", nil)
		mustOrg(t, s, "globex", nil)
		app := mustToken(t, s, store.Token{Name: "app", Role: domain.RoleService, OrgSlug: "acme"})
		mustToken(t, s, store.Token{Name: "app", Role: domain.RoleService, OrgSlug: "globex"})
		mustToken(t, s, store.Token{Name: "app", Role: domain.RoleStaff})
		_, hash := password.NewToken()
		_, err := s.CreateToken(ctx, store.Token{Name: "app", Role: domain.RoleAdmin, OrgSlug: "acme"}, hash, "test", "cli")
		wantCode(t, err, domain.CodeConflict)
		if got := domain.ErrorMessage(err); got != `a token named "app" already exists in org "acme"` {
			t.Errorf("conflict = %q", got)
		}
		_, err = s.CreateToken(ctx, store.Token{Name: "app", Role: domain.RoleStaff}, hash, "test", "cli")
		wantCode(t, err, domain.CodeConflict)
		_, err = s.CreateToken(ctx, store.Token{Name: "42", Role: domain.RoleStaff}, hash, "test", "cli")
		wantCode(t, err, domain.CodeInvalid)

		if err := s.RevokeToken(ctx, app.ID, "test", "cli"); err != nil {
			t.Fatal(err)
		}
		again := mustToken(t, s, store.Token{Name: "app", Role: domain.RoleService, OrgSlug: "acme"})

		live, err := s.ListTokens(ctx, store.TokenFilter{Name: "app"})
		if err != nil {
			t.Fatal(err)
		}
		if len(live) != 3 {
			t.Fatalf("live tokens named app = %+v, want 3", live)
		}
		acme, err := s.ListTokens(ctx, store.TokenFilter{Name: "app", OrgSlug: "acme", Revoked: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(acme) != 2 || acme[0].ID != app.ID || acme[0].RevokedAt.IsZero() || acme[1].ID != again.ID ||
			!acme[1].RevokedAt.IsZero() || acme[1].CreatedAt.IsZero() || acme[1].Role != domain.RoleService {
			t.Errorf("acme's tokens named app, revoked included = %+v", acme)
		}
	})
}
