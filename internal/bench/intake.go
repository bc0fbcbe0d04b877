package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/senderauth/senderauthtest"
	"github.com/unlockd/unlockd/internal/store"
)

func init() {
	register(command{name: "intake", run: runIntake,
		summary: "serve draining N DKIM-signed requests from Dovecot (or the in-process IMAP server), next to a raw fetch of the same mailbox"})
}

// Issue 17's targets for a drain into PostgreSQL: the least that resolves
// it, and the goal.
const (
	intakeLeast = 2000
	intakeGoal  = 5000
)

// intakeFlags are the intake subcommand's flags.
type intakeFlags struct {
	dsn        string
	schema     string
	stores     []string
	imap       string
	messages   int
	rounds     int
	inProcess  bool
	cpuprofile string
}

func runIntake(ctx context.Context, args []string, out io.Writer) error {
	var f intakeFlags
	var stores string
	fs := flag.NewFlagSet("bench intake", flag.ContinueOnError)
	fs.StringVar(&f.dsn, "dsn", os.Getenv("UNLOCKD_TEST_POSTGRES"), "PostgreSQL `URL` for -store postgres (default $UNLOCKD_TEST_POSTGRES)")
	fs.StringVar(&f.schema, "schema", "bench_intake", "PostgreSQL `schema` to drop, create and drain into; nothing else is touched")
	fs.StringVar(&stores, "store", "postgres,sqlite", "stores to drain into, in turn: postgres, sqlite or both")
	fs.StringVar(&f.imap, "imap", "dovecot", "IMAP server: dovecot (Debian's dovecot-imapd, started here; needs root) or memory (in this process)")
	fs.IntVar(&f.messages, "messages", 10000, "signed requests in the mailbox, one per locked user")
	fs.IntVar(&f.rounds, "rounds", 2, "drains per store, each into a fresh store from a freshly filled mailbox")
	fs.BoolVar(&f.inProcess, "in-process", false, "run the app in this process rather than the built binary (for -cpuprofile)")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "`folder` for CPU profiles of serve during each drain (needs -in-process)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: go run ./internal/bench intake [flags]\n\n"+
			"Fills an IMAP mailbox with -messages DKIM-signed requests from a contact, each for a user locked\n"+
			"for failed logins; times one IMAP session fetching every body (the floor); then starts the built\n"+
			"serve on a fresh store and times it until every message is decided and moved. Checks every user\n"+
			"was unlocked and every reply queued (SMTP points at a closed port, so replies wait in the outbox\n"+
			"and the figure is intake's own), and prints msg/s, the ratio to the floor and where the CPU went.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	f.stores = strings.Split(stores, ",")
	for _, s := range f.stores {
		if s != store.Postgres && s != store.SQLite {
			return usagef("-store: %q is neither postgres nor sqlite", s)
		}
	}
	switch {
	case slices.Contains(f.stores, store.Postgres) && f.dsn == "":
		return usagef("-store postgres needs -dsn (or UNLOCKD_TEST_POSTGRES)")
	case !validSchema(f.schema):
		return usagef("-schema %q must be lower-case letters, digits and _, starting with a letter", f.schema)
	case f.imap != "dovecot" && f.imap != "memory":
		return usagef("-imap must be dovecot or memory")
	case f.messages < 1 || f.messages > 1_000_000:
		return usagef("-messages must be between 1 and 1000000")
	case f.rounds < 1 || f.rounds > 100:
		return usagef("-rounds must be between 1 and 100")
	case f.cpuprofile != "" && !f.inProcess:
		return usagef("-cpuprofile needs -in-process: the built binary has no profiler")
	}
	return intakeBench(ctx, f, out)
}

func intakeBench(ctx context.Context, f intakeFlags, out io.Writer) error {
	dir, err := os.MkdirTemp("", "unlockd-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if _, err := buildServe(ctx, dir); err != nil {
		return err
	}
	signer, err := senderauthtest.GenerateSigner("acme.example")
	if err != nil {
		return err
	}
	dns, err := mailtest.NewDNS(map[string]string{signer.RecordName(): signer.Record()})
	if err != nil {
		return err
	}
	defer dns.Close()
	began := time.Now()
	msgs := signedRequests(signer, f.messages)
	fmt.Fprintf(out, "bench intake: %d signed requests (signed in %s), %s IMAP, %d rounds per store; machine: %s\n",
		f.messages, time.Since(began).Round(time.Millisecond), f.imap, f.rounds, machine())
	rates := map[string][]float64{}
	for _, kind := range f.stores {
		for round := 1; round <= f.rounds; round++ {
			d, err := drainOnce(ctx, f, dir, kind, dns.Addr, msgs)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", kind, round, err)
			}
			rates[kind] = append(rates[kind], d.rate())
			fmt.Fprintf(out, "  %-8s round %d: serve drained %d in %s: %s msg/s; raw fetch %s: %s msg/s; ratio %.3f\n",
				kind, round, f.messages, d.took.Round(time.Millisecond), thousands(d.rate()),
				d.floor.Round(time.Millisecond), thousands(d.floorRate()), d.rate()/d.floorRate())
			if d.cpu != "" {
				fmt.Fprintf(out, "  %-8s          %s\n", "", d.cpu)
			}
		}
	}
	fmt.Fprintln(out, "summary:")
	for _, kind := range f.stores {
		var rs []string
		for _, r := range rates[kind] {
			rs = append(rs, thousands(r))
		}
		line := fmt.Sprintf("  %-8s msg/s %s", kind, strings.Join(rs, ", "))
		if kind == store.Postgres {
			line += fmt.Sprintf(" (issue 17: at least %s, goal %s)", thousands(intakeLeast), thousands(intakeGoal))
		}
		fmt.Fprintln(out, line)
	}
	return nil
}

