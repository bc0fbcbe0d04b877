package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"
)

// subcommands maps the subcommand names of a command (token create, token
// list, ...) to what each runs and its usage line.
type subcommands map[string]struct {
	usage string
	run   func(ctx context.Context, s streams, args []string) error
}

// dispatch runs the subcommand args[0] names; bare --help prints every
// usage line.
func (subs subcommands) dispatch(ctx context.Context, s streams, cmd string, args []string) error {
	if len(args) > 0 {
		if sub, ok := subs[args[0]]; ok {
			return sub.run(ctx, s, args[1:])
		}
	}
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString("\n       ")
		}
		b.WriteString("unlockd " + subs[n].usage)
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(s.stderr, "Usage: "+b.String())
		return flag.ErrHelp
	}
	if len(args) > 0 {
		return usagef("unknown subcommand %q; usage: %s", args[0], b.String())
	}
	return usagef("usage: %s", b.String())
}

// parseWithArg parses args with one positional argument (named what in
// errors) before, between or after the flags.
func parseWithArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", flagParseError(err)
	}
	if fs.NArg() == 0 {
		return "", usagef("missing %s", what)
	}
	arg, rest := fs.Arg(0), fs.Args()[1:]
	if err := parseFlags(fs, rest); err != nil {
		return "", err
	}
	return arg, nil
}

// flagParseError turns an error of flag.FlagSet.Parse into a usage error.
func flagParseError(err error) error {
	if err == flag.ErrHelp {
		return err
	}
	return &usageError{err.Error()}
}

// idArg reads a positional ID: a positive whole number.
func idArg(what, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, usagef("%s %q must be a positive whole number", what, s)
	}
	return id, nil
}

// table writes rows under a header, in aligned columns.
func table(w io.Writer, header string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ReplaceAll(header, " ", "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// when writes a time in tables: UTC to the minute, "-" for none.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// orDash is s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cell makes text safe for a table cell on a terminal: one line, no tabs
// or other control characters (which could rewrite what the operator
// sees), at most max runes.
func cell(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return '?'
		}
		return r
	}, s)
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return orDash(s)
}
