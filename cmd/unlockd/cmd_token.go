package main

import (
	"context"
	"fmt"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
)

const (
	tokenCreateUsage = "token create --config FILE --role staff|admin|service [--org SLUG] --name NAME"
	tokenListUsage   = "token list --config FILE [--org SLUG] [--all]"
	tokenRevokeUsage = "token revoke --config FILE [--org SLUG] NAME|ID"
)

func cmdToken(ctx context.Context, s streams, args []string) error {
	return subcommands{
		"create": {tokenCreateUsage, tokenCreate},
		"list":   {tokenListUsage, tokenList},
		"revoke": {tokenRevokeUsage, tokenRevoke},
	}.dispatch(ctx, s, "token", args)
}

// tokenCreate creates a token and prints it alone on stdout, once.
func tokenCreate(ctx context.Context, s streams, args []string) error {
	fs := newFlags("token create", tokenCreateUsage, s)
	cfgPath := configFlag(fs)
	roleFlag := fs.String("role", "", "token `ROLE`: staff, admin or service")
	org := fs.String("org", "", "org `SLUG` the admin or service token is bound to")
	name := fs.String("name", "", "a `NAME` saying who holds the token, unique in its org")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "config", "role", "name"); err != nil {
		return err
	}
	role, err := domain.ParseRole(*roleFlag)
	if err != nil {
		return flagError("role", err)
	}
	if err := orgFlag(*org); err != nil {
		return err
	}
	if err := role.CheckOrg(*org); err != nil {
		return flagError("org", err)
	}
	if _, err := domain.CheckTokenName(*name); err != nil {
		return flagError("name", err)
	}
	return withStore(ctx, *cfgPath, func(st *store.Store) error {
		tok, hash := password.NewToken()
		if _, err := st.CreateToken(ctx, store.Token{Name: *name, Role: role, OrgSlug: *org}, hash, "cli", "cli"); err != nil {
			return unknownOrg(err)
		}
		fmt.Fprintln(s.stdout, tok)
		return nil
	})
}
