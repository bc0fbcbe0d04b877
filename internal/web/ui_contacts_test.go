package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestUIContactsAreStaffOnly: an admin sees the org's contacts but no form
// to change them, and a forged add or remove is refused with 403 and
// changes nothing; staff add and remove them, and are warned when an
// address is shared with another org, which the admin never sees named.
func TestUIContactsAreStaffOnly(t *testing.T) {
	f := newUIFixture(t)
	ctx := context.Background()
	admin := f.signedIn(t, uiAdminAcme)
	p := admin.get("/orgs/acme/contacts").want(http.StatusOK, "it@acme.example")
	for _, form := range []string{`action="/orgs/acme/contacts"`, `action="/orgs/acme/contacts/remove"`} {
		if strings.Contains(p.Body, form) {
			t.Errorf("the admin's page has the form %s", form)
		}
	}
	admin.post("/orgs/acme/contacts", url.Values{"email": {"boss@globex.example"}}).want(http.StatusForbidden, "may not")
	admin.post("/orgs/acme/contacts/remove", url.Values{"email": {"it@acme.example"}}).want(http.StatusForbidden, "may not")
	if cs, err := f.Store.Contacts(ctx, "acme"); err != nil || len(cs) != 1 || cs[0].Email != "it@acme.example" {
		t.Fatalf("acme's contacts after the admin's tries = %+v, %v", cs, err)
	}

	staff := f.signedIn(t, uiStaff)
	staff.get("/orgs/globex/contacts").want(http.StatusOK, `action="/orgs/globex/contacts"`)
	staff.follow(staff.post("/orgs/globex/contacts", url.Values{"email": {"Boss@Globex.example"}, "name": {"Boss"}})).
		want(http.StatusOK, "boss@globex.example is now an authorised contact.")
	staff.follow(staff.post("/orgs/globex/contacts", url.Values{"email": {"not an address"}})).
		want(http.StatusOK, "not a valid email address")
	p = staff.follow(staff.post("/orgs/globex/contacts", url.Values{"email": {"IT@acme.example"}}))
	p.want(http.StatusOK, `class="flash warn"`)
	p.want(http.StatusOK, "it@acme.example is also a contact of acme")
	staff.get("/orgs/acme/contacts").want(http.StatusOK, `<span class="badge warn">globex</span>`)
	if p := admin.get("/orgs/acme/contacts"); strings.Contains(p.Body, "globex") {
		t.Errorf("the admin of acme sees the other org's name:\n%s", p.Body)
	}
	staff.follow(staff.post("/orgs/globex/contacts/remove", url.Values{"email": {"it@acme.example"}})).
		want(http.StatusOK, "it@acme.example is no longer an authorised contact.")
	if cs, err := f.Store.Contacts(ctx, "globex"); err != nil || len(cs) != 1 || cs[0].Email != "boss@globex.example" {
		t.Errorf("globex's contacts = %+v, %v", cs, err)
	}
}
