package main

import (
	"debug/buildinfo"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionLine(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-11-20T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	for _, tt := range []struct {
		info     *debug.BuildInfo
		override string
		want     string
	}{
		{stamped, "", "unlockd v1.4.0 (git 0123456789abcdef0123456789abcdef01234567, 2026-11-20T10:00:00Z, modified) go1.26.0"},
		{stamped, "v9.9.9", "unlockd v9.9.9 (git 0123456789abcdef0123456789abcdef01234567, 2026-11-20T10:00:00Z, modified) go1.26.0"},
		{&debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}}, "", "unlockd (devel) (no VCS revision in this build) go1.26.0"},
		{nil, "", "unlockd (unknown)"},
	} {
		if got := versionLine(tt.info, tt.override); got != tt.want {
			t.Errorf("versionLine = %q, want %q", got, tt.want)
		}
	}
}

// TestVersionOfTheBuiltBinary: a built binary names the module version
// and, when the build was stamped (go build in a git checkout, without
// -buildvcs=false), the same revision `go version -m` reads.
func TestVersionOfTheBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildUnlockd(t)
	out := runBinary(t, bin, "version")
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if want := versionLine(info, "") + "\n"; out != want {
		t.Errorf("version = %q, want %q", out, want)
	}
	if !strings.HasPrefix(out, "unlockd "+info.Main.Version+" (") {
		t.Errorf("version = %q does not start with the module version %q", out, info.Main.Version)
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && !strings.Contains(out, s.Value) {
			t.Errorf("version = %q lacks the revision %s", out, s.Value)
		}
	}
}

func TestSubcommandHelp(t *testing.T) {
	for _, cmd := range [][]string{{"token", "list"}, {"token", "revoke"}, {"operator", "list"}, {"operator", "remove"},
		{"operator", "unlock"}, {"dead-mail", "list"}, {"dead-mail", "retry"}, {"dead-mail", "discard"}, {"dead-mail"}, {"token"}} {
		runCLI(t, "", append(cmd, "--help")...).want(t, exitOK, "Usage: unlockd "+cmd[0])
	}
	runCLI(t, "", "dead-mail").want(t, exitUsage, "dead-mail discard", "dead-mail list", "dead-mail retry")
}

// runBinary runs the built binary with args and returns its stdout.
func runBinary(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return string(out)
}
