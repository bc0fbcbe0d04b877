package main

import (
	"context"
	"database/sql"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
)

func init() {
	register(command{name: "api", run: runAPI,
		summary: "the JSON API's hot paths (GET a user, POST an unlock) under wrk, next to pgbench on the same users"})
}

//go:embed api.lua
var apiScript string

// The API's targets (issue 18): a read at least 40% of PostgreSQL's own
// primary-key read rate, an unlock at least 70% of its one-row commit
// rate, p99 under 20ms.
const (
	apiReadRatio   = 0.40
	apiUnlockRatio = 0.70
	apiMaxP99      = 20 * time.Millisecond
)

// apiFlags are the api subcommand's flags.
type apiFlags struct {
	loadFlags
	users      int
	maxOpen    int
	maxIdle    int
	inProcess  bool
	cpuprofile string
}

func runAPI(ctx context.Context, args []string, out io.Writer) error {
	var f apiFlags
	fs := flag.NewFlagSet("bench api", flag.ContinueOnError)
	f.register(fs, "bench_api")
	fs.IntVar(&f.users, "users", 100000, "users to seed, each locked for failed logins")
	fs.IntVar(&f.maxOpen, "max-open-conns", 0, "serve's database.max_open_conns (0: unlockd's default)")
	fs.IntVar(&f.maxIdle, "max-idle-conns", 0, "serve's database.max_idle_conns (0: unlockd's default)")
	fs.BoolVar(&f.inProcess, "in-process", false, "run the app in this process rather than the built binary (for -cpuprofile)")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "`folder` for CPU profiles of serve during each unlockd load (needs -in-process)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: go run ./internal/bench api [flags]\n\n"+
			"Seeds -users users in org bench of a fresh -schema, starts serve on it, and runs, -rounds times:\n"+
			"pgbench reading one user by primary key, wrk GETting users through the API, pgbench updating\n"+
			"one user and committing, and wrk unlocking a different user with each request. Prints both\n"+
			"sides, their ratios and p99s against the targets; exits 1 when a round misses one.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if err := f.check(); err != nil {
		return err
	}
	switch {
	case f.users < 100 || f.users > 10_000_000:
		return usagef("-users must be between 100 and 10000000")
	case f.maxOpen < 0 || f.maxIdle < 0:
		return usagef("-max-open-conns and -max-idle-conns must not be negative")
	case f.cpuprofile != "" && !f.inProcess:
		return usagef("-cpuprofile needs -in-process: the built binary has no profiler")
	}
	if err := needTools("wrk", "pgbench"); err != nil {
		return err
	}
	return apiBench(ctx, f, out)
}

func apiBench(ctx context.Context, f apiFlags, out io.Writer) error {
	dir, err := os.MkdirTemp("", "unlockd-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dsn, err := freshSchema(ctx, f.dsn, f.schema)
	if err != nil {
		return err
	}
	token, err := apiSeed(ctx, dsn, f.users, out)
	if err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, "unlockd.yaml")
	if err := os.WriteFile(cfgPath, []byte(apiConfig(dsn, addr, f)), 0o600); err != nil {
		return err
	}
	srv, err := startServe(ctx, dir, cfgPath, addr, f.inProcess)
	if err != nil {
		return err
	}
	defer srv.stop()
	lo, hi, err := userIDs(ctx, dsn)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "bench api: %d users, %d connections, %d threads, %v per load, %d rounds, pgbench -M %s\n",
		f.users, f.conns, f.threads, f.duration, f.rounds, f.protocol)
	fmt.Fprintf(out, "serve: %s, %s; machine: %s\n", srv.desc, poolDesc(f), machine())

	reads := &pair{name: "reads", minRatio: apiReadRatio, maxP99: apiMaxP99}
	unlocks := &pair{name: "unlocks", minRatio: apiUnlockRatio, maxP99: apiMaxP99}
	env := []string{"TOKEN=" + token, "USERS=" + strconv.Itoa(f.users)}
	ids := map[string]string{"lo": strconv.FormatInt(lo, 10), "hi": strconv.FormatInt(hi, 10)}
	for round := 1; round <= f.rounds; round++ {
		fmt.Fprintf(out, "round %d\n", round)
		settleWrites := func() error { return settle(ctx, dsn, out, "users", "audit") }
		relockAll := func() error {
			if err := relock(ctx, dsn); err != nil {
				return err
			}
			return settleWrites()
		}
		steps := []struct {
			gen     string
			label   string
			into    *[]result
			prepare func() error
			run     func() (result, error)
		}{
			{"pgbench", "pgbench  SELECT a user by primary key", &reads.floor, nil, func() (result, error) {
				return runPgbench(ctx, f.loadFlags, dir, pgbenchLoad{dsn: f.dsn, schema: f.schema, script: pgbenchRead, vars: ids})
			}},
			{"wrk", "unlockd  GET  /api/v1/orgs/bench/users/{username}", &reads.ours, nil, func() (result, error) {
				return apiLoad(ctx, f, dir, srv, "get", round, env)
			}},
			{"pgbench", "pgbench  UPDATE a user, commit", &unlocks.floor, settleWrites, func() (result, error) {
				return runPgbench(ctx, f.loadFlags, dir, pgbenchLoad{dsn: f.dsn, schema: f.schema, script: pgbenchWrite, vars: ids})
			}},
			{"wrk", "unlockd  POST /api/v1/orgs/bench/users/{username}/unlock", &unlocks.ours, relockAll, func() (result, error) {
				return apiLoad(ctx, f, dir, srv, "unlock", round, env)
			}},
		}
		for _, s := range steps {
			if s.prepare != nil {
				if err := s.prepare(); err != nil {
					return err
				}
			}
			before, start := sampleCPU(), time.Now()
			r, err := s.run()
			if err != nil {
				return err
			}
			*s.into = append(*s.into, r)
			fmt.Fprintf(out, "  %-58s %s\n", s.label, r)
			if split := sampleCPU().split(before, time.Since(start), apiCPU(srv), s.gen, r.CPU); split != "" {
				fmt.Fprintf(out, "  %-58s %s\n", "", split)
			}
		}
		fmt.Fprintf(out, "  ratios: reads %.2f, unlocks %.2f\n", reads.ratio(round-1), unlocks.ratio(round-1))
		if n := unlocks.ours[round-1].Failed; n > 0 {
			fmt.Fprintf(out, "  %d unlocks failed: past %d unlocks the seeded users run out (404); raise -users or shorten -duration\n", n, f.users)
		}
	}
	if missed := summarise(out, []*pair{reads, unlocks}); missed > 0 {
		return fmt.Errorf("%d figures missed a target", missed)
	}
	return nil
}

