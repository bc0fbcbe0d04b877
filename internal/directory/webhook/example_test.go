package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/unlockd/unlockd/internal/directory/webhook"
)

// The receiving side: check the signature over the raw body before
// decoding it, and refuse a nonce seen within the window (a real
// receiver forgets nonces older than the window, and shares them between
// its instances).
func ExampleVerify() {
	secret := []byte("the shared secret, from a file")
	var mu sync.Mutex
	seen := map[string]bool{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, `{"error": "unreadable body"}`, http.StatusBadRequest)
			return
		}
		nonce, err := webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 5*time.Minute)
		if err != nil {
			http.Error(w, `{"error": "bad signature"}`, http.StatusUnauthorized)
			return
		}
		mu.Lock()
		replayed := seen[nonce]
		seen[nonce] = true
		mu.Unlock()
		if replayed {
			http.Error(w, `{"error": "replayed"}`, http.StatusUnauthorized)
			return
		}
		// Decode body and answer, e.g. {"result": "unlocked"}.
		fmt.Fprintln(w, `{"result": "ok"}`)
	})

	body := `{}`
	signed := webhook.Sign(secret, time.Now(), webhook.NewNonce(), []byte(body))
	for _, sig := range []string{
		signed,
		signed, // replayed
		webhook.Sign(secret, time.Now().Add(-6*time.Minute), webhook.NewNonce(), []byte(body)), // stale
		webhook.Sign([]byte("a guessed secret, 16+ bytes"), time.Now(), webhook.NewNonce(), []byte(body)),
	} {
		r := httptest.NewRequest(http.MethodPost, "/unlockd/ping", strings.NewReader(body))
		r.Header.Set(webhook.SignatureHeader, sig)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// 200
	// 401
	// 401
	// 401
}
