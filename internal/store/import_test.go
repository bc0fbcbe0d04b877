package store_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// importState is everything an import may write, read back through the
// store's public methods.
type importState struct {
	org      error // from s.Org: nil when the org exists
	contacts []domain.Contact
	users    []domain.User
	audit    int
}

func readImportState(t *testing.T, s *store.Store, slug string) importState {
	t.Helper()
	var st importState
	if _, st.org = s.Org(ctx, slug); st.org == nil {
		var err error
		if st.contacts, err = s.Contacts(ctx, slug); err != nil {
			t.Fatal(err)
		}
		if st.users, err = s.ListUsers(ctx, slug, store.UserFilter{Limit: store.MaxLimit}); err != nil {
			t.Fatal(err)
		}
	}
	st.audit = auditCount(t, s)
	return st
}

// wantNothingWritten checks that slug is in the state it was before a
// failed import.
func wantNothingWritten(t *testing.T, s *store.Store, slug string, before importState) {
	t.Helper()
	after := readImportState(t, s, slug)
	if before.org != nil {
		wantCode(t, after.org, domain.CodeNotFound)
	} else if after.org != nil {
		t.Fatalf("org %s: %v", slug, after.org)
	}
	if !reflect.DeepEqual(after.contacts, before.contacts) {
		t.Errorf("contacts = %+v, want %+v", after.contacts, before.contacts)
	}
	if !reflect.DeepEqual(after.users, before.users) {
		t.Errorf("users = %+v, want %+v", after.users, before.users)
	}
	if after.audit != before.audit {
		t.Errorf("audit entries = %d, want %d", after.audit, before.audit)
	}
}

func TestImportCreatesMissingOrg(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		now := withClock(s).Now().Truncate(time.Microsecond)
		lockedAt := now.Add(-3 * time.Hour)
		contacts := []domain.Contact{
			{Email: "IT@Initech.Example", Name: "IT desk"},
			{Email: "ops@bücher.example", Name: "Ops"},
		}
		users := []domain.User{
			{Username: "alice", DisplayName: "Alice A", Email: "alice@initech.example"},
			{Username: "bob", Email: "bob@initech.example", FailedLogins: 5, LastFailedAt: lockedAt,
				Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: lockedAt, By: domain.ActorSystem,
					Note: "too many failed logins", Expires: now.Add(time.Hour)}},
			{Username: "Carol", Lock: &domain.Lock{Reason: domain.LockAdmin, At: lockedAt, By: "cli", Note: "imported"}},
		}
		res, err := s.Import(ctx, "initech", contacts, users, "operator:ann@example.com", "cli")
		if err != nil {
			t.Fatal(err)
		}
		if want := (store.ImportResult{OrgCreated: true, Contacts: 2, Users: 3}); res != want {
			t.Errorf("Import = %+v, want %+v", res, want)
		}

		org, err := s.Org(ctx, "initech")
		if err != nil {
			t.Fatal(err)
		}
		if org.Slug != "initech" || org.Name != "initech" || org.Policy != domain.DefaultPolicy() {
			t.Errorf("created org = %+v, want slug and name initech with the default policy", org)
		}
		gotContacts, err := s.Contacts(ctx, "initech")
		if err != nil {
			t.Fatal(err)
		}
		var emails []string
		for _, c := range gotContacts {
			if c.OrgID != org.ID || c.ID == 0 {
				t.Errorf("contact %+v not in org %d", c, org.ID)
			}
			emails = append(emails, c.Email+"/"+c.Name)
		}
		if want := "[it@initech.example/IT desk ops@xn--bcher-kva.example/Ops]"; fmt.Sprint(emails) != want {
			t.Errorf("contacts = %v, want %s", emails, want)
		}

		got, err := s.ListUsers(ctx, "initech", store.UserFilter{})
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]domain.User{}
		for _, u := range got {
			if u.OrgID != org.ID || u.ID == 0 {
				t.Errorf("user %+v not in org %d", u, org.ID)
			}
			u.ID, u.OrgID = 0, 0
			byName[u.Username] = u
		}
		if len(got) != len(users) {
			t.Errorf("users = %+v, want %d", got, len(users))
		}
		for _, u := range users {
			if !reflect.DeepEqual(byName[u.Username], u) {
				t.Errorf("user %s =\n\t%+v\nwant\n\t%+v", u.Username, byName[u.Username], u)
			}
		}
		locked, err := s.ListUsers(ctx, "initech", store.UserFilter{Status: domain.StatusLocked})
		lockedNames := map[string]bool{}
		for _, u := range locked {
			lockedNames[u.Username] = true
		}
		if err != nil || len(locked) != 2 || !lockedNames["Carol"] || !lockedNames["bob"] {
			t.Errorf("locked users = %+v, %v; want Carol and bob", locked, err)
		}

		entries, err := s.ListAudit(ctx, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		want := domain.AuditEntry{ID: entries[0].ID, OrgID: org.ID, Actor: "operator:ann@example.com", Action: domain.ActionImport,
			Target: "initech", Source: "cli", Note: "2 contacts, 3 users", At: now}
		if len(entries) != 1 || entries[0] != want {
			t.Errorf("audit = %+v, want only %+v", entries, want)
		}
	})
}

