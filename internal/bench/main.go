// Command bench measures unlockd next to PostgreSQL's own floor, on the
// same machine and database, and prints both sides and their ratios. It is
// a measuring tool, not part of unlockd:
//
//	go run ./internal/bench api -dsn "$UNLOCKD_TEST_POSTGRES"
//
// Each subcommand lives in a file of its own (api.go: the JSON API's hot
// paths under wrk, next to pgbench) and registers itself with register;
// common.go, wrk.go and pgbench.go hold what they share. Every subcommand
// drops and recreates the PostgreSQL schema it is given (-schema) and
// works only there.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"syscall"
)

// command is one subcommand: run parses its own flags from args.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, out io.Writer) error
}

var commands = map[string]command{}

// register adds a subcommand; each subcommand's file calls it from init.
func register(c command) { commands[c.name] = c }

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(errOut)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(errOut, "bench: unknown subcommand %q\n", args[0])
		usage(errOut)
		return 2
	}
	err := c.run(ctx, args[1:], out)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(errOut, "bench %s: %v\n", c.name, err)
		return 2
	}
	fmt.Fprintf(errOut, "bench %s: %v\n", c.name, err)
	return 1
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: go run ./internal/bench <subcommand> [flags]   (-h after a subcommand lists its flags)")
	for _, n := range slices.Sorted(maps.Keys(commands)) {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
}
