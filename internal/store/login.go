package store

import (
	"context"
	"errors"
	"sync"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
)

// dummyHash is verified against when the user is unknown or has no
// password, so the answer takes as long as for a real user. It is made
// without hashing, so no argon2id runs outside a limiter's slot.
var dummyHash = sync.OnceValue(func() string { return password.Dummy(password.Default) })

// Authenticate checks a user's password and applies the attempt to the
// failed-login counter (SPEC §2). An unknown user answers invalid, like a
// wrong password, and costs the same time. The verification runs in one of
// hashes' slots; password.ErrBusy, when none came free, counts for nothing.
func (s *Store) Authenticate(ctx context.Context, hashes *password.Limiter, slug, username, pw, source string) (domain.LoginResult, error) {
	u, err := s.User(ctx, slug, username)
	if errors.Is(err, domain.ErrNotFound) {
		if err := hashes.Verify(ctx, pw, dummyHash()); errors.Is(err, password.ErrBusy) || ctx.Err() != nil {
			return "", errors.Join(err, ctx.Err())
		}
		return domain.LoginInvalid, nil
	}
	if err != nil {
		return "", err
	}
	hash := u.PasswordHash
	if hash == "" {
		hash = dummyHash()
	}
	verr := hashes.Verify(ctx, pw, hash)
	if errors.Is(verr, password.ErrBusy) || ctx.Err() != nil {
		return "", errors.Join(verr, ctx.Err())
	}
	ok := verr == nil && u.PasswordHash != ""
	return s.RecordLogin(ctx, slug, username, ok, source)
}
