package webhook

import (
	"testing"
	"time"
)

// The test vector the package doc and the README give receivers (checked
// with: printf %s "$t.$body" | openssl dgst -sha256 -hmac "$secret").
func TestSignatureVector(t *testing.T) {
	const want = "t=1796030142,v1=05e7f9636195a00eee55078b8eb2a5d1a8772285c085fd1a57a0d93240903722"
	got := Sign([]byte("correct horse battery staple"), time.Unix(1796030142, 0), []byte(`{"org":"acme","usernames":["ann"]}`))
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}
