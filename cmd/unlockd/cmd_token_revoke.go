package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// tokenRevoke revokes one token, named by its ID or by its name (names
// are unique per org; --org picks the org when several share the name).
// The next request that presents it is refused (401).
func tokenRevoke(ctx context.Context, s streams, args []string) error {
	fs := newFlags("token revoke", tokenRevokeUsage, s)
	cfgPath := configFlag(fs)
	org := fs.String("org", "", "the org `SLUG` of the token named; staff tokens have none")
	ref, err := parseWithArg(fs, args, "the token's NAME or ID")
	if err != nil {
		return err
	}
	if err := required(fs, "config"); err != nil {
		return err
	}
	if err := orgFlag(*org); err != nil {
		return err
	}
	return withStore(ctx, *cfgPath, func(st *store.Store) error {
		t, err := findToken(ctx, st, ref, *org)
		if err != nil {
			return err
		}
		if err := st.RevokeToken(ctx, t.ID, "cli", "cli"); err != nil {
			return err
		}
		fmt.Fprintf(s.stderr, "token %d %q (%s%s) revoked\n", t.ID, t.Name, t.Role, inOrg(t.OrgSlug))
		return nil
	})
}

// findToken finds the one live token ref names: an ID (all digits; token
// names never are) or a name, within org when given. Anything that names
// no token, or several, is a usage error.
func findToken(ctx context.Context, st *store.Store, ref, org string) (store.TokenInfo, error) {
	if strings.Trim(ref, "0123456789") == "" {
		id, err := idArg("token ID", ref)
		if err != nil {
			return store.TokenInfo{}, err
		}
		toks, err := st.ListTokens(ctx, store.TokenFilter{OrgSlug: org, Revoked: true})
		if err != nil {
			return store.TokenInfo{}, err
		}
		for _, t := range toks {
			if t.ID == id {
				return t, nil
			}
		}
		return store.TokenInfo{}, usagef("no token has the ID %d%s", id, inOrg(org))
	}
	if _, err := domain.CheckTokenName(ref); err != nil {
		return store.TokenInfo{}, &usageError{domain.ErrorMessage(err)}
	}
	if org != "" {
		if _, err := st.Org(ctx, org); errors.Is(err, domain.ErrNotFound) {
			return store.TokenInfo{}, unknownOrg(err)
		}
	}
	toks, err := st.ListTokens(ctx, store.TokenFilter{Name: ref, OrgSlug: org})
	if err != nil {
		return store.TokenInfo{}, err
	}
	switch len(toks) {
	case 0:
		return store.TokenInfo{}, usagef("no live token is named %q%s", ref, inOrg(org))
	case 1:
		return toks[0], nil
	}
	var where []string
	for _, t := range toks {
		where = append(where, fmt.Sprintf("%d (%s%s)", t.ID, t.Role, inOrg(t.OrgSlug)))
	}
	return store.TokenInfo{}, usagef("%d live tokens are named %q: IDs %s; give the ID, or --org", len(toks), ref, strings.Join(where, ", "))
}

// inOrg says " in org SLUG", or nothing for no org.
func inOrg(slug string) string {
	if slug == "" {
		return ""
	}
	return " in org " + slug
}
