package mailtest

import (
	"errors"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// send delivers one message with the standard library client over a new
// connection.
func send(s *SMTPServer, to string) error {
	return smtp.SendMail(s.Addr, nil, "from@example.com", []string{to}, []byte("Subject: hi\r\n\r\nbody\r\n"))
}

func code(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func TestSMTPRecordsMessages(t *testing.T) {
	s := StartSMTP(t)
	if err := send(s, "a@example.com"); err != nil {
		t.Fatal(err)
	}
	msgs := s.WaitMessages(t, 1, time.Second)
	if msgs[0].From != "from@example.com" || len(msgs[0].To) != 1 || msgs[0].To[0] != "a@example.com" ||
		!strings.Contains(string(msgs[0].Data), "Subject: hi") || msgs[0].Conn != 1 {
		t.Errorf("recorded %+v", msgs[0])
	}
	if s.Connections() != 1 {
		t.Errorf("Connections = %d, want 1", s.Connections())
	}
}

func TestSMTPFaults(t *testing.T) {
	cases := []struct {
		fault SMTPFault
		code  int // 0: a network error
	}{
		{SMTPRefuse, 0}, {SMTP421Connect, 421},
		{SMTP451Mail, 451}, {SMTP550Mail, 550},
		{SMTP451Rcpt, 451}, {SMTP550Rcpt, 550},
		{SMTP451Data, 451}, {SMTP550Data, 550},
		{SMTPDropData, 0},
	}
	for _, tc := range cases {
		s := StartSMTP(t)
		s.FailNext(2, tc.fault)
		for i := range 2 {
			err := send(s, "a@example.com")
			if err == nil || code(err) != tc.code {
				t.Errorf("fault %d, try %d: error %v (code %d), want code %d", tc.fault, i, err, code(err), tc.code)
			}
		}
		if err := send(s, "a@example.com"); err != nil {
			t.Errorf("fault %d: third try after two faults: %v", tc.fault, err)
		}
		if n := len(s.Messages()); n != 1 {
			t.Errorf("fault %d: %d messages recorded, want 1", tc.fault, n)
		}
		if s.PendingFaults() != 0 {
			t.Errorf("fault %d: faults left over", tc.fault)
		}
	}
}

func TestSMTPDownUp(t *testing.T) {
	s := StartSMTP(t)
	s.Down()
	if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		c.Close()
		t.Fatal("connection accepted while down")
	}
	s.Up(t)
	if err := send(s, "a@example.com"); err != nil {
		t.Fatal(err)
	}
}

func TestSMTPAuth(t *testing.T) {
	s := StartSMTP(t)
	s.RequireAuth()
	if err := send(s, "a@example.com"); code(err) != 502 {
		t.Errorf("unauthenticated send: %v, want 502", err)
	}
	auth := smtp.PlainAuth("", SMTPUser, SMTPPassword, "127.0.0.1")
	if err := smtp.SendMail(s.Addr, auth, "from@example.com", []string{"a@example.com"}, []byte("\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	if m := s.Messages(); len(m) != 1 || m[0].Auth != SMTPUser {
		t.Errorf("recorded %+v", m)
	}
}
