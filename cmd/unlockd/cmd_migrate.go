package main

import (
	"context"
	"fmt"

	"github.com/unlockd/unlockd/internal/store"
)

func cmdMigrate(ctx context.Context, s streams, args []string) error {
	_, cfg, err := configOnly("migrate", s, args)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.Database.Driver, cfg.Database.DSN)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stderr, "applied %d migration(s) to the %s database\n", n, cfg.Database.Driver)
	return nil
}
