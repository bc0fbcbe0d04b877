package main

import (
	"context"

	"github.com/unlockd/unlockd/internal/store"
)

// operatorList prints every operator: email, role, org, whether a second
// factor is enrolled, until when the address's sign-in lock holds, and
// when the account was made.
func operatorList(ctx context.Context, s streams, args []string) error {
	fs := newFlags("operator list", operatorListUsage, s)
	cfgPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "config"); err != nil {
		return err
	}
	return withStore(ctx, *cfgPath, func(st *store.Store) error {
		ops, err := st.ListOperators(ctx)
		if err != nil {
			return err
		}
		rows := make([][]string, len(ops))
		for i, op := range ops {
			totp := "no"
			if op.TOTP {
				totp = "yes"
			}
			rows[i] = []string{cell(op.Email, 254), string(op.Role), orDash(op.OrgSlug), totp, when(op.LockedUntil), when(op.CreatedAt)}
		}
		return table(s.stdout, "EMAIL ROLE ORG TOTP LOCKED_UNTIL CREATED", rows)
	})
}
