// Command webbench serves the JSON API over a seeded store for load tests
// with wrk. It is a measuring tool, not part of unlockd.
//
// It creates (after dropping) the PostgreSQL schema -schema, migrates it,
// seeds org "bench" with -users active users (user0000001...) and -locked
// users locked for failed logins (locked0000001...), vacuums, creates a
// staff API token, writes it to -token-file, and serves web.New on -listen
// until interrupted. bench.lua, beside it, drives wrk:
//
//	go run ./internal/web/webbench -dsn "$UNLOCKD_TEST_POSTGRES" &
//	export TOKEN=$(cat /tmp/webbench.token)
//	MODE=get wrk -t2 -c32 -d10s --latency -s internal/web/webbench/bench.lua http://127.0.0.1:8089
//	MODE=unlock THREADS=2 wrk -t2 -c32 -d10s --latency -s internal/web/webbench/bench.lua http://127.0.0.1:8089
//
// MODE=get cycles GET /api/v1/orgs/bench/users/{username} over the active
// users; MODE=unlock POSTs .../unlock to each locked user once, so every
// request really unlocks someone (see bench.lua). Both report any answer
// other than 200.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	_ "net/http/pprof" // served on -pprof only
	"net/url"
	"os"
	"os/signal"
	"time"

	_ "github.com/lib/pq"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/web"
)

func main() {
	dsn := flag.String("dsn", os.Getenv("UNLOCKD_TEST_POSTGRES"), "PostgreSQL `DSN` (default $UNLOCKD_TEST_POSTGRES)")
	schema := flag.String("schema", "webbench", "`schema` to drop, create and fill")
	listen := flag.String("listen", "127.0.0.1:8089", "`address` to serve on")
	users := flag.Int("users", 1000, "active users to seed")
	locked := flag.Int("locked", 300000, "users locked for failed logins to seed")
	tokenFile := flag.String("token-file", "/tmp/webbench.token", "`file` to write the staff token to")
	pprof := flag.String("pprof", "", "`address` to serve net/http/pprof on, for profiling under load")
	flag.Parse()
	if *dsn == "" {
		log.Fatal("webbench: -dsn is required")
	}
	if *pprof != "" {
		go func() { log.Print(http.ListenAndServe(*pprof, nil)) }()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *dsn, *schema, *listen, *users, *locked, *tokenFile); err != nil {
		log.Fatal("webbench: ", err)
	}
}

func run(ctx context.Context, dsn, schema, listen string, users, locked int, tokenFile string) error {
	dsn, err := freshSchema(dsn, schema)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, store.Postgres, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	start := time.Now()
	if err := seed(ctx, st, users, locked); err != nil {
		return err
	}
	if err := vacuum(dsn); err != nil {
		return err
	}
	log.Printf("seeded %d active and %d locked users in %s", users, locked, time.Since(start).Round(time.Millisecond))
	token, hash := password.NewToken()
	if _, err := st.CreateToken(ctx, store.Token{Name: "webbench", Role: domain.RoleStaff}, hash, "webbench", "cli"); err != nil {
		return err
	}
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		return err
	}
	srv, err := web.New(web.Config{Store: st})
	if err != nil {
		return err
	}
	hs := &http.Server{Addr: listen, Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	log.Printf("serving on http://%s; token in %s", listen, tokenFile)
	if err := hs.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// freshSchema drops and creates schema and returns dsn with search_path
// set to it.
func freshSchema(dsn, schema string) (string, error) {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.Exec(`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE; CREATE SCHEMA ` + schema); err != nil {
		return "", fmt.Errorf("schema %s: %w", schema, err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("-dsn must be a postgres:// URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// vacuum vacuums and analyses the seeded tables, so that the measurement
// sees a steady state rather than autovacuum catching up.
func vacuum(dsn string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec(`VACUUM ANALYZE`); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	return nil
}

// seed creates org bench and its users, in batches.
func seed(ctx context.Context, st *store.Store, users, locked int) error {
	now := time.Now().UTC()
	lock := &domain.Lock{Reason: domain.LockFailedLogins, At: now, By: domain.ActorSystem, Note: "too many failed logins"}
	const batch = 20000
	for _, set := range []struct {
		prefix string
		n      int
		lock   *domain.Lock
	}{{"user", users, nil}, {"locked", locked, lock}} {
		for lo := 0; lo < set.n; lo += batch {
			var us []domain.User
			for i := lo; i < min(lo+batch, set.n); i++ {
				u := domain.User{Username: fmt.Sprintf("%s%07d", set.prefix, i+1), DisplayName: "Bench User"}
				if set.lock != nil {
					u.Lock, u.FailedLogins, u.LastFailedAt = set.lock, 5, now
				}
				us = append(us, u)
			}
			if _, err := st.Import(ctx, "bench", nil, us, "webbench", "cli"); err != nil {
				return err
			}
		}
	}
	return nil
}
