package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

func TestAPITokenRefused(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		staff := f.tokens[asStaff]
		altered := staff[:len(staff)-1] + "x"
		if altered == staff {
			altered = staff[:len(staff)-1] + "y"
		}
		for _, tc := range []struct {
			name     string
			header   []string
			invalid  bool // the challenge says error="invalid_token"
			wantCode int
		}{
			{"missing", nil, false, 401},
			{"basic", []string{"Basic " + staff}, true, 401},
			{"no token", []string{"Bearer"}, true, 401},
			{"empty token", []string{"Bearer "}, true, 401},
			{"without prefix", []string{"Bearer " + strings.TrimPrefix(staff, password.TokenPrefix)}, true, 401},
			{"unknown", []string{"Bearer ulk_" + strings.Repeat("a", 52)}, true, 401},
			{"altered", []string{"Bearer " + altered}, true, 401},
			{"too long", []string{"Bearer " + staff + strings.Repeat("a", 200)}, true, 401},
			{"revoked", []string{"Bearer " + f.tokens[asRevoked]}, true, 401},
			{"twice", []string{"Bearer " + staff, "Bearer " + staff}, true, 401},
			{"lower-case scheme", []string{"bearer " + staff}, false, 200},
		} {
			req, err := http.NewRequest("GET", f.url+"/api/v1/orgs", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tc.header {
				req.Header.Add("Authorization", h)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantCode {
				t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.wantCode)
				continue
			}
			if tc.wantCode != 401 {
				continue
			}
			challenge := resp.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(challenge, `Bearer realm="unlockd"`) || strings.Contains(challenge, "invalid_token") != tc.invalid {
				t.Errorf("%s: WWW-Authenticate = %q", tc.name, challenge)
			}
		}
	})
}

// TestAPITokenLastUsed checks that a token's use is recorded, but written
// at most once a minute.
func TestAPITokenLastUsed(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		hash := password.HashToken(f.tokens[asAdminA])
		lastUsed := func() time.Time {
			t.Helper()
			tok, err := s.TokenByHash(ctx, hash)
			if err != nil {
				t.Fatal(err)
			}
			return tok.LastUsedAt
		}
		if !lastUsed().IsZero() {
			t.Fatal("a new token has been used")
		}
		start := f.clock()
		f.call(t, asAdminA, "GET", "/api/v1/orgs/acme", "").want(t, http.StatusOK, nil)
		if got := lastUsed(); !got.Equal(start) {
			t.Errorf("last used = %v, want %v", got, start)
		}
		f.advance(59 * time.Second)
		f.call(t, asAdminA, "GET", "/api/v1/orgs/acme", "").want(t, http.StatusOK, nil)
		if got := lastUsed(); !got.Equal(start) {
			t.Errorf("last used = %v after 59s, want the write throttled (%v)", got, start)
		}
		f.advance(time.Second)
		f.call(t, asAdminA, "GET", "/api/v1/orgs/acme", "").want(t, http.StatusOK, nil)
		if got := lastUsed(); !got.Equal(f.clock()) {
			t.Errorf("last used = %v after a minute, want %v", got, f.clock())
		}
	})
}

func TestRevokeToken(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newAPIFixture(t, s)
		f.call(t, asServiceA, "POST", "/api/v1/orgs/acme/authenticate", `{"username":"x","password":"y"}`).want(t, http.StatusOK, nil)
		tok, err := s.TokenByHash(ctx, password.HashToken(f.tokens[asServiceA]))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeToken(ctx, tok.ID, "test", "cli"); err != nil {
			t.Fatal(err)
		}
		f.call(t, asServiceA, "POST", "/api/v1/orgs/acme/authenticate", `{"username":"x","password":"y"}`).wantError(t, http.StatusUnauthorized)
		if err := s.RevokeToken(ctx, tok.ID, "test", "cli"); err == nil {
			t.Error("revoking twice succeeded")
		}
		if err := s.RevokeToken(ctx, 99999, "test", "cli"); err == nil {
			t.Error("revoking a missing token succeeded")
		}
		audit, err := s.ListAudit(ctx, store.AuditFilter{Target: "service-a", Limit: 10})
		if err != nil || len(audit) == 0 || audit[0].Action != "token_revoke" || audit[0].OrgID == 0 {
			t.Errorf("audit of the revocation = %+v, %v", audit, err)
		}
	})
}
