package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

const operatorPassword = "correct horse battery"

// mustOperator adds an operator whose password is operatorPassword.
func mustOperator(t *testing.T, s *store.Store, email string, role domain.Role, org string) store.Operator {
	t.Helper()
	op, err := s.AddOperator(ctx, store.Operator{Email: email, Role: role, OrgSlug: org}, mustHash(t, operatorPassword), "test", "cli")
	if err != nil {
		t.Fatalf("AddOperator(%s): %v", email, err)
	}
	return op
}

func wantSignIn(t *testing.T, s *store.Store, email, pw string, want error) store.Operator {
	t.Helper()
	op, err := s.SignIn(ctx, nil, store.Credentials{Email: email, Password: pw}, "http:test")
	if !errors.Is(err, want) {
		t.Fatalf("SignIn(%s, %q) = %v, want %v", email, pw, err, want)
	}
	return op
}

func TestSignIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		mustOrg(t, s, "acme", nil)
		added := mustOperator(t, s, "Ann@Acme.example", domain.RoleAdmin, "acme")

		op := wantSignIn(t, s, "ANN@acme.EXAMPLE", operatorPassword, nil)
		if op != added || op.OrgSlug != "acme" || op.Role != domain.RoleAdmin {
			t.Errorf("SignIn = %+v, want %+v", op, added)
		}
		wantSignIn(t, s, "ann@acme.example", "wrong password", store.ErrSignInInvalid)
		wantSignIn(t, s, "nobody@acme.example", operatorPassword, store.ErrSignInInvalid)
		wantSignIn(t, s, "not an address", operatorPassword, store.ErrSignInInvalid)
	})
}

func TestSignInLocksAfterRepeatedFailures(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		c := withClock(s)
		mustOperator(t, s, "staff@unlockd.example", domain.RoleStaff, "")
		before := auditCount(t, s)

		// A success clears the count: four failures, a success, four more
		// do not lock.
		for range store.MaxOperatorFailures - 1 {
			wantSignIn(t, s, "staff@unlockd.example", "wrong", store.ErrSignInInvalid)
		}
		wantSignIn(t, s, "staff@unlockd.example", operatorPassword, nil)
		for range store.MaxOperatorFailures - 1 {
			wantSignIn(t, s, "staff@unlockd.example", "wrong", store.ErrSignInInvalid)
		}
		// The fifth failure in a row locks, and says so.
		wantSignIn(t, s, "staff@unlockd.example", "wrong", store.ErrSignInLocked)
		wantSignIn(t, s, "staff@unlockd.example", operatorPassword, store.ErrSignInLocked)
		entries, err := s.ListAudit(ctx, store.AuditFilter{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got := auditCount(t, s); got != before+1 || entries[0].Action != "operator_lock" ||
			entries[0].Target != "staff@unlockd.example" || entries[0].Source != "http:test" {
			t.Errorf("audit after the lock: %d new entries, newest %+v; want one operator_lock", got-before, entries[0])
		}

		c.Add(store.OperatorLockout - time.Second)
		wantSignIn(t, s, "staff@unlockd.example", operatorPassword, store.ErrSignInLocked)
		c.Add(time.Second)
		wantSignIn(t, s, "staff@unlockd.example", operatorPassword, nil)
	})
}

func TestSignInFailuresSpreadOutDoNotLock(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		c := withClock(s)
		mustOperator(t, s, "staff@unlockd.example", domain.RoleStaff, "")
		for range 2 * store.MaxOperatorFailures {
			wantSignIn(t, s, "staff@unlockd.example", "wrong", store.ErrSignInInvalid)
			c.Add(store.OperatorFailureWindow)
		}
		wantSignIn(t, s, "staff@unlockd.example", operatorPassword, nil)
	})
}

func TestConcurrentSignInFailuresLockOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		mustOperator(t, s, "staff@unlockd.example", domain.RoleStaff, "")
		before := auditCount(t, s)
		var wg sync.WaitGroup
		results := make(chan error, store.MaxOperatorFailures+2)
		for range cap(results) {
			wg.Go(func() {
				_, err := s.SignIn(ctx, nil, store.Credentials{Email: "staff@unlockd.example", Password: "wrong"}, "http:test")
				results <- err
			})
		}
		wg.Wait()
		close(results)
		invalid := 0
		for err := range results {
			switch {
			case errors.Is(err, store.ErrSignInInvalid):
				invalid++
			case !errors.Is(err, store.ErrSignInLocked):
				t.Errorf("SignIn = %v", err)
			}
		}
		if invalid != store.MaxOperatorFailures-1 {
			t.Errorf("%d attempts answered invalid before the lock, want %d", invalid, store.MaxOperatorFailures-1)
		}
		if got := auditCount(t, s) - before; got != 1 {
			t.Errorf("%d audit entries, want one operator_lock", got)
		}
		wantSignIn(t, s, "staff@unlockd.example", operatorPassword, store.ErrSignInLocked)
	})
}
