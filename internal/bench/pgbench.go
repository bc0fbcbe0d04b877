package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// pgbenchLoad is one pgbench run of a custom script in the bench's
// schema: PostgreSQL's own floor for a load, with the same clients and
// threads as wrk's.
type pgbenchLoad struct {
	dsn    string // the bench's -dsn, which libpq reads too
	schema string
	script string
	vars   map[string]string // pgbench -D name=value
}

// runPgbench runs the load with lf's connections, threads, duration and
// protocol, and reads every transaction's latency from pgbench's logs.
func runPgbench(ctx context.Context, lf loadFlags, dir string, l pgbenchLoad) (result, error) {
	script := filepath.Join(dir, "load.sql")
	if err := os.WriteFile(script, []byte(l.script), 0o600); err != nil {
		return result{}, err
	}
	logs := filepath.Join(dir, "pgbench-log")
	args := []string{"-n", "-c", strconv.Itoa(lf.conns), "-j", strconv.Itoa(lf.threads),
		"-T", strconv.Itoa(int(lf.duration / time.Second)), "-M", lf.protocol, "-f", script,
		"-l", "--log-prefix", logs}
	names := make([]string, 0, len(l.vars))
	for k := range l.vars {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		args = append(args, "-D", k+"="+l.vars[k])
	}
	cmd := exec.CommandContext(ctx, "pgbench", append(args, l.dsn)...)
	cmd.Env = append(os.Environ(), "PGOPTIONS=-c search_path="+l.schema)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	defer removeLogs(logs)
	if err != nil {
		return result{}, fmt.Errorf("pgbench: %w: %s", err, strings.TrimSpace(errOut.String()))
	}
	r, err := parsePgbench(out.String())
	r.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if err != nil {
		return r, err
	}
	lat, err := readLatencies(logs)
	if err != nil {
		return r, err
	}
	r.P50, r.P99 = percentile(lat, 50), percentile(lat, 99)
	return r, nil
}

// parsePgbench reads the rate, the transactions and the failures from
// pgbench's report.
func parsePgbench(out string) (result, error) {
	var r result
	var tps bool
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "tps = "):
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[2], 64)
			if err != nil {
				return r, fmt.Errorf("pgbench: unreadable %q", line)
			}
			r.Rate, tps = v, true
		case strings.HasPrefix(line, "number of transactions actually processed: "):
			r.Total = leadingInt(strings.TrimPrefix(line, "number of transactions actually processed: "))
		case strings.HasPrefix(line, "number of failed transactions: "):
			r.Failed = leadingInt(strings.TrimPrefix(line, "number of failed transactions: "))
		}
	}
	if !tps {
		return r, fmt.Errorf("pgbench printed no tps:\n%s", out)
	}
	return r, nil
}

func leadingInt(s string) int64 {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(strings.Split(f[0], "/")[0], 10, 64)
	return n
}

// readLatencies reads the latency column (the third, in microseconds) of
// every per-transaction log pgbench wrote with prefix.
func readLatencies(prefix string) ([]time.Duration, error) {
	files, err := filepath.Glob(prefix + ".*")
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("pgbench wrote no transaction log (%s.*)", prefix)
	}
	var lat []time.Duration
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 {
				continue
			}
			us, err := strconv.ParseInt(fields[2], 10, 64)
			if err != nil {
				continue // a failed transaction's line says "failed"
			}
			lat = append(lat, time.Duration(us)*time.Microsecond)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return lat, nil
}

func removeLogs(prefix string) {
	files, _ := filepath.Glob(prefix + ".*")
	for _, f := range files {
		os.Remove(f)
	}
}

// percentile is the p-th percentile of d (sorted in place), 0 when empty.
func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := (len(d)*p + 99) / 100
	return d[min(max(i-1, 0), len(d)-1)]
}
