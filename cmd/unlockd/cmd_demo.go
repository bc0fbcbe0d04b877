package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/demo"
)

const demoUsage = "demo [--listen ADDR] [--directory builtin|ldap]"

func cmdDemo(ctx context.Context, s streams, args []string) error {
	fs := newFlags("demo", demoUsage, s)
	listen := fs.String("listen", "", "HTTP `ADDR` (host:port); default 127.0.0.1:8080, or a free port when that one is taken")
	directory := fs.String("directory", demo.DirectoryBuiltin, "where the org's accounts live: `builtin` (unlockd's tables) or ldap (a slapd started for the demo)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *directory != demo.DirectoryBuiltin && *directory != demo.DirectoryLDAP {
		return usagef("--directory %q must be builtin or ldap", *directory)
	}
	if *listen != "" {
		// The same rules as http.listen in a configuration file.
		cfg := config.Default()
		cfg.HTTP.Listen = *listen
		if err := cfg.Validate(); err != nil {
			return usagef("--listen %q: %v", *listen, err)
		}
	}
	log := slog.New(slog.NewTextHandler(s.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	err := demo.Run(ctx, demo.Options{Listen: *listen, Out: s.stdout, Log: log, Directory: *directory})
	if errors.Is(err, demo.ErrNoSlapd) {
		return usagef("%v", err) // exit 2: what is missing is the machine's, not a failure of the run
	}
	return err
}
