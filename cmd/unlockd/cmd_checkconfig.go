package main

import (
	"context"
	"fmt"
)

func cmdCheckConfig(_ context.Context, s streams, args []string) error {
	fs := newFlags("check-config", "check-config --config FILE", s)
	cfgPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "%s: ok (%s database, %d mailbox(es))\n", *cfgPath, cfg.Database.Driver, len(cfg.Mailboxes))
	return nil
}
