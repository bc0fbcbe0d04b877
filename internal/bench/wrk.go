package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

//go:embed wrk_report.lua
var wrkReport string

// wrkLoad is one wrk run: script (Lua, without setup or done: the bench
// adds its own) against url, with env added to wrk's environment for the
// script's os.getenv.
type wrkLoad struct {
	url    string
	script string
	env    []string
}

// runWrk runs the load with lf's connections, threads and duration.
func runWrk(ctx context.Context, lf loadFlags, dir string, l wrkLoad) (result, error) {
	path := filepath.Join(dir, "load.lua")
	if err := os.WriteFile(path, []byte(l.script+"\n"+wrkReport), 0o600); err != nil {
		return result{}, err
	}
	cmd := exec.CommandContext(ctx, "wrk", "-t", strconv.Itoa(lf.threads), "-c", strconv.Itoa(lf.conns),
		"-d", strconv.Itoa(int(lf.duration/time.Second))+"s", "--timeout", "10s", "-s", path, l.url)
	cmd.Env = append(append(os.Environ(), l.env...), "THREADS="+strconv.Itoa(lf.threads))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("wrk: %w: %s", err, strings.TrimSpace(errOut.String()))
	}
	r, err := parseWrk(out.String())
	r.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return r, err
}

// parseWrk reads the BENCH line wrk_report.lua prints.
func parseWrk(out string) (result, error) {
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, "BENCH ")
		if !ok {
			continue
		}
		v := map[string]int64{}
		for _, f := range strings.Fields(rest) {
			k, num, ok := strings.Cut(f, "=")
			n, err := strconv.ParseInt(num, 10, 64)
			if !ok || err != nil {
				return result{}, fmt.Errorf("wrk: unreadable summary %q", line)
			}
			v[k] = n
		}
		if v["duration_us"] <= 0 {
			return result{}, fmt.Errorf("wrk: unreadable summary %q", line)
		}
		return result{
			Rate:   float64(v["requests"]) / (float64(v["duration_us"]) / 1e6),
			P50:    time.Duration(v["p50_us"]) * time.Microsecond,
			P99:    time.Duration(v["p99_us"]) * time.Microsecond,
			Failed: v["status_errors"] + v["socket_errors"],
			Total:  v["requests"],
		}, nil
	}
	return result{}, fmt.Errorf("wrk printed no summary:\n%s", out)
}
