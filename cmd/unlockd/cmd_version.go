package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
)

// version, when set at build time (-ldflags "-X main.version=v1.2.3"),
// replaces the module version of the build info.
var version = ""

func cmdVersion(_ context.Context, s streams, args []string) error {
	fs := newFlags("version", "version", s)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(s.stdout, versionLine(info, version))
	return nil
}

// versionLine says which unlockd this is, from the build info: the module
// version ("v1.2.3", or "(devel)" for a build from a checkout; override
// wins when set), the VCS revision and time, and "modified" when the
// checkout had uncommitted changes, and the Go version. A build without
// VCS stamping (go run, -buildvcs=false) names no revision.
func versionLine(info *debug.BuildInfo, override string) string {
	v := override
	if v == "" && info != nil {
		v = info.Main.Version
	}
	if v == "" {
		v = "(unknown)"
	}
	line := "unlockd " + v
	if info == nil {
		return line
	}
	var vcs []string
	settings := map[string]string{}
	for _, kv := range info.Settings {
		settings[kv.Key] = kv.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		vcs = append(vcs, settings["vcs"]+" "+rev)
	}
	if t := settings["vcs.time"]; t != "" {
		vcs = append(vcs, t)
	}
	if settings["vcs.modified"] == "true" {
		vcs = append(vcs, "modified")
	}
	if len(vcs) == 0 {
		vcs = append(vcs, "no VCS revision in this build")
	}
	return line + " (" + strings.Join(vcs, ", ") + ") " + info.GoVersion
}
