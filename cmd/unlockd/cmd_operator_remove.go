package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/unlockd/unlockd/internal/address"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// operatorRemove deletes an operator's account and ends their sessions.
func operatorRemove(ctx context.Context, s streams, args []string) error {
	return operatorByEmail(ctx, s, args, "operator remove", operatorRemoveUsage,
		func(st *store.Store, email string) error {
			op, err := st.RemoveOperator(ctx, email, "cli", "cli")
			if err == nil {
				fmt.Fprintf(s.stderr, "operator %s (%s%s) removed; their sessions are ended\n", op.Email, op.Role, inOrg(op.OrgSlug))
			}
			return err
		})
}

// operatorUnlock lifts the sign-in lock of an operator's address.
func operatorUnlock(ctx context.Context, s streams, args []string) error {
	return operatorByEmail(ctx, s, args, "operator unlock", operatorUnlockUsage,
		func(st *store.Store, email string) error {
			op, err := st.UnlockOperator(ctx, email, "cli", "cli")
			if err == nil {
				fmt.Fprintf(s.stderr, "operator %s may sign in again\n", op.Email)
			}
			return err
		})
}

// operatorByEmail parses --config and --email and runs fn with the store;
// an address that is no operator's is a usage error naming --email.
func operatorByEmail(ctx context.Context, s streams, args []string, name, usage string, fn func(*store.Store, string) error) error {
	fs := newFlags(name, usage, s)
	cfgPath := configFlag(fs)
	email := fs.String("email", "", "the operator's sign-in `EMAIL`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "config", "email"); err != nil {
		return err
	}
	if _, err := address.Check("email", *email); err != nil {
		return flagError("email", err)
	}
	return withStore(ctx, *cfgPath, func(st *store.Store) error {
		return unknownOperator(fn(st, *email))
	})
}

// unknownOperator turns "no operator has the address" into a usage error
// naming --email; other errors pass.
func unknownOperator(err error) error {
	if errors.Is(err, domain.ErrNotFound) {
		return flagError("email", err)
	}
	return err
}
