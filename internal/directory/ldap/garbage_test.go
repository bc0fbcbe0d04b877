package ldap_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"
	"github.com/unlockd/unlockd/internal/directory/ldap"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/ldaptest"
	"github.com/unlockd/unlockd/internal/mailtest"
)

// entry is one search result of fakeLDAP.
type entry struct {
	dn    string
	attrs map[string][]string
}

// fakeLDAP is an LDAP peer that accepts any bind and answers every search
// with entries: answers slapd would never give. It returns its address.
func fakeLDAP(t *testing.T, entries []entry) string {
	t.Helper()
	return serveTCP(t, func(c net.Conn) { serveFake(c, 0, entries) })
}

// serveFake answers binds with bindCode and searches with entries.
func serveFake(c net.Conn, bindCode int64, entries []entry) {
	defer c.Close()
	for {
		p, err := ber.ReadPacket(c)
		if err != nil || len(p.Children) < 2 {
			return
		}
		id, _ := p.Children[0].Value.(int64)
		switch p.Children[1].Tag {
		case goldap.ApplicationBindRequest:
			c.Write(result(id, goldap.ApplicationBindResponse, bindCode).Bytes())
		case goldap.ApplicationSearchRequest:
			for _, e := range entries {
				c.Write(searchEntry(id, e).Bytes())
			}
			c.Write(result(id, goldap.ApplicationSearchResultDone, 0).Bytes())
		case goldap.ApplicationUnbindRequest:
			return
		default:
			c.Write(result(id, p.Children[1].Tag+1, goldap.LDAPResultUnwillingToPerform).Bytes())
		}
	}
}

func envelope(id int64, op *ber.Packet) *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, ""))
	p.AppendChild(op)
	return p
}

func result(id int64, tag ber.Tag, code int64) *ber.Packet {
	r := ber.Encode(ber.ClassApplication, ber.TypeConstructed, tag, nil, "")
	r.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, code, ""))
	r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", ""))
	r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", ""))
	return envelope(id, r)
}

func searchEntry(id int64, e entry) *ber.Packet {
	r := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchResultEntry, nil, "")
	r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, e.dn, ""))
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	for name, values := range e.attrs {
		a := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
		a.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, name, ""))
		set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "")
		for _, v := range values {
			set.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, ""))
		}
		a.AppendChild(set)
		attrs.AppendChild(a)
	}
	r.AppendChild(attrs)
	return envelope(id, r)
}

// TestGarbageAnswers: answers a real server would not give are refused
// with a permanent error that says why; nothing is returned as a user.
func TestGarbageAnswers(t *testing.T) {
	uid := func(dn string, more ...string) entry {
		e := entry{dn: dn, attrs: map[string][]string{"uid": {"jsmith"}}}
		for i := 0; i+1 < len(more); i += 2 {
			e.attrs[more[i]] = append(e.attrs[more[i]], more[i+1])
		}
		return e
	}
	var many []entry
	for i := range 10 {
		many = append(many, uid(fmt.Sprintf("uid=u%d,ou=acme,dc=x", i)))
	}
	cases := []struct {
		name    string
		entries []entry
		want    string
	}{
		{"another org's entry", []entry{uid("uid=jsmith,ou=globex,dc=x")}, "outside the org's base DN"},
		{"a look-alike suffix", []entry{uid("uid=jsmith,ou=acme,dc=x,dc=evil")}, "outside the org's base DN"},
		{"the base's parent", []entry{uid("dc=x")}, "outside the org's base DN"},
		{"not a DN", []entry{uid("not a dn")}, "outside the org's base DN"},
		{"too many entries", many, "more than 3 entries"},
		{"two entries", []entry{uid("uid=jsmith,ou=acme,dc=x"), uid("cn=other,ou=acme,dc=x")}, `2 entries for the username "jsmith"`},
		{"a lock time that is no time", []entry{uid("uid=jsmith,ou=acme,dc=x", "pwdAccountLockedTime", "yesterday")}, "pwdAccountLockedTime"},
		{"two lock times", []entry{uid("uid=jsmith,ou=acme,dc=x", "pwdAccountLockedTime", "20260101000000Z", "pwdAccountLockedTime", ldaptest.AdminLockTime)}, "2 values"},
	}
	for _, tc := range cases {
		d := open(t, ldap.Config{URL: "ldap://" + fakeLDAP(t, tc.entries), BindDN: "cn=svc,dc=x", BindPassword: "pw",
			BaseDN: "ou={org},dc=x", Timeout: 2 * time.Second})
		got, err := d.Lookup(ctx(t), acme, []string{"jsmith"})
		if err == nil || domain.IsTemporary(err) || !strings.Contains(err.Error(), tc.want) || got != nil {
			t.Errorf("%s: %v, %v; want a permanent error with %q", tc.name, got, err, tc.want)
		}
	}
}