func TestImportIntoExistingOrgKeepsItsPolicy(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		p := domain.Policy{MaxFailedLogins: 3, FailureWindow: time.Hour, MaxRequestsPerHour: 1}
		acme := mustOrg(t, s, "acme", &p)
		mustOrg(t, s, "globex", nil)
		mustContact(t, s, "globex", contactAddr)
		mustUser(t, s, "globex", domain.User{Username: "jsmith"})

		// The same address and username in another org are no conflict.
		res, err := s.Import(ctx, "acme", []domain.Contact{{Email: contactAddr}}, []domain.User{{Username: "jsmith"}}, "cli", "cli")
		if err != nil {
			t.Fatal(err)
		}
		if want := (store.ImportResult{Contacts: 1, Users: 1}); res != want {
			t.Errorf("Import = %+v, want %+v", res, want)
		}
		if got, err := s.Org(ctx, "acme"); err != nil || got != acme {
			t.Errorf("org after import = %+v, %v; want %+v", got, err, acme)
		}
		if u, err := s.User(ctx, "acme", "jsmith"); err != nil || u.OrgID != acme.ID {
			t.Errorf("imported user = %+v, %v", u, err)
		}
	})
}

func TestImportUsernameConflictWritesNothing(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		mustOrg(t, s, "acme", nil)
		mustContact(t, s, "acme", contactAddr)
		mustUser(t, s, "acme", domain.User{Username: "jsmith", DisplayName: "John"})
		before := readImportState(t, s, "acme")

		_, err := s.Import(ctx, "acme", []domain.Contact{{Email: "new@acme.example"}},
			[]domain.User{{Username: "alice"}, {Username: "JSmith"}, {Username: "jsmith"}, {Username: "zed"}}, "cli", "cli")
		var conflict *store.ImportConflict
		if !errors.As(err, &conflict) {
			t.Fatalf("Import = %v, want an *ImportConflict", err)
		}
		if *conflict != (store.ImportConflict{Username: "jsmith"}) {
			t.Errorf("conflict = %+v, want username jsmith", *conflict)
		}
		if !errors.Is(err, domain.ErrConflict) {
			t.Errorf("errors.Is(%v, ErrConflict) = false", err)
		}
		wantNothingWritten(t, s, "acme", before)
	})
}

// TestImportFailureAfterOrgCreatedWritesNothing: a username given twice
// fails the second batch of inserts, after the org and the first 500 users
// were written in the transaction; the org must not be left behind.
// (csvimport refuses such files before they reach the store.)
func TestImportFailureAfterOrgCreatedWritesNothing(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		users := make([]domain.User, 600)
		for i := range users {
			users[i].Username = fmt.Sprintf("user%03d", i)
		}
		users[550].Username = users[10].Username
		before := readImportState(t, s, "initech")

		_, err := s.Import(ctx, "initech", []domain.Contact{{Email: "it@initech.example"}}, users, "cli", "cli")
		wantCode(t, err, domain.CodeConflict)
		wantNothingWritten(t, s, "initech", before)
	})
}

func TestImportContactConflictWritesNothing(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		mustOrg(t, s, "acme", nil)
		mustContact(t, s, "acme", contactAddr)
		before := readImportState(t, s, "acme")

		_, err := s.Import(ctx, "acme", []domain.Contact{{Email: "new@acme.example"}, {Email: "IT@ACME.example"}},
			[]domain.User{{Username: "alice"}}, "cli", "cli")
		var conflict *store.ImportConflict
		if !errors.As(err, &conflict) {
			t.Fatalf("Import = %v, want an *ImportConflict", err)
		}
		if *conflict != (store.ImportConflict{Contact: contactAddr}) {
			t.Errorf("conflict = %+v, want contact %s", *conflict, contactAddr)
		}
		wantNothingWritten(t, s, "acme", before)
	})
}

func TestImportInvalidContactWritesNothing(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		mustOrg(t, s, "acme", nil)
		for _, slug := range []string{"acme", "initech"} { // existing, missing
			before := readImportState(t, s, slug)
			_, err := s.Import(ctx, slug, []domain.Contact{{Email: "good@example.com"}, {Email: "not an address"}},
				[]domain.User{{Username: "alice"}}, "cli", "cli")
			wantCode(t, err, domain.CodeInvalid)
			wantNothingWritten(t, s, slug, before)
		}
	})
}

// BenchmarkImport10kUsers imports 10,000 users, 5% of them locked, into a
// fresh org per iteration.
func BenchmarkImport10kUsers(b *testing.B) {
	const n = 10_000
	lockedAt := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	users := make([]domain.User, n)
	for i := range users {
		users[i] = domain.User{Username: fmt.Sprintf("user%05d", i), DisplayName: fmt.Sprintf("User %d", i),
			Email: fmt.Sprintf("user%05d@example.com", i)}
		if i%20 == 0 {
			users[i].FailedLogins = 5
			users[i].Lock = &domain.Lock{Reason: domain.LockFailedLogins, At: lockedAt, By: "cli", Note: "imported"}
		}
	}
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			s := storetest.Open(b, e)
			s.Timeout = 5 * time.Minute
			imports := 0
			for b.Loop() {
				imports++
				res, err := s.Import(ctx, fmt.Sprintf("bench-%d", imports), nil, users, "bench", "cli")
				if err != nil || res.Users != n {
					b.Fatalf("Import = %+v, %v", res, err)
				}
			}
			b.ReportMetric(float64(n*imports)/b.Elapsed().Seconds(), "users/s")
			locked, err := s.ListUsers(ctx, fmt.Sprintf("bench-%d", imports), store.UserFilter{Status: domain.StatusLocked, Limit: store.MaxLimit})
			if err != nil || len(locked) != n/20 {
				b.Fatalf("locked users after import = %d, %v; want %d", len(locked), err, n/20)
			}
		})
	}
}
