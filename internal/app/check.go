package app

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/outbox"
	"github.com/unlockd/unlockd/internal/senderauth"
	"github.com/unlockd/unlockd/internal/store"
)

// CheckResult is one line of `unlockd check-config --connect`: a part of
// the configuration tried live, with what was found or why it failed.
type CheckResult struct {
	// Name says what was tried: "database", "mailbox support: login",
	// "smtp", "dns".
	Name   string
	Detail string
	// Warning is something that works but deserves a look.
	Warning string
	Err     error
	// Skipped is set when a check this one needs failed.
	Skipped bool
	Took    time.Duration
}

// Verdict is "ok", "warn", "FAIL" or "skip".
func (r CheckResult) Verdict() string {
	switch {
	case r.Err != nil:
		return "FAIL"
	case r.Skipped:
		return "skip"
	case r.Warning != "":
		return "warn"
	}
	return "ok"
}

// Check tries every part of cfg that talks to something else, with the
// code serve runs, and reports each result as it comes: the database
// (connects, migrations pending?), each mailbox (connect and TLS, login,
// folders, IDLE and MOVE), SMTP (connect, TLS, AUTH; no mail is sent),
// DNS through sender_auth.dns_resolver (when a mailbox needs sender
// authentication), and each directory. It changes nothing but what serve
// would create at start anyway: the SQLite file is not created, a missing
// processed or rejected folder is. It returns how many checks failed.
func Check(ctx context.Context, cfg *config.Config, report func(CheckResult)) (failed int) {
	for _, c := range checks(cfg) {
		if ctx.Err() != nil {
			break
		}
		for _, r := range c(ctx) {
			if r.Err != nil {
				r.Err = explain(r.Err)
				failed++
			}
			report(r)
		}
	}
	return failed
}

// check runs one part and returns its results, one or more.
type check func(ctx context.Context) []CheckResult

// checks lists what Check tries, in order.
func checks(cfg *config.Config) []check {
	list := []check{func(ctx context.Context) []CheckResult { return []CheckResult{checkDatabase(ctx, cfg)} }}
	for _, mb := range cfg.Mailboxes {
		list = append(list, func(ctx context.Context) []CheckResult { return checkMailbox(ctx, cfg, mb) })
	}
	if cfg.SMTP.Address != "" {
		list = append(list, func(ctx context.Context) []CheckResult {
			return []CheckResult{timed("smtp", func() (string, error) { return outbox.Probe(ctx, cfg.SMTP) })}
		})
	}
	if len(cfg.Mailboxes) > 0 && cfg.SenderAuth.Mode != config.SenderAuthOff && cfg.SenderAuth.Mode != config.SenderAuthResults {
		list = append(list, func(ctx context.Context) []CheckResult { return []CheckResult{checkDNS(ctx, cfg)} })
	}
	for i, d := range cfg.Directories {
		list = append(list, func(ctx context.Context) []CheckResult { return []CheckResult{checkDirectory(ctx, i, d)} })
	}
	return list
}

// timed runs fn as the check named name.
func timed(name string, fn func() (string, error)) CheckResult {
	start := time.Now()
	detail, err := fn()
	return CheckResult{Name: name, Detail: detail, Err: err, Took: time.Since(start)}
}

// checkDatabase connects to the database and counts the migrations it
// lacks; an SQLite file that does not exist yet is left uncreated. Once
// migrated, an org naming a directory the configuration lacks fails it,
// as it would stop serve.
func checkDatabase(ctx context.Context, cfg *config.Config) CheckResult {
	db := cfg.Database
	return timed("database", func() (string, error) {
		if db.Driver == config.DriverSQLite && !strings.HasPrefix(db.DSN, "file:") {
			if _, err := os.Stat(db.DSN); errors.Is(err, os.ErrNotExist) {
				return fmt.Sprintf("sqlite %s does not exist yet: serve and migrate create it", db.DSN), nil
			}
		}
		s, err := store.Open(ctx, db.Driver, db.DSN)
		if err != nil {
			return "", err
		}
		defer s.Close()
		version, pending, err := s.PendingMigrations(ctx)
		if err != nil {
			return "", err
		}
		where := db.Driver
		if db.Driver == config.DriverSQLite {
			where += " " + db.DSN
		}
		if pending > 0 {
			return fmt.Sprintf("%s: connected, at migration %d; %d pending, which serve (or migrate) applies", where, version, pending), nil
		}
		orgs, err := s.Orgs(ctx)
		if err != nil {
			return "", err
		}
		for _, o := range orgs {
			if !cfg.HasDirectory(o.Directory) {
				return "", fmt.Errorf("org %q: directory %q is not configured (directories[].name)", o.Slug, o.Directory)
			}
		}
		return fmt.Sprintf("%s: connected, at migration %d, none pending", where, version), nil
	})
}

// checkMailbox probes one mailbox, a result per step.
func checkMailbox(ctx context.Context, cfg *config.Config, mb config.Mailbox) []CheckResult {
	var out []CheckResult
	for _, st := range intake.Probe(ctx, intakeConfig(cfg, mb)) {
		out = append(out, CheckResult{Name: "mailbox " + mb.Name + ": " + st.Name, Detail: st.Detail,
			Warning: st.Warning, Err: st.Err, Skipped: st.Skipped, Took: st.Took})
	}
	return out
}

// checkDNS asks sender_auth.dns_resolver (or the system's) for a TXT
// record, as DKIM key lookups do: the DMARC record of smtp.from's domain.
func checkDNS(ctx context.Context, cfg *config.Config) CheckResult {
	name := "_dmarc.example.com"
	if from, err := cfg.SMTP.FromAddress(); err == nil {
		name = "_dmarc." + from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	}
	return timed("dns", func() (string, error) {
		return senderauth.ProbeDNS(ctx, cfg.SenderAuth.DNSResolver, name, cfg.SenderAuth.DNSTimeout.Std())
	})
}

// explain adds what to do to errors whose fix is known.
func explain(err error) error {
	var unknownCA x509.UnknownAuthorityError
	if errors.As(err, &unknownCA) {
		return fmt.Errorf("%w (a private CA? name its PEM file in ca_file)", err)
	}
	var hostname x509.HostnameError
	if errors.As(err, &hostname) {
		return fmt.Errorf("%w (the address must name a host the certificate is for)", err)
	}
	return err
}

// checkDirectory builds one directory's adapter, as serve does, and pings
// it (domain.Pinger: for LDAP, connect, TLS and bind).
func checkDirectory(ctx context.Context, i int, d config.Directory) CheckResult {
	return timed("directory "+d.Name, func() (string, error) {
		dir, err := openOne(ctx, i, d, slog.New(slog.DiscardHandler))
		if err != nil {
			return "", err
		}
		if c, ok := dir.(interface{ Close() error }); ok {
			defer c.Close()
		}
		p, ok := dir.(domain.Pinger)
		if !ok {
			return fmt.Sprintf("%s: built; it cannot be pinged", d.Kind), nil
		}
		ctx, cancel := context.WithTimeout(ctx, max(d.Timeout.Std(), time.Second))
		defer cancel()
		if err := p.Ping(ctx); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s: answers", d.Kind), nil
	})
}
