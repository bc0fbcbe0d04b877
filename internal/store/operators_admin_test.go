package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestOperatorListRemoveUnlock: the list shows each operator's role, org,
// second factor and sign-in lock; unlock lifts the lock, remove deletes
// the account and ends its sessions; both are audited.
func TestOperatorListRemoveUnlock(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		clk := withClock(s)
		mustOrg(t, s, "acme", nil)
		hash := mustHash(t, "a long enough password")
		if _, err := s.AddOperator(ctx, store.Operator{Email: "ops@support.example", Role: domain.RoleStaff}, hash, "test", "cli"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddOperator(ctx, store.Operator{Email: "ann@acme.example", Role: domain.RoleAdmin, OrgSlug: "acme"}, hash, "test", "cli"); err != nil {
			t.Fatal(err)
		}
		for range store.MaxOperatorFailures {
			s.SignIn(ctx, nil, store.Credentials{Email: "Ann@acme.example", Password: "wrong"}, "test")
		}
		ops, err := s.ListOperators(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ops) != 2 || ops[0].Email != "ann@acme.example" || ops[0].OrgSlug != "acme" || ops[0].Role != domain.RoleAdmin ||
			!ops[0].LockedUntil.Equal(clk.Now().Add(store.OperatorLockout).Truncate(time.Microsecond)) || ops[0].CreatedAt.IsZero() ||
			ops[1].Email != "ops@support.example" || !ops[1].LockedUntil.IsZero() || ops[1].OrgSlug != "" {
			t.Fatalf("operators = %+v", ops)
		}

		_, err = s.UnlockOperator(ctx, "ops@support.example", "cli", "cli")
		wantCode(t, err, domain.CodeConflict)
		_, err = s.UnlockOperator(ctx, "nobody@support.example", "cli", "cli")
		wantCode(t, err, domain.CodeNotFound)
		if op, err := s.UnlockOperator(ctx, "ANN@acme.example", "cli", "cli"); err != nil || op.OrgSlug != "acme" {
			t.Fatalf("unlock = %+v, %v", op, err)
		}
		op, err := s.SignIn(ctx, nil, store.Credentials{Email: "ann@acme.example", Password: "a long enough password"}, "test")
		if err != nil {
			t.Fatalf("sign-in after unlock: %v", err)
		}
		token, _, err := s.CreateSession(ctx, op)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.RemoveOperator(ctx, "ann@acme.example", "cli", "cli"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, token); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("session of a removed operator: %v", err)
		}
		_, err = s.RemoveOperator(ctx, "ann@acme.example", "cli", "cli")
		wantCode(t, err, domain.CodeNotFound)
		if _, err := s.SignIn(ctx, nil, store.Credentials{Email: "ann@acme.example", Password: "a long enough password"}, "test"); !errors.Is(err, store.ErrSignInInvalid) {
			t.Errorf("sign-in of a removed operator: %v", err)
		}
		entries, err := s.ListAudit(ctx, store.AuditFilter{Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		var removed, unlocked bool
		for _, e := range entries {
			removed = removed || (e.Action == domain.ActionOperatorRemove && e.Target == "ann@acme.example" && e.Source == "cli")
			unlocked = unlocked || (e.Action == domain.ActionOperatorUnlock && e.Target == "ann@acme.example" && e.Source == "cli")
		}
		if !removed || !unlocked {
			t.Errorf("audit = %+v, want operator_remove and operator_unlock", entries)
		}
	})
}