// TestBindResults: busy and unavailable servers are temporary; refused
// credentials and other refusals are permanent.
func TestBindResults(t *testing.T) {
	for code, temporary := range map[int64]bool{
		goldap.LDAPResultBusy: true, goldap.LDAPResultUnavailable: true,
		goldap.LDAPResultInvalidCredentials: false, goldap.LDAPResultUnwillingToPerform: false,
		goldap.LDAPResultInappropriateAuthentication: false,
	} {
		addr := serveTCP(t, func(c net.Conn) { serveFake(c, code, nil) })
		d := open(t, ldap.Config{URL: "ldap://" + addr, BindDN: "cn=svc,dc=x", BindPassword: "s3cret-pw", BaseDN: "dc=x", Timeout: 2 * time.Second})
		err := d.Ping(ctx(t))
		if err == nil || domain.IsTemporary(err) != temporary || strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("bind answered with %d: %v; want temporary=%v", code, err, temporary)
		}
	}
}

// TestNotLDAP: a peer that answers with something else than LDAP gives
// a temporary error, quickly, in each mode.
func TestNotLDAP(t *testing.T) {
	addr := serveTCP(t, func(c net.Conn) {
		defer c.Close()
		c.Read(make([]byte, 512))
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
	})
	for _, mode := range modes {
		c := withMode(ldap.Config{URL: "ldap://" + addr, BindDN: "cn=x", BindPassword: "pw", BaseDN: "dc=x",
			Timeout: 2 * time.Second}, mode, "ldaps://"+addr, mailtest.NewTestCA(t).CAFile)
		start := time.Now()
		_, err := open(t, c).Lookup(context.Background(), acme, []string{"jsmith"})
		if err == nil || time.Since(start) > 3*time.Second {
			t.Fatalf("%s: Lookup against an HTTP server: %v after %v", mode, err, time.Since(start))
		}
	}
}

// TestPoolBounded: many concurrent calls share at most PoolSize
// connections, counted by a TCP proxy in front of slapd.
func TestPoolBounded(t *testing.T) {
	f := setup(t)
	for i := range 5 {
		f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: fmt.Sprintf("u%d", i), Password: "pw"})
	}
	var conns atomic.Int32
	addr := serveTCP(t, func(c net.Conn) {
		conns.Add(1)
		up, err := net.Dial("tcp", strings.TrimPrefix(f.s.URL(), "ldap://"))
		if err != nil {
			c.Close()
			return
		}
		go func() { io.Copy(up, c); up.Close() }()
		io.Copy(c, up)
		c.Close()
	})
	c := config(f.s, "plain")
	c.URL, c.PoolSize = "ldap://"+addr, 2
	d := open(t, c)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("u%d", i%5)
			got, err := d.Lookup(ctx(t), acme, []string{name})
			if err == nil && got[name].Username != name {
				err = fmt.Errorf("lookup %s: %v", name, got)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n < 1 || n > 2 {
		t.Fatalf("%d connections for 40 concurrent lookups with a pool of 2", n)
	}
}

// TestBroadFilterBounded: a user filter that matches more than the
// usernames asked for is refused, not read to the end.
func TestBroadFilterBounded(t *testing.T) {
	f := setup(t)
	for i := range 6 {
		f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: fmt.Sprintf("u%d", i), Password: "pw"})
	}
	c := config(f.s, "plain")
	c.UserFilter = "(|(uid={username})(uid=u*))"
	_, err := open(t, c).Lookup(ctx(t), acme, []string{"u1"})
	if err == nil || domain.IsTemporary(err) || !strings.Contains(err.Error(), "user_filter") {
		t.Fatalf("a broad filter: %v", err)
	}
}
