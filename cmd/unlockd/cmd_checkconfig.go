package main

import (
	"context"
	"fmt"
)

func cmdCheckConfig(_ context.Context, s streams, args []string) error {
	cfgPath, cfg, err := configOnly("check-config", s, args)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "%s: ok (%s database, %d mailbox(es))\n", cfgPath, cfg.Database.Driver, len(cfg.Mailboxes))
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(s.stderr, "%s: warning: %s\n", cfgPath, w)
	}
	return nil
}
