package web

import "testing"

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "/",
		"/":                      "/",
		"/orgs/acme/users/a%3Fb": "/orgs/acme/users/a%3Fb",
		"/queue?org=acme":        "/queue?org=acme",
		"queue":                  "/",
		"https://evil.example/":  "/",
		"//evil.example/":        "/",
		"/\\evil.example/":       "/",
		"/\t/evil.example/":      "/",
		"/\n/evil.example/":      "/",
		"/queue\r\nSet-Cookie:x": "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}
