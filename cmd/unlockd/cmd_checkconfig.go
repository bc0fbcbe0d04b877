package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/app"
	"github.com/unlockd/unlockd/internal/config"
)

const checkConfigUsage = "check-config --config FILE [--connect]"

func cmdCheckConfig(ctx context.Context, s streams, args []string) error {
	fs := newFlags("check-config", checkConfigUsage, s)
	cfgPath := configFlag(fs)
	connect := fs.Bool("connect", false, "then try the database, each mailbox, SMTP and DNS live, a line per check")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "%s: ok (%s database, %d mailbox(es))\n", *cfgPath, cfg.Database.Driver, len(cfg.Mailboxes))
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(s.stderr, "%s: warning: %s\n", *cfgPath, w)
	}
	if !*connect {
		return nil
	}
	return checkConnect(ctx, s, cfg)
}

// checkConnect runs the live checks (app.Check) and prints a line for
// each, as it ends: verdict, what, how long, and what was found or why it
// failed. Every secret of cfg is scrubbed from the output, whatever a
// server's answer quotes. Any failure is exit 1.
func checkConnect(ctx context.Context, s streams, cfg *config.Config) error {
	scrub := scrubber(cfg.Secrets())
	total := 0
	failed := app.Check(ctx, cfg, func(r app.CheckResult) {
		total++
		text := r.Detail
		switch {
		case r.Err != nil:
			text = r.Err.Error()
		case r.Warning != "" && text != "":
			text += "; " + r.Warning
		case r.Warning != "":
			text = r.Warning
		}
		took := ""
		switch {
		case r.Skipped:
		case r.Took < time.Millisecond:
			took = "<1ms"
		default:
			took = r.Took.Round(time.Millisecond).String()
		}
		fmt.Fprintf(s.stdout, "%-4s  %-30s %8s  %s\n", r.Verdict(), r.Name, took, cell(scrub.Replace(text), 1000))
	})
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped: %w", err)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d checks failed", failed, total)
	}
	fmt.Fprintf(s.stdout, "all %d checks passed\n", total)
	return nil
}

// scrubber replaces each secret with "***", longest first, so that a
// secret containing another is hidden whole.
func scrubber(secrets []string) *strings.Replacer {
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	var pairs []string
	for _, sec := range secrets {
		pairs = append(pairs, sec, "***")
	}
	return strings.NewReplacer(pairs...)
}
