package store

import (
	"context"
	"os"
	"testing"
)

// TestPoolSessionsEndIdleTransactions: every pool session asks the server
// to end it when it idles inside a transaction, so a vanished client
// cannot keep its row locks; a DSN that sets the timeout itself wins.
func TestPoolSessionsEndIdleTransactions(t *testing.T) {
	dsn := os.Getenv("UNLOCKD_TEST_POSTGRES") // storetest.EnvPostgres; storetest imports this package
	if dsn == "" {
		t.Skip("PostgreSQL tests skipped: set UNLOCKD_TEST_POSTGRES")
	}
	for in, want := range map[string]string{dsn: "15s", dsn + "&idle_in_transaction_session_timeout=5000": "5s"} {
		s, err := Open(context.Background(), Postgres, in)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := s.db.QueryRowContext(context.Background(), `SHOW idle_in_transaction_session_timeout`).Scan(&got); err != nil || got != want {
			t.Errorf("idle_in_transaction_session_timeout = %q, %v; want %s", got, err, want)
		}
		s.Close()
	}
}
