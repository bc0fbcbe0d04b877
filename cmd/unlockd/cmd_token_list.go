package main

import (
	"context"
	"strconv"

	"github.com/unlockd/unlockd/internal/store"
)

// tokenList prints the tokens: id, name, role, org, when made and last
// used (and revoked, with --all); never a token or its hash.
func tokenList(ctx context.Context, s streams, args []string) error {
	fs := newFlags("token list", tokenListUsage, s)
	cfgPath := configFlag(fs)
	org := fs.String("org", "", "list only the tokens of org `SLUG`")
	all := fs.Bool("all", false, "list revoked tokens too")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "config"); err != nil {
		return err
	}
	if err := orgFlag(*org); err != nil {
		return err
	}
	return withStore(ctx, *cfgPath, func(st *store.Store) error {
		if *org != "" {
			if _, err := st.Org(ctx, *org); err != nil {
				return unknownOrg(err)
			}
		}
		toks, err := st.ListTokens(ctx, store.TokenFilter{OrgSlug: *org, Revoked: *all})
		if err != nil {
			return err
		}
		header := "ID NAME ROLE ORG CREATED LAST_USED"
		if *all {
			header += " REVOKED"
		}
		rows := make([][]string, len(toks))
		for i, t := range toks {
			rows[i] = []string{strconv.FormatInt(t.ID, 10), cell(t.Name, 60), string(t.Role), orDash(t.OrgSlug),
				when(t.CreatedAt), when(t.LastUsedAt)}
			if *all {
				rows[i] = append(rows[i], when(t.RevokedAt))
			}
		}
		return table(s.stdout, header, rows)
	})
}
