package main

import (
	"strings"
	"testing"
)

// TestDemoUsage covers the demo command's command line; demo.Run itself is
// tested in internal/demo.
func TestDemoUsage(t *testing.T) {
	runCLI(t, "", "demo", "--help").want(t, exitOK, "Usage: unlockd demo [--listen ADDR]", "-listen ADDR")
	runCLI(t, "", "demo", "--bogus").want(t, exitUsage, "flag provided but not defined: -bogus")
	runCLI(t, "", "demo", "--listen", "8080").want(t, exitUsage, `--listen "8080": http.listen: missing port`)
	runCLI(t, "", "demo", "--listen", "127.0.0.1:99999").want(t, exitUsage, `--listen "127.0.0.1:99999"`)
	runCLI(t, "", "demo", "extra").want(t, exitUsage, `unexpected argument "extra"`)
	if r := runCLI(t, "", "--help"); !strings.Contains(r.stderr, "  demo ") {
		t.Errorf("top-level usage does not list demo:\n%s", r.stderr)
	}
}
