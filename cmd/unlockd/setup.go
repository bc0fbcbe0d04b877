package main

import (
	"context"
	"flag"
	"os"

	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/store"
)

// loadConfig reads the --config file; every problem is a usage error, so
// that the exit code is 2 and the message names the key at fault.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return nil, usagef("missing required flag --config")
	}
	cfg, err := config.Load(path, os.LookupEnv)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	return cfg, nil
}

// openStore opens the configured database and applies pending migrations,
// so every command sees the current schema.
func openStore(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	s, err := store.Open(ctx, cfg.Database.Driver, cfg.Database.DSN)
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// withStore loads the configuration at configPath and runs fn with an open,
// migrated store.
func withStore(ctx context.Context, configPath string, fn func(*store.Store) error) error {
	cfg, err := loadConfig(configPath)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// configFlag adds the common --config flag.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "configuration `FILE` (YAML)")
}

// configOnly parses the arguments of a command whose one flag is --config
// (serve, migrate, check-config) and loads that file.
func configOnly(name string, s streams, args []string) (path string, cfg *config.Config, err error) {
	fs := newFlags(name, name+" --config FILE", s)
	cfgPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return "", nil, err
	}
	cfg, err = loadConfig(*cfgPath)
	return *cfgPath, cfg, err
}
