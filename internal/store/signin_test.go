package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
	"github.com/unlockd/unlockd/internal/totp"
)

// TestSignInUnknownEmailLocksLikeAKnownOne: the failure counter and the
// lock apply to every address tried, so a lock says nothing about whether
// an operator has the address; both locks name their end.
func TestSignInUnknownEmailLocksLikeAKnownOne(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		c := withClock(s)
		mustOperator(t, s, "staff@unlockd.example", domain.RoleStaff, "")
		before := auditCount(t, s)
		for _, email := range []string{"staff@unlockd.example", "ghost@unlockd.example"} {
			for range store.MaxOperatorFailures - 1 {
				wantSignIn(t, s, email, "wrong", store.ErrSignInInvalid)
			}
			_, err := s.SignIn(ctx, nil, store.Credentials{Email: email, Password: "wrong"}, "http:test")
			var locked *store.SignInLockedError
			if !errors.As(err, &locked) || !locked.Until.Equal(c.Now().Add(store.OperatorLockout).Truncate(time.Microsecond)) {
				t.Fatalf("%s: fifth failure = %v, want locked until %s", email, err, c.Now().Add(store.OperatorLockout))
			}
			wantSignIn(t, s, email, operatorPassword, store.ErrSignInLocked)
		}
		if got := auditCount(t, s) - before; got != 2 {
			t.Errorf("%d audit entries for two locks, want 2", got)
		}
		c.Add(store.OperatorLockout)
		wantSignIn(t, s, "staff@unlockd.example", operatorPassword, nil)
		wantSignIn(t, s, "ghost@unlockd.example", operatorPassword, store.ErrSignInInvalid)
		// Case does not make another counter.
		c.Add(store.OperatorFailureWindow)
		for range store.MaxOperatorFailures - 1 {
			wantSignIn(t, s, "Ghost@Unlockd.example", "wrong", store.ErrSignInInvalid)
		}
		wantSignIn(t, s, "ghost@unlockd.EXAMPLE", "wrong", store.ErrSignInLocked)
	})
}

// TestSignInBusy: with every slot taken, a sign-in answers ErrBusy and
// counts for nothing.
func TestSignInBusy(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		mustOperator(t, s, "staff@unlockd.example", domain.RoleStaff, "")
		l := password.NewLimiter(1, 10*time.Millisecond)
		release, err := l.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for range store.MaxOperatorFailures + 1 {
			if _, err := s.SignIn(ctx, l, store.Credentials{Email: "staff@unlockd.example", Password: "wrong"}, "http:test"); !errors.Is(err, password.ErrBusy) {
				t.Fatalf("SignIn with no free slot = %v, want ErrBusy", err)
			}
		}
		release()
		if _, err := s.SignIn(ctx, l, store.Credentials{Email: "staff@unlockd.example", Password: operatorPassword}, "http:test"); err != nil {
			t.Fatalf("SignIn with a free slot = %v", err)
		}
	})
}

func TestSignInTOTP(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		c := withClock(s)
		op := mustOperator(t, s, "staff@unlockd.example", domain.RoleStaff, "")
		secret := totp.NewSecret()
		codes := totp.NewRecoveryCodes(3)
		hashes := make([]string, len(codes))
		for i, code := range codes {
			hashes[i] = totp.RecoveryHash(code)
		}
		step := totp.Step(c.Now())
		if err := s.EnrolTOTP(ctx, op, secret, step, hashes, "http:test"); err != nil {
			t.Fatal(err)
		}
		if err := s.EnrolTOTP(ctx, op, secret, step, hashes, "http:test"); !errors.Is(err, domain.ErrConflict) {
			t.Errorf("second enrolment = %v, want a conflict", err)
		}
		sign := func(pw, code string, want error) {
			t.Helper()
			got, err := s.SignIn(ctx, nil, store.Credentials{Email: "staff@unlockd.example", Password: pw, Code: code}, "http:test")
			if !errors.Is(err, want) {
				t.Fatalf("SignIn(%q, %q) = %v, want %v", pw, code, err, want)
			}
			if err == nil && !got.TOTP {
				t.Errorf("SignIn = %+v, want TOTP set", got)
			}
		}
		code := func() string { v, _ := totp.Code(secret, totp.Step(c.Now())); return v }
		// The code that confirmed the enrolment cannot sign in.
		sign(operatorPassword, code(), store.ErrSignInInvalid)
		sign(operatorPassword, "", store.ErrSignInInvalid)
		c.Add(totp.Period)
		sign("wrong", code(), store.ErrSignInInvalid) // a right code with a wrong password: not used up
		sign(operatorPassword, code(), nil)
		sign(operatorPassword, code(), store.ErrSignInInvalid) // replayed
		// Recovery codes, typed loosely, work once each.
		sign(operatorPassword, " "+codes[0]+" ", nil)
		sign(operatorPassword, codes[0], store.ErrSignInInvalid)
		wrong := "k" // a code with its first character changed: a failure
		if codes[1][0] == 'k' {
			wrong = "m"
		}
		sign(operatorPassword, wrong+codes[1][1:], store.ErrSignInInvalid)
		sign(operatorPassword, stripDashes(codes[1]), nil)
		// Failures with a right password but a wrong code lock too.
		for range store.MaxOperatorFailures - 1 {
			sign(operatorPassword, "000000x", store.ErrSignInInvalid)
		}
		sign(operatorPassword, "000000x", store.ErrSignInLocked)

		c.Add(store.OperatorLockout)
		got, err := s.ResetTOTP(ctx, "STAFF@unlockd.example", "cli", "cli")
		if err != nil || got.TOTP || got.Email != "staff@unlockd.example" {
			t.Fatalf("ResetTOTP = %+v, %v", got, err)
		}
		if _, err := s.ResetTOTP(ctx, "staff@unlockd.example", "cli", "cli"); !errors.Is(err, domain.ErrConflict) {
			t.Errorf("second reset = %v, want a conflict", err)
		}
		if _, err := s.ResetTOTP(ctx, "nobody@unlockd.example", "cli", "cli"); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("reset of nobody = %v, want not found", err)
		}
		// Without a second factor the password alone passes; the old
		// recovery codes are gone.
		if op, err := s.SignIn(ctx, nil, store.Credentials{Email: "staff@unlockd.example", Password: operatorPassword, Code: codes[2]}, "http:test"); err != nil || op.TOTP {
			t.Fatalf("SignIn after the reset = %+v, %v", op, err)
		}
		if err := s.EnrolTOTP(ctx, op, totp.NewSecret(), 0, nil, "http:test"); err != nil {
			t.Fatalf("enrolling again after the reset: %v", err)
		}
	})
}

func stripDashes(s string) string {
	out := make([]byte, 0, len(s))
	for i := range len(s) {
		if s[i] != '-' {
			out = append(out, s[i])
		}
	}
	return string(out)
}
