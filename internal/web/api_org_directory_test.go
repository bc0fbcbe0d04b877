package web_test

import (
	"net/http"
	"testing"

	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestAPIOrgDirectory: staff set an org's directory to builtin or a
// configured one, on create and by PATCH; admins may not; a name the
// configuration lacks is refused, naming the key.
func TestAPIOrgDirectory(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		var o struct{ Directory string }
		f.call(t, asStaff, "GET", "/api/v1/orgs/acme", "").want(t, http.StatusOK, &o)
		if o.Directory != "builtin" {
			t.Errorf("default directory = %q", o.Directory)
		}
		f.call(t, asStaff, "POST", "/api/v1/orgs", `{"slug":"initech","name":"Initech","directory":"corp"}`).want(t, http.StatusCreated, &o)
		if o.Directory != "corp" {
			t.Errorf("created with directory %q", o.Directory)
		}
		f.call(t, asStaff, "POST", "/api/v1/orgs", `{"slug":"hooli","name":"Hooli","directory":"crop"}`).wantError(t, http.StatusBadRequest)
		f.call(t, asStaff, "PATCH", "/api/v1/orgs/acme", `{"directory":"corp"}`).want(t, http.StatusOK, &o)
		if stored, err := s.Org(ctx, "acme"); err != nil || stored.Directory != "corp" || o.Directory != "corp" {
			t.Errorf("stored = %+v, %v; answered %q", stored, err, o.Directory)
		}
		f.call(t, asAdminA, "PATCH", "/api/v1/orgs/acme", `{"directory":"builtin"}`).wantError(t, http.StatusForbidden)
		f.call(t, asStaff, "PATCH", "/api/v1/orgs/acme", `{"directory":"nope"}`).wantError(t, http.StatusBadRequest)
		f.call(t, asStaff, "PATCH", "/api/v1/orgs/acme", `{"directory":"builtin"}`).want(t, http.StatusOK, &o)
		if o.Directory != "builtin" {
			t.Errorf("back to %q", o.Directory)
		}
		if _, err := s.Org(ctx, "hooli"); err == nil {
			t.Error("an org with an unknown directory was created")
		}
	})
}
