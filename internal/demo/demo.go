package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/unlockd/unlockd/internal/app"
	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/ldaptest"
)

// Options tune Run; the zero value is ready to use.
type Options struct {
	// Listen is the HTTP address. Empty means 127.0.0.1:8080, or a free
	// loopback port when that one is taken.
	Listen string
	// Out receives the printout meant for a person; nil discards it.
	Out io.Writer
	// Log receives the program's own log; nil discards it.
	Log *slog.Logger
	// Directory is where the org's accounts live: DirectoryBuiltin (the
	// default, when empty) or DirectoryLDAP, a slapd started for the run.
	Directory string
}

// withDefaults fills the unset options.
func (o Options) withDefaults() Options {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// mailboxName names the demo's one mailbox in the configuration and store.
const mailboxName = "support"

// demo is one run: the peers, the program and the printout.
type demo struct {
	p      *printer
	imap   *imapServer
	sink   *sink
	signer *signer
	app    *app.App
	ldap   *ldapDemo // nil unless Options.Directory is DirectoryLDAP
	// stopped is closed when app.Run has returned, with its error in runErr.
	stopped chan struct{}
	runErr  error
}

// Run starts everything, seeds the store, delivers the sample requests
// and prints what becomes of them, then serves HTTP until ctx ends and
// stops cleanly. It returns nil when ctx ends, and an error when something
// fails to start or a sample is not decided in time.
func Run(ctx context.Context, opts Options) error {
	start := time.Now()
	opts = opts.withDefaults()
	switch opts.Directory {
	case "", DirectoryBuiltin, DirectoryLDAP:
	default:
		return fmt.Errorf("demo: directory %q must be %s or %s", opts.Directory, DirectoryBuiltin, DirectoryLDAP)
	}
	if opts.Directory == DirectoryLDAP && !ldaptest.Installed() {
		return ErrNoSlapd
	}
	dir, err := os.MkdirTemp("", "unlockd-demo-")
	if err != nil {
		return fmt.Errorf("demo: temporary folder: %w", err)
	}
	defer os.RemoveAll(dir)

	d := &demo{p: &printer{w: opts.Out}, stopped: make(chan struct{})}
	defer d.close()
	if err := d.start(ctx, dir, opts); err != nil {
		return err
	}
	appCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { d.runErr = d.app.Run(appCtx); close(d.stopped) }()

	err = d.play(ctx, start)
	stop()
	err = d.wait(err)
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil // asked to stop
	}
	return err
}

// start brings up the peers and the program, in that order.
func (d *demo) start(ctx context.Context, dir string, opts Options) error {
	var err error
	if d.imap, err = startIMAP(); err != nil {
		return err
	}
	if d.sink, err = startSink(); err != nil {
		return err
	}
	if d.signer, err = newSigner(orgDomain); err != nil {
		return err
	}
	cfg, err := newConfig(dir, opts.Listen, d.imap, d.sink)
	if err != nil {
		return err
	}
	if opts.Directory == DirectoryLDAP {
		if d.ldap, err = startLDAP(); err != nil {
			return err
		}
		cfg.Directories = []config.Directory{d.ldap.directory()}
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("demo: configuration: %w", err)
		}
		fmt.Fprintf(d.p.w, "slapd (OpenLDAP with ppolicy) at %s holds org %s's accounts: directory %s.\n", d.ldap.slapd.URL(), orgSlug, ldapName)
	}
	aopts := app.Options{LookupTXT: d.signer.lookupTXT}
	d.app, err = app.New(ctx, cfg, opts.Log, aopts)
	var opErr *net.OpError
	if err != nil && opts.Listen == "" && errors.As(err, &opErr) && opErr.Op == "listen" {
		fmt.Fprintf(d.p.w, "%s is taken; the HTTP server listens on a free port instead.\n", cfg.HTTP.Listen)
		cfg.HTTP.Listen = "127.0.0.1:0"
		d.app, err = app.New(ctx, cfg, opts.Log, aopts)
	}
	if err != nil {
		return fmt.Errorf("demo: start unlockd: %w", err)
	}
	d.p.header(dir, d.imap.addr, d.sink.addr, d.signer.recordName(), d.app.Addr())
	return nil
}

// newConfig is the configuration of the demo: every address is one of the
// in-process peers, and the store is a file in dir.
func newConfig(dir, listen string, im *imapServer, sk *sink) (*config.Config, error) {
	cfg := config.Default()
	cfg.Database = config.Database{Driver: config.DriverSQLite, DSN: filepath.Join(dir, "unlockd.db")}
	mb := config.DefaultMailbox(mailboxName)
	mb.IMAP.Address, mb.IMAP.TLS = im.addr, config.TLSNone
	mb.IMAP.Username, mb.IMAP.Password = imapUser, im.password
	mb.IMAP.ProcessedFolder, mb.IMAP.RejectedFolder = "Processed", "Rejected"
	cfg.Mailboxes = []config.Mailbox{mb}
	cfg.SMTP.Address, cfg.SMTP.TLS, cfg.SMTP.From = sk.addr, config.TLSNone, supportEmail
	cfg.SenderAuth.Mode = config.SenderAuthDKIM
	if listen != "" {
		cfg.HTTP.Listen = listen
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("demo: configuration: %w", err)
	}
	return cfg, nil
}

// play seeds the store, delivers the samples one by one, prints the
// summary and sign-in, then prints any later mail (an approval from the
// web UI, say) until ctx ends.
func (d *demo) play(ctx context.Context, start time.Time) error {
	accounts, err := seed(ctx, d.app.Store, d.ldap != nil)
	if err != nil {
		return err
	}
	if err := d.seeded(ctx); err != nil {
		return err
	}
	var total tally
	for i, s := range samples {
		t, err := d.deliver(ctx, i+1, s)
		if err != nil {
			return err
		}
		total.add(t)
	}
	if d.ldap != nil {
		state, err := d.ldap.lockState(users[0].username)
		if err != nil {
			return err
		}
		fmt.Fprintf(d.p.w, "\nslapd, searched afresh: %s is %s.\n", users[0].username, state)
	}
	d.p.summary(len(samples), total, time.Since(start))
	if err := d.p.signIns(ctx, d.app.Store, d.app.Addr(), accounts); err != nil {
		return err
	}
	for {
		select {
		case c := <-d.sink.mail:
			d.p.mail(c)
		case <-d.stopped:
			return d.halted(ctx)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// halted says why the run cannot go on once app.Run has returned: ctx
// ended, or a component failed.
func (d *demo) halted(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("demo: unlockd stopped: %w", d.runErr)
}

// wait waits for app.Run to return, printing mail delivered meanwhile, and
// returns err, or else Run's error.
func (d *demo) wait(err error) error {
	for {
		select {
		case c := <-d.sink.mail:
			d.p.mail(c)
		case <-d.stopped:
			if err != nil {
				return err
			}
			return d.runErr
		}
	}
}

// close releases what start made, the program first.
func (d *demo) close() {
	if d.app != nil {
		d.app.Close()
	}
	if d.sink != nil {
		d.sink.close()
	}
	if d.imap != nil {
		d.imap.close()
	}
	d.ldap.close()
}
