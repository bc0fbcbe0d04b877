package ldap_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/ldaptest"
)

// TestFilterMetacharacters: usernames carrying filter syntax find nobody,
// and do not disturb the other usernames of the batch.
func TestFilterMetacharacters(t *testing.T) {
	f := setup(t)
	d := open(t, config(f.s, "plain"))
	f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "jsmith", Password: "pw"})
	f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "admin", Password: "pw"})
	hostile := []string{"*)(uid=*", "*", "j*", "*smith", "jsmith)(|(uid=*", `\2a`, `jsmith\`, "(uid=jsmith)",
		"jsmith\x00", "admin)(objectClass=*", "*)(|(objectClass=*)", ")", "JSMITH", "jsmith "}
	got, err := d.Lookup(ctx(t), acme, hostile)
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if len(got) != 0 {
		t.Fatalf("hostile usernames found %v", got)
	}
	got, err = d.Lookup(ctx(t), acme, append([]string{"jsmith"}, hostile...))
	if err != nil || len(got) != 1 || got["jsmith"].Username != "jsmith" {
		t.Fatalf("jsmith among hostile usernames: %v, %v", got, err)
	}
	// Usernames with characters that need escaping are found, exactly.
	odd := []string{"jürgen", "o'brien", "a+b", "semi;colon", `back\slash`, "star*name", "paren(s)"}
	for _, n := range odd {
		f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: n, Password: "pw"})
	}
	got, err = d.Lookup(ctx(t), acme, append(odd, "jurgen", "star"))
	if err != nil || len(got) != len(odd) {
		t.Fatalf("usernames that need escaping: %v, %v", got, err)
	}
	for _, n := range odd {
		if got[n].Username != n {
			t.Errorf("%q: %+v", n, got[n])
		}
	}
}

// TestOrgsApart: two orgs in one directory, a jsmith in each and a user
// only in globex; acme's calls never see or change globex's accounts.
func TestOrgsApart(t *testing.T) {
	f := setup(t)
	d := open(t, config(f.s, "plain"))
	acmeSmith := f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "jsmith", Password: "pw", Mail: "j@acme.example"})
	globexSmith := f.s.AddUser(t, f.globex, ldaptest.User{Username: "jsmith", Password: "pw", Mail: "j@globex.example"})
	only := f.s.AddUser(t, f.globex, ldaptest.User{Username: "gonly", Password: "pw"})
	f.s.FailBinds(t, globexSmith, ldaptest.MaxFailures)
	f.s.FailBinds(t, only, ldaptest.MaxFailures)

	if u := lookup(t, d, acme, "jsmith"); u.Email != "j@acme.example" || u.Lock != nil {
		t.Fatalf("acme's jsmith: %+v", u)
	}
	if u := lookup(t, d, globex, "jsmith"); u.Email != "j@globex.example" || u.Lock == nil {
		t.Fatalf("globex's jsmith: %+v", u)
	}
	got, err := d.Lookup(ctx(t), acme, []string{"gonly"})
	if err != nil || len(got) != 0 {
		t.Fatalf("acme looks up globex's user: %v, %v", got, err)
	}
	globexLock := lookup(t, d, globex, "gonly").Lock
	if err := d.Unlock(ctx(t), acme, "gonly", *globexLock); err == nil || errors.Is(err, domain.ErrNotLocked) {
		t.Fatalf("acme unlocks globex's user: %v", err)
	}
	wantErr(t, "acme's jsmith with globex's lock", d.Unlock(ctx(t), acme, "jsmith", *lookup(t, d, globex, "jsmith").Lock), domain.ErrNotLocked)
	if err := d.Lock(ctx(t), acme, "gonly", "x"); err == nil {
		t.Fatal("acme locks globex's user")
	}
	if got := f.s.Attr(t, only, "pwdAccountLockedTime"); len(got) != 1 || got[0] != globexLock.Mark {
		t.Fatalf("globex's gonly after acme's calls: %q", got)
	}
	if got := f.s.Attr(t, globexSmith, "pwdAccountLockedTime"); len(got) != 1 {
		t.Fatalf("globex's jsmith after acme's calls: %q", got)
	}
	if err := d.Lock(ctx(t), acme, "jsmith", "x"); err != nil {
		t.Fatalf("acme locks its jsmith: %v", err)
	}
	if got := f.s.Attr(t, acmeSmith, "pwdAccountLockedTime"); len(got) != 1 || got[0] != ldaptest.AdminLockTime {
		t.Fatalf("acme's jsmith after Lock: %q", got)
	}
	if l := lookup(t, d, globex, "jsmith").Lock; l.Reason != domain.LockFailedLogins {
		t.Fatalf("globex's jsmith after acme's Lock: %+v", l)
	}
	list, err := d.ListLocked(ctx(t), acme, 100)
	if err != nil || len(list) != 1 || list[0].Username != "jsmith" || list[0].Email != "j@acme.example" {
		t.Fatalf("acme's locked list: %+v, %v", list, err)
	}
	list, err = d.ListLocked(ctx(t), globex, 100)
	if err != nil || len(list) != 2 || list[0].Username != "gonly" || list[1].Username != "jsmith" || list[1].Email != "j@globex.example" {
		t.Fatalf("globex's locked list: %+v, %v", list, err)
	}
}

// TestTwoEntriesOneUsername: two entries for one username (also when
// they differ only in case) are a permanent error naming it, for Lookup
// and for Unlock.
func TestTwoEntriesOneUsername(t *testing.T) {
	f := setup(t)
	d := open(t, config(f.s, "plain"))
	f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "dup", Password: "pw"})
	second := f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "dup", RDN: "cn=dup-two", Password: "pw"})
	f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "case", Password: "pw"})
	f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "CASE", RDN: "cn=case-two", Password: "pw"})
	f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "fine", Password: "pw"})
	f.s.FailBinds(t, second, ldaptest.MaxFailures)
	for _, name := range []string{"dup", "case", "CASE"} {
		_, err := d.Lookup(ctx(t), acme, []string{"fine", name})
		if err == nil || domain.IsTemporary(err) || !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Fatalf("Lookup of two entries for %s: %v", name, err)
		}
	}
	err := d.Unlock(ctx(t), acme, "dup", domain.Lock{Reason: domain.LockFailedLogins, Mark: f.s.Attr(t, second, "pwdAccountLockedTime")[0]})
	if err == nil || !strings.Contains(err.Error(), `"dup"`) {
		t.Fatalf("Unlock of two entries: %v", err)
	}
	if got := f.s.Attr(t, second, "pwdAccountLockedTime"); len(got) != 1 {
		t.Fatalf("the second entry after the refused Unlock: %q", got)
	}
	// Entries the filter finds without the username attribute are
	// ignored.
	c := config(f.s, "plain")
	c.UserFilter = "(cn={username})"
	byCN := open(t, c)
	f.s.Set(t, f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "nouid", RDN: "cn=nouid", Password: "pw"}), "uid")
	if got, err := byCN.Lookup(ctx(t), acme, []string{"nouid", "fine"}); err != nil || len(got) != 1 || got["fine"].Username != "fine" {
		t.Fatalf("entry without uid: %v, %v", got, err)
	}
}

// TestListLocked: locked accounts only, by username, up to the limit.
func TestListLocked(t *testing.T) {
	f := setup(t)
	d := open(t, config(f.s, "plain"))
	for _, n := range []string{"c", "a", "b"} {
		f.s.FailBinds(t, f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: n, Password: "pw"}), ldaptest.MaxFailures)
	}
	f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "boss", Attrs: map[string][]string{"pwdAccountLockedTime": {ldaptest.AdminLockTime}}})
	f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "active", Password: "pw"})
	f.s.FailBinds(t, f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "twice", Password: "pw"}), ldaptest.MaxFailures-1)
	list, err := d.ListLocked(ctx(t), acme, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range list {
		names = append(names, u.Username+":"+string(u.Lock.Reason))
	}
	if got := strings.Join(names, " "); got != "a:failed_logins b:failed_logins boss:admin c:failed_logins" {
		t.Fatalf("ListLocked: %s", got)
	}
	if list, err := d.ListLocked(ctx(t), acme, 2); err != nil || len(list) != 2 {
		t.Fatalf("ListLocked limit 2: %d, %v", len(list), err)
	}
}

// TestLookupChunks: a batch larger than one search's chunk finds every
// account, each under its own username, and only those.
func TestLookupChunks(t *testing.T) {
	f := setup(t)
	d := open(t, config(f.s, "plain"))
	var names []string
	for i := range 120 {
		n := fmt.Sprintf("user%03d", i)
		if i%3 != 0 {
			f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: n, Password: "pw", Mail: n + "@acme.example"})
		}
		names = append(names, n, n) // each twice: duplicates count once
	}
	got, err := d.Lookup(ctx(t), acme, names)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 80 {
		t.Fatalf("%d accounts, want 80", len(got))
	}
	for n, u := range got {
		if u.Username != n || u.Email != n+"@acme.example" {
			t.Fatalf("%s: %+v", n, u)
		}
	}
}
