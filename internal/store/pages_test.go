package store_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// The store methods the HTTP API pages and patches with.

func TestListOrgsAndContactsPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		for _, slug := range []string{"c", "a", "b"} {
			mustOrg(t, s, slug, nil)
			for _, local := range []string{"z", "x", "y"} {
				mustContact(t, s, slug, local+"@"+slug+".example")
			}
		}
		orgs, err := s.ListOrgs(ctx, store.OrgFilter{AfterSlug: "a", Limit: 1})
		if err != nil || len(orgs) != 1 || orgs[0].Slug != "b" {
			t.Errorf("ListOrgs after a, 1 = %+v, %v; want b", orgs, err)
		}
		contacts, err := s.ListContacts(ctx, "b", store.ContactFilter{AfterEmail: "x@b.example", Limit: 5})
		if err != nil || len(contacts) != 2 || contacts[0].Email != "y@b.example" || contacts[1].Email != "z@b.example" {
			t.Errorf("ListContacts after x = %+v, %v; want y and z of b", contacts, err)
		}
		all, err := s.Contacts(ctx, "b")
		if err != nil || len(all) != 3 {
			t.Errorf("Contacts = %+v, %v; want all 3", all, err)
		}
		_, err = s.ListContacts(ctx, "nope", store.ContactFilter{})
		wantCode(t, err, domain.CodeNotFound)
	})
}

// TestChangeOrgKeepsConcurrentFields runs partial updates of different
// fields at once: none may be lost.
func TestChangeOrgKeepsConcurrentFields(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		mustOrg(t, s, "acme", nil)
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for _, change := range []func(*domain.Org) error{
			func(o *domain.Org) error { o.Policy.MaxFailedLogins = 3; return nil },
			func(o *domain.Org) error { o.Policy.AutoUnlock = false; return nil },
		} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.ChangeOrg(ctx, "acme", change, "test", "cli")
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
		o, err := s.Org(ctx, "acme")
		if err != nil || o.Policy.MaxFailedLogins != 3 || o.Policy.AutoUnlock {
			t.Errorf("org = %+v, %v; want both changes", o, err)
		}
		_, err = s.ChangeOrg(ctx, "acme", func(o *domain.Org) error { o.Policy.MaxFailedLogins = -1; return nil }, "test", "cli")
		wantCode(t, err, domain.CodeInvalid)
		_, err = s.ChangeOrg(ctx, "nope", func(*domain.Org) error { return nil }, "test", "cli")
		wantCode(t, err, domain.CodeNotFound)
	})
}

func TestAuditLogFilters(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		for _, slug := range []string{"acme", "globex"} {
			mustOrg(t, s, slug, nil)
			mustUser(t, s, slug, domain.User{Username: "jsmith"})
		}
		recs, err := s.AuditLog(ctx, store.AuditFilter{OrgSlug: "globex", Target: "jsmith"})
		if err != nil || len(recs) != 1 || recs[0].OrgSlug != "globex" || recs[0].Action != domain.ActionUserCreate {
			t.Errorf("AuditLog(globex, jsmith) = %+v, %v", recs, err)
		}
		recs, err = s.AuditLog(ctx, store.AuditFilter{Target: "jsmith", BeforeID: recs[0].ID})
		if err != nil || len(recs) != 1 || recs[0].OrgSlug != "acme" {
			t.Errorf("AuditLog(jsmith, before globex's) = %+v, %v; want acme's", recs, err)
		}
	})
}

func TestRecordFailedLoginReturnsTheUser(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		p := domain.DefaultPolicy()
		p.MaxFailedLogins = 2
		mustOrg(t, s, "acme", &p)
		mustUser(t, s, "acme", domain.User{Username: "jsmith"})
		for i, want := range []struct {
			result    domain.LoginResult
			lockedNow bool
			failures  int
		}{{domain.LoginInvalid, false, 1}, {domain.LoginInvalid, true, 2}, {domain.LoginLocked, false, 2}} {
			u, result, lockedNow, err := s.RecordFailedLogin(ctx, "acme", "jsmith", "http:test")
			if err != nil || result != want.result || lockedNow != want.lockedNow || u.FailedLogins != want.failures {
				t.Errorf("failure %d: %v %v %+v %v, want %+v", i+1, result, lockedNow, u, err, want)
			}
		}
	})
}

func TestTokenTouchAndRevoke(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		c := withClock(s)
		mustOrg(t, s, "acme", nil)
		tok, err := s.CreateToken(ctx, store.Token{Name: "svc", Role: domain.RoleService, OrgSlug: "acme"}, "hash1", "test", "cli")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.TokenByHash(ctx, "hash1"); err != nil || !got.LastUsedAt.IsZero() {
			t.Fatalf("new token = %+v, %v", got, err)
		}
		c.Add(time.Hour)
		if err := s.TouchToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := s.TokenByHash(ctx, "hash1"); err != nil || !got.LastUsedAt.Equal(c.Now().Truncate(time.Microsecond)) {
			t.Errorf("touched token = %+v, %v; want last used %v", got, err, c.Now())
		}
		if err := s.RevokeToken(ctx, tok.ID, "test", "cli"); err != nil {
			t.Fatal(err)
		}
		_, err = s.TokenByHash(ctx, "hash1")
		wantCode(t, err, domain.CodeNotFound)
		wantCode(t, s.RevokeToken(ctx, tok.ID, "test", "cli"), domain.CodeConflict)
		wantCode(t, s.RevokeToken(ctx, tok.ID+100, "test", "cli"), domain.CodeNotFound)
		entries, err := s.ListAudit(ctx, store.AuditFilter{Target: "svc"})
		if err != nil || len(entries) != 2 || fmt.Sprint(entries[0].Action) != "token_revoke" {
			t.Errorf("audit = %+v, %v; want token_revoke then token_create", entries, err)
		}
	})
}
