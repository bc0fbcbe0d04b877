package web

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
)

// FuzzUserJSON holds userJSON.appendJSON to what encoding/json's Encoder
// writes for the same value, whatever the strings and times.
func FuzzUserJSON(f *testing.F) {
	f.Add("acme", "jsmith", "J Smith", "j@acme.example", "note", "operator:ann", int64(1795000000), int64(123456789), 5, true, true, true)
	f.Add("a", "<b>&\"\\", "\x00\x1f\x7f\b\f\n\r\t", "\u2028\u2029", "\xff\xfe", "é😀", int64(0), int64(0), 0, false, false, false)
	f.Add("", "", "", "", "", "", int64(-62135596800), int64(999999999), -1, true, false, true)
	f.Fuzz(func(t *testing.T, org, username, display, email, note, by string, sec, nsec int64, failed int, locked, expires, hasPassword bool) {
		// encoding/json refuses years past 9999 or before 0; so may we.
		sec = sec % (253402300799 + 62135596800)
		at := time.Unix(sec, nsec%1e9).UTC()
		if at.Year() < 0 || at.Year() > 9999 {
			return
		}
		v := userJSON{Org: org, Username: username, DisplayName: display, Email: email, Status: domain.StatusActive,
			FailedLogins: failed, HasPassword: hasPassword}
		if locked {
			v.Status = domain.StatusLocked
			v.Lock = &lockJSON{Reason: domain.LockReason(note + "x"), At: at, By: by, Note: note}
			if expires {
				v.Lock.ExpiresAt = &at
			}
		}
		if failed > 0 {
			v.LastFailedAt = &at
		}
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(v); err != nil {
			t.Skip(err)
		}
		if got := v.appendJSON(nil); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("appendJSON\n%q\nencoding/json\n%q", got, want.Bytes())
		}
	})
}
