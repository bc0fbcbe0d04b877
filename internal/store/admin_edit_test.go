package store_test

import (
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestDeleteOrgWithQueuedRequests: the org's users, contacts, request
// items (queued ones too), tokens and admins go; its audit entries stay
// under its slug, for staff, and an org later created with the slug does
// not inherit them.
func TestDeleteOrgWithQueuedRequests(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		id := jsmithQueued(t, s)
		mustOrg(t, s, "globex", nil)
		tok, hash := password.NewToken()
		if _, err := s.CreateToken(ctx, store.Token{Name: "app", Role: domain.RoleService, OrgSlug: "acme"}, hash, "test", "cli"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddOperator(ctx, store.Operator{Email: "ann@acme.example", Role: domain.RoleAdmin, OrgSlug: "acme"},
			mustHash(t, "a long enough password"), "test", "cli"); err != nil {
			t.Fatal(err)
		}
		before, err := s.AuditLog(ctx, store.AuditFilter{OrgSlug: "acme", Limit: store.MaxLimit})
		if err != nil || len(before) == 0 {
			t.Fatalf("acme's audit before = %+v, %v", before, err)
		}

		got, err := s.DeleteOrg(ctx, "acme", "token:staff", "http:1")
		if err != nil {
			t.Fatal(err)
		}
		if got != (store.OrgDeleted{Users: 1, Contacts: 1, Pending: 1}) {
			t.Errorf("deleted = %+v", got)
		}
		_, err = s.Org(ctx, "acme")
		wantCode(t, err, domain.CodeNotFound)
		_, err = s.Request(ctx, id, "")
		wantCode(t, err, domain.CodeNotFound)
		if _, err := s.TokenByHash(ctx, password.HashToken(tok)); err == nil {
			t.Error("the deleted org's token still authenticates")
		}
		if ops, _ := s.ListOperators(ctx); len(ops) != 0 {
			t.Errorf("operators after deleting their org = %+v", ops)
		}
		if ok, _ := s.IsContact(ctx, contactAddr); ok {
			t.Error("the deleted org's contact is still a contact")
		}
		_, err = s.DeleteOrg(ctx, "acme", "token:staff", "http:1")
		wantCode(t, err, domain.CodeNotFound)

		mustOrg(t, s, "acme", nil) // the slug again, a new org
		fresh, err := s.AuditLog(ctx, store.AuditFilter{OrgSlug: "acme", Limit: store.MaxLimit})
		if err != nil || len(fresh) != 0 {
			t.Errorf("the new acme's audit = %+v, %v; want none of the old one's", fresh, err)
		}
		kept, err := s.AuditLog(ctx, store.AuditFilter{OrgSlug: "acme", Deleted: true, Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(kept) != len(before)+1 || kept[0].Action != domain.ActionOrgDelete || kept[0].OrgSlug != "acme" ||
			kept[0].Note != `"Org acme" with 1 users, 1 contacts, 1 queued requests` {
			t.Fatalf("kept audit = %+v", kept)
		}
		for _, e := range kept {
			if e.OrgSlug != "acme" {
				t.Errorf("entry %+v lost its org", e)
			}
		}
	})
}

// TestUpdateAndDeleteUser: details change through the domain's checks,
// audited with what changed; a deleted user's queued request stays,
// without a user, and can be declined.
func TestUpdateAndDeleteUser(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		id := jsmithQueued(t, s)
		name, email := "  John Smith ", "john@acme.example"
		u, err := s.UpdateUser(ctx, "acme", "jsmith", store.UserChange{DisplayName: &name, Email: &email}, "cli", "cli")
		if err != nil || u.DisplayName != "John Smith" || u.Email != email || u.Lock == nil {
			t.Fatalf("updated = %+v, %v", u, err)
		}
		n := auditCount(t, s)
		if _, err := s.UpdateUser(ctx, "acme", "jsmith", store.UserChange{DisplayName: &name}, "cli", "cli"); err != nil {
			t.Fatal(err)
		}
		if auditCount(t, s) != n {
			t.Error("a change that changes nothing was audited")
		}
		bad := "bell\a"
		_, err = s.UpdateUser(ctx, "acme", "jsmith", store.UserChange{DisplayName: &bad}, "cli", "cli")
		wantCode(t, err, domain.CodeInvalid)
		_, err = s.UpdateUser(ctx, "acme", "nobody", store.UserChange{DisplayName: &name}, "cli", "cli")
		wantCode(t, err, domain.CodeNotFound)

		if err := s.DeleteUser(ctx, "acme", "jsmith", "cli", "cli"); err != nil {
			t.Fatal(err)
		}
		_, err = s.User(ctx, "acme", "jsmith")
		wantCode(t, err, domain.CodeNotFound)
		wantCode(t, s.DeleteUser(ctx, "acme", "jsmith", "cli", "cli"), domain.CodeNotFound)
		r, err := s.Request(ctx, id, "acme")
		if err != nil || r.State != domain.ItemPending {
			t.Fatalf("the deleted user's request = %+v, %v", r, err)
		}
		var a answers
		if _, err := s.RejectRequest(ctx, id, "", "user deleted", "cli", "cli", a.render); err != nil {
			t.Errorf("declining the deleted user's request: %v", err)
		}
		entries, _ := s.ListAudit(ctx, store.AuditFilter{Target: "jsmith", Limit: 3})
		var updated, deleted bool
		for _, e := range entries {
			updated = updated || e.Action == domain.ActionUserUpdate
			deleted = deleted || (e.Action == domain.ActionUserDelete && e.Note == "status locked")
		}
		if !deleted {
			t.Errorf("audit = %+v, want user_delete", entries)
		}
		all, _ := s.ListAudit(ctx, store.AuditFilter{Target: "jsmith", Limit: store.MaxLimit})
		for _, e := range all {
			updated = updated || (e.Action == domain.ActionUserUpdate && e.Note == `display_name "John Smith", email "john@acme.example"`)
		}
		if !updated {
			t.Errorf("audit = %+v, want user_update naming both fields", all)
		}
	})
}

