package web_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/web"
)

// TestDatabaseDownIs503: when the database cannot be reached, the API
// answers at once with 503, the error shape and Retry-After; never 401 for
// a token that could not be checked, nor 500.
func TestDatabaseDownIs503(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // a port where nothing answers
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s, err := store.New(store.Postgres, "postgres://unlockd@"+addr+"/unlockd?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv, err := web.New(web.Config{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/v1/orgs", nil)
	token, _ := password.NewToken()
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || body.Error.Code != "unavailable" ||
		resp.Header.Get("Retry-After") == "" || strings.Contains(body.Error.Message, addr) {
		t.Errorf("API = %d %+v (Retry-After %q); want 503 unavailable without detail", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}

}