// signedRequests are n requests from the contact, one per user, signed in
// parallel.
func signedRequests(s *senderauthtest.Signer, n int) [][]byte {
	msgs := make([][]byte, n)
	parallel(n, func(i int) {
		msgs[i] = s.Sign(fmt.Appendf(nil, "From: it@acme.example\r\nTo: support@unlockd.example\r\n"+
			"Subject: Unlock: user%d\r\nMessage-ID: <req%d@acme.example>\r\nDate: %s\r\n\r\nHello,\r\n\r\nplease unlock user%d.\r\n",
			i, i, time.Now().Format(time.RFC1123Z), i))
	})
	return msgs
}

// drain is one drain's figures.
type drain struct {
	n           int
	took, floor time.Duration
	cpu         string
}

func (d drain) rate() float64      { return float64(d.n) / d.took.Seconds() }
func (d drain) floorRate() float64 { return float64(d.n) / d.floor.Seconds() }

// drainOnce fills a fresh mailbox, times the floor, and times serve
// draining it into a fresh store of kind, then checks the outcome.
func drainOnce(ctx context.Context, f intakeFlags, dir, kind, dnsAddr string, msgs [][]byte) (drain, error) {
	d := drain{n: len(msgs)}
	box, err := fillMailbox(f.imap, msgs)
	if err != nil {
		return d, err
	}
	defer box.close()
	n, floor, err := mailtest.FetchAll(box.addr, box.user, box.password)
	switch {
	case err != nil:
		return d, err
	case n != len(msgs):
		return d, fmt.Errorf("the raw fetch found %d of %d messages", n, len(msgs))
	}
	d.floor = floor
	dsn, err := seedIntakeStore(ctx, f, dir, kind, len(msgs))
	if err != nil {
		return d, err
	}
	addr, err := freeAddr()
	if err != nil {
		return d, err
	}
	closed, err := freeAddr() // nothing listens: replies wait in the outbox
	if err != nil {
		return d, err
	}
	cfgPath := filepath.Join(dir, "unlockd.yaml")
	cfg := fmt.Sprintf(`database: {driver: %s, dsn: %q}
mailboxes:
  - name: support
    imap: {address: %q, tls: none, username: %q, password: %q, processed_folder: Processed, rejected_folder: Rejected}
smtp: {address: %q, tls: none, from: support@unlockd.example}
sender_auth: {mode: dkim, dns_resolver: %q}
http: {listen: %q}
log: {level: warn}
`, kind, dsn, box.addr, box.user, box.password, closed, dnsAddr, addr)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return d, err
	}
	watch, err := store.Open(ctx, kind, dsn) // to see the decisions come in
	if err != nil {
		return d, err
	}
	defer watch.Close()
	before, start := sampleCPU(), time.Now()
	srv, err := startServe(ctx, dir, cfgPath, addr, f.inProcess)
	if err != nil {
		return d, err
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.stop()
		}
	}()
	prof := ""
	if f.cpuprofile != "" {
		if err := os.MkdirAll(f.cpuprofile, 0o755); err != nil {
			return d, err
		}
		prof = filepath.Join(f.cpuprofile, fmt.Sprintf("intake-%s-%d.pprof", kind, time.Now().UnixNano()))
	}
	if err := srv.profile(prof, func() error { return awaitDrained(ctx, watch, box, len(msgs), start, dir) }); err != nil {
		return d, err
	}
	d.took = time.Since(start)
	groups := cpuGroups{pids: map[string]int{"unlockd": srv.pid}, names: map[string][]string{"postgres": {"postgres"}}}
	if box.dovecot {
		groups.names["dovecot"] = []string{"dovecot", "imap", "imap-login", "auth", "indexer", "indexer-worker", "anvil", "log", "config", "stats"}
	} else {
		groups.pids["bench (imap server)"] = os.Getpid()
	}
	d.cpu = sampleCPU().split(before, d.took, groups, "", 0)
	stopped = true
	if err := srv.stop(); err != nil {
		return d, fmt.Errorf("serve: %w", err)
	}
	return d, checkDrained(ctx, kind, dsn, len(msgs))
}

// awaitDrained waits until serve has decided all n messages and moved them
// out of the INBOX. It asks the store for the count of decisions (cheap)
// until all are in, and only then reads the mailbox's folders, whose
// listing costs CPU in proportion to the messages in them: polling those
// alone would take a share of the cores the drain runs on.
func awaitDrained(ctx context.Context, watch *store.Store, box *mailbox, n int, start time.Time, dir string) error {
	for {
		every := 50 * time.Millisecond
		decided, err := watch.CountDecisions(ctx, "support")
		if err != nil {
			return err
		}
		if decided >= n {
			left, err := box.left(n)
			if err != nil {
				return err
			}
			if left == 0 {
				return nil
			}
			every = 2 * time.Millisecond
		}
		if time.Since(start) > 10*time.Minute {
			return fmt.Errorf("%d of %d messages decided after 10 minutes (see %s)", decided, n, filepath.Join(dir, "serve.log"))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}
