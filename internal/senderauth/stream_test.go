package senderauth_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/mailheader"
	"github.com/unlockd/unlockd/internal/senderauth"
)

// TestVerifyFromAStream: a large signed message verifies from a stream
// while the heap in use stays flat. (go-msgauth's body canonicalizer makes
// a short-lived copy of each chunk it reads, so the bytes allocated do grow
// with the body; what is live at any moment does not.)
func TestVerifyFromAStream(t *testing.T) {
	signers(t)
	body := "Unlock: jdoe\r\n" + strings.Repeat(strings.Repeat("QUJD", 19)+"\r\n", 20<<20/78)
	raw := rsaAcme.Sign([]byte("From: it@acme.example\r\nTo: u@corp.example\r\nSubject: big\r\nMessage-ID: <big@acme.example>\r\n\r\n" + body))
	h := mailheader.Parse(raw, mailheader.Limits{})
	// The message waits on disk, as a large one does in intake, so that
	// only what verification keeps is in memory.
	path := filepath.Join(t.TempDir(), "big.eml")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	size := len(raw)
	raw = nil
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: newDNS(rsaAcme).lookup}
	stop := make(chan struct{})
	runtime.GC()
	base := heapInUse()
	peak := base
	done := make(chan struct{})
	go func() { // sample the heap while the check runs
		defer close(done)
		for ctx := context.Background(); ctx.Err() == nil; {
			select {
			case <-stop:
				return
			default:
			}
			peak = max(peak, heapInUse())
		}
	}()
	got, err := v.Check(context.Background(), senderauth.Input{Body: f, Header: h, FromDomain: "acme.example"})
	close(stop)
	<-done
	if err != nil || !got.Pass {
		t.Fatalf("Check() = %+v, %v; want a pass", got, err)
	}
	t.Logf("verified %d MiB from a stream; heap in use grew by at most %d KiB", size>>20, (peak-base)>>10)
	if peak-base > 8<<20 {
		t.Errorf("verifying a %d MiB message from a stream took the heap %d MiB higher", size>>20, (peak-base)>>20)
	}
	if _, err := v.Check(context.Background(), senderauth.Input{Body: bytes.NewReader(nil), FromDomain: "acme.example"}); err == nil {
		t.Error("Check of a stream without its header succeeded")
	}
}

// heapInUse reads the bytes of live and not yet swept heap objects.
func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
