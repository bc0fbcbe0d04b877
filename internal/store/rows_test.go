package store_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestInsertRowsKeepsEveryValue inserts the same hostile values two ways,
// a row at a time (placeholders) and all at once (on PostgreSQL, one JSON
// document), and reads back exactly the same, exactly as written: quotes,
// backslashes, control characters, markup, non-ASCII text, a null, and
// nanoseconds that the database rounds.
func TestInsertRowsKeepsEveryValue(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 18, 30, 15, 123456789, time.UTC)
	values := []string{`say "hi"`, `back\slash\\`, "tab\tnew\nline\r\x01\x1f", `</script><b>&amp;`, "jürgen ✓ 🙂", `\u0041`, "", "{\"a\":[1,2]}"}
	columns := []string{"org_id", "actor", "action", "target", "source", "note", "at"}
	rows := func(action string) [][]any {
		var out [][]any
		for i, v := range values {
			when := any(at)
			if i == 1 {
				when = sql.NullTime{Time: at, Valid: true} // a driver.Valuer
			}
			out = append(out, []any{nil, "email:" + v, action, v, "test", strings.Repeat(v, 3), when})
		}
		return out
	}
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			s := storetest.Open(t, e)
			for _, r := range rows("one-by-one") {
				if err := store.InsertRows(ctx, s, "audit", columns, [][]any{r}); err != nil {
					t.Fatal(err)
				}
			}
			if err := store.InsertRows(ctx, s, "audit", columns, rows("batch")); err != nil {
				t.Fatal(err)
			}
			one, err := store.AuditRowsOf(ctx, s, "one-by-one")
			if err != nil {
				t.Fatal(err)
			}
			batch, err := store.AuditRowsOf(ctx, s, "batch")
			if err != nil {
				t.Fatal(err)
			}
			if len(batch) != len(values) || !slices.Equal(one, batch) {
				t.Fatalf("a row at a time:\n%q\nall at once:\n%q", one, batch)
			}
			for i, v := range values {
				if batch[i][1] != v || batch[i][2] != strings.Repeat(v, 3) {
					t.Errorf("row %d reads back as %q, %q; wrote %q", i, batch[i][1], batch[i][2], v)
				}
			}
		})
	}
}

// TestInsertRowsRefusesNULOnPostgreSQL: a NUL byte, which PostgreSQL's text
// cannot hold, fails the whole insert in either form and writes nothing.
func TestInsertRowsRefusesNULOnPostgreSQL(t *testing.T) {
	ctx := context.Background()
	engines := storetest.Engines()
	if e := engines[len(engines)-1]; e.Name != store.Postgres {
		t.Skip("no PostgreSQL: " + storetest.EnvPostgres + " is unset")
	}
	s := storetest.Open(t, engines[len(engines)-1])
	columns := []string{"actor", "action", "target", "source", "note", "at"}
	good := []any{"email:a@b.example", "nul", "fine", "test", "", time.Now()}
	bad := []any{"email:a@b.example", "nul", "nul\x00here", "test", "", time.Now()}
	for _, rows := range [][][]any{{bad}, {good, bad}} {
		if err := store.InsertRows(ctx, s, "audit", columns, rows); err == nil {
			t.Errorf("%d rows with a NUL were taken", len(rows))
		}
	}
	if got, err := store.AuditRowsOf(ctx, s, "nul"); err != nil || len(got) != 0 {
		t.Fatalf("after refused inserts: %q, %v; want nothing", got, err)
	}
}
