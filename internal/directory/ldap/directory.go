package ldap

import (
	"context"
	"fmt"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/unlockd/unlockd/internal/domain"
)

// Directory is an ldap directory; it implements domain.Directory. It is
// safe for concurrent use.
type Directory struct {
	name string
	cfg  Config
	ep   endpoint
	kind kind
	pool *pool
}

var _ domain.Directory = (*Directory)(nil)

// kind is what differs between OpenLDAP's ppolicy and Active Directory.
type kind interface {
	// attrs are the lock attributes to read with each account.
	attrs() []string
	// lockOf reads the entry's lock; nil when the account is not locked.
	lockOf(e *goldap.Entry) (*domain.Lock, error)
	// lockedFilter matches entries that may be locked.
	lockedFilter() string
	// unlock is the one conditional modify that lifts was.
	unlock(e *goldap.Entry, was domain.Lock) (*goldap.ModifyRequest, error)
	// lock is the modify that sets an admin lock; nil if there is one.
	lock(e *goldap.Entry) (*goldap.ModifyRequest, error)
	// setPassword sets the entry's password on c.
	setPassword(c *goldap.Conn, dn, password string) error
}

// Open checks c and returns the directory named name. It does not
// connect: the first call does (use Ping to check the server).
func Open(name string, c Config) (*Directory, error) {
	c = c.withDefaults()
	ep, err := c.validate()
	if err != nil {
		return nil, fmt.Errorf("ldap directory %q: %w", name, err)
	}
	d := &Directory{name: name, cfg: c, ep: ep, pool: newPool(c.PoolSize)}
	if c.Server == ActiveDirectory {
		d.kind = activeDirectory{}
	} else {
		d.kind = ppolicy{}
	}
	return d, nil
}

// Name is the directory's name in the configuration.
func (d *Directory) Name() string { return d.name }

// Capabilities: ldap directories lock, list and set passwords.
func (d *Directory) Capabilities() domain.Capabilities {
	return domain.Capabilities{Lock: true, ListLocked: true, SetPassword: true}
}

// Ping connects and binds (or reuses a bound connection) and reads the
// root DSE: nil when the directory answers, for health checks.
func (d *Directory) Ping(ctx context.Context) error {
	req := goldap.NewSearchRequest("", goldap.ScopeBaseObject, goldap.NeverDerefAliases, 1, d.timeLimit(), false,
		"(objectClass=*)", []string{"1.1"}, nil)
	return d.with(ctx, true, func(c *goldap.Conn) error {
		_, err := c.Search(req)
		return d.classifyOn(c, "read the root DSE", err)
	})
}

// timeLimit is the server-side time limit of a search, in seconds.
func (d *Directory) timeLimit() int {
	return max(1, int(d.cfg.Timeout.Seconds()))
}

// base is an org's search base.
type base struct {
	str string
	dn  *goldap.DN
}

func (d *Directory) base(org domain.Org) (base, error) {
	if org.Slug == "" {
		return base{}, fmt.Errorf("ldap %s: an org without a slug", d.name)
	}
	s := expandDN(d.cfg.BaseDN, org.Slug)
	dn, err := goldap.ParseDN(s)
	if err != nil {
		return base{}, fmt.Errorf("ldap %s: base DN of org %s: %w", d.name, org.Slug, err)
	}
	return base{str: s, dn: dn}, nil
}

// search runs a subtree search under b and refuses an answer with an
// entry outside b. With partial, a size limit reached is not an error.
func (d *Directory) search(ctx context.Context, b base, filter string, attrs []string, limit int, partial bool) ([]*goldap.Entry, error) {
	req := goldap.NewSearchRequest(b.str, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, limit, d.timeLimit(), false,
		filter, attrs, nil)
	req.EnforceSizeLimit = true
	var entries []*goldap.Entry
	err := d.with(ctx, true, func(c *goldap.Conn) error {
		res, err := c.Search(req)
		if err != nil && !(partial && (isCode(err, goldap.LDAPResultSizeLimitExceeded) || err == goldap.ErrSizeLimitExceeded)) {
			if isCode(err, goldap.LDAPResultSizeLimitExceeded) || err == goldap.ErrSizeLimitExceeded {
				return fmt.Errorf("ldap %s: search %s: more than %d entries; is user_filter too broad?", d.name, b.str, limit)
			}
			return d.classifyOn(c, "search "+b.str, err)
		}
		entries = res.Entries
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		dn, err := goldap.ParseDN(e.DN)
		if err != nil || !(b.dn.AncestorOfFold(dn) || b.dn.EqualFold(dn)) {
			return nil, fmt.Errorf("ldap %s: search %s returned the entry %q outside the org's base DN; refusing the answer", d.name, b.str, e.DN)
		}
	}
	return entries, nil
}

// attrs are the attributes read with every account.
func (d *Directory) attrs() []string {
	return append([]string{d.cfg.UsernameAttribute, "cn", "displayName", "mail"}, d.kind.attrs()...)
}

// user maps an entry to its account; username is the exact value.
func (d *Directory) user(org domain.Org, username string, e *goldap.Entry) (domain.User, error) {
	u := domain.User{
		OrgID:       org.ID,
		Username:    username,
		DisplayName: e.GetEqualFoldAttributeValue("displayName"),
		Email:       e.GetEqualFoldAttributeValue("mail"),
	}
	if u.DisplayName == "" {
		u.DisplayName = e.GetEqualFoldAttributeValue("cn")
	}
	lock, err := d.kind.lockOf(e)
	if err != nil {
		return domain.User{}, fmt.Errorf("ldap %s: %s: %w", d.name, username, err)
	}
	u.Lock = lock
	return u, nil
}
