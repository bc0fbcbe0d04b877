package main

import (
	"context"
	"log/slog"

	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/demo"
)

const demoUsage = "demo [--listen ADDR]"

func cmdDemo(ctx context.Context, s streams, args []string) error {
	fs := newFlags("demo", demoUsage, s)
	listen := fs.String("listen", "", "HTTP `ADDR` (host:port); default 127.0.0.1:8080, or a free port when that one is taken")
	if err := parseFlags(fs, args); err != nil {
		return err
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
	return demo.Run(ctx, demo.Options{Listen: *listen, Out: s.stdout, Log: log})
}
