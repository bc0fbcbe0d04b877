package ldap

import (
	"context"
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/unlockd/unlockd/internal/domain"
)

// lookupChunk is how many usernames one search asks for.
const lookupChunk = 50

// account is an entry found for an exact username.
type account struct {
	entry *goldap.Entry
	user  domain.User
}

// Lookup returns the org's accounts among usernames, with one search per
// chunk of usernames under the org's base DN. An entry counts for a
// username when one of its username values equals it exactly; two
// entries whose values match a username (ignoring case, as LDAP does)
// are a permanent error naming it.
func (d *Directory) Lookup(ctx context.Context, org domain.Org, usernames []string) (map[string]domain.User, error) {
	found, err := d.find(ctx, org, usernames)
	if err != nil {
		return nil, err
	}
	out := make(map[string]domain.User, len(found))
	for name, a := range found {
		out[name] = a.user
	}
	return out, nil
}

func (d *Directory) find(ctx context.Context, org domain.Org, usernames []string) (map[string]*account, error) {
	b, err := d.base(org)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(usernames))
	var want []string
	for _, u := range usernames {
		if u != "" && !seen[u] {
			seen[u] = true
			want = append(want, u)
		}
	}
	found := make(map[string]*account, len(want))
	for len(want) > 0 {
		chunk := want[:min(lookupChunk, len(want))]
		want = want[len(chunk):]
		if err := d.findChunk(ctx, org, b, chunk, found); err != nil {
			return nil, err
		}
	}
	if err := d.expire(ctx, found); err != nil {
		return nil, err
	}
	return found, nil
}

func (d *Directory) findChunk(ctx context.Context, org domain.Org, b base, chunk []string, found map[string]*account) error {
	var f strings.Builder
	if len(chunk) > 1 {
		f.WriteString("(|")
	}
	for _, u := range chunk {
		f.WriteString(expandFilter(d.cfg.UserFilter, org.Slug, u))
	}
	if len(chunk) > 1 {
		f.WriteString(")")
	}
	entries, err := d.search(ctx, b, f.String(), d.attrs(), 2*len(chunk)+1, false)
	if err != nil {
		return err
	}
	for _, u := range chunk {
		var match []*goldap.Entry
		exact := -1
		for _, e := range entries {
			for _, v := range e.GetEqualFoldAttributeValues(d.cfg.UsernameAttribute) {
				if strings.EqualFold(v, u) {
					if v == u {
						exact = len(match)
					}
					match = append(match, e)
					break
				}
			}
		}
		if len(match) > 1 {
			dns := make([]string, len(match))
			for i, e := range match {
				dns[i] = e.DN
			}
			return fmt.Errorf("ldap %s: %d entries for the username %q under %s (%s); refusing to guess", d.name, len(match), u, b.str, strings.Join(dns, "; "))
		}
		if exact < 0 {
			continue
		}
		user, err := d.user(org, u, match[exact])
		if err != nil {
			return err
		}
		found[u] = &account{entry: match[exact], user: user}
	}
	return nil
}

// one finds the single account of username, or says there is none.
func (d *Directory) one(ctx context.Context, org domain.Org, username string) (*account, error) {
	found, err := d.find(ctx, org, []string{username})
	if err != nil {
		return nil, err
	}
	a := found[username]
	if a == nil {
		return nil, fmt.Errorf("ldap %s: no account %q for org %s", d.name, username, org.Slug)
	}
	return a, nil
}

// expire fills the expiry of failed-login locks from their policies
// (OpenLDAP only).
func (d *Directory) expire(ctx context.Context, found map[string]*account) error {
	p, ok := d.kind.(ppolicy)
	if !ok {
		return nil
	}
	return p.expire(ctx, d, found)
}