// apiCPU is where the api loads' CPU goes: serve, and PostgreSQL.
func apiCPU(srv *server) cpuGroups {
	return cpuGroups{pids: map[string]int{"unlockd": srv.pid}, names: map[string][]string{"postgres": {"postgres"}}}
}

// apiLoad runs one of api.lua's loads against the server, with a CPU
// profile of it when asked for.
func apiLoad(ctx context.Context, f apiFlags, dir string, srv *server, mode string, round int, env []string) (result, error) {
	var r result
	prof := ""
	if f.cpuprofile != "" {
		if err := os.MkdirAll(f.cpuprofile, 0o755); err != nil {
			return r, err
		}
		prof = filepath.Join(f.cpuprofile, fmt.Sprintf("%s-%d.pprof", mode, round))
	}
	err := srv.profile(prof, func() error {
		var err error
		r, err = runWrk(ctx, f.loadFlags, dir, wrkLoad{url: srv.url, script: apiScript, env: append(env, "MODE="+mode)})
		return err
	})
	return r, err
}

// The floor's scripts: what the API's two calls must do at least, straight
// on the same users table.
const (
	pgbenchRead = `\set id random(:lo, :hi)
SELECT id, org_id, username, display_name, email, password_hash, lock_reason, locked_at,
	locked_by, lock_note, lock_expires_at, failed_logins, last_failed_at FROM users WHERE id = :id;
`
	pgbenchWrite = `\set id random(:lo, :hi)
UPDATE users SET updated_at = now() WHERE id = :id;
`
)

// apiSeed creates org bench with users u0000001 ... each locked for failed
// logins, and an admin token of the org (as an admin's script would use),
// which it returns.
func apiSeed(ctx context.Context, dsn string, n int, out io.Writer) (string, error) {
	st, err := store.Open(ctx, store.Postgres, dsn)
	if err != nil {
		return "", err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return "", err
	}
	start := time.Now()
	now := time.Now().UTC()
	const batch = 20000
	for lo := 0; lo < n; lo += batch {
		var us []domain.User
		for i := lo; i < min(lo+batch, n); i++ {
			us = append(us, domain.User{Username: fmt.Sprintf("u%07d", i+1), DisplayName: "Bench User",
				Email: fmt.Sprintf("u%07d@bench.example", i+1), FailedLogins: 5, LastFailedAt: now,
				Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: now, By: domain.ActorSystem, Note: "too many failed logins"}})
		}
		if _, err := st.Import(ctx, "bench", nil, us, "bench", "cli"); err != nil {
			return "", err
		}
	}
	token, hash := password.NewToken()
	if _, err := st.CreateToken(ctx, store.Token{Name: "bench", Role: domain.RoleAdmin, OrgSlug: "bench"}, hash, "bench", "cli"); err != nil {
		return "", err
	}
	fmt.Fprintf(out, "seeded %d users in %s\n", n, time.Since(start).Round(time.Millisecond))
	return token, nil
}

// relock locks every seeded user for failed logins again, so that each
// unlock load finds them all locked. It is the bench's own reset, in one
// statement, not an unlockd operation.
func relock(ctx context.Context, dsn string) error {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	return execSQL(ctx, dsn, `UPDATE users SET lock_reason = 'failed_logins', locked_at = '`+now+`',
		locked_by = 'system', lock_note = 'too many failed logins', lock_expires_at = NULL, failed_logins = 5,
		last_failed_at = '`+now+`' WHERE org_id = (SELECT id FROM orgs WHERE slug = 'bench')`)
}

// userIDs are the smallest and largest id of the seeded users, for
// pgbench's random choice.
func userIDs(ctx context.Context, dsn string) (lo, hi int64, err error) {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	err = db.QueryRowContext(ctx, `SELECT min(u.id), max(u.id) FROM users u JOIN orgs o ON o.id = u.org_id
		WHERE o.slug = 'bench'`).Scan(&lo, &hi)
	return lo, hi, err
}

// apiConfig is serve's configuration: the API alone, on addr.
func apiConfig(dsn, addr string, f apiFlags) string {
	var b strings.Builder
	fmt.Fprintf(&b, "database:\n  driver: postgres\n  dsn: %q\n", dsn)
	if f.maxOpen > 0 {
		fmt.Fprintf(&b, "  max_open_conns: %d\n", f.maxOpen)
	}
	if f.maxIdle > 0 {
		fmt.Fprintf(&b, "  max_idle_conns: %d\n", f.maxIdle)
	}
	fmt.Fprintf(&b, "http:\n  listen: %q\nlog:\n  level: warn\n", addr)
	return b.String()
}

func poolDesc(f apiFlags) string {
	open := "default"
	if f.maxOpen > 0 {
		open = strconv.Itoa(f.maxOpen)
	}
	return "database.max_open_conns " + open
}
