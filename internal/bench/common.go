package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	_ "github.com/lib/pq" // the bench's own set-up queries
)

// loadFlags are the flags every subcommand shares: where to measure and
// how hard.
type loadFlags struct {
	dsn      string
	schema   string
	duration time.Duration
	conns    int
	threads  int
	rounds   int
	protocol string // pgbench -M
}

func (l *loadFlags) register(fs *flag.FlagSet, schema string) {
	fs.StringVar(&l.dsn, "dsn", os.Getenv("UNLOCKD_TEST_POSTGRES"),
		"PostgreSQL `URL` for unlockd, pgbench and the set-up, a plain postgres:// URL both lib/pq and libpq read (default $UNLOCKD_TEST_POSTGRES)")
	fs.StringVar(&l.schema, "schema", schema, "`schema` to drop, create and measure in; nothing else is touched")
	fs.DurationVar(&l.duration, "duration", 10*time.Second, "length of each load, whole seconds")
	fs.IntVar(&l.conns, "connections", 32, "concurrent clients: wrk connections and pgbench clients alike")
	fs.IntVar(&l.threads, "threads", 2, "wrk and pgbench threads")
	fs.IntVar(&l.rounds, "rounds", 2, "times each load runs, alternating unlockd and pgbench")
	fs.StringVar(&l.protocol, "pgbench-protocol", "simple",
		"pgbench's query `protocol`: simple (pgbench's own default, as pgbench -S runs) or prepared (a higher floor: no parsing or planning per query)")
}

// check reports the first bad flag, naming it.
func (l *loadFlags) check() error {
	switch {
	case l.dsn == "":
		return usagef("-dsn is required (or set UNLOCKD_TEST_POSTGRES)")
	case !strings.HasPrefix(l.dsn, "postgres://") && !strings.HasPrefix(l.dsn, "postgresql://"):
		return usagef("-dsn must be a postgres:// URL")
	case !validSchema(l.schema):
		return usagef("-schema %q must be lower-case letters, digits and _, starting with a letter", l.schema)
	case l.duration < time.Second || l.duration%time.Second != 0:
		return usagef("-duration must be whole seconds, at least 1s")
	case l.conns < 1 || l.conns > 1000:
		return usagef("-connections must be between 1 and 1000")
	case l.threads < 1 || l.threads > l.conns:
		return usagef("-threads must be between 1 and -connections")
	case l.rounds < 1 || l.rounds > 100:
		return usagef("-rounds must be between 1 and 100")
	case l.protocol != "prepared" && l.protocol != "simple":
		return usagef("-pgbench-protocol must be prepared or simple")
	}
	if _, err := url.Parse(l.dsn); err != nil {
		return usagef("-dsn is not a valid URL")
	}
	return nil
}

func validSchema(s string) bool {
	if s == "" || len(s) > 63 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// needTools fails, saying how to install them, when a program the
// measurement runs is missing.
func needTools(names ...string) error {
	install := map[string]string{"wrk": "wrk", "pgbench": "postgresql-client"}
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			return fmt.Errorf("%s is not installed: apt-get install -y %s", n, install[n])
		}
	}
	return nil
}

// freshSchema drops and creates schema and returns dsn with search_path
// set to it, for unlockd.
func freshSchema(ctx context.Context, dsn, schema string) (string, error) {
	if err := execSQL(ctx, dsn, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`, `CREATE SCHEMA `+schema); err != nil {
		return "", fmt.Errorf("schema %s: %w", schema, err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// execSQL runs statements, one after another, on a connection of its own.
func execSQL(ctx context.Context, dsn string, statements ...string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, q := range statements {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", strings.Fields(q)[0], err)
		}
	}
	return nil
}

// settle vacuums tables (of the schema dsn's search_path names) and
// checkpoints, so that each load starts from the same state, not with
// autovacuum or a checkpoint catching up with the load before it. A
// checkpoint needs rights the DSN's role may not have; without them it is
// left out, with a note.
func settle(ctx context.Context, dsn string, out io.Writer, tables ...string) error {
	for _, t := range tables {
		if err := execSQL(ctx, dsn, `VACUUM ANALYZE `+t); err != nil {
			return err
		}
	}
	if err := execSQL(ctx, dsn, `CHECKPOINT`); err != nil {
		fmt.Fprintf(out, "  (no checkpoint before the load: %v)\n", err)
	}
	return nil
}

// freeAddr returns a loopback address with a port free at the moment.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// loadAverage is the machine's one-minute load average, or -1.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// machine describes where the figures come from.
func machine() string {
	s := fmt.Sprintf("%d CPUs", runtime.NumCPU())
	if l := loadAverage(); l >= 0 {
		s += fmt.Sprintf(", load average %.2f", l)
		if l > 0.5 {
			s += " (not quiet: other work shares the machine)"
		}
	}
	return s
}
