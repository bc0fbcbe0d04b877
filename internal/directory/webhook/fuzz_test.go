package webhook

import (
	"testing"
)

// FuzzLookupAnswer: whatever the application answers, a lookup returns
// only accounts asked for, each once, with a lock it can name — or an
// error; it never panics.
func FuzzLookupAnswer(f *testing.F) {
	for _, s := range []string{
		`{"users":[]}`,
		`{"users":[{"username":"ann","locked":true,"lock_reason":"failed_logins","locked_at":"2026-11-30T09:15:42Z","mark":"m"}]}`,
		`{"users":[{"username":"bob","locked":false},{"username":"ann","locked":true,"lock_reason":"admin","locked_at":"2026-11-30T09:15:42Z"}]}`,
		`{"users":[{"username":"eve","locked":false}]}`,
		`{"users":null}`,
		`{"result":"unlocked"}`,
	} {
		f.Add([]byte(s))
	}
	d := &Directory{name: "app"}
	asked := map[string]bool{"ann": true, "bob": true}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ans usersAnswer
		if decodeStrict(data, &ans) != nil {
			return
		}
		users, err := d.users("lookup", ans, func(u string) bool { return asked[u] })
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, u := range users {
			if !asked[u.Username] || seen[u.Username] {
				t.Fatalf("answer %q gave user %q", data, u.Username)
			}
			seen[u.Username] = true
			if u.Lock != nil && (u.Lock.At.IsZero() || u.Lock.Mark == "" || (u.Lock.Reason != "failed_logins" && u.Lock.Reason != "admin")) {
				t.Fatalf("answer %q gave lock %+v", data, u.Lock)
			}
		}
	})
}