// TestRenameContact: the name passes the domain's checks; the contact is
// found by its address in any case; renaming is audited.
func TestRenameContact(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		mustOrg(t, s, "acme", nil)
		mustOrg(t, s, "globex", nil)
		mustContact(t, s, "acme", contactAddr)
		mustContact(t, s, "globex", contactAddr)
		c, err := s.RenameContact(ctx, "acme", "IT@ACME.example", " Helpdesk ", "cli", "cli")
		if err != nil || c.Name != "Helpdesk" || c.Email != contactAddr || len(c.SharedWith) != 1 {
			t.Fatalf("renamed = %+v, %v", c, err)
		}
		_, err = s.RenameContact(ctx, "acme", contactAddr, strings.Repeat("n", domain.MaxNameBytes+1), "cli", "cli")
		wantCode(t, err, domain.CodeInvalid)
		_, err = s.RenameContact(ctx, "acme", "nobody@acme.example", "x", "cli", "cli")
		wantCode(t, err, domain.CodeNotFound)
		_, err = s.RenameContact(ctx, "nope", contactAddr, "x", "cli", "cli")
		wantCode(t, err, domain.CodeNotFound)
		cs, _ := s.Contacts(ctx, "globex")
		if len(cs) != 1 || cs[0].Name != "IT desk" {
			t.Errorf("globex's contact = %+v, want it untouched", cs)
		}
		e, _ := s.ListAudit(ctx, store.AuditFilter{Limit: 1})
		if len(e) != 1 || e[0].Action != domain.ActionContactRename || e[0].Note != `from "IT desk" to "Helpdesk"` {
			t.Errorf("audit = %+v", e)
		}
	})
}
