package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/unlockd/unlockd/internal/app"
	"github.com/unlockd/unlockd/internal/config"
)

func cmdServe(ctx context.Context, s streams, args []string) error {
	_, cfg, err := configOnly("serve", s, args)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, s.stderr)
	if cfg.SenderAuth.Mode == config.SenderAuthOff {
		log.Warn("sender_auth.mode is off: any From line is believed; use this for local demos only")
	}
	a, err := app.New(ctx, cfg, log, app.Options{})
	var ps *config.Problems
	if errors.As(err, &ps) {
		// A directory statement that does not prepare, an org naming a
		// directory not configured: the configuration's fault, exit 2.
		return usagef("configuration: %v", err)
	}
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}

// newLogger builds the slog logger that log.level and log.format ask for.
func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == config.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
