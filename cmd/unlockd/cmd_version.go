package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func cmdVersion(_ context.Context, s streams, args []string) error {
	fs := newFlags("version", "version", s)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "unlockd %s%s\n", version, revision())
	return nil
}

// revision returns " (commit abc123)" from the build's VCS stamp, if any.
func revision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, kv := range info.Settings {
		if kv.Key == "vcs.revision" && len(kv.Value) >= 12 {
			return " (commit " + kv.Value[:12] + ")"
		}
	}
	return ""
}
