package store_test

import (
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

func TestSessions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		c := withClock(s)
		mustOrg(t, s, "acme", nil)
		op := mustOperator(t, s, "ann@acme.example", domain.RoleAdmin, "acme")
		token, created, err := s.CreateSession(ctx, op)
		if err != nil {
			t.Fatal(err)
		}
		if len(token) < 43 || len(created.CSRFToken) < 43 || token == created.CSRFToken {
			t.Fatalf("token %q, CSRF token %q: want two distinct secrets of 256 bits", token, created.CSRFToken)
		}
		got, err := s.Session(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if got.Operator != op || got.CSRFToken != created.CSRFToken || !got.CreatedAt.Equal(c.Now().Truncate(time.Microsecond)) {
			t.Errorf("Session = %+v, want %+v", got, created)
		}
		for _, bad := range []string{"", "x", token + "x", created.CSRFToken} {
			_, err := s.Session(ctx, bad)
			wantCode(t, err, domain.CodeNotFound)
		}

		// Use keeps the session alive past the idle timeout...
		for range 3 {
			c.Add(store.SessionIdle - time.Minute)
			if _, err := s.Session(ctx, token); err != nil {
				t.Fatalf("session used every %s: %v", store.SessionIdle-time.Minute, err)
			}
		}
		// ...but idleness ends it, for good.
		c.Add(store.SessionIdle)
		_, err = s.Session(ctx, token)
		wantCode(t, err, domain.CodeNotFound)
		c.Add(-store.SessionIdle)
		_, err = s.Session(ctx, token)
		wantCode(t, err, domain.CodeNotFound)
	})
}

func TestSessionSignOutAndAbsoluteExpiry(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		c := withClock(s)
		op := mustOperator(t, s, "staff@unlockd.example", domain.RoleStaff, "")
		gone, _, err := s.CreateSession(ctx, op)
		if err != nil {
			t.Fatal(err)
		}
		busy, _, err := s.CreateSession(ctx, op)
		if err != nil {
			t.Fatal(err)
		}
		// Signing out ends one session only.
		if err := s.DeleteSession(ctx, gone); err != nil {
			t.Fatal(err)
		}
		_, err = s.Session(ctx, gone)
		wantCode(t, err, domain.CodeNotFound)
		if err := s.DeleteSession(ctx, "unknown"); err != nil {
			t.Errorf("DeleteSession(unknown) = %v, want nil", err)
		}

		// However busy, a session ends SessionMaxAge after sign-in.
		for elapsed := store.SessionIdle / 2; elapsed < store.SessionMaxAge; elapsed += store.SessionIdle / 2 {
			c.Add(store.SessionIdle / 2)
			if _, err := s.Session(ctx, busy); err != nil {
				t.Fatalf("busy session after %s: %v", elapsed, err)
			}
		}
		c.Add(store.SessionIdle / 2)
		_, err = s.Session(ctx, busy)
		wantCode(t, err, domain.CodeNotFound)
	})
}
