package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/directory/webhook"
)

// The receiving side: check the signature over the raw body before
// decoding it.
func ExampleVerify() {
	secret := []byte("the shared secret, from a file")
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, `{"error": "unreadable body"}`, http.StatusBadRequest)
			return
		}
		if err := webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, `{"error": "bad signature"}`, http.StatusUnauthorized)
			return
		}
		// Decode body and answer, e.g. {"result": "unlocked"}.
		fmt.Fprintln(w, `{"result": "ok"}`)
	})

	body := `{}`
	for _, sig := range []string{
		webhook.Sign(secret, time.Now(), []byte(body)),
		webhook.Sign(secret, time.Now().Add(-6*time.Minute), []byte(body)), // stale
		webhook.Sign([]byte("a guessed secret, 16+ bytes"), time.Now(), []byte(body)),
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
}
