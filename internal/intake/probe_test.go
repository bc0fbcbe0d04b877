package intake_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/mailtest"
)

// TestProbeReadsNothingAndWarnsOfMissingCapabilities: the probe logs in,
// finds the folders and names what the server lacks, leaving every
// message where it was, unseen; STARTTLS is negotiated as the watcher
// negotiates it.
func TestProbeReadsNothingAndWarnsOfMissingCapabilities(t *testing.T) {
	ca := mailtest.NewTestCA(t)
	srv := mailtest.StartIMAP(t, mailtest.IMAPOptions{NoMove: true, TLS: ca.Server})
	srv.Append(t, "INBOX", []byte("From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n"))
	cfg := intake.Config{Name: "support", Address: srv.Addr, TLS: intake.TLSStartTLS, CAFile: ca.CAFile,
		Username: mailtest.IMAPUser, Password: mailtest.IMAPPassword, Mailbox: "INBOX",
		ProcessedFolder: "done", IDLE: true, PollInterval: 30 * time.Second, Timeout: 5 * time.Second}
	steps := intake.Probe(context.Background(), cfg)
	if len(steps) != 4 {
		t.Fatalf("steps = %+v", steps)
	}
	for _, st := range steps {
		if st.Err != nil || st.Skipped {
			t.Fatalf("%s: %+v", st.Name, st)
		}
	}
	if d := steps[0].Detail; !strings.Contains(d, "starttls TLS 1.3") || !strings.Contains(d, "issued by unlockd test CA") {
		t.Errorf("connect = %q", d)
	}
	if d := steps[2].Detail; d != `INBOX: 1 messages; done: created; decided mail without a folder is flagged \Seen and left in place` {
		t.Errorf("folders = %q", d)
	}
	// go-imap's server offers IDLE to every IMAP4rev1 session once it is
	// logged in, whatever its options say; MOVE it leaves out.
	if w := steps[3].Warning; steps[3].Detail != "IDLE" || !strings.Contains(w, "no MOVE: moves take COPY") {
		t.Errorf("capabilities warning = %q", w)
	}
	if srv.Count(t, "INBOX") != 1 || srv.Commands("FETCH")+srv.Commands("UID FETCH")+srv.Commands("STORE")+srv.Commands("UID STORE") != 0 {
		t.Errorf("the probe touched messages: INBOX has %d", srv.Count(t, "INBOX"))
	}
	if srv.Commands("EXAMINE") != 1 {
		t.Errorf("EXAMINE sent %d times, want the watched folder opened read-only once", srv.Commands("EXAMINE"))
	}
}
