// Command unlockd is the email-driven account-unlock service. See README.md
// and the SPEC for the commands; each prints its own help with --help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/unlockd/unlockd/internal/domain"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal asks for a graceful stop; restoring the default
	// handling then lets a second one end the process at once.
	go func() { <-ctx.Done(); stop() }()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes (SPEC §6).
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError is bad usage or configuration: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// flagError turns err, a domain error about the value given to --flag,
// into a usage error naming the flag. The domain's messages name their
// field first ("org is required for role admin"), so a message that starts
// with the flag's name reads as "--org is required for role admin"; any
// other is prefixed "--org: ".
func flagError(flag string, err error) error {
	msg := domain.ErrorMessage(err)
	if strings.HasPrefix(msg, flag+" ") {
		return &usageError{"--" + msg}
	}
	return &usageError{"--" + flag + ": " + msg}
}

// orgFlag checks the value of --org, when one is given, as a slug.
func orgFlag(slug string) error {
	if slug == "" {
		return nil
	}
	if err := domain.ValidateSlug(slug); err != nil {
		return flagError("org", err)
	}
	return nil
}

// unknownOrg turns a store's "org not found" into a usage error naming
// --org, the flag that named it; other errors pass.
func unknownOrg(err error) error {
	if errors.Is(err, domain.ErrNotFound) {
		return flagError("org", err)
	}
	return err
}

// streams are a command's standard input and output.
type streams struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, io streams, args []string) error
}

var commands = map[string]command{
	"serve":        {"run intake, outbox and HTTP; applies pending migrations first", cmdServe},
	"migrate":      {"apply database migrations and exit", cmdMigrate},
	"demo":         {"run everything embedded with sample data; no configuration", cmdDemo},
	"token":        {"manage API tokens: token create, list, revoke", cmdToken},
	"operator":     {"manage web-UI accounts: operator add, list, remove, unlock, reset-totp", cmdOperator},
	"dead-mail":    {"mail given up on: dead-mail list, retry, discard", cmdDeadMail},
	"import":       {"import contacts and users from CSV, all or nothing", cmdImport},
	"check-config": {"validate a configuration file; --connect tries it live", cmdCheckConfig},
	"version":      {"print the version", cmdVersion},
}

// run executes the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	s := streams{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	name := args[0]
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "unlockd: unknown command %q\n\n", name)
		printUsage(stderr)
		return exitUsage
	}
	err := cmd.run(ctx, s, args[1:])
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "unlockd %s: %v\n", name, err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "unlockd %s: %v\n", name, err)
		return exitFailure
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: unlockd <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-13s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'unlockd <command> --help' for a command's flags.")
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name, usage string, s streams) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(s.stderr)
	fs.Usage = func() {
		fmt.Fprintf(s.stderr, "Usage: unlockd %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning flag errors into usage errors and
// rejecting positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// required checks that every named string flag was given a value.
func required(fs *flag.FlagSet, names ...string) error {
	var missing []string
	for _, n := range names {
		if fs.Lookup(n).Value.String() == "" {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) > 0 {
		return usagef("missing required flag %s", strings.Join(missing, ", "))
	}
	return nil
}
