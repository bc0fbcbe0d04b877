package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/unlockd/unlockd/internal/address"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
)

const (
	operatorAddUsage    = "operator add --config FILE --role staff|admin [--org SLUG] --email EMAIL  (password on stdin)"
	operatorResetUsage  = "operator reset-totp --config FILE --email EMAIL"
	operatorListUsage   = "operator list --config FILE"
	operatorRemoveUsage = "operator remove --config FILE --email EMAIL"
	operatorUnlockUsage = "operator unlock --config FILE --email EMAIL"
)

func cmdOperator(ctx context.Context, s streams, args []string) error {
	return subcommands{
		"add":        {operatorAddUsage, operatorAdd},
		"reset-totp": {operatorResetUsage, operatorResetTOTP},
		"list":       {operatorListUsage, operatorList},
		"remove":     {operatorRemoveUsage, operatorRemove},
		"unlock":     {operatorUnlockUsage, operatorUnlock},
	}.dispatch(ctx, s, "operator", args)
}

// operatorAdd creates a web-UI account; the password is read from stdin.
func operatorAdd(ctx context.Context, s streams, args []string) error {
	fs := newFlags("operator add", operatorAddUsage, s)
	cfgPath := configFlag(fs)
	roleFlag := fs.String("role", "", "operator `ROLE`: staff or admin")
	org := fs.String("org", "", "org `SLUG` an admin is bound to")
	email := fs.String("email", "", "the operator's sign-in `EMAIL`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "config", "role", "email"); err != nil {
		return err
	}
	role, err := domain.ParseOperatorRole(*roleFlag)
	if err != nil {
		return flagError("role", err)
	}
	if err := orgFlag(*org); err != nil {
		return err
	}
	if err := role.CheckOrg(*org); err != nil {
		return flagError("org", err)
	}
	addr, err := address.Check("email", *email)
	if err != nil {
		return flagError("email", err)
	}
	pw, err := readPassword(s, addr)
	if err != nil {
		return err
	}
	hash, err := password.Hash(pw, password.Default)
	if err != nil {
		return err
	}
	return withStore(ctx, *cfgPath, func(st *store.Store) error {
		op, err := st.AddOperator(ctx, store.Operator{Email: addr, Role: role, OrgSlug: *org}, hash, "cli", "cli")
		if err != nil {
			return unknownOrg(err)
		}
		fmt.Fprintf(s.stderr, "operator %s added with role %s\n", op.Email, op.Role)
		return nil
	})
}

// operatorResetTOTP removes an operator's second factor and recovery
// codes and ends their sessions, for an operator who lost both; they enrol
// again at their next sign-in.
func operatorResetTOTP(ctx context.Context, s streams, args []string) error {
	return operatorByEmail(ctx, s, args, "operator reset-totp", operatorResetUsage, func(st *store.Store, email string) error {
		op, err := st.ResetTOTP(ctx, email, "cli", "cli")
		if err == nil {
			fmt.Fprintf(s.stderr, "second factor of %s removed and their sessions ended; they enrol again at their next sign-in\n", op.Email)
		}
		return err
	})
}

// readPassword reads the first line of standard input, which must pass
// domain.CheckPassword for the operator's email.
func readPassword(s streams, email string) (string, error) {
	line, err := bufio.NewReader(s.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", usagef("no password on standard input")
	}
	pw := strings.TrimRight(line, "\r\n")
	if err := domain.CheckPassword(pw, email); err != nil {
		return "", usagef("standard input: %v", err)
	}
	return pw, nil
}
