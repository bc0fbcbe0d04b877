package webhook

import (
	"testing"
	"time"
)

// The test vector the package doc and the README give receivers (checked
// with: printf %s "$t.$n.$body" | openssl dgst -sha256 -hmac "$secret").
func TestSignatureVector(t *testing.T) {
	const want = "t=1796030142,n=6a1f0c3e9b2d4e5f8a7b6c5d4e3f2a1b,v1=9eb80105e64bf500f419e0c1a2405254ff01f52edaaa752d99904c07a53ea5d5"
	got := Sign([]byte("correct horse battery staple"), time.Unix(1796030142, 0), "6a1f0c3e9b2d4e5f8a7b6c5d4e3f2a1b",
		[]byte(`{"org":"acme","usernames":["ann"]}`))
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}
