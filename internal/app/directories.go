package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/unlockd/unlockd/internal/apply"
	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/directory/ldap"
	"github.com/unlockd/unlockd/internal/directory/sqltable"
	"github.com/unlockd/unlockd/internal/directory/webhook"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/metrics"
)

// openDirectory builds the adapter of one configured directory. ctx
// bounds what building it may do (sql prepares its statements).
type openDirectory func(ctx context.Context, d config.Directory, log *slog.Logger) (domain.Directory, error)

// directoryKinds maps each kind of config's kind table to its adapter's
// constructor. builtin is implicit: unlockd's own tables, not a remote
// directory. A new kind is one entry here.
var directoryKinds = map[string]openDirectory{
	config.DirectoryLDAP:    openLDAP,
	config.DirectorySQL:     openSQL,
	config.DirectoryWebhook: openWebhook,
}

// openLDAP builds an ldap directory (internal/directory/ldap).
func openLDAP(_ context.Context, d config.Directory, _ *slog.Logger) (domain.Directory, error) {
	return ldap.Open(d.Name, ldap.Config{Server: d.Server, URL: d.URL, StartTLS: d.StartTLS, CAFile: d.CAFile,
		BindDN: d.BindDN, BindPassword: d.BindPassword, BaseDN: d.BaseDN, UserFilter: d.UserFilter,
		DefaultPolicyDN: d.DefaultPolicyDN, Timeout: d.Timeout.Std()})
}

// openSQL builds an sql directory (internal/directory/sqltable): it
// connects and prepares the statements.
func openSQL(ctx context.Context, d config.Directory, _ *slog.Logger) (domain.Directory, error) {
	return sqltable.Open(ctx, d.Name, sqltable.Config{Driver: d.Driver, DSN: d.DSN, Timeout: d.Timeout.Std(),
		MaxConns: d.MaxConns, FailedReasons: d.FailedReasons, PasswordScheme: d.PasswordScheme,
		Lookup: d.Lookup, Unlock: d.Unlock, Lock: d.Lock, List: d.List, SetPassword: d.SetPassword})
}

// openWebhook builds a webhook directory (internal/directory/webhook),
// without calling it.
func openWebhook(ctx context.Context, d config.Directory, _ *slog.Logger) (domain.Directory, error) {
	return webhook.Open(ctx, d.Name, webhook.Config{URL: d.URL, Secret: d.Secret, CAFile: d.CAFile,
		Timeout: d.Timeout.Std(), MaxAttempts: d.MaxAttempts})
}

// openOne builds directories[i]. An error that is not temporary (a
// statement that does not prepare, a bad key the adapter refuses) is a
// configuration problem at directories[i], so that serve and check-config
// report it as the configuration's fault; a directory that cannot be
// reached is not.
func openOne(ctx context.Context, i int, d config.Directory, log *slog.Logger) (domain.Directory, error) {
	path := fmt.Sprintf("directories[%d]", i)
	open, ok := directoryKinds[d.Kind]
	if !ok {
		return nil, fmt.Errorf("app: %s.kind: %q has no adapter in this build", path, d.Kind)
	}
	dir, err := open(ctx, d, log)
	switch {
	case err == nil:
		return dir, nil
	case domain.IsTemporary(err):
		return nil, fmt.Errorf("app: %s (%s): %w", path, d.Name, err)
	}
	return nil, &config.Problems{List: []config.Problem{{Path: path, Message: err.Error()}}}
}

// closeDirectories releases the directories' connections.
func (a *App) closeDirectories() { closeAll(a.directories, a.log) }

// closeAll closes each directory that holds connections.
func closeAll(dirs map[string]domain.Directory, log *slog.Logger) {
	for name, d := range dirs {
		if c, ok := d.(interface{ Close() error }); ok {
			if err := c.Close(); err != nil {
				log.Warn("close directory", slog.String("directory", name), slog.Any("error", err))
			}
		}
	}
}

// openDirectories builds every configured directory, by name.
func openDirectories(ctx context.Context, cfg *config.Config, log *slog.Logger) (map[string]domain.Directory, error) {
	out := map[string]domain.Directory{}
	for i, d := range cfg.Directories {
		dir, err := openOne(ctx, i, d, log.With("directory", d.Name))
		if err != nil {
			closeAll(out, log)
			return nil, err
		}
		out[d.Name] = dir
	}
	return out, nil
}

// checkOrgDirectories refuses to start when an org names a directory that
// is not configured: its requests could be decided by nobody.
func (a *App) checkOrgDirectories(ctx context.Context) error {
	orgs, err := a.Store.Orgs(ctx)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		if !a.cfg.HasDirectory(o.Directory) {
			return &config.Problems{List: []config.Problem{{Path: "directories",
				Message: fmt.Sprintf("org %q: directory %q is not configured (directories[].name)", o.Slug, o.Directory)}}}
		}
	}
	return nil
}

// buildApplier builds the worker of remote unlocks, when directories are
// configured.
func (a *App) buildApplier() {
	if len(a.directories) == 0 {
		return
	}
	cfg := apply.Config{Directories: a.directories, MaxAge: a.cfg.Limits.DirectoryApplyMaxAge.Std(),
		OnAnswer: a.directoryState, Unlocked: func(approval bool) {
			channel := metrics.ChannelEmail
			if approval {
				channel = metrics.ChannelReview
			}
			a.metrics.Unlocked(channel, 1)
		}}
	if a.renderer != nil {
		cfg.Render = a.renderer.Answer
	}
	if a.worker != nil {
		cfg.Queued = a.worker.Wake
	}
	if a.opts.Apply != nil {
		a.opts.Apply(&cfg)
	}
	a.applier = apply.New(cfg, a.Store, a.log.With("component", "apply"))
}

// directoryNames lists the configured directories, sorted.
func (a *App) directoryNames() []string {
	names := make([]string, 0, len(a.directories))
	for n := range a.directories {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
